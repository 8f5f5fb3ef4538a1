/**
 * The sweeper, run every minute: seals and starts manifests whose oldest file has waited `maxWaitMinutes` (I2),
 * finishes sealed manifests left without an execution by a crash (I3), and publishes the age of the oldest
 * manifest still without an execution. It reads the sparse `pending` index only: no scan.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ageSeconds, isDue } from '../domain/manifest';
import type { AwsClients } from '../shared/aws-clients';
import { METRIC, MetricTally, type MetricsSink } from '../shared/observability';
import { sealManifest, startSealedManifest, type SealerDeps } from '../shared/sealer';
import type { HandlerSettings } from '../shared/settings';
import { StateStore, type PendingEntry } from '../shared/state-store';

/**
 * A sealed manifest younger than this is left to the builder that sealed it, which is normally starting it
 * at that moment; an older one lost its builder. Starting twice would be harmless (same name, same input), only wasteful.
 */
export const RESUME_GRACE_MS = 60_000;

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
  /** Open manifests removed because no file ever entered them. */
  readonly discarded: string[];
  readonly failed: Array<{ manifestId: string; error: string }>;
  /** Age of the oldest manifest still without an execution after this run; 0 when none. */
  readonly oldestOpenManifestAgeSeconds: number;
}

/** One sweep at instant `now`; publishes its metrics once. */
export async function sweep(deps: SweeperDeps, now: Date): Promise<SweepReport> {
  const { settings, logger } = deps;
  const tally = new MetricTally();
  const store = new StateStore(deps.clients.dynamodb, settings.stateTable);
  const sealer: SealerDeps = {
    store,
    s3: deps.clients.s3,
    sfn: deps.clients.sfn,
    curatedBucket: settings.curatedBucket,
    stateMachineArn: settings.stateMachineArn,
    logger,
    tally,
    clock: deps.clock ?? (() => new Date()),
  };
  const report: SweepReport = { sealed: [], started: [], discarded: [], failed: [], oldestOpenManifestAgeSeconds: 0 };
  const stillPending: PendingEntry[] = [];

  for (const entry of await store.listPending()) {
    try {
      // The index is eventually consistent: decide on the item itself.
      const meta = await store.getManifest(entry.manifestId);
      if (meta === undefined || meta.pendingSk === undefined) continue;
      if (meta.status === 'OPEN') {
        if (!isDue(meta.openedAt, now, settings.maxWaitMinutes)) {
          stillPending.push(entry);
          continue;
        }
        const pointer = await store.getPointer(meta.dataset);
        if (pointer?.manifestId === meta.manifestId && pointer.count === 0) {
          if ((await store.discardEmpty(meta.dataset, meta.manifestId)) === 'done') {
            report.discarded.push(meta.manifestId);
            logger.info('Empty manifest discarded', { manifestId: meta.manifestId, dataset: meta.dataset });
          } else {
            stillPending.push(entry);
          }
          continue;
        }
        const reason = pointer !== undefined && pointer.count >= settings.batchSize ? 'full' : 'timeout';
        if (await sealManifest(sealer, meta.dataset, meta.manifestId, reason)) {
          report.sealed.push(meta.manifestId);
        } else {
          const again = await store.getManifest(meta.manifestId);
          if (again?.status === 'OPEN') {
            // A file was being written at that instant; the next run seals it.
            stillPending.push(entry);
            continue;
          }
          if (again?.sealedAt !== undefined && now.getTime() - Date.parse(again.sealedAt) < RESUME_GRACE_MS) {
            stillPending.push(entry);
            continue;
          }
        }
      } else if (meta.status === 'SEALED' && meta.sealedAt !== undefined && now.getTime() - Date.parse(meta.sealedAt) < RESUME_GRACE_MS) {
        stillPending.push(entry);
        continue;
      }
      await startSealedManifest(sealer, meta.manifestId);
      report.started.push(meta.manifestId);
    } catch (err) {
      stillPending.push(entry);
      report.failed.push({ manifestId: entry.manifestId, error: (err as Error).message });
      logger.error('Sweep of a manifest failed; the next run retries it', { manifestId: entry.manifestId, error: err as Error });
    }
  }

  const oldest = stillPending.reduce<string | undefined>((min, e) => (min === undefined || e.openedAt < min ? e.openedAt : min), undefined);
  const age = oldest === undefined ? 0 : ageSeconds(oldest, now);
  tally.sample(METRIC.oldestOpenManifestAgeSeconds, MetricUnit.Seconds, age);
  tally.flush(deps.metrics);
  logger.info('Sweep done', { pending: stillPending.length, sealed: report.sealed.length, started: report.started.length, discarded: report.discarded.length, failed: report.failed.length, oldestOpenManifestAgeSeconds: age });
  return { ...report, oldestOpenManifestAgeSeconds: age };
}
