/**
 * Replays and redrives of manifests.
 *
 * A replay starts a new execution `<manifestId>-r<n>` with the input of the original execution, then records it
 * on the MANIFEST record, conditionally on `replayCount` so two operators cannot both record replay n. As with the
 * first start (I3), the execution is started before it is recorded and its name is a pure function of the
 * manifest id and n: a replay that crashed after starting finds its execution on the next try and records it.
 * The Glue job writes to the manifest's own partition, so a replay replaces the output, never duplicates it (I4).
 */
import {
  DescribeExecutionCommand,
  ExecutionStatus,
  RedriveExecutionCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ExecutionInput, executionArnOf, resultKeyOf } from '../../handlers/domain/manifest';
import { keys } from '../../pipeline/table-schema';
import { CliContext } from '../context';
import { executionConsoleUrl } from '../console-url';
import { NotAvailableLocallyError, ReplayRefusedError } from '../errors';
import { describeExecution } from './executions';
import { getManifest, listManifests, ManifestRecord, recordedExecutions } from './manifests';

/** The state machine input: the same for the original execution and every replay (docs/architecture.md). */
export type StateMachineInput = ExecutionInput;

/** Options of {@link replayManifest}. */
export interface ReplayOptions {
  /** Replay a manifest that is running or already succeeded. @default false */
  readonly force?: boolean;
}

/** What a replay did. */
export interface ReplayResult {
  readonly manifestId: string;
  /** n of `<manifestId>-r<n>`. */
  readonly replay: number;
  readonly executionName: string;
  readonly executionArn: string;
  /** True when the execution already existed (a replay started earlier but not recorded) and was only recorded now. */
  readonly alreadyStarted: boolean;
  /** Where the input came from: the original execution, or rebuilt from the MANIFEST record. */
  readonly inputFrom: 'original-execution' | 'manifest-record';
  /** Why a replay was allowed that would look refused (a RUNNING record whose execution had ended). */
  readonly note?: string;
  readonly consoleUrl?: string;
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

/** The state of the manifest's latest execution, when the record alone cannot tell whether it still runs. */
export type LatestExecutionStatus = ExecutionStatus | 'NOT_FOUND' | undefined;

/**
 * Why a manifest may not be replayed, or undefined when it may. Open and not-yet-started manifests are never
 * replayed (the sweeper starts them; a replay would race it); running and succeeded ones only with `force`.
 * A record still RUNNING whose latest execution has ended (timed out or aborted, so no Catch recorded the
 * failure) may be replayed without `force`.
 */
export function replayRefusal(record: ManifestRecord, latest: LatestExecutionStatus, force: boolean): string | undefined {
  const id = record.manifestId;
  const hasExecution = recordedExecutions(record).length > 0;
  switch (record.status) {
    case 'OPEN':
      return 'is still OPEN (collecting files): it has no execution to replay yet';
    case 'SEALED':
      if (!hasExecution) return 'is SEALED but not started yet: the sweeper starts it within a minute, nothing to replay';
      return force ? undefined : `is starting (SEALED, execution recorded): wait for it, or pass --force`;
    case 'RUNNING':
      if (latest !== undefined && latest !== 'RUNNING' && latest !== 'PENDING_REDRIVE') return undefined;
      return force ? undefined : `is RUNNING: wait for it to finish (npx pipeline status ${id}), or pass --force to start another execution alongside`;
    case 'SUCCEEDED':
      return force
        ? undefined
        : `already SUCCEEDED${record.finishedAt ? ` at ${record.finishedAt}` : ''}: pass --force to convert it again (its Parquet is replaced, not duplicated)`;
    case 'FAILED':
      return undefined;
    default:
      return `has an unknown status ${JSON.stringify(record.status)}`;
  }
}

/** Rebuilds the state machine input from the MANIFEST record, for an original execution whose history has expired. */
export function inputFromRecord(record: ManifestRecord, curatedBucket: string): StateMachineInput {
  const missing = (['manifestUri', 'ingestDate', 'fileCount', 'totalBytes'] as const).filter((k) => record[k] === undefined);
  if (missing.length > 0) {
    throw new ReplayRefusedError(record.manifestId, `cannot rebuild its input: the record lacks ${missing.join(', ')}`);
  }
  return {
    manifestId: record.manifestId,
    dataset: record.dataset,
    manifestUri: record.manifestUri as string,
    resultUri: `s3://${curatedBucket}/${resultKeyOf(record.dataset, record.manifestId)}`,
    ingestDate: record.ingestDate as string,
    fileCount: Number(record.fileCount),
    totalBytes: Number(record.totalBytes),
  };
}

function originalExecutionArn(ctx: CliContext, record: ManifestRecord): string {
  return recordedExecutions(record)[0] ?? executionArnOf(ctx.target.stateMachineArn, record.manifestId);
}

async function statusOf(ctx: CliContext, executionArn: string | undefined): Promise<LatestExecutionStatus> {
  if (executionArn === undefined) return undefined;
  try {
    return (await ctx.sfn.send(new DescribeExecutionCommand({ executionArn }))).status;
  } catch (err) {
    if ((err as Error).name === 'ExecutionDoesNotExist') return 'NOT_FOUND';
    throw err;
  }
}

/** The input of the original execution, or the record's rebuild when that execution is gone (history expired). */
async function originalInput(ctx: CliContext, record: ManifestRecord): Promise<{ input: string; from: ReplayResult['inputFrom'] }> {
  try {
    const described = await ctx.sfn.send(new DescribeExecutionCommand({ executionArn: originalExecutionArn(ctx, record) }));
    if (described.input !== undefined) return { input: described.input, from: 'original-execution' };
  } catch (err) {
    if ((err as Error).name !== 'ExecutionDoesNotExist') throw err;
  }
  return { input: JSON.stringify(inputFromRecord(record, ctx.target.curatedBucket)), from: 'manifest-record' };
}

/** Records replay n on the MANIFEST record, only if no one recorded it first. */
async function recordReplay(ctx: CliContext, record: ManifestRecord, n: number, executionArn: string): Promise<boolean> {
  const original = recordedExecutions(record);
  try {
    await ctx.ddb.send(
      new UpdateCommand({
        TableName: ctx.target.stateTable,
        Key: keys.manifest(record.manifestId),
        UpdateExpression:
          'SET #replayCount = :n, #executions = list_append(if_not_exists(#executions, :known), :arn), #lastReplayAt = :now',
        ConditionExpression:
          n === 1
            ? 'attribute_exists(#pk) AND (attribute_not_exists(#replayCount) OR #replayCount = :prev)'
            : 'attribute_exists(#pk) AND #replayCount = :prev',
        ExpressionAttributeNames: {
          '#pk': 'pk',
          '#replayCount': 'replayCount',
          '#executions': 'executions',
          '#lastReplayAt': 'lastReplayAt',
        },
        ExpressionAttributeValues: {
          ':n': n,
          ':prev': n - 1,
          ':known': original.filter((arn) => arn !== executionArn),
          ':arn': [executionArn],
          ':now': ctx.now().toISOString(),
        },
      }),
    );
    return true;
  } catch (err) {
    if ((err as Error).name === 'ConditionalCheckFailedException') return false;
    throw err;
  }
}

/** Starts replay `<id>-r<n>` of a manifest and records it; throws {@link ReplayRefusedError} with the reason when refused. */
export async function replayManifest(ctx: CliContext, manifestId: string, opts: ReplayOptions = {}): Promise<ReplayResult> {
  const record = await getManifest(ctx, manifestId);
  const id = record.manifestId;
  const executions = recordedExecutions(record);
  const latest = record.status === 'RUNNING' ? await statusOf(ctx, executions[executions.length - 1]) : undefined;
  const refusal = replayRefusal(record, latest, opts.force === true);
  if (refusal !== undefined) throw new ReplayRefusedError(id, refusal);
  const note =
    record.status === 'RUNNING' && latest !== undefined && latest !== 'RUNNING'
      ? `the record says RUNNING but its latest execution is ${latest}`
      : undefined;

  const n = Number(record.replayCount ?? 0) + 1;
  const executionName = replayExecutionName(id, n);
  const { input, from } = await originalInput(ctx, record);
  let executionArn: string;
  let alreadyStarted = false;
  try {
    const started = await ctx.sfn.send(
      new StartExecutionCommand({ stateMachineArn: ctx.target.stateMachineArn, name: executionName, input }),
    );
    executionArn = started.executionArn ?? executionArnOf(ctx.target.stateMachineArn, executionName);
  } catch (err) {
    if ((err as Error).name !== 'ExecutionAlreadyExists') throw err;
    // Started by an earlier replay that did not get to record it: record it now, as the builder does (I3).
    executionArn = executionArnOf(ctx.target.stateMachineArn, executionName);
    alreadyStarted = true;
  }
  if (!(await recordReplay(ctx, record, n, executionArn))) {
    throw new ReplayRefusedError(id, `replay ${n} was recorded by someone else meanwhile: see npx pipeline status ${id}`);
  }
  return {
    manifestId: id,
    replay: n,
    executionName,
    executionArn,
    alreadyStarted,
    inputFrom: from,
    note,
    consoleUrl: ctx.target.mode === 'cloud' ? executionConsoleUrl(executionArn) : undefined,
  };
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
 * execution cannot be redriven, and, unless forced, when it ended in its Fail state after a caught error: a
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
  const res = await ctx.sfn.send(new RedriveExecutionCommand({ executionArn }));
  return {
    manifestId: id,
    executionArn,
    redriveDate: res.redriveDate ? new Date(res.redriveDate).toISOString() : undefined,
    consoleUrl: executionConsoleUrl(executionArn),
  };
}

/** Manifests that failed among those opened since a time (the `byDay` index, no scan). */
export async function findFailedManifests(ctx: CliContext, since: Date, dataset?: string): Promise<ManifestRecord[]> {
  return listManifests(ctx, { since, status: 'FAILED', dataset });
}
