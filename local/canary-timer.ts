/**
 * The local mode's stand-in for the canary's EventBridge schedule (docs/architecture.md, "Canary"): calls the
 * canary's handler in-process on every tick of a clock-aligned period, with the scheduled event EventBridge sends (its
 * `time` the tick), as the stack's `cron(0/5 * * * ? *)` does every five minutes. Runs as its own process (its own
 * Powertools service name; its log, with the metrics' EMF lines, is `<state dir>/logs/canary.log`):
 * `tsx local/canary-timer.ts --state-dir .local --every-seconds 30 [--check-seconds 5]`.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ScheduledEvent } from 'aws-lambda';
import { resolveConfig } from '../contracts/config';
import { localPaths } from '../contracts/local-stack';
import { canaryEnvironment, lambdaContext, loadHandler } from './lambda-host';
import { readStack } from './layout';
import { logLine, parseArgs, sleep } from './process-utils';
import { scheduledEvent } from './sweeper-timer';

/** Seconds between two checks of the local canary: its ticks are multiples of it since the epoch. */
export const LOCAL_CANARY_CHECK_SECONDS = 5;

/**
 * How far back the local canary looks: an hour, and at least two uploads (the stack's is three alarm waits, in
 * minutes; locally conversions take a minute or two).
 */
export function localCanaryLookbackSeconds(everySeconds: number): number {
  return Math.max(3600, 2 * everySeconds);
}

/** The next tick at or after `nowMs`: a multiple of `checkSeconds` since the epoch. */
export function nextTick(nowMs: number, checkSeconds: number): number {
  const step = checkSeconds * 1000;
  return Math.ceil(nowMs / step) * step;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const paths = localPaths(args['state-dir']);
  const stack = readStack(paths.stateDir);
  const config = resolveConfig({ batchSize: stack.batchSize });
  const everySeconds = Number(args['every-seconds']);
  const checkSeconds = args['check-seconds'] ? Number(args['check-seconds']) : LOCAL_CANARY_CHECK_SECONDS;
  const handler = await loadHandler<ScheduledEvent, unknown>(
    'canary',
    stack,
    config,
    canaryEnvironment(stack, config, { everySeconds, checkSeconds, lookbackSeconds: localCanaryLookbackSeconds(everySeconds) }),
  );
  let stopping = false;
  process.on('SIGTERM', () => (stopping = true));
  process.on('SIGINT', () => (stopping = true));
  writeFileSync(path.join(paths.pidDir, 'canary.ready'), String(process.pid));
  logLine({ message: 'canary timer started', everySeconds, checkSeconds });
  let tick = nextTick(Date.now(), checkSeconds);
  while (!stopping) {
    while (!stopping && Date.now() < tick) await sleep(Math.min(250, tick - Date.now()));
    if (stopping) break;
    const started = Date.now();
    try {
      await handler(scheduledEvent(stack.region, new Date(tick), 'canary-schedule-local'), lambdaContext('canary', stack.region));
      logLine({ message: 'invocation', tick: new Date(tick).toISOString(), durationMs: Date.now() - started });
    } catch (err) {
      // As in Lambda: a failed check is logged (the errors alarm's cue) and the next tick comes as scheduled.
      logLine({
        message: 'invocation failed',
        durationMs: Date.now() - started,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
    }
    // A tick missed while a check ran long is skipped, as a schedule does not queue.
    tick = nextTick(Math.max(Date.now(), tick + 1), checkSeconds);
  }
  logLine({ message: 'canary timer stopped' });
}

if (require.main === module) {
  main().catch((err) => {
    logLine({ message: 'canary timer failed', error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    process.exit(1);
  });
}
