/**
 * The `pipeline dlq` commands run as a process against the local mode: a malformed notification the manifest
 * builder keeps failing on reaches the DLQ; `dlq` shows it without its body; `dlq redrive` moves it back to the
 * ingest queue, where the builder fails on it again and it returns to the DLQ. No Glue run happens here.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { waitFor } from '../../local/scenario';
import { startInstance, type LocalInstance } from './support/local-instance';

jest.setTimeout(5 * 60_000);

const REPO = path.resolve(__dirname, '..', '..');

/** Runs `pipeline <args>` as the operator would, and returns its exit code and output. */
function pipeline(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(REPO, 'bin', 'pipeline.js'), ...args], { cwd: REPO, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function visible(instance: LocalInstance, queueUrl: string): Promise<number> {
  const out = await instance.ctx.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
}

describe('pipeline dlq, against the local mode', () => {
  let instance: LocalInstance;
  const body = JSON.stringify({ not: 'an S3 event', secret: 'sekret-payload-value' });

  beforeAll(async () => {
    // A one-second visibility timeout: the builder's failures reach the DLQ after maxReceiveCount receives in seconds.
    instance = await startInstance({ visibilityTimeoutSeconds: 1 });
    await instance.ctx.sqs.send(new SendMessageCommand({ QueueUrl: instance.stack.ingestQueueUrl, MessageBody: body }));
    await waitFor(
      'the malformed notification in the DLQ',
      async () => ((await visible(instance, instance.stack.ingestDlqUrl)) > 0 ? true : undefined),
      120_000,
    );
  });

  afterAll(async () => {
    await instance?.stop();
  });

  it('shows the DLQ message with its receive count and a summary, never its body, and leaves it there', async () => {
    const table = await pipeline(['dlq', '--peek', '5', '--state-dir', instance.stateDir]);
    const json = await pipeline(['dlq', '--json', '--state-dir', instance.stateDir]);

    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ingest DLQ \(S3 notifications the manifest builder failed on\): about 1 waiting/m);
    expect(table.stdout).toMatch(/MESSAGE\s+RECEIVES\s+SENT\s+SUMMARY/);
    expect(table.stdout).toContain(`JSON object with fields not, secret (${body.length} bytes)`);
    expect(table.stdout).toContain('npx pipeline dlq redrive');
    expect(table.stdout + json.stdout).not.toContain('sekret-payload-value');
    const [queue] = JSON.parse(json.stdout).queues;
    expect(queue.queue).toBe('ingest');
    expect(queue.messages).toHaveLength(1);
    expect(queue.messages[0].receiveCount).toBeGreaterThanOrEqual(1);
    expect(Date.parse(queue.messages[0].sentAt)).toBeGreaterThan(instance.startedAt.getTime() - 60_000);
    expect(await visible(instance, instance.stack.ingestDlqUrl)).toBe(1);
  });

  it('moves the message back to the ingest queue, reports it, and the builder sends it to the DLQ again', async () => {
    const moved = await pipeline(['dlq', 'redrive', '--json', '--state-dir', instance.stateDir]);

    expect(moved.code).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({ method: 'receive-send-delete', moved: 1, failed: 0, remaining: 0 });
    const back = await waitFor(
      'the redriven message to fail again and return to the DLQ',
      async () => ((await visible(instance, instance.stack.ingestDlqUrl)) > 0 ? true : undefined),
      120_000,
    );
    expect(back).toBe(true);

    const text = await pipeline(['dlq', 'redrive', '--state-dir', instance.stateDir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^moved 1 messages from the ingest DLQ to the ingest queue; about 0 left in the DLQ/);
    expect(text.stderr).toContain('the local emulator does not implement StartMessageMoveTask');
  });
});
