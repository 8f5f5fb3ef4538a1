/**
 * End to end on the local mode: a replay replaces a manifest's output in one step, or not at all (I4). A manifest of
 * two files is converted; then the producer deletes the pinned version of one of them, and an operator replays the
 * SUCCEEDED manifest with `--force`. The replay's run writes its rows into a directory of its own and then fails
 * (the output in place holds rows of the file it can no longer read): the table still reads the previous rows, the
 * record still says SUCCEEDED with the previous counts, the failure is recorded on the run and alerted once.
 */
import { getManifest } from '../../cli/ops/manifests';
import { replayManifest } from '../../cli/ops/replay';
import { readCuratedParquet } from '../../local/parquet-reader';
import { generateDataset, totals } from '../../local/sample-data';
import { deleteVersion, uploadIntoManifest, waitFor } from '../../local/scenario';
import { alertEmailsFor, outboxEmails, startInstance, waitForExecution, type LocalInstance } from './support/local-instance';

jest.setTimeout(15 * 60_000);

const FINAL = ['SUCCEEDED', 'PARTIAL', 'FAILED'];

describe('local mode: a forced replay that fails leaves the previous rows, status and counts', () => {
  let instance: LocalInstance;
  const files = generateDataset({ dataset: 'refunds', files: 2, minLines: 4, maxLines: 6, seed: 19 });
  let manifestId: string;
  let versions: string[];

  beforeAll(async () => {
    instance = await startInstance({ batchSize: files.length, maxWaitSeconds: 60, retryIntervalScale: 0.05 });
    versions = [];
    for (const f of files) {
      const put = await uploadIntoManifest(instance, f);
      manifestId = put.manifestId;
      versions.push(put.versionId);
    }
  });

  afterAll(async () => {
    await instance?.stop();
  });

  it('keeps the previous output named, its status and its counts, and records and alerts the failed run once', async () => {
    const before = await waitFor(
      `${manifestId} to be converted`,
      async () => {
        const m = await getManifest(instance.ctx, manifestId);
        return FINAL.includes(m.status) ? m : undefined;
      },
      10 * 60_000,
      2000,
    );
    expect(before.status).toBe('SUCCEEDED');
    expect(String(before.outputLocation)).toMatch(new RegExp(`/manifest_id=${manifestId}/run=[^/]+/$`));
    const rowsBefore = await readCuratedParquet(instance.stack, 'refunds');
    expect(rowsBefore.rows).toBe(totals(files).goodLines);

    // The producer deletes the version the manifest pins: the replay cannot read it any more.
    await deleteVersion(instance, files[1].key, versions[1]);
    const replay = await replayManifest(instance.ctx, manifestId, { force: true });
    const ended = await waitForExecution(instance, replay.executionArn, 10 * 60_000);
    const after = await getManifest(instance.ctx, manifestId);
    const rowsAfter = await readCuratedParquet(instance.stack, 'refunds');
    const emails = await alertEmailsFor(instance, manifestId);

    expect(ended.status).toBe('FAILED');
    // The record: the output in place, its status and counts as they were; the failure on the last run.
    expect(after.status).toBe('SUCCEEDED');
    expect(after.lastRunStatus).toBe('FAILED');
    expect(after.executionArn).toBe(replay.executionArn);
    for (const count of ['linesIn', 'rowsOut', 'rowsQuarantined', 'blankLines', 'outputFiles', 'filesRead', 'filesFailed']) {
      expect({ count, value: after[count] }).toEqual({ count, value: before[count] });
    }
    expect(after.outputLocation).toBe(before.outputLocation);
    // The job's verdict, from its outcome document: decided on the reason, never on a text.
    expect(after.error).toBe('Pipeline.Job.rows_would_be_dropped');
    expect(String(after.cause)).toContain('rows_would_be_dropped');
    expect(String(after.cause)).toContain(files[1].key);
    // The table: the previous rows, every one of them, and none of the failed run's.
    expect(rowsAfter).toEqual(rowsBefore);
    // One alert for the failed run, naming the file and the way to accept the loss.
    expect(emails).toHaveLength(1);
    expect(emails[0].text).toContain(files[1].key);
    expect(emails[0].text).toContain('--allow-missing-files');
    expect(outboxEmails(instance).filter((e) => e.text.includes(manifestId))).toHaveLength(1);
  });
});
