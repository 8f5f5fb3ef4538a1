import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeLocalStack } from '../../../local/cli-commands';
import type { LocalStack } from '../../../contracts/local-stack';

describe('pipeline local start', () => {
  test('its hint signs the AWS CLI with the instance key from the stack file, as the emulator refuses any other', () => {
    const stack = {
      endpoint: 'http://127.0.0.1:4566',
      region: 'us-east-1',
      ingestBucket: 'pipeline-ingest-local',
      curatedBucket: 'pipeline-curated-local',
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:convert-manifest-local',
      batchSize: 200,
      maxWaitSeconds: 60,
      outboxDir: '/repo/.local/outbox',
    } as unknown as LocalStack;

    const hint = describeLocalStack(stack, '/repo/.local');

    expect(hint).toContain(`export AWS_ACCESS_KEY_ID=$(node -p "require('/repo/.local/stack.json').accessKeyId")`);
    expect(hint).toContain(`AWS_SECRET_ACCESS_KEY=$(node -p "require('/repo/.local/stack.json').secretAccessKey")`);
    expect(hint.indexOf('export AWS_ACCESS_KEY_ID')).toBeLessThan(hint.indexOf('aws --endpoint-url'));
    expect(hint).toMatch(/^ {2}npx pipeline console\b/m);
  });
});

describe('the pipeline launcher', () => {
  const root = path.join(__dirname, '..', '..', '..');

  test('adds local start and stop to the operator CLI', () => {
    const run = spawnSync(process.execPath, [path.join(root, 'bin', 'pipeline.js'), 'local', '--help'], { encoding: 'utf8', cwd: root });

    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^\s+start\b/m);
    expect(run.stdout).toMatch(/^\s+stop\b/m);
  });

  test('is what joins them: no file of cli/ imports the local mode, which imports the CLI', () => {
    const files = fs
      .readdirSync(path.join(root, 'cli'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.ts'));
    const importsOfLocal = files.filter((f) =>
      /from '(\.\.\/)+local\/|require\('(\.\.\/)+local\//.test(fs.readFileSync(path.join(root, 'cli', f), 'utf8')),
    );

    expect(files.length).toBeGreaterThan(10);
    expect(importsOfLocal).toEqual([]);
  });
});
