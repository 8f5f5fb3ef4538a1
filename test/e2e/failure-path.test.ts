/**
 * End to end on the local mode: a manifest of 10 files, one of them deleted for good by its producer after it was
 * listed. The Glue job converts the other 9 and the manifest ends PARTIAL with one alert naming the file; the
 * producer uploads the same bytes again (a duplicate: not placed again), and a replay converts all 10.
 * Beside it, a manifest of one file whose only version is deleted fails (nothing readable): the alerts topic carries
 * exactly one message for each of the two manifests, and nothing else, however many sweeps follow.
 */
import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { getManifest } from '../../cli/ops/manifests';
import { replayManifest } from '../../cli/ops/replay';
import { readCuratedParquet } from '../../local/parquet-reader';
import { generateDataset, totals } from '../../local/sample-data';
import { deleteVersion, putObject, uploadIntoManifest, waitFor } from '../../local/scenario';
import {
  alertEmailsFor,
  manifestsOf,
  outboxEmails,
  queueDepth,
  startInstance,
  upload,
  waitForExecution,
  type LocalInstance,
} from './support/local-instance';

jest.setTimeout(15 * 60_000);

async function history(instance: LocalInstance, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await instance.ctx.sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

describe('local mode: a file deleted after it was listed, the partial manifest, its alert and its replay', () => {
  let instance: LocalInstance;
  const files = generateDataset({ dataset: 'clicks', files: 10, minLines: 5, maxLines: 10, badEvery: 2, blankEvery: 3, seed: 5 });
  const [deleted, ...kept] = files;
  const [lost] = generateDataset({ dataset: 'orders', files: 1, minLines: 3, maxLines: 5, seed: 6 });
  let deletedVersion: string;
  let manifestId: string;
  let failedId: string;
  const uri = (key: string) => `s3://${instance.stack.ingestBucket}/${key}`;

  beforeAll(async () => {
    // Retry waits scaled down: the ASL's minute-long backoff would make this test take several minutes more.
    instance = await startInstance({ batchSize: files.length, maxWaitSeconds: 60, retryIntervalScale: 0.05 });
    // The orders manifest's one file is deleted for good once listed; the sweeper seals it after the wait.
    const orders = await uploadIntoManifest(instance, lost);
    failedId = orders.manifestId;
    await deleteVersion(instance, lost.key, orders.versionId);
    ({ manifestId, versionId: deletedVersion } = await uploadIntoManifest(instance, deleted));
    await deleteVersion(instance, deleted.key, deletedVersion);
    await upload(instance, kept);
  });

  afterAll(async () => {
    await instance?.stop();
  });

  it('converts the 9 readable files once, records the manifest PARTIAL with the missing file, and runs the job once', async () => {
    const record = await waitFor(
      'the manifest to end',
      async () => {
        const m = await getManifest(instance.ctx, manifestId);
        return ['SUCCEEDED', 'PARTIAL', 'FAILED'].includes(m.status) ? m : undefined;
      },
      10 * 60_000,
      2000,
    );
    const events = await history(instance, record.executions![0]);
    const glueRuns = events.filter((e) => e.type === 'TaskSubmitted' && e.taskSubmittedEventDetails?.resourceType === 'glue');
    const failedFiles = JSON.parse(String(record.failedFiles)) as { key: string; versionId: string; reason: string }[];
    const parquet = await readCuratedParquet(instance.stack, 'clicks');

    expect(record.status).toBe('PARTIAL');
    expect(Number(record.fileCount)).toBe(10);
    expect([Number(record.filesRead), Number(record.filesFailed)]).toEqual([9, 1]);
    expect(failedFiles).toEqual([expect.objectContaining({ key: deleted.key, versionId: deletedVersion, reason: 'missing' })]);
    expect(Number(record.rowsOut)).toBe(totals(kept).goodLines);
    expect(Number(record.linesIn)).toBe(totals(kept).lines);
    expect(glueRuns).toHaveLength(1);
    expect(parquet.rows).toBe(totals(kept).goodLines);
    expect(parquet.rowsBySourceFile[uri(deleted.key)]).toBeUndefined();
  });

  it('sends exactly one readable alert naming the file that was not converted', async () => {
    const emails = await alertEmailsFor(instance, manifestId);

    expect(emails).toHaveLength(1);
    expect(emails[0].text).toMatch(/^Subject: .*: manifest partly converted$/m);
    expect(emails[0].text).toContain(`Manifest ${manifestId} of dataset`);
    expect(emails[0].text).toContain(deleted.key);
    expect(emails[0].text).toContain('missing');
    expect(emails[0].text).toContain(`npx pipeline replay ${manifestId}`);
  });

  it('a manifest that fails puts exactly one message on the alerts topic, and later sweeps add none', async () => {
    const record = await waitFor(
      `${failedId} to end`,
      async () => {
        const m = await getManifest(instance.ctx, failedId);
        return ['SUCCEEDED', 'PARTIAL', 'FAILED'].includes(m.status) ? m : undefined;
      },
      10 * 60_000,
      2000,
    );
    await alertEmailsFor(instance, failedId);
    // Several sweeps (every few seconds) look at the ended execution's record: none may alert again.
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    const emails = outboxEmails(instance);

    const glueRuns = (await history(instance, record.executions![0])).filter(
      (e) => e.type === 'TaskSubmitted' && e.taskSubmittedEventDetails?.resourceType === 'glue',
    );
    // The local Glue runner reports the failed run with Glue's generic message; the job's outcome document says
    // not retryable, with its reason: one attempt, and the reason in the record and the alert.
    expect(glueRuns).toHaveLength(1);
    expect(record.status).toBe('FAILED');
    expect(record.failedState).toBe('Convert');
    expect(record.error).toBe('Pipeline.Job.no_readable_file');
    // The whole topic: one message per manifest that did not succeed, the partial one's and this one's, nothing else.
    expect(emails).toHaveLength(2);
    expect(emails.filter((e) => e.text.includes(failedId))).toHaveLength(1);
    expect(emails.filter((e) => e.text.includes(manifestId))).toHaveLength(1);
    const failedEmail = emails.find((e) => e.text.includes(failedId))!.text;
    expect(failedEmail).toMatch(/^Subject: .*: manifest failed$/m);
    expect(failedEmail).toContain(`Manifest ${failedId} of dataset`);
    expect(failedEmail).toContain(`npx pipeline replay ${failedId}`);
    // The cause is the outcome document's one-line message, not Glue's generic text nor the job run as JSON.
    expect(failedEmail).toContain('Error: Pipeline.Job.no_readable_file');
    expect(failedEmail).toMatch(new RegExp(`^Cause: manifest ${failedId}: no file could be read: .*\\(missing\\)`, 'm'));
    expect(failedEmail).not.toContain('Command failed with exit code');
    expect(failedEmail).not.toContain('JobRunState');
  });

  it('after the producer uploads the same bytes again (a duplicate), a replay converts all 10 files exactly once', async () => {
    const restored = await putObject(instance, deleted.key, deleted.body);
    await waitFor(
      'the re-upload notification to be handled',
      async () => ((await queueDepth(instance, instance.stack.ingestQueueUrl)) === 0 ? true : undefined),
      60_000,
    );
    const manifestsBefore = (await manifestsOf(instance)).length;

    // Two operators replay it at the same moment: one execution starts (the same name and input), the other
    // finds it started; neither starts a second conversion of the manifest.
    const outcomes = await Promise.allSettled([replayManifest(instance.ctx, manifestId), replayManifest(instance.ctx, manifestId)]);
    const replays = outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value);
    const replay = replays[0];
    const ended = await waitForExecution(instance, replay.executionArn, 10 * 60_000);
    const record = await getManifest(instance.ctx, manifestId);
    const parquet = await readCuratedParquet(instance.stack, 'clicks', 'click_id');

    expect((await manifestsOf(instance)).length).toBe(manifestsBefore);
    expect(replays.length).toBeGreaterThanOrEqual(1);
    expect(new Set(replays.map((r) => r.executionName))).toEqual(new Set([`${manifestId}-r1`]));
    for (const o of outcomes) if (o.status === 'rejected') expect(String(o.reason)).toMatch(/running|already/i);
    expect(ended.status).toBe('SUCCEEDED');
    expect(record.status).toBe('SUCCEEDED');
    expect(Number(record.filesFailed)).toBe(0);
    expect(record.executions).toEqual([record.executions![0], replay.executionArn]);
    expect(Number(record.replayCount)).toBe(1);
    expect(Number(record.rowsOut)).toBe(totals(files).goodLines);
    expect(parquet.rows).toBe(totals(files).goodLines);
    expect(parquet.distinctKeys).toBe(parquet.rows);
    // The deleted version's content came back under a new version with the same eTag: the rows name the version read.
    expect(parquet.rowsBySourceVersion[`${uri(deleted.key)}#${restored.versionId}`]).toBe(deleted.goodLines);
    // A replay that succeeds sends nothing.
    expect(outboxEmails(instance)).toHaveLength(2);
  });
});
