/**
 * The sweeper, run every minute: records FAILED with one alert for manifests whose execution ended without recording
 * an outcome (I7: a timeout, an abort, a runtime error) and gives back the capacity slots of ended executions; seals
 * manifests whose oldest file has waited `maxWaitMinutes` (I2) and queues them, with sealed manifests a crash left
 * outside the queue (I3); starts the start queue's oldest executions into the free slots; and publishes the age of
 * the oldest manifest still without an execution and of the oldest queued one. It reads the sparse `pending`,
 * `running` and `alerts` indexes, the slots item and the queue's partition: no scan.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { endedOutcome, failureAlert, isEnded } from '../domain/ended-execution';
import { ageSeconds, executionArnOf, shardOfManifest } from '../domain/manifest';
import { decideAfterLostSeal, decidePending, narrowedWidth, needsPointer } from '../domain/sweep';
import type { AwsClients } from '../common/aws-clients';
import { hasErrorName } from '../common/errors';
import { METRIC, MetricTally, type MetricsSink } from '../common/observability';
import { drainQueue, enqueueSealedManifest, sealManifest, sealerDepsOf, startQueued, type SealerDeps } from '../common/sealer';
import type { HandlerSettings } from '../../contracts/lambda-environment';
import type { AlertEntry, PendingEntry, QueueEntry, SlotHolder, StateStore } from '../common/state-store';

/** What the sweeper is made of. */
export interface SweeperDeps {
  readonly clients: AwsClients;
  readonly settings: HandlerSettings;
  readonly logger: Logger;
  readonly metrics: MetricsSink;
  /** Time written on seals and executions. @default () => new Date() */
  readonly clock?: () => Date;
  /**
   * Wall-clock time one run may spend before it stops taking on work (the rest waits for the next run); the Lambda
   * passes its remaining time less a margin. @default SWEEP_BUDGET_MS
   */
  readonly budgetMs?: number;
}

/** A run's time budget when none is given: well within the sweeper Lambda's 50 s timeout. */
export const SWEEP_BUDGET_MS = 30_000;

/** Sealed manifests found outside the start queue (their sealer stopped before queuing them) queued per run at most. */
export const MAX_REQUEUES_PER_SWEEP = 25;

/**
 * A slot held by an execution that does not exist (its starter stopped between taking the slot and StartExecution),
 * or taken again after its execution stopped (a redrive being started), is left to its taker this long.
 */
export const SLOT_START_GRACE_MS = 2 * 60_000;

/** What one run did. */
export interface SweepReport {
  /** Manifests sealed by this run (all started too, unless listed in `failed`). */
  readonly sealed: string[];
  /** Manifests whose execution this run started or recorded. */
  readonly started: string[];
  /** Manifests whose executions wait in the start queue after this run (a backlog); later runs start them in turn. */
  readonly queued: string[];
  /** Executions whose capacity slot this run gave back (their execution ended without the state machine giving it back). */
  readonly slotsFreed: string[];
  /** Open manifests removed because no file ever entered them. */
  readonly discarded: string[];
  /** Datasets spread over fewer write shards by this run, because in-use shards' manifests were sealed by timeout. */
  readonly narrowed: Array<{ dataset: string; from: number; to: number }>;
  /** Manifests recorded FAILED (and alerted) because their execution ended without recording an outcome. */
  readonly endedRecorded: string[];
  /** Manifests whose pending alert (the outbox) this run published. */
  readonly alertsPublished: string[];
  readonly failed: Array<{ manifestId: string; error: string }>;
  /** Age of the oldest manifest still without an execution after this run, the queued aside; 0 when none. */
  readonly oldestOpenManifestAgeSeconds: number;
  /** Age of the oldest execution waiting in the start queue after this run; 0 when none. */
  readonly oldestQueuedAgeSeconds: number;
}

/**
 * One sweep at instant `now`; publishes its metrics once. In this order, each step within the run's time budget:
 * ended executions are recorded (I7) and their slots given back, so the starts below can use them; pending alerts
 * are published; due manifests are sealed and queued; the start queue is drained, oldest first, into the free slots.
 * Its calls are bounded by the slots and the open manifests, not by the backlog: a queued manifest costs nothing
 * until its turn (its entry is read with the queue's page, one read for some thousand entries).
 */
export async function sweep(deps: SweeperDeps, now: Date): Promise<SweepReport> {
  const { settings, logger } = deps;
  const began = Date.now();
  const budgetMs = deps.budgetMs ?? SWEEP_BUDGET_MS;
  const shouldStop = () => Date.now() - began > budgetMs;
  const tally = new MetricTally();
  const sealer = sealerDepsOf({ clients: deps.clients, settings, logger, tally, clock: deps.clock ?? (() => new Date()) });
  const { store } = sealer;
  const report: SweepReport = {
    sealed: [],
    started: [],
    queued: [],
    slotsFreed: [],
    discarded: [],
    narrowed: [],
    endedRecorded: [],
    alertsPublished: [],
    failed: [],
    oldestOpenManifestAgeSeconds: 0,
    oldestQueuedAgeSeconds: 0,
  };
  const stillPending: PendingEntry[] = [];
  /** The shards of each dataset whose manifest this run sealed by timeout. */
  const timedOut = new Map<string, number[]>();

  const running = await runningExecutionNames(deps);
  await recordEndedExecutions(deps, store, now, tally, report, running, shouldStop);
  const queue = await store.listQueue();
  const holders = await freeSlots(deps, sealer, now, running, queue, report, shouldStop);
  await publishPendingAlerts(deps, store, now, report, shouldStop);

  const queuedOriginals = new Set(queue.filter((e) => e.replay === 0).map((e) => e.manifestId));
  let requeued = 0;
  for (const entry of await store.listPending()) {
    // Waiting in the start queue: nothing to do until its turn (the drain below).
    if (entry.status !== 'OPEN' && queuedOriginals.has(entry.manifestId)) continue;
    if (shouldStop()) {
      stillPending.push(entry);
      continue;
    }
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
      } else if (requeued >= MAX_REQUEUES_PER_SWEEP) {
        // Sealed, its sealer gone before queuing it: a bounded number per run, the rest next run.
        stillPending.push(entry);
        continue;
      } else {
        requeued++;
      }
      // Into the queue, behind every manifest sealed before it; the drain below starts it in turn.
      await enqueueSealedManifest(sealer, manifestId);
    } catch (err) {
      stillPending.push(entry);
      report.failed.push({ manifestId: entry.manifestId, error: (err as Error).message });
      logger.error('Sweep of a manifest failed; the next run retries it', { manifestId: entry.manifestId, error: err as Error });
    }
  }

  await narrowQuietDatasets(deps, store, timedOut, report);

  const drained = shouldStop() ? { started: [], failed: [] } : await drainQueue(sealer, { shouldStop });
  report.started.push(...drained.started.map((s) => s.manifestId));
  for (const f of drained.failed) report.failed.push({ manifestId: f.manifestId, error: f.error.message });

  // The queue after this run, less what started and what holds a slot (being started, or started and not recorded).
  const startedNames = new Set(drained.started.map((s) => s.executionName));
  const waiting = (await store.listQueue()).filter((e) => !startedNames.has(e.executionName) && holders[e.executionName] === undefined);
  report.queued.push(...new Set(waiting.map((e) => e.manifestId)));
  const oldestQueued = waiting.reduce<string | undefined>(
    (min, e) => (min === undefined || e.queuedAt < min ? e.queuedAt : min),
    undefined,
  );
  const queuedAge = oldestQueued === undefined ? 0 : ageSeconds(oldestQueued, now);

  const oldest = stillPending.reduce<string | undefined>((min, e) => (min === undefined || e.openedAt < min ? e.openedAt : min), undefined);
  const age = oldest === undefined ? 0 : ageSeconds(oldest, now);
  tally.sample(METRIC.oldestOpenManifestAgeSeconds, MetricUnit.Seconds, age);
  tally.sample(METRIC.manifestsQueued, MetricUnit.Count, waiting.length);
  tally.sample(METRIC.oldestQueuedAgeSeconds, MetricUnit.Seconds, queuedAge);
  tally.flush(deps.metrics);
  logger.info('Sweep done', {
    pending: stillPending.length,
    sealed: report.sealed.length,
    started: report.started.length,
    discarded: report.discarded.length,
    narrowed: report.narrowed.length,
    queued: waiting.length,
    slotsFreed: report.slotsFreed.length,
    endedRecorded: report.endedRecorded.length,
    alertsPublished: report.alertsPublished.length,
    failed: report.failed.length,
    oldestOpenManifestAgeSeconds: age,
    oldestQueuedAgeSeconds: queuedAge,
    outOfTime: shouldStop(),
  });
  return { ...report, oldestOpenManifestAgeSeconds: age, oldestQueuedAgeSeconds: queuedAge };
}

/**
 * The names of the state machine's executions that run, from ListExecutions (eventually consistent: used only to
 * skip what surely runs; anything else is described, consistently, before a decision).
 */
async function runningExecutionNames(deps: SweeperDeps): Promise<Set<string>> {
  const names = new Set<string>();
  let nextToken: string | undefined;
  do {
    const page = await deps.clients.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: deps.settings.stateMachineArn, statusFilter: 'RUNNING', maxResults: 1000, nextToken }),
    );
    for (const e of page.executions ?? []) if (e.name !== undefined) names.add(e.name);
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return names;
}

function executionNameOf(executionArn: string): string {
  return executionArn.slice(executionArn.lastIndexOf(':') + 1);
}

/** DescribeExecution, or undefined when no execution of that ARN exists. */
async function describeIfExists(deps: SweeperDeps, executionArn: string) {
  try {
    return await deps.clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (err) {
    if (hasErrorName(err, 'ExecutionDoesNotExist')) return undefined;
    throw err;
  }
}

/**
 * Gives back the slots the state machine could not: each slot whose execution has ended (timed out, aborted, a
 * runtime error, a Fail state before the outcome was recorded, or the give-back itself failed). A slot whose
 * execution does not exist (its starter stopped between taking it and StartExecution) is finished after a grace: the
 * queued execution is started with it, or, when nothing is queued under that name, it is given back. Each give-back
 * is conditional on the very holding the sweeper judged (`takenAt`), so a slot taken again meanwhile stays.
 */
async function freeSlots(
  deps: SweeperDeps,
  sealer: SealerDeps,
  now: Date,
  running: ReadonlySet<string>,
  queue: readonly QueueEntry[],
  report: SweepReport,
  shouldStop: () => boolean,
): Promise<Readonly<Record<string, SlotHolder>>> {
  const { store } = sealer;
  const { holders } = await store.getSlots();
  const queued = new Map(queue.map((e) => [e.executionName, e]));
  for (const [name, holder] of Object.entries(holders)) {
    const sinceTaken = now.getTime() - Date.parse(holder.takenAt);
    const entry = queued.get(name);
    if (running.has(name)) {
      // Running, its entry still queued past the grace: its starter stopped after StartExecution, before recording
      // it. Recorded here (ExecutionAlreadyExists, same input), and the entry removed.
      if (entry === undefined || sinceTaken < SLOT_START_GRACE_MS || shouldStop()) continue;
      try {
        const outcome = await startQueued(sealer, entry, true);
        if (typeof outcome === 'object') report.started.push(holder.manifestId);
      } catch (err) {
        report.failed.push({ manifestId: holder.manifestId, error: (err as Error).message });
      }
      continue;
    }
    if (shouldStop()) break;
    try {
      const described = await describeIfExists(deps, executionArnOf(deps.settings.stateMachineArn, name));
      if (described === undefined) {
        if (sinceTaken < SLOT_START_GRACE_MS) continue;
        const outcome = entry === undefined ? 'skipped' : await startQueued(sealer, entry, true);
        if (outcome === 'skipped' || outcome === 'full') {
          if (await store.releaseSlot(name, holder.takenAt)) report.slotsFreed.push(name);
        } else {
          report.started.push(holder.manifestId);
        }
        continue;
      }
      if (!isEnded(described.status ?? 'RUNNING')) continue;
      const stoppedAt = described.stopDate === undefined ? 0 : new Date(described.stopDate).getTime();
      // Taken again after its execution stopped: a redrive about to run it again; left to its taker for a while.
      if (Date.parse(holder.takenAt) > stoppedAt && sinceTaken < SLOT_START_GRACE_MS) continue;
      if (await store.releaseSlot(name, holder.takenAt)) {
        report.slotsFreed.push(name);
        deps.logger.info('Capacity slot given back: its execution ended', { manifestId: holder.manifestId, executionName: name });
      }
    } catch (err) {
      report.failed.push({ manifestId: holder.manifestId, error: (err as Error).message });
      deps.logger.error('Check of a capacity slot failed; the next run retries it', { executionName: name, error: err as Error });
    }
  }
  return holders;
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
  running: ReadonlySet<string>,
  shouldStop: () => boolean,
): Promise<void> {
  const { logger, settings } = deps;
  for (const entry of await store.listRunning()) {
    // Still running and recorded (as the index saw it): nothing to do; anything else is read from the item itself.
    if (entry.executionArn !== undefined && entry.recorded && running.has(executionNameOf(entry.executionArn))) continue;
    if (shouldStop()) break;
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
async function publishPendingAlerts(
  deps: SweeperDeps,
  store: StateStore,
  now: Date,
  report: SweepReport,
  shouldStop: () => boolean,
): Promise<void> {
  for (const entry of await store.listPendingAlerts()) {
    if (shouldStop()) break;
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
