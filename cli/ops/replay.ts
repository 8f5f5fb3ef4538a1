/**
 * Replays and redrives of manifests.
 *
 * A replay is a new execution `<manifestId>-r<n>` with the input of the original execution. It joins the start queue
 * that every execution goes through (docs/architecture.md, "Capacity slots and the start queue"): in turn, or ahead
 * of it with `--now`, and is started by whoever drains the queue (this command at once when a slot is free, else the
 * sweeper), with a capacity slot, never past `glue.maxConcurrentRuns`. Only one replay of a manifest waits at a time
 * (`queuedReplay`, set with the queue entry in one transaction conditioned on `replayCount`). As with the first
 * start (I3), the execution is started before it is recorded (`replayCount`, `executions`, conditionally on
 * `replayCount` so two operators cannot both record replay n) and its name is a pure function of the manifest id and
 * n: a replay that crashed after starting finds its execution on the next try and records it. An execution of that
 * name with another input is never taken as the replay's.
 * A replay is never started while an execution of the manifest runs: one execution holds a manifest at a time (I7).
 * The Glue job writes to the manifest's own partition, so a replay replaces the output, never duplicates it (I4).
 */
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionStatus,
  ListExecutionsCommand,
  RedriveExecutionCommand,
} from '@aws-sdk/client-sfn';
import { ExecutionInput, executionArnOf, executionInput, parseManifestId } from '../../handlers/domain/manifest';
import { sameJson } from '../../handlers/common/execution-start';
import { ExecutionNameConflictError } from '../../handlers/common/errors';
import { drainQueue } from '../../handlers/common/sealer';
import { ManifestStatus, STATE_TABLE } from '../../contracts/table-schema';
import { CliContext } from '../context';
import { executionConsoleUrl } from '../console-url';
import { NotAvailableLocallyError, ReplayRefusedError } from '../errors';
import { describeExecution } from './executions';
import type { ManifestRecord } from '../../handlers/common/state-store';
import { cliSealerDeps } from './flush';
import { getManifest, recordedExecutions, stateStoreOf } from './manifests';

/** Options of {@link replayManifest}. */
export interface ReplayOptions {
  /**
   * Replay a manifest that already SUCCEEDED (never a RUNNING one); redrive an execution that ended in its Fail
   * state after a caught error. @default false
   */
  readonly force?: boolean;
  /**
   * Let the run replace an output in place that holds rows of files it can no longer read (their pinned version
   * deleted): passed to the job as `allowMissingFiles` in the execution input. Without it, such a run fails and
   * keeps the output in place (docs/architecture.md, "Replacing a manifest's output"). @default false
   */
  readonly allowMissingFiles?: boolean;
  /**
   * Put the replay ahead of every execution waiting in the start queue (rank 0): it takes the next free capacity
   * slot, at once if one is free. Never past the slots: it waits for one when all are held. @default false
   */
  readonly now?: boolean;
}

/** What a replay did. */
export interface ReplayResult {
  readonly manifestId: string;
  /** n of `<manifestId>-r<n>`. */
  readonly replay: number;
  readonly executionName: string;
  readonly executionArn: string;
  /**
   * True when the execution already existed with the same input (started by an earlier try of this replay, or by
   * another replay of the manifest at the same time): nothing new was started.
   */
  readonly alreadyStarted: boolean;
  /** True when the record already listed the execution as replay n (recorded by another replay at the same time). */
  readonly alreadyRecorded: boolean;
  /** Where the input came from: the original execution, or rebuilt from the MANIFEST record. */
  readonly inputFrom: 'original-execution' | 'manifest-record';
  /** Why a replay was allowed that would look refused (a SEALED record whose execution ended before claiming it). */
  readonly note?: string;
  readonly consoleUrl?: string;
  /**
   * Where the replay waits when it is not started yet: its place in the start queue (1: next) of `waiting`
   * executions, and the capacity slots (all held). Undefined once started.
   */
  readonly queued?: { readonly position: number; readonly waiting: number; readonly slots: number };
  /** With `--now`: how many queued executions it was put ahead of (0 when the queue was empty). */
  readonly jumpedAhead?: number;
}

/** Step Functions limits execution names to 80 characters. */
const MAX_EXECUTION_NAME = 80;

/** The name of replay n of a manifest. */
export function replayExecutionName(manifestId: string, n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new Error(`replay number must be a positive integer, got ${n}`);
  const name = `${manifestId}-r${n}`;
  if (name.length > MAX_EXECUTION_NAME) {
    throw new ReplayRefusedError(manifestId, `execution name ${name} exceeds Step Functions' ${MAX_EXECUTION_NAME} characters`);
  }
  return name;
}

/** The state of an execution of the manifest, as DescribeExecution gives it; undefined when not described. */
export type LatestExecutionStatus = ExecutionStatus | 'NOT_FOUND' | undefined;

/** An execution of the manifest that may still run: the one holding it, and the latest recorded. */
export interface LatestExecution {
  readonly arn: string;
  readonly status: LatestExecutionStatus;
}

/** Whether an execution may still be running (an execution not described counts as running). */
export function mayRun(status: LatestExecutionStatus): boolean {
  return status === undefined || status === 'RUNNING' || status === 'PENDING_REDRIVE';
}

function nameOf(arn: string): string {
  return arn.split(':').pop() ?? arn;
}

/**
 * Why a manifest may not be replayed, or undefined when it may. `latest` are the executions that may hold or
 * claim the manifest (see {@link latestExecutions}).
 *
 * - OPEN, and SEALED without an execution: never (the sweeper starts it; a replay would race it).
 * - RUNNING: never, even with `force`: one execution holds a manifest at a time. A RUNNING record whose execution
 *   has ended (timed out, aborted) is finished by the sweeper, FAILED, within a minute or two; replay it then.
 * - Any status while an execution of the manifest still runs (a replay just started): never.
 * - SEALED whose execution ended before claiming it: allowed.
 * - PARTIAL and FAILED: allowed once the outcome's alert is published (the outbox). SUCCEEDED: only with `force`.
 */
export function replayRefusal(record: ManifestRecord, latest: readonly LatestExecution[], force: boolean): string | undefined {
  const id = record.manifestId;
  const hasExecution = recordedExecutions(record).length > 0;
  const running = latest.find((e) => mayRun(e.status));
  const wait = `wait for it to finish (npx pipeline status ${id})`;
  if (typeof record.queuedReplay === 'string') {
    return `replay ${record.queuedReplay} of it is already waiting in the start queue: it starts in turn (npx pipeline status ${id})`;
  }
  switch (record.status) {
    case 'OPEN':
      return 'is still OPEN (collecting files): it has no execution to replay yet';
    case 'SEALED':
      if (!hasExecution) return 'is SEALED but not started yet: the sweeper starts it within a minute, nothing to replay';
      if (running !== undefined) return `is starting: execution ${nameOf(running.arn)} is about to claim it; ${wait}`;
      return undefined;
    case 'RUNNING': {
      const holder = record.executionArn !== undefined ? latest.find((e) => e.arn === record.executionArn) : undefined;
      const ended = running === undefined ? (holder ?? latest[0]) : undefined;
      if (ended !== undefined) {
        return (
          `is RUNNING but its execution ${nameOf(ended.arn)} has ended (${ended.status}) without recording an outcome: ` +
          `the sweeper records it FAILED within a minute or two; replay it then`
        );
      }
      const name = running !== undefined ? ` under execution ${nameOf(running.arn)}` : '';
      return `is RUNNING${name}: ${wait}; one execution holds a manifest at a time, so --force does not start another`;
    }
    case 'SUCCEEDED':
    case 'PARTIAL':
    case 'FAILED':
      if (running !== undefined) {
        return `execution ${nameOf(running.arn)} of it is ${running.status ?? 'RUNNING'} (a replay started meanwhile?): ${wait}`;
      }
      // Its claim (MarkRunning) would be refused: the outbox keeps one alert per outcome until SNS took it.
      if (record[STATE_TABLE.alertsIndex.partitionKey] !== undefined) {
        return `its ${record.status} alert is not published yet (the sweeper sends it within a minute, npx pipeline status ${id}); replay it then`;
      }
      if (record.status !== 'SUCCEEDED' || force) return undefined;
      return `already SUCCEEDED${record.finishedAt ? ` at ${record.finishedAt}` : ''}: pass --force to convert it again (its Parquet is replaced, not duplicated)`;
    default:
      return `has an unknown status ${JSON.stringify(record.status)}`;
  }
}

/** Rebuilds the state machine input from the MANIFEST record, for an original execution whose history has expired. */
export function inputFromRecord(record: ManifestRecord, curatedBucket: string): ExecutionInput {
  const missing = (['manifestUri', 'ingestDate', 'fileCount', 'totalBytes'] as const).filter((k) => record[k] === undefined);
  if (missing.length > 0) {
    throw new ReplayRefusedError(record.manifestId, `cannot rebuild its input: the record lacks ${missing.join(', ')}`);
  }
  return executionInput(
    {
      manifestId: record.manifestId,
      dataset: record.dataset,
      manifestUri: record.manifestUri as string,
      ingestDate: record.ingestDate as string,
      fileCount: Number(record.fileCount),
      totalBytes: Number(record.totalBytes),
    },
    curatedBucket,
  );
}

function originalExecutionArn(ctx: CliContext, record: ManifestRecord): string {
  return recordedExecutions(record)[0] ?? executionArnOf(ctx.target.stateMachineArn, record.manifestId);
}

async function statusOf(ctx: CliContext, executionArn: string): Promise<LatestExecutionStatus> {
  try {
    return (await ctx.sfn.send(new DescribeExecutionCommand({ executionArn }))).status;
  } catch (err) {
    if ((err as Error).name === 'ExecutionDoesNotExist') return 'NOT_FOUND';
    throw err;
  }
}

/**
 * The executions that may hold or claim the manifest, described: the holder the record names (`executionArn`)
 * and the latest recorded one (a replay recorded but not yet claiming). None for OPEN and unstarted manifests.
 */
export async function latestExecutions(ctx: CliContext, record: ManifestRecord): Promise<LatestExecution[]> {
  const recorded = recordedExecutions(record);
  const arns = [...new Set([record.executionArn, recorded[recorded.length - 1]].filter((a): a is string => a !== undefined))];
  const out: LatestExecution[] = [];
  for (const arn of arns) out.push({ arn, status: await statusOf(ctx, arn) });
  return out;
}

/**
 * The input of the original execution (with the result key added when it was started before inputs carried it),
 * or the record's rebuild when that execution is gone (history expired).
 */
async function originalInput(ctx: CliContext, record: ManifestRecord): Promise<{ input: string; from: ReplayResult['inputFrom'] }> {
  try {
    const described = await ctx.sfn.send(new DescribeExecutionCommand({ executionArn: originalExecutionArn(ctx, record) }));
    if (described.input !== undefined) return { input: described.input, from: 'original-execution' };
  } catch (err) {
    if ((err as Error).name !== 'ExecutionDoesNotExist') throw err;
  }
  return { input: JSON.stringify(inputFromRecord(record, ctx.target.curatedBucket)), from: 'manifest-record' };
}

/**
 * The execution input of a replay: the original's, with the operator's options (`allowMissingFiles`) when given; the
 * state machine reads them with their defaults (`ReadReplayOptions`), so an input without them is the default.
 */
export function withReplayOptions(input: string, opts: ReplayOptions): string {
  if (opts.allowMissingFiles !== true) return input;
  return JSON.stringify({ ...(JSON.parse(input) as Record<string, unknown>), allowMissingFiles: true });
}

/** Records replay n on the MANIFEST record, only if no one recorded it first. */
async function recordReplay(ctx: CliContext, record: ManifestRecord, n: number, executionArn: string): Promise<boolean> {
  const known = recordedExecutions(record).filter((arn) => arn !== executionArn);
  return stateStoreOf(ctx).recordReplay(record.manifestId, n, executionArn, known, ctx.now());
}

/** Starts replay `<id>-r<n>` of a manifest and records it; throws {@link ReplayRefusedError} with the reason when refused. */
export async function replayManifest(ctx: CliContext, manifestId: string, opts: ReplayOptions = {}): Promise<ReplayResult> {
  const record = await getManifest(ctx, manifestId);
  const id = record.manifestId;
  const latest = record.status === 'OPEN' ? [] : await latestExecutions(ctx, record);
  const refusal = replayRefusal(record, latest, opts.force === true);
  if (refusal !== undefined) throw new ReplayRefusedError(id, refusal);
  const note =
    record.status === 'SEALED'
      ? `the record says SEALED but its execution ${latest.map((e) => `${nameOf(e.arn)} is ${e.status}`).join(', ')}`
      : undefined;

  const n = Number(record.replayCount ?? 0) + 1;
  const executionName = replayExecutionName(id, n);
  const original = await originalInput(ctx, record);
  const { from } = original;
  const input = withReplayOptions(original.input, opts);
  const executionArn = executionArnOf(ctx.target.stateMachineArn, executionName);
  const base = { manifestId: id, replay: n, executionName, executionArn, inputFrom: from, note };
  const consoleUrl = ctx.target.mode === 'cloud' ? executionConsoleUrl(executionArn) : undefined;

  const existing = await existingExecution(ctx, executionArn);
  if (existing !== undefined) {
    // Started by an earlier try of this replay that stopped before recording it (the name and input are the
    // replay's): recorded now, never started twice. Another input is never taken as the replay's (I3).
    if (!sameJson(existing.input, input)) throw nameConflict(id, executionName);
    const recorded = await recordReplay(ctx, record, n, executionArn);
    if (!recorded) await requireRecordedBySomeoneElse(ctx, id, n, executionArn);
    return { ...base, alreadyStarted: true, alreadyRecorded: !recorded, consoleUrl };
  }

  // Into the start queue, in turn (or ahead of it with --now), then the queue's head starts into the free slots.
  const deps = await cliSealerDeps(ctx);
  const ahead = opts.now === true ? (await deps.store.listQueue()).filter((e) => e.rank === 1).length : undefined;
  const queuedAt = ctx.now().toISOString();
  const { outcome, entry } = await deps.store.enqueueReplay({
    manifestId: id,
    dataset: record.dataset,
    executionName,
    replay: n,
    input,
    queuedAt,
    rank: opts.now === true ? 0 : 1,
  });
  if (outcome !== 'done') {
    const now = await getManifest(ctx, id);
    const queuedName = typeof now.queuedReplay === 'string' ? now.queuedReplay : undefined;
    if (queuedName !== undefined) {
      throw new ReplayRefusedError(
        id,
        `replay ${queuedName} of it is already waiting in the start queue: it starts in turn (npx pipeline status ${id})`,
      );
    }
    throw new ReplayRefusedError(id, `replay ${n} was already queued or recorded by someone else meanwhile: see npx pipeline status ${id}`);
  }
  const drained = await drainQueue(deps);
  const failed = drained.failed.find((f) => f.executionName === executionName);
  if (failed !== undefined) {
    if (failed.error instanceof ExecutionNameConflictError) throw nameConflict(id, executionName);
    throw failed.error;
  }
  if (drained.started.some((s) => s.executionName === executionName)) {
    return { ...base, alreadyStarted: false, alreadyRecorded: false, consoleUrl, jumpedAhead: ahead };
  }
  const queue = await deps.store.listQueue();
  const position = queue.findIndex((e) => e.sk === entry.sk) + 1;
  if (position === 0) {
    // Started by another drain at the same moment (the sweeper, a builder): the entry is gone once recorded.
    return { ...base, alreadyStarted: false, alreadyRecorded: false, consoleUrl, jumpedAhead: ahead };
  }
  return {
    ...base,
    alreadyStarted: false,
    alreadyRecorded: false,
    consoleUrl,
    jumpedAhead: ahead,
    queued: { position, waiting: queue.length, slots: deps.maxConcurrentRuns ?? 0 },
  };
}

/** The execution of that ARN with its input, or undefined when none exists. */
async function existingExecution(ctx: CliContext, executionArn: string): Promise<{ input?: string } | undefined> {
  try {
    return await ctx.sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (err) {
    if ((err as Error).name === 'ExecutionDoesNotExist') return undefined;
    throw err;
  }
}

function nameConflict(id: string, executionName: string): ReplayRefusedError {
  return new ReplayRefusedError(
    id,
    `an execution named ${executionName} already exists with another input, so it is not this manifest's replay ` +
      '(was the manifest id used before, a restored state table?): nothing started, nothing recorded; ' +
      'see docs/architecture.md, "Execution names"',
  );
}

/** Replay n was recorded by someone else: with the same name, it can only be this very execution; else refused. */
async function requireRecordedBySomeoneElse(ctx: CliContext, id: string, n: number, executionArn: string): Promise<void> {
  const now = await getManifest(ctx, id);
  if (Number(now.replayCount ?? 0) < n || !recordedExecutions(now).includes(executionArn)) {
    throw new ReplayRefusedError(id, `replay ${n} was recorded by someone else meanwhile: see npx pipeline status ${id}`);
  }
}

/** What a redrive did. */
export interface RedriveResult {
  readonly manifestId: string;
  readonly executionArn: string;
  readonly redriveDate?: string;
  readonly consoleUrl?: string;
}

/**
 * Resumes the manifest's latest execution in place with RedriveExecution (cloud only). Refused when the
 * execution cannot be redriven, for a PARTIAL manifest, while another execution of the manifest may run, and, unless forced, when it ended in its Fail state after a caught error: a
 * redrive resumes at the state that did not succeed, which is then that Fail state, so it would only fail again.
 */
export async function redriveManifest(ctx: CliContext, manifestId: string, opts: ReplayOptions = {}): Promise<RedriveResult> {
  if (ctx.target.mode === 'local') {
    throw new NotAvailableLocallyError('RedriveExecution', `replay it instead: npx pipeline replay ${manifestId}`);
  }
  const record = await getManifest(ctx, manifestId);
  const id = record.manifestId;
  const executionArn = recordedExecutions(record).pop();
  if (executionArn === undefined) throw new ReplayRefusedError(id, `has no execution to redrive (status ${record.status})`);
  if (record.status === 'PARTIAL') {
    // Its execution ended in the Fail state that marks a partial outcome: a redrive would resume there and end again.
    throw new ReplayRefusedError(
      id,
      `is PARTIAL: a redrive would only end in its Partial state again; replay it instead: npx pipeline replay ${id}`,
    );
  }
  // A redrive resumes past the claim: while another execution may hold the manifest, two Glue runs would write it.
  const running = (await latestExecutions(ctx, record)).find((e) => e.arn !== executionArn && mayRun(e.status));
  if (running !== undefined) {
    throw new ReplayRefusedError(
      id,
      `execution ${nameOf(running.arn)} of it is ${running.status ?? 'RUNNING'}: wait for it to finish (npx pipeline status ${id})`,
    );
  }
  const described = await ctx.sfn.send(new DescribeExecutionCommand({ executionArn }));
  if (described.status === 'RUNNING' || described.status === 'SUCCEEDED' || described.status === 'PENDING_REDRIVE') {
    throw new ReplayRefusedError(id, `execution ${described.name ?? executionArn} is ${described.status}: nothing to redrive`);
  }
  if (described.redriveStatus === 'NOT_REDRIVABLE') {
    throw new ReplayRefusedError(
      id,
      `execution ${described.name} cannot be redriven (${described.redriveStatusReason ?? 'no reason given'}): replay it instead: npx pipeline replay ${id}`,
    );
  }
  if (opts.force !== true) {
    const summary = await describeExecution(ctx, executionArn);
    const last = summary.steps[summary.steps.length - 1];
    const caught = summary.steps.find((s) => s.outcome === 'caught');
    if (last?.type === 'Fail' && caught !== undefined) {
      throw new ReplayRefusedError(
        id,
        `execution ${summary.name} ended in its Fail state ${last.name} after ${caught.name} failed and was caught: ` +
          `a redrive would resume at ${last.name} and fail again; replay it instead (npx pipeline replay ${id}) or pass --force`,
      );
    }
  }
  // The redriven run needs a capacity slot as any run does (a redrive cannot wait in the queue: it resumes now). The
  // ended execution's own holding, if the sweeper has not given it back yet, is replaced by this one.
  const deps = await cliSealerDeps(ctx);
  const name = nameOf(executionArn);
  if (deps.maxConcurrentRuns !== undefined) {
    await deps.store.releaseSlot(name);
    if ((await deps.store.takeSlot(name, id, deps.maxConcurrentRuns, ctx.now())) === 'full') {
      throw new ReplayRefusedError(
        id,
        `all ${deps.maxConcurrentRuns} capacity slots are held (glue.maxConcurrentRuns): a redrive cannot wait for one; ` +
          `try again when one frees, or replay it, which waits in the start queue (npx pipeline replay ${id})`,
      );
    }
  }
  let res;
  try {
    res = await ctx.sfn.send(new RedriveExecutionCommand({ executionArn }));
  } catch (err) {
    await deps.store.releaseSlot(name);
    throw err;
  }
  return {
    manifestId: id,
    executionArn,
    redriveDate: res.redriveDate ? new Date(res.redriveDate).toISOString() : undefined,
    consoleUrl: executionConsoleUrl(executionArn),
  };
}

/** The statuses `replay --failed` replays: FAILED, and PARTIAL (some files could not be read). */
export const REPLAYABLE_FAILURES: readonly ManifestStatus[] = ['FAILED', 'PARTIAL'];

/** Step Functions' longest STANDARD execution: the bound when the definition sets no `TimeoutSeconds`. */
const MAX_EXECUTION_SECONDS = 365 * 86_400;

/** A failed execution can be redriven up to 14 days after it stopped; a redriven execution keeps its start date. */
const REDRIVE_WINDOW_MS = 14 * 86_400_000;

/** How an execution that recorded a manifest FAILED or PARTIAL ends: its Fail state, a timeout, an abort. */
const FAILED_EXECUTION_STATUSES: readonly ExecutionStatus[] = ['FAILED', 'TIMED_OUT', 'ABORTED'];

/** The manifest an execution name belongs to: the name itself, or `<id>` of a replay `<id>-r<n>`. */
export function manifestIdOfExecution(name: string | undefined): string | undefined {
  const m = /^(.+?)(?:-r\d+)?$/.exec(name ?? '');
  return m !== null && parseManifestId(m[1]) !== undefined ? m[1] : undefined;
}

/** The execution timeout the deployed definition sets (`TimeoutSeconds`), else Step Functions' own limit. */
async function executionTimeoutSeconds(ctx: CliContext): Promise<number> {
  const described = await ctx.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: ctx.target.stateMachineArn }));
  try {
    const timeout = (JSON.parse(described.definition ?? '{}') as { TimeoutSeconds?: unknown }).TimeoutSeconds;
    return typeof timeout === 'number' && timeout > 0 ? timeout : MAX_EXECUTION_SECONDS;
  } catch {
    return MAX_EXECUTION_SECONDS;
  }
}

/**
 * Manifests that ended FAILED or PARTIAL since a time (their recorded `finishedAt`: RecordFailure's and
 * RecordPartial's time, or the stop of an execution the sweeper recorded), whenever they opened, oldest failure first.
 * A manifest opened before `since` and failed after it (a backlog, or a replay that failed) is included; one opened
 * after `since` and still failing from a failure before it cannot be, since it opened later.
 *
 * Every such outcome ends an execution FAILED, TIMED_OUT or ABORTED, and an execution stopped after `since` started
 * at most the definition's timeout (plus the 14 days a redrive may come after) before it: the candidates are those
 * executions (ListExecutions, newest first), and the state table decides, so a manifest replayed to SUCCEEDED since
 * is left out. No table scan; the cost grows with the executions of the window.
 */
export async function findFailedManifests(ctx: CliContext, since: Date, dataset?: string): Promise<ManifestRecord[]> {
  const startedAfter = since.getTime() - (await executionTimeoutSeconds(ctx)) * 1000 - REDRIVE_WINDOW_MS;
  const ids = new Set<string>();
  for (const statusFilter of FAILED_EXECUTION_STATUSES) {
    let nextToken: string | undefined;
    pages: do {
      const page = await ctx.sfn.send(
        new ListExecutionsCommand({ stateMachineArn: ctx.target.stateMachineArn, statusFilter, maxResults: 1000, nextToken }),
      );
      for (const execution of page.executions ?? []) {
        if (execution.startDate !== undefined && new Date(execution.startDate).getTime() < startedAfter) break pages;
        // What an execution records ends at or before its stop.
        if (execution.stopDate !== undefined && new Date(execution.stopDate).getTime() < since.getTime()) continue;
        const id = manifestIdOfExecution(execution.name);
        if (id !== undefined && (dataset === undefined || parseManifestId(id)?.dataset === dataset)) ids.add(id);
      }
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
  }
  const records: ManifestRecord[] = [];
  for (const id of ids) {
    let record: ManifestRecord;
    try {
      record = await getManifest(ctx, id);
    } catch (err) {
      if ((err as Error).name === 'ManifestNotFoundError') continue; // an execution of a manifest id not in this table
      throw err;
    }
    const finished = record.finishedAt === undefined ? NaN : new Date(record.finishedAt).getTime();
    if (REPLAYABLE_FAILURES.includes(record.status) && record.manifestId === id && finished >= since.getTime()) records.push(record);
  }
  return records.sort((a, b) =>
    a.finishedAt === b.finishedAt ? (a.manifestId < b.manifestId ? -1 : 1) : String(a.finishedAt) < String(b.finishedAt) ? -1 : 1,
  );
}
