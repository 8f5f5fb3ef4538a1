/**
 * A manifest's executions and what each went through: the states entered, the retries with their errors, the
 * failure with its error and cause. Read from DescribeExecution and GetExecutionHistory, without the states'
 * input and output (they carry data, and the record already holds the counts).
 */
import { DescribeExecutionCommand, GetExecutionHistoryCommand, HistoryEvent } from '@aws-sdk/client-sfn';
import { CliContext } from '../context';
import { executionConsoleUrl } from '../console-url';

/** An error raised in a state: Step Functions' error name and its cause. */
export interface StateError {
  readonly error?: string;
  readonly cause?: string;
  readonly at?: string;
}

/** One state the execution entered. */
export interface StateStep {
  readonly name: string;
  /** The state's type: Task, Pass, Choice, Fail, Succeed, ... */
  readonly type: string;
  readonly enteredAt?: string;
  readonly exitedAt?: string;
  /** Attempts of a Task state (1 when it was not retried); 0 for other states. */
  readonly attempts: number;
  /** Errors of the attempts that were retried. */
  readonly retries: StateError[];
  /** `succeeded` (exited normally), `caught` (failed, then a Catch went on), `failed` (ended the execution), `running`. */
  readonly outcome: 'succeeded' | 'caught' | 'failed' | 'running';
  /** The error of a caught or failed state. */
  readonly failure?: StateError;
}

/** One execution of a manifest, summarised. */
export interface ExecutionSummary {
  readonly name: string;
  readonly executionArn: string;
  /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE; NOT_FOUND when the ARN is unknown. */
  readonly status: string;
  readonly startDate?: string;
  readonly stopDate?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly redriveCount?: number;
  /** The execution's page in the Step Functions console; only in the cloud. */
  readonly consoleUrl?: string;
  readonly steps: StateStep[];
}

interface MutableStep {
  name: string;
  type: string;
  enteredAt?: string;
  exitedAt?: string;
  attempts: number;
  errors: StateError[];
}

const TASK_ERROR_DETAILS = [
  'taskFailedEventDetails',
  'taskTimedOutEventDetails',
  'taskStartFailedEventDetails',
  'taskSubmitFailedEventDetails',
  'lambdaFunctionFailedEventDetails',
  'lambdaFunctionTimedOutEventDetails',
  'lambdaFunctionStartFailedEventDetails',
  'lambdaFunctionScheduleFailedEventDetails',
] as const;

const EXECUTION_END_DETAILS = ['executionFailedEventDetails', 'executionTimedOutEventDetails', 'executionAbortedEventDetails'] as const;

function iso(date: Date | undefined): string | undefined {
  return date === undefined ? undefined : new Date(date).toISOString();
}

/**
 * Folds an execution's history into its steps. A Task attempt starts at `TaskScheduled` (or
 * `LambdaFunctionScheduled`); an attempt's error followed by another attempt is a retry; a state with an error
 * that still exited was caught; the state open when the execution failed is the one that failed it.
 */
export function summariseHistory(
  events: readonly HistoryEvent[],
  executionStatus: string,
): { steps: StateStep[]; executionError?: StateError } {
  const steps: MutableStep[] = [];
  let executionError: StateError | undefined;
  const sorted = [...events].sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  for (const event of sorted) {
    const type = event.type ?? '';
    const current = steps[steps.length - 1];
    if (type.endsWith('StateEntered')) {
      steps.push({
        name: event.stateEnteredEventDetails?.name ?? '?',
        type: type.slice(0, -'StateEntered'.length),
        enteredAt: iso(event.timestamp),
        attempts: 0,
        errors: [],
      });
    } else if (type.endsWith('StateExited')) {
      const name = event.stateExitedEventDetails?.name;
      const step = [...steps].reverse().find((s) => s.name === name && s.exitedAt === undefined) ?? current;
      if (step) step.exitedAt = iso(event.timestamp);
    } else if (type === 'TaskScheduled' || type === 'LambdaFunctionScheduled' || type === 'ActivityScheduled') {
      if (current) current.attempts += 1;
    } else {
      const details = TASK_ERROR_DETAILS.map((k) => event[k]).find(Boolean);
      if (details && current) {
        current.errors.push({ error: details.error, cause: details.cause, at: iso(event.timestamp) });
        continue;
      }
      const end = EXECUTION_END_DETAILS.map((k) => event[k]).find(Boolean);
      if (end) executionError = { error: end.error, cause: end.cause, at: iso(event.timestamp) };
    }
  }
  const finished = executionStatus !== 'RUNNING' && executionStatus !== 'PENDING_REDRIVE';
  const summarised = steps.map((s, i): StateStep => {
    const lastAttemptFailed = s.errors.length > 0 && s.errors.length >= s.attempts;
    const isLast = i === steps.length - 1;
    let outcome: StateStep['outcome'];
    let failure: StateError | undefined;
    let retries = s.errors;
    if (s.exitedAt !== undefined) {
      outcome = lastAttemptFailed ? 'caught' : 'succeeded';
      if (lastAttemptFailed) {
        failure = s.errors[s.errors.length - 1];
        retries = s.errors.slice(0, -1);
      }
    } else if (finished && isLast && executionStatus !== 'SUCCEEDED') {
      outcome = 'failed';
      failure = lastAttemptFailed ? s.errors[s.errors.length - 1] : executionError;
      retries = lastAttemptFailed ? s.errors.slice(0, -1) : s.errors;
    } else if (finished) {
      outcome = 'succeeded';
    } else {
      outcome = 'running';
    }
    return { name: s.name, type: s.type, enteredAt: s.enteredAt, exitedAt: s.exitedAt, attempts: s.attempts, retries, outcome, failure };
  });
  return { steps: summarised, executionError };
}

/**
 * Reads an execution's whole history (every page); without the states' input and output unless `includeData`
 * (the console shows them on demand).
 */
export async function readHistory(ctx: CliContext, executionArn: string, includeData = false): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ctx.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken, includeExecutionData: includeData }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** Describes one execution and summarises its history; an unknown ARN gives status NOT_FOUND. */
export async function describeExecution(ctx: CliContext, executionArn: string): Promise<ExecutionSummary> {
  const name = executionArn.split(':').pop() ?? executionArn;
  const consoleUrl = ctx.target.mode === 'cloud' ? executionConsoleUrl(executionArn) : undefined;
  let described;
  try {
    described = await ctx.sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (err) {
    if ((err as Error).name === 'ExecutionDoesNotExist') {
      return { name, executionArn, status: 'NOT_FOUND', consoleUrl, steps: [] };
    }
    throw err;
  }
  const status = described.status ?? 'UNKNOWN';
  const { steps, executionError } = summariseHistory(await readHistory(ctx, executionArn), status);
  return {
    name: described.name ?? name,
    executionArn,
    status,
    startDate: iso(described.startDate),
    stopDate: iso(described.stopDate),
    error: described.error ?? executionError?.error,
    cause: described.cause ?? executionError?.cause,
    redriveCount: described.redriveCount,
    consoleUrl,
    steps,
  };
}
