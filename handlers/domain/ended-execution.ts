/**
 * What the sweeper records for an execution that ended without recording its manifest's outcome (I7): a timeout,
 * an abort or a runtime error, which no Catch of the state machine can take. Pure functions, no AWS.
 */

import { alertSubject } from '../../contracts/config';

/** An ended execution as DescribeExecution tells it. */
export interface DescribedExecution {
  readonly status: string;
  readonly error?: string;
  readonly cause?: string;
  readonly stopDate?: Date;
}

/** The failure to record: error, cause and the state the execution was in. */
export interface EndedOutcome {
  readonly error: string;
  readonly cause: string;
  readonly failedState: string;
  readonly finishedAt: string;
}

/** Longest cause kept on the record and in the alert. */
export const MAX_CAUSE_CHARS = 1000;

/** Statuses of an execution that is still going: nothing to record. */
const NOT_ENDED = new Set(['RUNNING', 'PENDING_REDRIVE']);

/** True once an execution of this status has ended (anything but RUNNING or PENDING_REDRIVE). */
export function isEnded(status: string): boolean {
  return !NOT_ENDED.has(status);
}

/**
 * The outcome to record for an execution that ended while its manifest's record still says RUNNING, or undefined
 * while it runs. `lastState` is the last state it entered (from its history), when known.
 */
export function endedOutcome(execution: DescribedExecution, lastState: string | undefined, now: Date): EndedOutcome | undefined {
  if (!isEnded(execution.status)) return undefined;
  const failedState = lastState ?? 'unknown';
  const finishedAt = (execution.stopDate ?? now).toISOString();
  const cut = (text: string) => (text.length > MAX_CAUSE_CHARS ? `${text.slice(0, MAX_CAUSE_CHARS - 1)}…` : text);
  switch (execution.status) {
    case 'TIMED_OUT':
      return { error: 'States.Timeout', cause: cut(`The execution timed out in state ${failedState}.`), failedState, finishedAt };
    case 'ABORTED':
      return { error: 'Execution.Aborted', cause: cut(`The execution was stopped in state ${failedState}.`), failedState, finishedAt };
    case 'FAILED':
      return {
        error: execution.error ?? 'States.Runtime',
        cause: cut(execution.cause ?? `The execution failed in state ${failedState} without recording why.`),
        failedState,
        finishedAt,
      };
    default:
      return {
        error: 'Pipeline.OutcomeNotRecorded',
        cause: cut(`The execution ended ${execution.status} without recording the manifest's outcome.`),
        failedState,
        finishedAt,
      };
  }
}

/** What the alert names. */
export interface FailureAlertFields {
  readonly manifestId: string;
  readonly dataset: string;
  readonly fileCount: number | undefined;
  readonly outcome: EndedOutcome;
  readonly executionArn: string;
  readonly region: string;
  /** Start of the subject, naming the stage (`alertSubjectPrefix`). */
  readonly subjectPrefix: string;
}

/**
 * The alert's subject and text: the same layout as the state machine's own (NotifyFailure and ComposeAlert in the
 * ASL); the subject within SNS's limit whatever the prefix, the manifest id in the message.
 */
export function failureAlert(f: FailureAlertFields): { subject: string; message: string } {
  return {
    subject: alertSubject(f.subjectPrefix, 'failed'),
    message:
      `Manifest ${f.manifestId} of dataset ${f.dataset} (${f.fileCount ?? '?'} files) was not converted.\n\n` +
      `Failed state: ${f.outcome.failedState}\nError: ${f.outcome.error}\nCause: ${f.outcome.cause}\n\n` +
      `Execution: https://${f.region}.console.aws.amazon.com/states/home?region=${f.region}#/v2/executions/details/${f.executionArn}\n\n` +
      `Once the cause is fixed, replay the manifest with:\n  npx pipeline replay ${f.manifestId}\n`,
  };
}
