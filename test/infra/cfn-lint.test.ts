import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT, synthPipeline } from './synth';

const CFN_LINT = path.join(REPO_ROOT, '.venv', 'bin', 'cfn-lint');

/**
 * W3005 ("DependsOn already enforced by a GetAtt/Ref") is ignored: the CDK itself adds those DependsOn (Lambda
 * roles, the S3 notification resource); they are redundant, not wrong, and not ours to remove. Every other
 * warning, and every error, fails the test.
 */
const IGNORED = ['W3005'];

function lint(templateBody: unknown): { status: number | null; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-lint-'));
  const file = path.join(dir, 'template.json');
  fs.writeFileSync(file, JSON.stringify(templateBody, null, 1));
  const result = spawnSync(CFN_LINT, ['--format', 'parseable', '--ignore-checks', ...IGNORED, '--', file], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('cfn-lint', () => {
  test.each([
    ['public network', {}],
    ['private network, new VPC', { network: 'private' }],
    [
      'private network, existing VPC',
      {
        network: 'private',
        vpcId: 'vpc-0123456789abcdef0',
        privateSubnetIds: 'subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2',
        privateRouteTableIds: 'rtb-0aaaaaaaaaaaaaaa1,rtb-0bbbbbbbbbbbbbbb2',
        availabilityZones: 'us-east-1a,us-east-1b',
      },
    ],
  ])('%s: the synthesized template has no error and no warning', (_mode, network) => {
    const { template } = synthPipeline({ alertEmail: 'ops@example.com', ...network });

    const { status, output } = lint(template.toJSON());

    expect(output).toBe('');
    expect(status).toBe(0);
  });

  test('with the canary on, too', () => {
    const { template } = synthPipeline({ alertEmail: 'ops@example.com', canary: { everyMinutes: 60 } });

    const { status, output } = lint(template.toJSON());

    expect(output).toBe('');
    expect(status).toBe(0);
  });

  test('cfn-lint does reject a broken template', () => {
    const { template } = synthPipeline();
    const broken = template.toJSON();
    const [queueId] = Object.entries(broken.Resources as Record<string, { Type: string }>).find(([, r]) => r.Type === 'AWS::SQS::Queue')!;
    broken.Resources[queueId].Properties.VisibilityTimeout = 'forever';

    const { status, output } = lint(broken);

    expect(status).not.toBe(0);
    expect(output).toMatch(/E\d{4}/);
  });
});
