/**
 * The local mode's stand-in for the EventBridge schedule: calls the sweeper's handler in-process every few
 * seconds with a scheduled-event shape. Runs as its own process (its own Powertools service name and logs):
 * `tsx local/sweeper-timer.ts --state-dir .local [--interval-seconds 5]`.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ScheduledEvent } from 'aws-lambda';
import { resolveConfig } from '../contracts/config';
import { lambdaContext, loadHandler } from './lambda-host';
import { localPaths } from '../contracts/local-stack';
import { LOCAL_ACCOUNT, readStack } from './layout';
import { logLine, parseArgs, sleep } from './process-utils';

/** The event EventBridge sends for a schedule rule. */
export function scheduledEvent(region: string, now: Date = new Date(), rule = 'sweeper-schedule-local'): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: LOCAL_ACCOUNT,
    time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [`arn:aws:events:${region}:${LOCAL_ACCOUNT}:rule/${rule}`],
    detail: {},
  };
}

/** The default interval: often enough that a manifest is flushed soon after its wait ends. */
export function defaultIntervalSeconds(maxWaitSeconds: number): number {
  return Math.max(1, Math.min(10, Math.floor(maxWaitSeconds / 3)));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const paths = localPaths(args['state-dir']);
  const stack = readStack(paths.stateDir);
  const config = resolveConfig({ batchSize: stack.batchSize });
  const intervalMs = 1000 * (args['interval-seconds'] ? Number(args['interval-seconds']) : defaultIntervalSeconds(stack.maxWaitSeconds));
  const handler = await loadHandler<ScheduledEvent, unknown>('sweeper', stack, config);
  let stopping = false;
  process.on('SIGTERM', () => (stopping = true));
  process.on('SIGINT', () => (stopping = true));
  writeFileSync(path.join(paths.pidDir, 'sweeper.ready'), String(process.pid));
  logLine({ message: 'sweeper timer started', intervalMs });
  while (!stopping) {
    const started = Date.now();
    try {
      await handler(scheduledEvent(stack.region), lambdaContext('sweeper', stack.region));
      logLine({ message: 'invocation', durationMs: Date.now() - started });
    } catch (err) {
      // As in Lambda: a failed run is logged and the next one comes at the next tick.
      logLine({
        message: 'invocation failed',
        durationMs: Date.now() - started,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
    }
    const until = started + intervalMs;
    while (!stopping && Date.now() < until) await sleep(Math.min(250, until - Date.now()));
  }
  logLine({ message: 'sweeper timer stopped' });
}

if (require.main === module) {
  main().catch((err) => {
    logLine({ message: 'sweeper timer failed', error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    process.exit(1);
  });
}
