/**
 * The local mode's start and stop: what `stack.json` holds, the AWS CLI against the emulator, the clear errors
 * (started twice, port in use, stopped when not running) and the DLQ after `maxReceiveCount` failed receives.
 * No Glue run happens here.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { LocalModeNotRunningError, localPaths } from '../../contracts/local-stack';
import { REPO_ROOT } from '../../local/layout';
import { isAlive } from '../../local/process-utils';
import { LocalModeAlreadyRunningError, PortInUseError, runningProcesses, startLocal, stopLocal } from '../../local/runtime';
import { waitFor } from '../../local/scenario';
import { queueDepth, startInstance, type LocalInstance } from './support/local-instance';

jest.setTimeout(5 * 60_000);

const run = promisify(execFile);

/** The AWS CLI installed in the project's virtual environment by `make install` (requirements.txt). */
const AWS_CLI = path.join(REPO_ROOT, '.venv', 'bin', 'aws');

describe('local mode: start and stop', () => {
  let instance: LocalInstance;
  let pids: number[];

  beforeAll(async () => {
    instance = await startInstance({ visibilityTimeoutSeconds: 1 });
    pids = Object.values(runningProcesses(instance.stateDir));
  });

  afterAll(async () => {
    await instance?.stop();
  });

  it('writes stack.json with every name the CLI and the docs use, and the key, for its owner only', () => {
    const { stackFile } = localPaths(instance.stateDir);
    const stack = JSON.parse(readFileSync(stackFile, 'utf8')) as Record<string, unknown>;

    expect(statSync(stackFile).mode & 0o777).toBe(0o600);
    expect(stack.accessKeyId).toMatch(/^LKIA[A-Z2-7]{16}$/);
    expect(String(stack.secretAccessKey)).toHaveLength(40);
    for (const key of [
      'endpoint',
      'region',
      'ingestBucket',
      'curatedBucket',
      'ingestQueueUrl',
      'ingestDlqUrl',
      'stateTable',
      'idempotencyTable',
      'stateMachineArn',
      'glueJobName',
      'glueDatabase',
      'alertTopicArn',
      'outboxDir',
      'accessKeyId',
      'secretAccessKey',
    ]) {
      expect(typeof stack[key]).toBe('string');
    }
    expect(stack.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(pids).toHaveLength(3);
  });

  it('serves the AWS CLI with the instance key, as the README shows, and refuses it with another', async () => {
    const { stack } = instance;
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: stack.accessKeyId,
      AWS_SECRET_ACCESS_KEY: stack.secretAccessKey,
      AWS_DEFAULT_REGION: stack.region,
    };
    const file = path.join(instance.stateDir, 'readme.txt');
    writeFileSync(file, 'not NDJSON: no notification for this suffix\n');
    const key = 'incoming/cli_check/readme.txt';
    const aws = (...args: string[]) => run(AWS_CLI, ['--endpoint-url', stack.endpoint, ...args], { env });

    await aws('s3', 'cp', file, `s3://${stack.ingestBucket}/${key}`);
    const listed = (await aws('s3', 'ls', `s3://${stack.ingestBucket}/incoming/cli_check/`)).stdout;
    const executions = JSON.parse((await aws('stepfunctions', 'list-executions', '--state-machine-arn', stack.stateMachineArn)).stdout);

    expect(listed).toContain('readme.txt');
    expect(executions).toEqual({ executions: [] });
    const otherKey = { ...env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
    await expect(
      run(AWS_CLI, ['--endpoint-url', stack.endpoint, 's3', 'ls', `s3://${stack.ingestBucket}/`], { env: otherKey }),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining('InvalidAccessKeyId'),
    });
  });

  it('moves a notification the builder keeps failing on to the DLQ after maxReceiveCount receives', async () => {
    await instance.ctx.sqs.send(new SendMessageCommand({ QueueUrl: instance.stack.ingestQueueUrl, MessageBody: '{"not":"an S3 event"}' }));

    const inDlq = await waitFor(
      'the malformed notification in the DLQ',
      async () => ((await queueDepth(instance, instance.stack.ingestDlqUrl)) > 0 ? true : undefined),
      120_000,
    );

    expect(inDlq).toBe(true);
    expect(await queueDepth(instance, instance.stack.ingestQueueUrl)).toBe(0);
  });

  it('refuses to start twice in the same state directory', async () => {
    await expect(startLocal({ stateDir: instance.stateDir, port: 1 })).rejects.toBeInstanceOf(LocalModeAlreadyRunningError);
  });

  it('refuses a port in use with a clear message', async () => {
    const other = mkdtempSync(path.join(os.tmpdir(), 'pipeline-e2e-'));
    const port = Number(new URL(instance.stack.endpoint).port);
    try {
      const start = startLocal({ stateDir: other, port });
      await expect(start).rejects.toBeInstanceOf(PortInUseError);
      await expect(start).rejects.toThrow(`Port ${port} on 127.0.0.1 is already in use`);
      expect(existsSync(localPaths(other).stackFile)).toBe(false);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('stops every process, then says it is not running', async () => {
    await stopLocal({ stateDir: instance.stateDir });

    expect(pids.filter(isAlive)).toEqual([]);
    expect(existsSync(localPaths(instance.stateDir).stackFile)).toBe(false);
    await expect(stopLocal({ stateDir: instance.stateDir })).rejects.toBeInstanceOf(LocalModeNotRunningError);
  });

  it('sets the alert emails of the instance before aside when it starts again: ids restart, old alerts would mislead', async () => {
    const { outboxDir } = localPaths(instance.stateDir);
    writeFileSync(path.join(outboxDir, '20261130T000000Z-0001.eml'), 'Subject: Ingest pipeline: manifest orders-20261130-000001 failed\n');

    await startLocal({ stateDir: instance.stateDir, port: Number(new URL(instance.stack.endpoint).port) });
    try {
      expect(readdirSync(outboxDir)).toEqual([]);
      expect(readdirSync(`${outboxDir}-previous`)).toEqual(['20261130T000000Z-0001.eml']);
    } finally {
      await stopLocal({ stateDir: instance.stateDir });
    }
  });
});
