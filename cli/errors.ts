/**
 * Errors the CLI reports as a one-line reason with a non-zero exit code. Every failure an operator can act on
 * has its own class, so the operations (usable without the command line) can be tested on the error's name.
 */
import { printable } from './printable';

/** Base class: the message is the one line printed after `error:`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** No target resolved: neither a running local mode nor a stack name. */
export class TargetNotFoundError extends CliError {
  constructor(detail: string) {
    super(detail);
    this.name = 'TargetNotFoundError';
  }
}

/** An argument the command cannot work with (a dataset name, a time, a path). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

/** No MANIFEST record with this id. */
export class ManifestNotFoundError extends CliError {
  constructor(readonly manifestId: string) {
    super(`no manifest "${manifestId}" in the state table`);
    this.name = 'ManifestNotFoundError';
  }
}

/** A replay or redrive refused by its rules; the message says why and what to do instead. */
export class ReplayRefusedError extends CliError {
  constructor(
    readonly manifestId: string,
    reason: string,
  ) {
    super(`${manifestId}: ${reason}`);
    this.name = 'ReplayRefusedError';
  }
}

/** An operation the local emulator does not provide; the message names the alternative. */
export class NotAvailableLocallyError extends CliError {
  constructor(operation: string, alternative: string) {
    super(`${operation} is not available in the local emulator; ${alternative}`);
    this.name = 'NotAvailableLocallyError';
  }
}

/**
 * Reduces any thrown value to the one line printed to the operator, control characters escaped: a message can
 * quote an object key, a path or a service's text, none of which may act on the terminal or start another line.
 */
export function oneLineReason(err: unknown, endpoint?: string): string {
  if (err instanceof CliError) return printable(err.message);
  const e = err as { name?: string; message?: string; code?: string; $metadata?: unknown };
  const code = e?.code ?? (e?.message?.match(/ECONNREFUSED/) ? 'ECONNREFUSED' : undefined);
  if (code === 'ECONNREFUSED' && endpoint !== undefined) {
    return `cannot reach the local emulator at ${endpoint}: is the local mode running? (npx pipeline local start)`;
  }
  const message = (e?.message ?? String(err)).split('\n')[0];
  // AWS SDK errors carry the service's error code as the name: keep it, it is what AWS documents.
  return printable(e?.$metadata !== undefined && e.name && !message.startsWith(e.name) ? `${e.name}: ${message}` : message);
}
