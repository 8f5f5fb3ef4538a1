/**
 * The sweeper, run every minute: seals and starts manifests whose oldest file has waited `maxWaitMinutes` (I2),
 * finishes sealed manifests left without an execution, or without their execution recorded, by a crash (I3),
 * records FAILED with one alert for manifests whose execution ended without recording an outcome (I7: a
 * timeout, an abort, a runtime error), and publishes the age of the oldest manifest still without an execution.
 * It reads the sparse `pending` and `running` indexes only: no scan.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DescribeExecutionCommand, GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { endedOutcome, failureAlert, isEnded } from '../domain/ended-execution';
import { ageSeconds, shardOfManifest } from '../domain/manifest';
import { decideAfterLostSeal, decidePending, narrowedWidth, needsPointer } from '../domain/sweep';
import type { AwsClients } from '../common/aws-clients';
import { METRIC, MetricTally, type MetricsSink } from '../common/observability';
import { sealManifest, sealerDepsOf, startSealedManifest } from '../common/sealer';
import type { HandlerSettings } from '../../contracts/lambda-environment';
import type { AlertEntry, PendingEntry, StateStore } from '../common/state-store';

/** What the sweeper is made of. */
export interface SweeperDeps {
  readonly clients: AwsClients;
  readonly settings: HandlerSettings;
  readonly logger: Logger;
  readonly metrics: MetricsSink;
  /** Time written on seals and executions. @default () => new Date() */
  readonly clock?: () => Date;
}

/** What one run did. */
export interface SweepReport {
  /** Manifests sealed by this run (all started too, unless listed in `failed`). */
  readonly sealed: string[];
  /** Manifests whose execution this run started or recorded. */
  readonly started: string[];
  /** Sealed manifests left waiting because `maxConcurrentRuns` executions run (a backlog); a later run starts them. */
  readonly queued: string[];
  /** Open manifests removed because no file ever entered them. */
  readonly discarded: string[];
  /** Datasets spread over fewer write shards by this run, because in-use shards' manifests were sealed by timeout. */
  readonly narrowed: Array<{ dataset: string; from: number; to: number }>;
  /** Manifests recorded FAILED (and alerted) because their execution ended without recording an outcome. */
  readonly endedRecorded: string[];
  /** Manifests whose pending alert (the outbox) this run published. */
  readonly alertsPublished: string[];
  readonly failed: Array<{ manifestId: string; error: string }>;
  /** Age of the oldest manifest still without an execution after this run; 0 when none. */
  readonly oldestOpenManifestAgeSeconds: number;
}

/** One sweep at instant `now`; publishes its metrics once. */
export async function sweep(deps: SweeperDeps, now: Date): Promise<SweepReport> {
  const { settings, logger } = deps;
  const tally = new MetricTally();
  const sealer = sealerDepsOf({ clients: deps.clients, settings, logger, tally, clock: deps.clock ?? (() => new Date()) });
  const { store } = sealer;
  const report: SweepReport = {
    sealed: [],
    started: [],
    queued: [],
    discarded: [],
    narrowed: [],
    endedRecorded: [],
    alertsPublished: [],
    failed: [],
    oldestOpenManifestAgeSeconds: 0,
  };
  const stillPending: PendingEntry[] = [];
  /** The shards of each dataset whose manifest this run sealed by timeout. */
  const timedOut = new Map<string, number[]>();

  for (const entry of await store.listPending()) {
    try {
      // The index is eventually consistent: decide on the item itself.
      const meta = await store.getManifest(entry.manifestId);
      const pointer = needsPointer(meta, now, settings) ? await store.getShardPointer(meta.dataset, shardOfManifest(meta)) : undefined;
      const decision = decidePending(meta, pointer, now, settings);
      if (decision.step === 'skip') continue;
      if (decision.step === 'wait') {
        stillPending.push(entry);
        continue;
      }
      const { manifestId, dataset } = meta!;
      const shard = shardOfManifest(meta!);
      if (decision.step === 'discard') {
        if ((await store.discardEmpty(dataset, shard, manifestId)) === 'done') {
          report.discarded.push(manifestId);
          logger.info('Empty manifest discarded', { manifestId, dataset });
        } else {
          stillPending.push(entry);
        }
        continue;
      }
      if (decision.step === 'seal') {
        if (await sealManifest(sealer, dataset, shard, manifestId, decision.reason)) {
          report.sealed.push(manifestId);
          if (decision.reason === 'timeout') timedOut.set(dataset, [...(timedOut.get(dataset) ?? []), shard]);
        } else if (decideAfterLostSeal(await store.getManifest(manifestId), now) === 'wait') {
          stillPending.push(entry);
          continue;
        }
      }
      if ((await startSealedManifest(sealer, manifestId)) === undefined) {
        // Queued for capacity: not stuck, so not in the age gauge that alarms on stuck manifests.
        report.queued.push(manifestId);
        continue;
      }
      report.started.push(manifestId);
    } catch (err) {
      stillPending.push(entry);
      report.failed.push({ manifestId: entry.manifestId, error: (err as Error).message });
      logger.error('Sweep of a manifest failed; the next run retries it', { manifestId: entry.manifestId, error: err as Error });
    }
  }

  await narrowQuietDatasets(deps, store, timedOut, report);
  await recordEndedExecutions(deps, store, now, tally, report);
  await publishPendingAlerts(deps, store, now, report);

  const oldest = stillPending.reduce<string | undefined>((min, e) => (min === undefined || e.openedAt < min ? e.openedAt : min), undefined);
  const age = oldest === undefined ? 0 : ageSeconds(oldest, now);
  tally.sample(METRIC.oldestOpenManifestAgeSeconds, MetricUnit.Seconds, age);
  tally.sample(METRIC.manifestsQueued, MetricUnit.Count, report.queued.length);
  tally.flush(deps.metrics);
  logger.info('Sweep done', {
    pending: stillPending.length,
    sealed: report.sealed.length,
    started: report.started.length,
    discarded: report.discarded.length,
    narrowed: report.narrowed.length,
    queued: report.queued.length,
    endedRecorded: report.endedRecorded.length,
    alertsPublished: report.alertsPublished.length,
    failed: report.failed.length,
    oldestOpenManifestAgeSeconds: age,
  });
  return { ...report, oldestOpenManifestAgeSeconds: age };
}

/**
 * Spreads each dataset whose in-use shards' manifests this run sealed by timeout over fewer shards
 * ({@link narrowedWidth}): their traffic no longer fills a manifest per shard within `maxWaitMinutes`. Conditional on
 * the width read, so a builder widening meanwhile wins; a failure is left to the next timeout.
 */
async function narrowQuietDatasets(
  deps: SweeperDeps,
  store: StateStore,
  timedOut: ReadonlyMap<string, number[]>,
  report: SweepReport,
): Promise<void> {
  for (const [dataset, shards] of timedOut) {
    try {
      const item = await store.getPointer(dataset);
      if (item === undefined) continue;
      const to = narrowedWidth(item.shards, shards);
      if (to === undefined || !(await store.narrow(dataset, item.shards, to))) continue;
      report.narrowed.push({ dataset, from: item.shards, to });
      deps.logger.info('Dataset spread over fewer shards', { dataset, from: item.shards, to });
    } catch (err) {
      // Only the spread of later files depends on it: logged, not a failed sweep.
      deps.logger.warn('Narrowing a dataset failed; a later timeout narrows it', { dataset, error: err as Error });
    }
  }
}

/** True when `executionArn` names the manifest's original execution (its name is the manifest id, I3). */
function isOriginalExecution(executionArn: string, manifestId: string): boolean {
  return executionArn.endsWith(`:${manifestId}`);
}

/** The last state an execution entered, from the newest events of its history; undefined when none is found. */
async function lastStateEntered(deps: SweeperDeps, executionArn: string): Promise<string | undefined> {
  const history = await deps.clients.sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 100 }));
  // The newest by event id, whatever order the page came in.
  const entered = (history.events ?? []).filter((e) => e.stateEnteredEventDetails?.name !== undefined);
  entered.sort((a, b) => (b.id ?? 0) - (a.id ?? 0));
  return entered[0]?.stateEnteredEventDetails?.name;
}

/**
 * I7 for what no Catch takes: every manifest of the `running` index whose execution has ended (timed out, aborted,
 * failed on a runtime error, or aborted before its MarkRunning, the record still SEALED) while its record still
 * names that execution is recorded FAILED with the reason,
 * then announced once. The write is conditional on the record still naming that execution as RUNNING, so a later
 * execution's record is never touched and two sweeps alert once.
 */
async function recordEndedExecutions(
  deps: SweeperDeps,
  store: StateStore,
  now: Date,
  tally: MetricTally,
  report: SweepReport,
): Promise<void> {
  const { logger, settings } = deps;
  for (const entry of await store.listRunning()) {
    try {
      const meta = await store.getManifest(entry.manifestId);
      // SEALED: its execution was recorded and MarkRunning has not run (yet, or ever: an abort before it).
      if (meta === undefined || !['RUNNING', 'SEALED'].includes(meta.status) || meta.executionArn === undefined) continue;
      if (meta.executions === undefined && isOriginalExecution(meta.executionArn, meta.manifestId)) {
        // MarkRunning took the manifest out of the pending index before its starter recorded the execution
        // (the starter stopped right after StartExecution): recorded here instead.
        await store.recordExecution(meta.manifestId, {
          executionArn: meta.executionArn,
          manifestUri: meta.manifestUri ?? '',
          fileCount: meta.fileCount ?? 0,
          totalBytes: meta.totalBytes ?? 0,
          startedAt: meta.startedAt === undefined ? now : new Date(meta.startedAt),
        });
        report.started.push(meta.manifestId);
      }
      const described = await deps.clients.sfn.send(new DescribeExecutionCommand({ executionArn: meta.executionArn }));
      const status = described.status ?? 'RUNNING';
      // Checked before the outcome, to spare the history read of every execution still running.
      if (!isEnded(status)) continue;
      const outcome = endedOutcome(
        { status, error: described.error, cause: described.cause, stopDate: described.stopDate },
        await lastStateEntered(deps, meta.executionArn),
        now,
      );
      if (outcome === undefined) continue;
      const alert = failureAlert({
        manifestId: meta.manifestId,
        dataset: meta.dataset,
        fileCount: meta.fileCount,
        outcome,
        executionArn: meta.executionArn,
        region: settings.region,
        subjectPrefix: settings.alertSubjectPrefix,
      });
      // The alert is written with the status (the outbox), so a publish that fails below is retried by a later sweep.
      if (!(await store.recordEndedExecution(meta.manifestId, { executionArn: meta.executionArn, ...outcome, alert }))) continue;
      tally.count(METRIC.endedExecutionsRecorded);
      report.endedRecorded.push(meta.manifestId);
      logger.warn('Execution ended without recording an outcome; manifest recorded FAILED', {
        manifestId: meta.manifestId,
        executionStatus: status,
        error: outcome.error,
        failedState: outcome.failedState,
      });
      const pending = await store.getPendingAlert(meta.manifestId);
      if (pending !== undefined) await publishAlert(deps, store, pending, now, report);
    } catch (err) {
      report.failed.push({ manifestId: entry.manifestId, error: (err as Error).message });
      logger.error('Check of a running manifest failed; the next run retries it', { manifestId: entry.manifestId, error: err as Error });
    }
  }
}

/**
 * The outbox's second publisher (I7): every alert still pending on a final record whose execution has ended (the
 * state machine publishes its own while it runs, and gave up if its execution ended with the alert pending) is
 * published, then cleared on the condition that the record still holds that alert. A publish that fails leaves it
 * pending for the next sweep, so an alert is published until SNS accepts it.
 */
async function publishPendingAlerts(deps: SweeperDeps, store: StateStore, now: Date, report: SweepReport): Promise<void> {
  for (const entry of await store.listPendingAlerts()) {
    try {
      const pending = await store.getPendingAlert(entry.manifestId);
      if (pending === undefined) continue;
      if (pending.executionArn !== undefined) {
        const described = await deps.clients.sfn.send(new DescribeExecutionCommand({ executionArn: pending.executionArn }));
        // Still running: the state machine is publishing it (with its own retries); a second publisher would double it.
        if (!isEnded(described.status ?? 'RUNNING')) continue;
      }
      await publishAlert(deps, store, pending, now, report);
    } catch (err) {
      report.failed.push({ manifestId: entry.manifestId, error: (err as Error).message });
      deps.logger.error('Publishing a pending alert failed; the next run retries it', {
        manifestId: entry.manifestId,
        error: err as Error,
      });
    }
  }
}

/** Publishes one pending alert and clears it (conditional on the record still holding it). */
async function publishAlert(deps: SweeperDeps, store: StateStore, alert: AlertEntry, now: Date, report: SweepReport): Promise<void> {
  const { settings, logger } = deps;
  if (settings.alertTopicArn === undefined) {
    logger.error('No alerts topic configured (ALERT_TOPIC_ARN): the alert stays pending on the record', { manifestId: alert.manifestId });
    return;
  }
  await deps.clients.sns.send(new PublishCommand({ TopicArn: settings.alertTopicArn, Subject: alert.subject, Message: alert.message }));
  report.alertsPublished.push(alert.manifestId);
  if (!(await store.clearAlert(alert.manifestId, alert.alertSk, now))) {
    logger.warn('A published alert was cleared by someone else meanwhile', { manifestId: alert.manifestId });
  }
}
