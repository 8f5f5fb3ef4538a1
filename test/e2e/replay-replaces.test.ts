/**
 * End to end on the local mode: a replay replaces a manifest's output in one step, or not at all (I4). A manifest of
 * two files is converted; then the producer deletes the pinned version of one of them, and an operator replays the
 * SUCCEEDED manifest with `--force`. The replay's run writes its rows into a directory of its own and then fails
 * (the output in place holds rows of the file it can no longer read): the table still reads the previous rows, the
 * record still says SUCCEEDED with the previous counts, the failure is recorded on the run and alerted once. Then a
 * replay that would replace the output (`--allow-missing-files`) is aborted while its Glue run goes on: the run
 * finds its execution ended before its switch and names nothing; the sweeper records the abort, alerted once.
 */
import { GetJobRunCommand, GlueClient } from '@aws-sdk/client-glue';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetExecutionHistoryCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { clientSettings } from '../../cli/context';
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

  it('an aborted replay whose Glue run goes on switches nothing: the previous output, status and counts stay, one alert', async () => {
    const before = await getManifest(instance.ctx, manifestId);
    const rowsBefore = await readCuratedParquet(instance.stack, 'refunds');
    // With --allow-missing-files this replay would replace the output (PARTIAL); it is aborted while its run goes on.
    const replay = await replayManifest(instance.ctx, manifestId, { force: true, allowMissingFiles: true });
    const jobRunId = await waitFor(
      'the replay to start its Glue run',
      async () => {
        const history = await instance.ctx.sfn.send(new GetExecutionHistoryCommand({ executionArn: replay.executionArn }));
        const submitted = history.events?.find((e) => e.type === 'TaskSubmitted')?.taskSubmittedEventDetails?.output;
        return submitted === undefined ? undefined : (JSON.parse(submitted) as { JobRunId: string }).JobRunId;
      },
      5 * 60_000,
      500,
    );
    await instance.ctx.sfn.send(new StopExecutionCommand({ executionArn: replay.executionArn, error: 'Operator', cause: 'stopped' }));
    // moto does not stop the run (no BatchStopJobRun): it converts on, then finds its execution ended.
    const glue = new GlueClient(clientSettings(instance.ctx.target));
    const run = await waitFor(
      `Glue run ${jobRunId} to end`,
      async () => {
        const r = (await glue.send(new GetJobRunCommand({ JobName: instance.stack.glueJobName, RunId: jobRunId }))).JobRun;
        return r?.JobRunState === 'RUNNING' || r?.JobRunState === 'STARTING' ? undefined : r;
      },
      10 * 60_000,
      2000,
    );
    const after = await waitFor(
      'the sweeper to record the aborted execution',
      async () => {
        const m = await getManifest(instance.ctx, manifestId);
        return m.executionArn === replay.executionArn && m.error === 'Execution.Aborted' ? m : undefined;
      },
      5 * 60_000,
      2000,
    );
    const emails = await waitFor(
      'the alert of the aborted replay',
      async () => {
        const mine = outboxEmails(instance).filter((e) => e.text.includes(manifestId));
        return mine.length >= 2 ? mine : undefined;
      },
      3 * 60_000,
      2000,
    );
    const listed = await instance.ctx.s3.send(
      new ListObjectsV2Command({
        Bucket: instance.stack.curatedBucket,
        Prefix: String(before.outputLocation)
          .replace(/^s3a?:\/\/[^/]+\//, '')
          .replace(/run=[^/]+\/$/, ''),
        Delimiter: '/',
      }),
    );
    glue.destroy();

    expect(run.JobRunState).toBe('FAILED');
    expect(after.status).toBe('SUCCEEDED');
    expect(after.lastRunStatus).toBe('FAILED');
    expect(after.outputLocation).toBe(before.outputLocation);
    for (const count of ['linesIn', 'rowsOut', 'rowsQuarantined', 'blankLines', 'outputFiles', 'filesRead', 'filesFailed']) {
      expect({ count, value: after[count] }).toEqual({ count, value: before[count] });
    }
    // The table reads the previous rows; the orphan's directory is gone (it named nothing).
    expect(await readCuratedParquet(instance.stack, 'refunds')).toEqual(rowsBefore);
    expect((listed.CommonPrefixes ?? []).map((p) => p.Prefix)).toEqual([String(before.outputLocation).replace(/^s3a?:\/\/[^/]+\//, '')]);
    // One alert more, for the aborted execution.
    expect(emails).toHaveLength(2);
    expect(emails[1].text).toContain('Execution.Aborted');
  });
});
