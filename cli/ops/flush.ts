/**
 * `pipeline flush`: seals a dataset's open manifests now (one per write shard that holds one: docs/architecture.md,
 * "Sharded open manifests"), instead of when their oldest file has waited `maxWaitMinutes`, and starts their
 * executions.
 *
 * It runs the sweeper's own code (handlers/common/sealer.ts), so the flush keeps every invariant a time-based seal
 * keeps: the seal is one transaction conditioned on the manifest being `OPEN` and its shard's pointer naming it,
 * so no file enters a sealed manifest and a file being written at that instant is either in it or in the next one
 * (I1, I2); the execution, named after the manifest id, is started before the MANIFEST record names it (I3); and the
 * sealed manifest joins the start queue and starts in turn with a capacity slot (one of the Glue job's
 * `MaxConcurrentRuns`), as any sealed manifest does. A flush stopped at any point is finished by the sweeper, as a
 * crashed builder's seal is.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { GetJobCommand, GlueClient } from '@aws-sdk/client-glue';
import { MetricTally } from '../../handlers/common/observability';
import { sealManifest, startSealedManifest, type SealerDeps } from '../../handlers/common/sealer';
import { shardOfManifest } from '../../handlers/domain/manifest';
import { clientSettings, type CliContext } from '../context';
import { CliError } from '../errors';
import { stateStoreOf } from './manifests';
import { validateDataset } from './upload';

/** What a flush did. */
export type FlushResult =
  /** The dataset has no open manifest: nothing to seal. */
  | { readonly dataset: string; readonly outcome: 'nothing-open' }
  /** The manifest asked for (`flushManifest`) is not open any more: left alone. */
  | { readonly dataset: string; readonly outcome: 'not-open'; readonly manifestId: string }
  /** The open manifest has no file yet (its opener is writing the first one, or stopped): not sealed. */
  | { readonly dataset: string; readonly outcome: 'empty'; readonly manifestId: string }
  /**
   * Sealed by this flush (`sealed`), or found sealed by someone else in between (`already-sealed`: the builder
   * sealed it full, or the sweeper); `executionArn` absent when it waits for capacity (`queued`).
   */
  | {
      readonly dataset: string;
      readonly outcome: 'sealed' | 'already-sealed';
      readonly manifestId: string;
      readonly fileCount: number;
      readonly executionArn?: string;
      readonly queued: boolean;
    };

/** Seals that lose to a file written at the same instant are tried again this many times (each re-reads the pointer). */
const FLUSH_ATTEMPTS = 3;

/** Runs of the Glue job allowed at once, as the deployed job says (`ExecutionProperty.MaxConcurrentRuns`). */
async function maxConcurrentRunsOf(ctx: CliContext): Promise<number> {
  const glue = new GlueClient(clientSettings(ctx.target));
  try {
    const job = await glue.send(new GetJobCommand({ JobName: ctx.target.glueJobName }));
    return job.Job?.ExecutionProperty?.MaxConcurrentRuns ?? ctx.config.glue.maxConcurrentRuns;
  } finally {
    glue.destroy();
  }
}

/** The sealer's dependencies for the CLI: the target's clients, no metrics, no log lines (errors are thrown). */
export async function cliSealerDeps(ctx: CliContext): Promise<SealerDeps> {
  return {
    store: stateStoreOf(ctx),
    s3: ctx.s3,
    sfn: ctx.sfn,
    curatedBucket: ctx.target.curatedBucket,
    stateMachineArn: ctx.target.stateMachineArn,
    logger: new Logger({ serviceName: 'pipeline-cli', logLevel: 'SILENT' }),
    tally: new MetricTally(),
    clock: ctx.now,
    maxConcurrentRuns: await maxConcurrentRunsOf(ctx),
  };
}

/**
 * Seals every open manifest of `dataset` now (one per write shard below the widest it ever used) and starts their
 * executions; see the module's comment. One result per shard that held an open manifest, or one `nothing-open`.
 */
export async function flushDataset(ctx: CliContext, dataset: string): Promise<FlushResult[]> {
  validateDataset(dataset);
  const deps = await cliSealerDeps(ctx);
  const item = await deps.store.getPointer(dataset);
  const results: FlushResult[] = [];
  for (let shard = 0; shard < (item?.widest ?? 1); shard++) {
    const result = await flushShard(deps, dataset, shard);
    if (result.outcome !== 'nothing-open') results.push(result);
  }
  return results.length > 0 ? results : [{ dataset, outcome: 'nothing-open' }];
}

/** Seals manifest `manifestId` of `dataset` now, when it is still open (`pipeline smoke` seals its own), and starts it. */
export async function flushManifest(ctx: CliContext, dataset: string, manifestId: string): Promise<FlushResult> {
  validateDataset(dataset);
  const deps = await cliSealerDeps(ctx);
  const meta = await deps.store.getManifest(manifestId);
  if (meta === undefined || meta.dataset !== dataset) return { dataset, outcome: 'not-open', manifestId };
  return flushShard(deps, dataset, shardOfManifest(meta), manifestId);
}

/** Seals the open manifest of `dataset`'s write shard `shard` (only if it is `only`, when given) and starts it. */
async function flushShard(deps: SealerDeps, dataset: string, shard: number, only?: string): Promise<FlushResult> {
  const { store } = deps;
  for (let attempt = 1; ; attempt++) {
    const pointer = await store.getShardPointer(dataset, shard);
    const manifestId = pointer?.manifestId;
    if (only !== undefined && manifestId !== only) return { dataset, outcome: 'not-open', manifestId: only };
    if (manifestId === undefined) return { dataset, outcome: 'nothing-open' };
    // The count moves in the same transaction as each file: 0 means no file entered it. Sealing it would leave a
    // manifest no execution can take; the sweeper removes it once due, or the next file fills it.
    if (pointer!.count === 0) return { dataset, outcome: 'empty', manifestId };
    const sealed = await sealManifest(deps, dataset, shard, manifestId, 'flush');
    const meta = await store.getManifest(manifestId);
    if (!sealed && meta?.status === 'OPEN') {
      // A file was being written into it at that instant (the seal's transaction conflicted with it): try again.
      if (attempt < FLUSH_ATTEMPTS) continue;
      throw new CliError(`${manifestId} is receiving files right now and could not be sealed; run the flush again`);
    }
    if (meta === undefined) throw new CliError(`${manifestId} has no record any more: it was removed as empty; nothing to flush`);
    let executionArn: string | undefined;
    try {
      executionArn = await startSealedManifest(deps, manifestId);
    } catch (err) {
      throw new CliError(
        `${manifestId} is sealed but its execution could not be started (${(err as Error).message}); ` +
          'the sweeper starts it within a few minutes, or run the flush again',
      );
    }
    // Read from the sealed manifest: a file written just before the seal is in it, beyond the count read above.
    const fileCount = (await store.listManifestFileItems(manifestId)).length;
    return {
      dataset,
      outcome: sealed ? 'sealed' : 'already-sealed',
      manifestId,
      fileCount,
      executionArn,
      queued: executionArn === undefined,
    };
  }
}
