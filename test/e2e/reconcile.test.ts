/**
 * `pipeline reconcile` run as a process against the local mode. One file arrives with notifications on; then the
 * ingest bucket's notification configuration is removed (the emulator, as S3, sends events only while one is
 * set), and five new files, a producer's retried PUT of the first (same bytes, a new version), a file the builder
 * refuses and a folder marker are uploaded; the configuration is put back. Reconcile sends the six notifications
 * that never came, the builder places them through its own path, the one manifest is converted with every file's
 * rows once, and a second run finds nothing to send.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { GetBucketNotificationConfigurationCommand, PutBucketNotificationConfigurationCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { getManifestFiles } from '../../cli/ops/manifests';
import { generateDataset } from '../../local/sample-data';
import { keys } from '../../contracts/table-schema';
import { putObject, uploadIntoManifest, waitFor } from '../../local/scenario';
import {
  manifestsOf,
  nothingLeftBehind,
  queueDepth,
  startInstance,
  waitForConvertedFiles,
  type LocalInstance,
} from './support/local-instance';

jest.setTimeout(15 * 60_000);

const REPO = path.resolve(__dirname, '..', '..');

/** Runs `pipeline <args>` as the operator would. */
function pipeline(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(REPO, 'bin', 'pipeline.js'), ...args], { cwd: REPO, timeout: 300_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('pipeline reconcile against the local mode: uploads whose notifications never came', () => {
  let instance: LocalInstance;
  const files = generateDataset({ dataset: 'orders', files: 6, minLines: 4, maxLines: 8, badEvery: 3, blankEvery: 4, seed: 23 });
  const [early, ...unnotified] = files;
  const refusedKey = 'incoming/orders/readme.txt';
  const versions = new Map<string, string>();
  const stateDir = () => ['--state-dir', instance.stateDir];
  const uri = (key: string) => `s3://${instance.stack.ingestBucket}/${key}`;

  beforeAll(async () => {
    // Six files fill a manifest: the five sent by reconcile join the one notified as usual, and it is sealed full.
    instance = await startInstance({ batchSize: files.length, maxWaitSeconds: 600, retryIntervalScale: 0.05 });
    versions.set(early.key, (await uploadIntoManifest(instance, early)).versionId);

    const { s3 } = instance.ctx;
    const Bucket = instance.stack.ingestBucket;
    const { $metadata: _, ...configuration } = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket }));
    expect(configuration.QueueConfigurations).toHaveLength(instance.ctx.config.acceptedSuffixes.length);
    await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket, NotificationConfiguration: {} }));
    for (const file of unnotified) versions.set(file.key, (await putObject(instance, file.key, file.body)).versionId);
    await putObject(instance, early.key, early.body); // a retried PUT: a new version of content already in a manifest
    await putObject(instance, refusedKey, 'not for the pipeline\n');
    await putObject(instance, 'incoming/orders/2026/', ''); // a console's folder marker
    await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket, NotificationConfiguration: configuration }));
    // Setting it posts an s3:TestEvent, which the builder skips: let it go before counting what is in the queue.
    await waitFor(
      'the ingest queue to drain',
      async () => ((await queueDepth(instance, instance.stack.ingestQueueUrl)) === 0 ? true : undefined),
      60_000,
    );
  });

  afterAll(async () => {
    await instance?.stop();
  });

  it('finds the versions no notification brought, and sends nothing in a dry run', async () => {
    const dry = await pipeline(['reconcile', '--dry-run', '--json', ...stateDir()]);

    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toStrictEqual({ datasets: { orders: { inManifests: 2, rejected: 0, missing: 6, sent: 0 } } });
    expect(await queueDepth(instance, instance.stack.ingestQueueUrl)).toBe(0);
    expect((await manifestsOf(instance)).map((m) => [m.status, m.fileCount])).toEqual([['OPEN', undefined]]);
  });

  it("sends them through the builder's path: each file placed once, in the one manifest it fills, the refused one recorded", async () => {
    const run = await pipeline(['reconcile', ...stateDir()]);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^DATASET +IN MANIFESTS +REJECTED +MISSING +SENT\norders +2 +0 +6 +6\n/);
    expect(run.stdout).toContain('1 zero-byte versions ignored');
    expect(run.stdout).toContain('Sent 6 notifications for 6 missing versions to the ingest queue');

    const [manifest] = await waitFor(
      'the manifest to be sealed full and its execution recorded',
      async () => {
        const all = await manifestsOf(instance);
        // Sealing writes the status; fileCount comes with the execution's record, a write later.
        return all.length === 1 && all[0].status !== 'OPEN' && all[0].fileCount !== undefined ? all : undefined;
      },
      60_000,
    );
    const entries = await getManifestFiles(instance.ctx, manifest.manifestId);
    const refused = await waitFor(
      `${refusedKey} recorded as rejected`,
      async () =>
        (
          await instance.ctx.ddb.send(
            new GetCommand({
              TableName: instance.stack.stateTable,
              Key: keys.rejected(instance.stack.ingestBucket, refusedKey),
              ConsistentRead: true,
            }),
          )
        ).Item,
      60_000,
    );

    expect([manifest.sealReason, Number(manifest.fileCount)]).toEqual(['full', 6]);
    // One F# item per file, each the version uploaded (the first upload of the retried file, as notified then).
    expect(entries.map((f) => [f.key, f.versionId])).toEqual(
      files.map((f) => [f.key, versions.get(f.key)]).sort(([a], [b]) => (String(a) < String(b) ? -1 : 1)),
    );
    expect(refused.code).toBe('unaccepted-suffix');
  });

  it("converts every file's rows exactly once", async () => {
    const manifests = await waitForConvertedFiles(instance, files.length, 10 * 60_000);
    const expected = Object.fromEntries(files.map((f) => [`${uri(f.key)}#${versions.get(f.key)}`, f.goodLines]));

    expect(manifests.map((m) => [m.status, m.error, m.cause])).toEqual([['SUCCEEDED', undefined, undefined]]);
    expect(await nothingLeftBehind(instance, 'orders', expected)).toEqual([]);
  });

  it('finds nothing to send the second time', async () => {
    await waitFor(
      'the ingest queue to drain',
      async () => ((await queueDepth(instance, instance.stack.ingestQueueUrl)) === 0 ? true : undefined),
      60_000,
    );

    const again = await pipeline(['reconcile', '--json', ...stateDir()]);

    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toStrictEqual({ datasets: { orders: { inManifests: 7, rejected: 1, missing: 0, sent: 0 } } });
    expect(await queueDepth(instance, instance.stack.ingestQueueUrl)).toBe(0);
    expect((await manifestsOf(instance)).length).toBe(1);
  });
});
