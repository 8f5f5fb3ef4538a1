/**
 * End to end on the local mode: S3 notifications delivered more than once (in the same batch, in later batches,
 * after the manifest was sealed) never put a file in two manifests nor a row twice in the Parquet (I1, I4).
 */
import { ChangeMessageVisibilityBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, type Message } from '@aws-sdk/client-sqs';
import { getManifestFiles } from '../../cli/ops/manifests';
import { readCuratedParquet } from '../../local/parquet-reader';
import { startPoller } from '../../local/runtime';
import { generateDataset, totals } from '../../local/sample-data';
import { waitFor } from '../../local/scenario';
import {
  expectedRowsBySource,
  manifestsOf,
  queueDepth,
  startInstance,
  upload,
  waitForConvertedFiles,
  type LocalInstance,
} from './support/local-instance';

jest.setTimeout(15 * 60_000);

/** Sends each body `copies` times to the queue. */
async function resend(instance: LocalInstance, bodies: readonly string[], copies: number): Promise<void> {
  const all = bodies.flatMap((body) => Array.from({ length: copies }, () => body));
  for (let i = 0; i < all.length; i += 10) {
    await instance.ctx.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: instance.stack.ingestQueueUrl,
        Entries: all.slice(i, i + 10).map((body, j) => ({ Id: String(j), MessageBody: body })),
      }),
    );
  }
}

describe('local mode: duplicate notifications', () => {
  let instance: LocalInstance;
  const files = generateDataset({ dataset: 'events', files: 5, minLines: 4, maxLines: 8, badEvery: 100, blankEvery: 100, seed: 3 });
  let notifications: string[];

  beforeAll(async () => {
    // The poller starts later: the test first takes the real notifications S3 sent, to deliver them again.
    instance = await startInstance({ batchSize: files.length, maxWaitSeconds: 60, poller: false, sweeperIntervalSeconds: 5 });
    await upload(instance, files);
    const received: Message[] = [];
    await waitFor(
      `the ${files.length} notifications in the queue`,
      async () => {
        const out = await instance.ctx.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: instance.stack.ingestQueueUrl,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: 60,
            WaitTimeSeconds: 1,
          }),
        );
        received.push(...(out.Messages ?? []));
        const records = received.filter((m) => (m.Body ?? '').includes('"Records"'));
        return records.length >= files.length ? records : undefined;
      },
      60_000,
      0,
    );
    notifications = received.filter((m) => (m.Body ?? '').includes('"Records"')).map((m) => m.Body!);
    // Each notification twice more, then the originals back in the queue: the builder sees each three times,
    // in one batch or across batches.
    await resend(instance, notifications, 2);
    await instance.ctx.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: instance.stack.ingestQueueUrl,
        Entries: received.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
      }),
    );
    await startPoller({ stateDir: instance.stateDir });
  });

  afterAll(async () => {
    await instance?.stop();
  });

  it('puts each file in exactly one manifest', async () => {
    const manifests = await waitForConvertedFiles(instance, files.length, 10 * 60_000);
    const listed = (await Promise.all(manifests.map((m) => getManifestFiles(instance.ctx, m.manifestId)))).flat();

    expect(notifications).toHaveLength(files.length);
    expect(manifests.map((m) => m.status)).toEqual(manifests.map(() => 'SUCCEEDED'));
    expect(listed.map((f) => f.key).sort()).toEqual(files.map((f) => f.key).sort());
  });

  it('ignores notifications delivered again after the manifest was sealed', async () => {
    const before = (await manifestsOf(instance)).map((m) => m.manifestId).sort();

    await resend(instance, notifications, 1);
    await waitFor(
      'the queue to drain',
      async () => ((await queueDepth(instance, instance.stack.ingestQueueUrl)) === 0 ? true : undefined),
      60_000,
    );
    const after = await manifestsOf(instance);

    expect(after.map((m) => m.manifestId).sort()).toEqual(before);
    expect(after.filter((m) => m.status === 'OPEN')).toEqual([]);
    expect(await queueDepth(instance, instance.stack.ingestDlqUrl)).toBe(0);
  });

  it('writes each good line once to the Parquet', async () => {
    const parquet = await readCuratedParquet(instance.stack, 'events', 'id');

    expect(parquet.rows).toBe(totals(files).goodLines);
    expect(parquet.distinctKeys).toBe(parquet.rows);
    expect(parquet.rowsBySourceFile).toEqual(expectedRowsBySource(instance.stack.ingestBucket, files));
  });
});
