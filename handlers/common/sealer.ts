/**
 * Sealing a manifest and starting its execution, shared by the builder (full manifests), the sweeper (old
 * manifests, and sealed ones left without an execution by a crash) and the CLI (`pipeline flush`, and the queue's
 * replays). Every step can be repeated: the manifest file has the same bytes every time, the execution name is the
 * manifest id (I3), and the MANIFEST record is written only after Step Functions accepted the start. Every start
 * goes through the start queue and takes a capacity slot first (docs/architecture.md, "Capacity slots").
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { HandlerSettings } from '../../contracts/lambda-environment';
import { isEnded } from '../domain/ended-execution';
import { buildManifestDocument, executionArnOf, executionInputOf, manifestKeyOf, type SealReason } from '../domain/manifest';
import type { AwsClients } from './aws-clients';
import { ExecutionNameConflictError, ManifestStateError } from './errors';
import { startNamedExecution, type StartedExecution } from './execution-start';
import { METRIC, type MetricTally } from './observability';
import { StateStore, type ManifestMeta, type QueueEntry } from './state-store';

/** What sealing and starting needs. */
export interface SealerDeps {
  readonly store: StateStore;
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  readonly curatedBucket: string;
  readonly stateMachineArn: string;
  readonly logger: Logger;
  readonly tally: MetricTally;
  readonly clock: () => Date;
  /**
   * Executions allowed to run at once (the Glue job's `maxConcurrentRuns`): the number of capacity slots. An execution
   * is started only with a slot taken for it, else it waits in the start queue, so a backlog queues in the table
   * instead of exhausting the state machine's retries of Glue's concurrency limit. Undefined: no limit, no slot.
   */
  readonly maxConcurrentRuns?: number;
  /** Starts one drain of the queue may make after a seal (the builder's bound). @default as many as slots are free */
  readonly maxStartsPerDrain?: number;
}

/** What the builder and the sweeper each have, from which their sealer is made. */
export interface SealerSources {
  readonly clients: Pick<AwsClients, 'dynamodb' | 's3' | 'sfn'>;
  readonly settings: Pick<HandlerSettings, 'stateTable' | 'curatedBucket' | 'stateMachineArn' | 'maxConcurrentRuns'>;
  readonly logger: Logger;
  readonly tally: MetricTally;
  readonly clock: () => Date;
}

/** The sealer's dependencies, made the same way for the builder and the sweeper. */
export function sealerDepsOf(sources: SealerSources): SealerDeps {
  const { clients, settings } = sources;
  return {
    store: new StateStore(clients.dynamodb, settings.stateTable),
    s3: clients.s3,
    sfn: clients.sfn,
    curatedBucket: settings.curatedBucket,
    stateMachineArn: settings.stateMachineArn,
    logger: sources.logger,
    tally: sources.tally,
    clock: sources.clock,
    maxConcurrentRuns: settings.maxConcurrentRuns,
  };
}

/** Attempts at a seal that meets transaction conflicts. */
const SEAL_ATTEMPTS = 6;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Seals the open manifest `manifestId` of `dataset`'s write shard `shard`. Returns false when it was not open any
 * more (another writer or the sweeper sealed it first) or a concurrent write got in the way; the caller re-reads.
 */
export async function sealManifest(
  deps: SealerDeps,
  dataset: string,
  shard: number,
  manifestId: string,
  reason: SealReason,
): Promise<boolean> {
  let outcome = await deps.store.seal(dataset, shard, manifestId, reason, deps.clock());
  // A TransactionConflict is a concurrent write on the pointer or the record, not a refusal: try again at once,
  // so a full manifest is not left to the sweeper's next round (up to maxWaitMinutes).
  for (let attempt = 1; outcome === 'conflict' && attempt < SEAL_ATTEMPTS; attempt++) {
    await sleep(Math.random() * 20 * 2 ** attempt);
    outcome = await deps.store.seal(dataset, shard, manifestId, reason, deps.clock());
  }
  if (outcome !== 'done') return false;
  // An operator's flush is counted by no metric (the CLI publishes none); its record says `sealReason = flush`.
  if (reason !== 'flush') deps.tally.count(reason === 'full' ? METRIC.manifestsSealedFull : METRIC.manifestsSealedTimeout);
  deps.logger.info('Manifest sealed', { manifestId, dataset, shard, sealReason: reason });
  return true;
}

/**
 * Writes the manifest file and puts the original execution in the start queue (keyed by the seal's time, so it
 * queues behind every manifest sealed before it); `recorded` when its execution is recorded already. Safe to call
 * again after a failure at any step, and by two callers at once: the file has the same bytes, the entry the same key.
 */
export async function enqueueSealedManifest(
  deps: SealerDeps,
  manifestId: string,
): Promise<{ readonly recorded: string } | { readonly entry: QueueEntry }> {
  const meta = await deps.store.getManifest(manifestId);
  if (meta === undefined) throw new ManifestStateError(manifestId, 'no META item');
  if (meta.status === 'OPEN') throw new ManifestStateError(manifestId, 'still open; seal it first');
  const original = executionArnOf(deps.stateMachineArn, manifestId);
  // Recorded, or claimed by its execution (MarkRunning) before its starter recorded it: the sweeper records it.
  if (isRecorded(meta, original) || meta.executionArn === original) return { recorded: original };
  const sealed = requireSealFields(meta);

  const files = await deps.store.listManifestFiles(manifestId);
  if (files.length === 0) throw new ManifestStateError(manifestId, 'sealed with no file');
  const doc = buildManifestDocument(sealed, files);
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: deps.curatedBucket,
      Key: manifestKeyOf(doc.dataset, doc.manifestId),
      Body: `${JSON.stringify(doc, null, 2)}\n`,
      ContentType: 'application/json',
    }),
  );
  const entry = await deps.store.enqueue({
    manifestId,
    dataset: doc.dataset,
    executionName: manifestId,
    replay: 0,
    input: JSON.stringify(executionInputOf(doc, deps.curatedBucket)),
    queuedAt: sealed.sealedAt,
    rank: 1,
  });
  return { entry };
}

/**
 * Seals' second half, for the builder, the sweeper and `pipeline flush`: puts the manifest in the start queue, then
 * starts what the free slots allow, oldest first ({@link drainQueue}). Returns the execution ARN when this manifest's
 * execution is started (by this call or before), or undefined while it waits in the queue for a slot.
 */
export async function startSealedManifest(deps: SealerDeps, manifestId: string): Promise<string | undefined> {
  const queued = await enqueueSealedManifest(deps, manifestId);
  if ('recorded' in queued) return queued.recorded;
  const drained = await drainQueue(deps, { maxStarts: deps.maxStartsPerDrain });
  const failed = drained.failed.find((f) => f.executionName === manifestId);
  if (failed !== undefined) throw failed.error;
  const started = drained.started.find((s) => s.executionName === manifestId);
  if (started !== undefined) return started.executionArn;
  deps.logger.info('Manifest queued: every capacity slot is held; it starts in turn, oldest first', {
    manifestId,
    maxConcurrentRuns: deps.maxConcurrentRuns,
  });
  return undefined;
}

/** What a drain of the start queue did. */
export interface DrainReport {
  /** Executions started (or found started) and recorded, in queue order. */
  readonly started: Array<{ readonly manifestId: string; readonly executionName: string; readonly executionArn: string }>;
  /** Entries whose start failed (left in the queue, or dropped for a name conflict); the next drain tries again. */
  readonly failed: Array<{ readonly manifestId: string; readonly executionName: string; readonly error: Error }>;
}

/** Options of {@link drainQueue}. */
export interface DrainOptions {
  /** Start at most this many. @default as many as slots are free */
  readonly maxStarts?: number;
  /** Asked before each start: true stops the drain (the caller's time budget is spent). */
  readonly shouldStop?: () => boolean;
}

/** Entries read past the free slots, for those another starter is taking at the same moment. */
const QUEUE_READ_MARGIN = 10;

/**
 * Starts queued executions, oldest first, while slots are free: for each entry at the head of the queue, a slot is
 * taken (a conditional write: never more than `maxConcurrentRuns` held), then the execution is started (I3: named,
 * its input checked on ExecutionAlreadyExists), recorded, and the entry removed. Whoever drains (the builder after a
 * seal, the sweeper every minute, the CLI) starts the head of the queue, not its own manifest, so a freed slot goes
 * to the oldest. An entry whose slot another starter holds is left to it (or, if that starter stopped, to the sweeper).
 */
export async function drainQueue(deps: SealerDeps, options: DrainOptions = {}): Promise<DrainReport> {
  const report: DrainReport = { started: [], failed: [] };
  const max = deps.maxConcurrentRuns;
  const slots = await deps.store.getSlots();
  const free = max === undefined ? Number.MAX_SAFE_INTEGER : max - Object.keys(slots.holders).length;
  const budget = Math.min(free, options.maxStarts ?? Number.MAX_SAFE_INTEGER);
  if (budget <= 0) return report;
  const limit = Math.min(budget + Object.keys(slots.holders).length + QUEUE_READ_MARGIN, 1000);
  for (const entry of await deps.store.listQueue(limit)) {
    if (report.started.length >= budget || options.shouldStop?.() === true) break;
    if (slots.holders[entry.executionName] !== undefined) continue;
    try {
      const outcome = await startQueued(deps, entry, false);
      if (outcome === 'full') break;
      if (outcome !== 'skipped') {
        report.started.push({ manifestId: entry.manifestId, executionName: entry.executionName, executionArn: outcome.executionArn });
      }
    } catch (err) {
      report.failed.push({ manifestId: entry.manifestId, executionName: entry.executionName, error: err as Error });
      deps.logger.error('Start of a queued execution failed; the next drain tries again', {
        manifestId: entry.manifestId,
        executionName: entry.executionName,
        error: err as Error,
      });
    }
  }
  return report;
}

/** What {@link startQueued} did: started (the ARN), skipped, or found no free slot. */
export type StartOutcome = { readonly executionArn: string } | 'skipped' | 'full';

/**
 * Starts one queued execution: `skipped` when it is started already (the entry is stale and removed), waits (a
 * replay of a manifest another execution holds) or another starter holds its slot; `full` when no slot is free;
 * else the execution's ARN. `holdsSlot`: the slot is taken already (the sweeper finishing a starter that stopped).
 */
export async function startQueued(deps: SealerDeps, entry: QueueEntry, holdsSlot: boolean): Promise<StartOutcome> {
  const { store } = deps;
  const executionArn = executionArnOf(deps.stateMachineArn, entry.executionName);
  const meta = await store.getManifest(entry.manifestId);
  const recorded = meta !== undefined && ((meta.executions ?? []).includes(executionArn) || meta.executionArn === executionArn);
  if (meta === undefined || recorded || (entry.replay === 0 && meta.status !== 'SEALED')) {
    // Started and recorded (or claimed) since it was queued, or its manifest is gone: nothing to start.
    await store.dequeue(entry.sk);
    return 'skipped';
  }
  // A replay waits while another execution holds the manifest: its claim would be refused (one holder at a time).
  if (entry.replay > 0 && meta.status === 'RUNNING') return 'skipped';
  let takenAt: string | undefined;
  if (!holdsSlot && deps.maxConcurrentRuns !== undefined) {
    const at = deps.clock();
    const taken = await store.takeSlot(entry.executionName, entry.manifestId, deps.maxConcurrentRuns, at);
    if (taken === 'full') return 'full';
    if (taken === 'held') return 'skipped';
    takenAt = at.toISOString();
  }
  let started: StartedExecution;
  try {
    started = await startNamedExecution(deps.sfn, deps.stateMachineArn, entry.executionName, entry.input);
  } catch (err) {
    // A start that failed gives its slot back at once (the entry stays queued), so a redelivery or the next drain
    // takes one again. Should the start have gone through unseen, the execution runs without a slot until a drain
    // reaches its entry and takes one for it (ExecutionAlreadyExists, same input).
    if (takenAt !== undefined && !(err instanceof ExecutionNameConflictError)) {
      await store.releaseSlot(entry.executionName, takenAt).catch(() => undefined);
    }
    if (err instanceof ExecutionNameConflictError) {
      deps.tally.count(METRIC.executionNameConflicts);
      deps.logger.error('Execution name already used by another input; the manifest is not started', {
        manifestId: entry.manifestId,
        executionName: entry.executionName,
      });
      // Never startable under this name: the slot is given back and the entry dropped (a replay's mark with it).
      await store.releaseSlot(entry.executionName);
      await store.dequeue(entry.sk);
      if (entry.replay > 0) await store.clearQueuedReplay(entry.manifestId, entry.executionName);
    }
    throw err;
  }
  if (started.alreadyStarted) {
    // Started by a starter that stopped before recording it; if it has ended meanwhile, it holds the slot for nothing.
    if (started.status !== undefined && isEnded(started.status)) await store.releaseSlot(entry.executionName);
  } else if (entry.replay === 0 && meta.sealedAt !== undefined) {
    deps.tally.sample(METRIC.sealToStartMs, MetricUnit.Milliseconds, Math.max(0, deps.clock().getTime() - Date.parse(meta.sealedAt)));
  }
  if (entry.replay === 0) {
    const input = JSON.parse(entry.input) as { manifestUri: string; fileCount: number; totalBytes: number };
    await store.recordExecution(entry.manifestId, {
      executionArn: started.executionArn,
      manifestUri: input.manifestUri,
      fileCount: input.fileCount,
      totalBytes: input.totalBytes,
      startedAt: deps.clock(),
    });
  } else {
    const known = [...(meta.executions ?? [])];
    if (meta.executionArn !== undefined && !known.includes(meta.executionArn)) known.unshift(meta.executionArn);
    // Conditional on replayCount = n - 1: false only when replay n is recorded already (this very execution).
    await store.recordReplay(entry.manifestId, entry.replay, started.executionArn, known, deps.clock());
  }
  await store.dequeue(entry.sk);
  deps.logger.info('Execution started', {
    manifestId: entry.manifestId,
    executionName: entry.executionName,
    executionArn: started.executionArn,
  });
  return { executionArn: started.executionArn };
}

/**
 * True once the original execution is in `executions`. The state machine's first state also sets `executionArn`
 * and leaves the `pending` index, so neither proves the builder's record was written.
 */
export function isRecorded(meta: Pick<ManifestMeta, 'executions'>, originalExecutionArn: string): boolean {
  return (meta.executions ?? []).includes(originalExecutionArn);
}

function requireSealFields(meta: ManifestMeta): ManifestMeta & { sealedAt: string; sealReason: SealReason } {
  if (meta.sealedAt === undefined || meta.sealReason === undefined) {
    throw new ManifestStateError(meta.manifestId, `status ${meta.status} without sealedAt and sealReason`);
  }
  return meta as ManifestMeta & { sealedAt: string; sealReason: SealReason };
}
