/** True when `err` is an error (an AWS SDK exception, say) with this `name`. */
export function hasErrorName(err: unknown, name: string): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === name;
}

/** Base class of the errors the handlers raise on purpose; anything else is a bug or an AWS failure. */
export class PipelineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PipelineError';
  }
}

/** An SQS message body that is not an S3 event notification; fails that message only. */
export class MalformedNotificationError extends PipelineError {
  constructor(
    readonly messageId: string,
    reason: string,
  ) {
    super(`SQS message ${messageId} is not an S3 event notification: ${reason}`);
    this.name = 'MalformedNotificationError';
  }
}

/** Concurrent writers kept winning the same item; the record is retried by SQS redelivery. */
export class ContentionError extends PipelineError {
  constructor(
    readonly dataset: string,
    attempts: number,
  ) {
    super(`Gave up placing a file of dataset "${dataset}" after ${attempts} contended attempts`);
    this.name = 'ContentionError';
  }
}

/** The state table holds something the pipeline never writes (a bug, or a hand edit). */
export class ManifestStateError extends PipelineError {
  constructor(
    readonly manifestId: string,
    reason: string,
  ) {
    super(`Manifest ${manifestId}: ${reason}`);
    this.name = 'ManifestStateError';
  }
}

/**
 * An execution of the name a manifest's execution must have exists with another input (I3): a restored state
 * table or a reset pointer made a manifest id be used twice. Never taken as "already started".
 */
export class ExecutionNameConflictError extends PipelineError {
  constructor(
    readonly executionName: string,
    readonly existingInput: string | undefined,
  ) {
    super(
      `An execution named ${executionName} already exists with another input: the manifest id was used before ` +
        '(a restored state table or a reset OPEN# pointer?). The manifest is not started; see docs/architecture.md, "Execution names".',
    );
    this.name = 'ExecutionNameConflictError';
  }
}
