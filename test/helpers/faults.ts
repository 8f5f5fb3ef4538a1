/**
 * Fault injection with SDK middleware, so production code carries no test hooks: a {@link CallCounter} numbers
 * every AWS call of a set of clients, and can make call #k and every later one fail as if the process died there.
 */
import type { AwsClients } from '../../handlers/common/aws-clients';

/** An AWS SDK client, as far as these helpers touch it: its middleware stack. */
type MiddlewareHost = { middlewareStack: { add: (...args: any[]) => unknown } };

/** The error a "crashed" Lambda instance sees on every call from the crash on. */
export class InjectedCrash extends Error {
  constructor(readonly call: number) {
    super(`injected crash before AWS call #${call}`);
    this.name = 'InjectedCrash';
  }
}

/** Counts (and optionally fails) the AWS calls made through the clients it is attached to. */
export class CallCounter {
  calls: string[] = [];

  /** @param crashAt the first call that fails (1-based); undefined: none. */
  constructor(readonly crashAt?: number) {}

  /** Attaches to every client of `clients`; returns them. */
  attach(clients: AwsClients): AwsClients {
    for (const [service, client] of Object.entries(clients) as Array<[string, MiddlewareHost]>) {
      client.middlewareStack.add(
        (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
          this.calls.push(`${service}:${context.commandName}`);
          if (this.crashAt !== undefined && this.calls.length >= this.crashAt) throw new InjectedCrash(this.calls.length);
          return next(args);
        },
        { step: 'initialize', name: 'callCounter' },
      );
    }
    return clients;
  }
}

/** Makes the first `times` calls of command `commandName` on `client` fail with an error named `errorName`. */
export function failCommand(
  client: MiddlewareHost,
  commandName: string,
  times: number,
  errorName = 'ServiceUnavailable',
): { failures: number } {
  const state = { failures: 0 };
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      if (context.commandName === commandName && state.failures < times) {
        state.failures += 1;
        const err = new Error(`injected ${errorName} on ${commandName}`);
        err.name = errorName;
        throw err;
      }
      return next(args);
    },
    { step: 'initialize', name: `fail-${commandName}` },
  );
  return state;
}
