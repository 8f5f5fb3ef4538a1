import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT, cdkJsonContext } from './synth';

function withoutAwsCredentials(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('AWS_')));
}

/** Runs the CDK app the way the CDK CLI does: context in CDK_CONTEXT_JSON, output in CDK_OUTDIR. */
function runApp(context: Record<string, unknown>, outdir: string) {
  const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  return spawnSync(tsx, [path.join(REPO_ROOT, 'pipeline', 'app.ts')], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: {
      ...withoutAwsCredentials(process.env),
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJsonContext(), ...context }),
    },
  });
}

describe('the CDK app (pipeline/app.ts)', () => {
  let outdir: string;
  beforeEach(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-app-'));
  });
  afterEach(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('refuses to synthesize a deployable stack without an alert email, and says how to give one', () => {
    const result = runApp({}, outdir);

    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Invalid setting "alertEmail"');
    expect(result.stderr).toContain('-c alertEmail=');
    expect(fs.existsSync(path.join(outdir, 'IngestPipeline.template.json'))).toBe(false);
  });

  test('refuses a malformed alert email', () => {
    const result = runApp({ alertEmail: 'not-an-address' }, outdir);

    expect(result.status).toBe(1);
    expect(result.stderr).toContain('is not an email address');
  });

  test('synthesizes with an alert email and no AWS credentials; the AwsSolutions validation reports no failure', () => {
    const result = runApp({ alertEmail: 'ops@example.com', 'aws:cdk:bundling-stacks': [] }, outdir);

    expect(result.stderr).not.toMatch(/ERROR|WARN/);
    expect(result.status).toBe(0);
    const template = JSON.parse(fs.readFileSync(path.join(outdir, 'IngestPipeline.template.json'), 'utf8'));
    expect(Object.keys(template.Outputs)).toContain('StateMachineArn');
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports.filter((r: { conclusion: string }) => r.conclusion !== 'success')).toEqual([]);
  });

  test('-c stage=dev synthesizes the stack IngestPipeline-dev, beside the unstaged one', () => {
    const result = runApp({ alertEmail: 'ops@example.com', stage: 'dev', 'aws:cdk:bundling-stacks': [] }, outdir);

    expect(result.status).toBe(0);
    expect(fs.existsSync(path.join(outdir, 'IngestPipeline-dev.template.json'))).toBe(true);
    expect(fs.existsSync(path.join(outdir, 'IngestPipeline.template.json'))).toBe(false);
  });

  test('refuses a stage name some resource name would not take', () => {
    const result = runApp({ alertEmail: 'ops@example.com', stage: 'Dev_1' }, outdir);

    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Invalid setting "stage"');
  });
});
