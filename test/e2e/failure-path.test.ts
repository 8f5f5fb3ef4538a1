/**
 * End to end on the local mode: a manifest lists a file its producer removed, so the Glue job fails; the state
 * machine retries it, records the failure, sends the alert email; once the file is back, a replay converts it.
 */
import { readFileSync } from 'node:fs';
import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { getManifest } from '../../cli/ops/manifests';
import { replayManifest } from '../../cli/ops/replay';
import { readCuratedParquet } from '../../local/parquet-reader';
import { ASL_FILE } from '../../local/provision';
import { generateDataset, totals } from '../../local/sample-data';
import {
  outboxEmails,
  removeObject,
  restoreObject,
  startInstance,
  upload,
  uploadIntoManifest,
  waitFor,
  waitForExecution,
  type LocalInstance,
} from './support/local-instance';

jest.setTimeout(15 * 60_000);

/** Attempts of the Convert state a failing Glue run gets: the first plus the ASL's retries of States.TaskFailed. */
function convertAttempts(): number {
  const asl = JSON.parse(readFileSync(ASL_FILE, 'utf8')) as { States: Record<string, { Retry?: { ErrorEquals: string[]; MaxAttempts?: number }[] }> };
  const retrier = (asl.States.Convert.Retry ?? []).find((r) => r.ErrorEquals.includes('States.TaskFailed'));
  return 1 + (retrier?.MaxAttempts ?? 0);
}

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

describe('local mode: a failing manifest, its alert and its replay', () => {
  let instance: LocalInstance;
  const files = generateDataset({ dataset: 'clicks', files: 3, minLines: 5, maxLines: 10, badEvery: 2, blankEvery: 3, seed: 5 });
  const removed = files[0];
  let manifestId: string;
  let markerVersionId: string;

  beforeAll(async () => {
    // Retry waits scaled down: the ASL's minute-long backoff would make this test take several minutes more.
    instance = await startInstance({ batchSize: files.length, maxWaitSeconds: 60, retryIntervalScale: 0.05 });
    manifestId = await uploadIntoManifest(instance, removed);
    markerVersionId = await removeObject(instance, removed.key);
    await upload(instance, files.slice(1));
  });

  afterAll(async () => {
    await instance?.stop();
  });

  it('retries the Glue job, then fails the execution and records the failure on the manifest', async () => {
    const executionArn = `${instance.stack.stateMachineArn.replace(':stateMachine:', ':execution:')}:${manifestId}`;
    const execution = await waitFor(
      'the execution to start',
      async () => (await getManifest(instance.ctx, manifestId)).executionArn ?? undefined,
      5 * 60_000,
    );
    expect(execution).toBe(executionArn);

    const ended = await waitForExecution(instance, executionArn, 10 * 60_000);
    const events = await history(instance, executionArn);
    const glueFailures = events.filter((e) => e.type === 'TaskFailed' && e.taskFailedEventDetails?.resource === 'startJobRun.sync');
    const record = await getManifest(instance.ctx, manifestId);

    expect(ended.status).toBe('FAILED');
    expect(glueFailures).toHaveLength(convertAttempts());
    expect(glueFailures[0].taskFailedEventDetails?.cause).toContain(removed.key);
    expect(record.status).toBe('FAILED');
    expect(record.failedState).toBe('Convert');
    expect(record.cause).toContain(removed.key);
  });

  it('writes a readable alert email about the manifest to the outbox', async () => {
    const email = await waitFor(
      'the alert email',
      async () => outboxEmails(instance).find((e) => e.text.includes(manifestId)),
      60_000,
    );

    expect(email.text).toMatch(new RegExp(`^Subject: .*${manifestId}.*failed`, 'm'));
    expect(email.text).toContain(`npx pipeline replay ${manifestId}`);
    expect(email.text).toContain('Path does not exist');
  });

  it('converts the manifest with a replay once the file is back, recording both executions', async () => {
    await restoreObject(instance, removed.key, markerVersionId);

    const replay = await replayManifest(instance.ctx, manifestId);
    const ended = await waitForExecution(instance, replay.executionArn, 10 * 60_000);
    const record = await getManifest(instance.ctx, manifestId);
    const parquet = await readCuratedParquet(instance.stack, 'clicks', 'click_id');

    expect(replay.executionName).toBe(`${manifestId}-r1`);
    expect(ended.status).toBe('SUCCEEDED');
    expect(JSON.parse(ended.input ?? '{}')).toEqual(JSON.parse((await waitForExecution(instance, record.executions![0], 1000)).input ?? ''));
    expect(record.status).toBe('SUCCEEDED');
    expect(record.executions).toEqual([
      `${instance.stack.stateMachineArn.replace(':stateMachine:', ':execution:')}:${manifestId}`,
      replay.executionArn,
    ]);
    expect(Number(record.replayCount)).toBe(1);
    expect(Number(record.rowsOut)).toBe(totals(files).goodLines);
    expect(Number(record.rowsQuarantined)).toBe(totals(files).badLines);
    expect(parquet.rows).toBe(totals(files).goodLines);
    expect(parquet.distinctKeys).toBe(parquet.rows);
  });
});
