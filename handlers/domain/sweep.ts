/**
 * What the sweeper does with a manifest of the `pending` index: pure decisions on the item itself (the index is
 * eventually consistent) and the dataset's pointer, no AWS. The sweeper carries them out (handlers/sweeper).
 */
import { isDue, type ShardPointer } from './manifest';
import type { ManifestStatus } from '../../contracts/table-schema';

/**
 * A sealed manifest younger than this is left to the builder that sealed it, which is normally starting it
 * at that moment; an older one lost its builder. Starting twice would be harmless (same name, same input), only wasteful.
 */
export const RESUME_GRACE_MS = 60_000;

/** What the sweeper reads of a pending manifest's META item. */
export interface PendingManifest {
  readonly manifestId: string;
  readonly dataset: string;
  readonly status: ManifestStatus;
  readonly openedAt: string;
  readonly sealedAt?: string;
  /** Present while the manifest has no recorded execution. */
  readonly pendingSk?: string;
  /** The write shard it was opened in (absent: 0). */
  readonly shard?: number;
}

/** The sweeper's step for one pending manifest. */
export type PendingDecision =
  /** Gone, or its execution recorded since the index was read: nothing to do. */
  | { readonly step: 'skip' }
  /** Not due yet, or sealed a moment ago by a builder that is starting it: left for a later run. */
  | { readonly step: 'wait' }
  /** Opened, due, and no file ever entered it (the pointer's count is 0): removed, never started. */
  | { readonly step: 'discard' }
  /** Open and due: sealed, `full` when the pointer counts `batchSize` files (a writer left it), else `timeout`. */
  | { readonly step: 'seal'; readonly reason: 'full' | 'timeout' }
  /** Sealed (or started, not recorded) and its sealer gone: started, or its execution recorded. */
  | { readonly step: 'start' };

function sealedMomentsAgo(meta: Pick<PendingManifest, 'sealedAt'>, now: Date): boolean {
  return meta.sealedAt !== undefined && now.getTime() - Date.parse(meta.sealedAt) < RESUME_GRACE_MS;
}

/** Whether {@link decidePending} needs the pointer of the manifest's shard: only for an open manifest that is due. */
export function needsPointer(
  meta: PendingManifest | undefined,
  now: Date,
  settings: { readonly maxWaitMinutes: number },
): meta is PendingManifest {
  return meta?.status === 'OPEN' && meta.pendingSk !== undefined && isDue(meta.openedAt, now, settings.maxWaitMinutes);
}

/**
 * The step for a pending manifest, read at `now` with the pointer of its write shard (the pointer matters only for
 * an open manifest that is due; undefined when the shard has none).
 */
export function decidePending(
  meta: PendingManifest | undefined,
  pointer: ShardPointer | undefined,
  now: Date,
  settings: { readonly maxWaitMinutes: number; readonly batchSize: number },
): PendingDecision {
  if (meta === undefined || meta.pendingSk === undefined) return { step: 'skip' };
  if (meta.status === 'OPEN') {
    if (!needsPointer(meta, now, settings)) return { step: 'wait' };
    if (pointer?.manifestId === meta.manifestId && pointer.count === 0) return { step: 'discard' };
    return { step: 'seal', reason: pointer !== undefined && pointer.count >= settings.batchSize ? 'full' : 'timeout' };
  }
  // Sealed and not started, or started and not recorded (the starter stopped right after StartExecution, before
  // MarkRunning ran: MarkRunning and the record of the original execution each leave the pending index).
  return sealedMomentsAgo(meta, now) ? { step: 'wait' } : { step: 'start' };
}

/**
 * After a seal the sweeper did not win, read again: still open (a file was being written at that instant: the next
 * run seals it) or sealed a moment ago by someone else, who starts it: wait; otherwise start it.
 */
export function decideAfterLostSeal(again: Pick<PendingManifest, 'status' | 'sealedAt'> | undefined, now: Date): 'wait' | 'start' {
  if (again?.status === 'OPEN') return 'wait';
  return again !== undefined && sealedMomentsAgo(again, now) ? 'wait' : 'start';
}

/**
 * The dataset's width after a sweep that sealed by timeout the manifests of `timedOutShards` while it spread its
 * files over `shards`: each shard still written (below `shards`) whose manifest waited `maxWaitMinutes` without
 * filling takes one off, down to 1, so a dataset whose traffic fell gets full manifests again. A shard at or above
 * the width is no longer written (a narrowing left it) and says nothing of the traffic. Undefined: unchanged.
 */
export function narrowedWidth(shards: number, timedOutShards: readonly number[]): number | undefined {
  const inUse = new Set(timedOutShards.filter((shard) => shard < shards)).size;
  if (shards <= 1 || inUse === 0) return undefined;
  return Math.max(1, shards - inUse);
}
