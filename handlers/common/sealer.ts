/**
 * Sealing a manifest and starting its execution, shared by the builder (full manifests) and the sweeper
 * (old manifests, and sealed ones left without an execution by a crash). Every step can be repeated:
 * the manifest file has the same bytes every time, the execution name is the manifest id (I3), and the
 * MANIFEST record is written only after Step Functions accepted the start.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ListExecutionsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { HandlerSettings } from '../../contracts/lambda-environment';
import { buildManifestDocument, executionArnOf, executionInputOf, manifestKeyOf, type SealReason } from '../domain/manifest';
import type { AwsClients } from './aws-clients';
import { ExecutionNameConflictError, ManifestStateError } from './errors';
import { startNamedExecution } from './execution-start';
import { METRIC, type MetricTally } from './observability';
import { StateStore, type ManifestMeta } from './state-store';

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
   * Executions allowed to run at once (the Glue job's `maxConcurrentRuns`): a manifest is started only while fewer
   * run, else it waits in the pending index for the sweeper, so a backlog queues here instead of exhausting the
   * state machine's retries of Glue's concurrency limit. Undefined: no limit.
   */
  readonly maxConcurrentRuns?: number;
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

/** True while fewer than `maxConcurrentRuns` executions of the state machine run. */
async function hasCapacity(deps: SealerDeps): Promise<boolean> {
  if (deps.maxConcurrentRuns === undefined) return true;
  const out = await deps.sfn.send(
    new ListExecutionsCommand({ stateMachineArn: deps.stateMachineArn, statusFilter: 'RUNNING', maxResults: deps.maxConcurrentRuns }),
  );
  return (out.executions?.length ?? 0) < deps.maxConcurrentRuns;
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
 * Writes the manifest file, starts the execution named after the manifest and records it. Safe to call again
 * after a failure at any step, and by two callers at once. Returns the execution ARN, or undefined when the
 * manifest waits for capacity (`maxConcurrentRuns` executions run): it stays pending, and the sweeper starts it.
 */
export async function startSealedManifest(deps: SealerDeps, manifestId: string): Promise<string | undefined> {
  const meta = await deps.store.getManifest(manifestId);
  if (meta === undefined) throw new ManifestStateError(manifestId, 'no META item');
  if (meta.status === 'OPEN') throw new ManifestStateError(manifestId, 'still open; seal it first');
  const original = executionArnOf(deps.stateMachineArn, manifestId);
  if (isRecorded(meta, original)) return original;
  const sealed = requireSealFields(meta);

  const files = await deps.store.listManifestFiles(manifestId);
  if (files.length === 0) throw new ManifestStateError(manifestId, 'sealed with no file');
  const doc = buildManifestDocument(sealed, files);
  const manifestKey = manifestKeyOf(doc.dataset, doc.manifestId);
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: deps.curatedBucket,
      Key: manifestKey,
      Body: `${JSON.stringify(doc, null, 2)}\n`,
      ContentType: 'application/json',
    }),
  );

  const input = executionInputOf(doc, deps.curatedBucket);
  // Only a manifest never started waits for capacity: past SEALED, its execution exists and only needs recording.
  if (meta.status === 'SEALED' && !(await hasCapacity(deps))) {
    deps.logger.info('Manifest queued: as many executions run as Glue may run at once', {
      manifestId,
      maxConcurrentRuns: deps.maxConcurrentRuns,
    });
    return undefined;
  }
  let executionArn: string;
  try {
    const started = await startNamedExecution(deps.sfn, deps.stateMachineArn, manifestId, JSON.stringify(input));
    executionArn = started.executionArn;
    if (!started.alreadyStarted) {
      deps.tally.sample(METRIC.sealToStartMs, MetricUnit.Milliseconds, Math.max(0, deps.clock().getTime() - Date.parse(sealed.sealedAt)));
    }
  } catch (err) {
    if (err instanceof ExecutionNameConflictError) {
      deps.tally.count(METRIC.executionNameConflicts);
      deps.logger.error('Execution name already used by another input; the manifest is not started', { manifestId, dataset: doc.dataset });
    }
    throw err;
  }

  await deps.store.recordExecution(manifestId, {
    executionArn,
    manifestUri: input.manifestUri,
    fileCount: doc.fileCount,
    totalBytes: doc.totalBytes,
    startedAt: deps.clock(),
  });
  deps.logger.info('Manifest execution started', { manifestId, dataset: doc.dataset, fileCount: doc.fileCount, executionArn });
  return executionArn;
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
