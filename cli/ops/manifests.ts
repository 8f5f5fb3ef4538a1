/**
 * Reading manifests from the state table: by day through the `byDay` index (never a scan), one by id, and a
 * manifest's files.
 */
import { StateStore, type ManifestFileItem, type ManifestRecord } from '../../handlers/common/state-store';
import { MANIFEST_STATUSES, ManifestStatus } from '../../contracts/table-schema';
import { CliContext } from '../context';
import { ManifestNotFoundError, UsageError } from '../errors';
import { daysBetween } from '../format';
import { PREFIXES } from '../../contracts/config';

/** The state table of the target, through the same adapter the handlers use. */
export function stateStoreOf(ctx: CliContext): StateStore {
  return new StateStore(ctx.ddb, ctx.target.stateTable);
}

/** Filters of {@link listManifests}. */
export interface ListManifestsOptions {
  /** Manifests opened at or after this time. */
  readonly since: Date;
  /** Only this dataset. @default every dataset */
  readonly dataset?: string;
  /** Only manifests in this status. @default every status */
  readonly status?: ManifestStatus;
  /** Only manifests in one of these statuses; with `status` too, only those in both. @default every status */
  readonly statuses?: readonly ManifestStatus[];
}

/** Checks a `--state` value against the statuses a manifest can have. */
export function parseStatus(value: string): ManifestStatus {
  const upper = value.toUpperCase();
  if (!(MANIFEST_STATUSES as readonly string[]).includes(upper)) {
    throw new UsageError(`--state "${value}" is not one of ${MANIFEST_STATUSES.join(', ')}`);
  }
  return upper as ManifestStatus;
}

/**
 * Manifests opened since a time, oldest first: one `byDay` query per UTC day (the first bounded by the time),
 * filtered on dataset and status by DynamoDB. The cost grows with the days asked for, not with the table.
 */
export async function listManifests(ctx: CliContext, opts: ListManifestsOptions): Promise<ManifestRecord[]> {
  const statuses = [...new Set(opts.statuses ?? [])].filter((st) => opts.status === undefined || st === opts.status);
  if (opts.status !== undefined && opts.statuses === undefined) statuses.push(opts.status);
  if (opts.statuses !== undefined && statuses.length === 0) return [];
  const store = stateStoreOf(ctx);
  const out: ManifestRecord[] = [];
  const days = daysBetween(opts.since, ctx.now());
  for (const [i, day] of days.entries()) {
    out.push(
      ...(await store.listManifestsOfDay(day, { since: i === 0 ? opts.since.toISOString() : undefined, dataset: opts.dataset, statuses })),
    );
  }
  return out;
}

/** Reads a manifest's record (consistent); a replay's execution name (`<id>-r<n>`) finds its manifest too. */
export async function getManifest(ctx: CliContext, manifestId: string): Promise<ManifestRecord> {
  const store = stateStoreOf(ctx);
  const item = await store.getManifest(manifestId);
  if (item !== undefined) return item;
  const replayOf = /^(.+)-r\d+$/.exec(manifestId)?.[1];
  const original = replayOf === undefined ? undefined : await store.getManifest(replayOf);
  if (original === undefined) throw new ManifestNotFoundError(manifestId);
  return original;
}

/** The manifest's files, sorted by key (then sequencer) as in the manifest file. */
export async function getManifestFiles(ctx: CliContext, manifestId: string): Promise<ManifestFileItem[]> {
  const items = await stateStoreOf(ctx).listManifestFileItems(manifestId);
  return items.sort((a, b) =>
    a.key < b.key
      ? -1
      : a.key > b.key
        ? 1
        : (a.sequencer ?? '') < (b.sequencer ?? '')
          ? -1
          : (a.sequencer ?? '') > (b.sequencer ?? '')
            ? 1
            : 0,
  );
}

/** The ARNs of a manifest's executions, the original first: the recorded list, else the recorded ARN. */
export function recordedExecutions(record: ManifestRecord): string[] {
  const list = [...(record.executions ?? [])];
  if (record.executionArn !== undefined && !list.includes(record.executionArn)) list.unshift(record.executionArn);
  return list;
}

/** The key an `s3://<bucket>/<key>` (or `s3a://`) URI names in `bucket`, ending with `/`; undefined for another. */
export function keyIn(bucket: string, uri: unknown): string | undefined {
  const match = /^s3a?:\/\/([^/]+)\/(.+)$/.exec(typeof uri === 'string' ? uri : '');
  if (match === null || match[1] !== bucket) return undefined;
  return match[2].endsWith('/') ? match[2] : `${match[2]}/`;
}

/**
 * Where the output in place is, as keys of the curated bucket: the run directories the record names
 * (`outputLocation`, `quarantineLocation`; docs/architecture.md, "Replacing a manifest's output"); for a record
 * written before runs had their own directories (no `lastRunStatus`), the manifest's own; undefined when no run has
 * put an output in place. Never a listing of the manifest's directory, which also holds superseded and failed runs.
 */
export function outputPrefixes(record: ManifestRecord, curatedBucket: string): { parquet: string; quarantine: string } | undefined {
  const parquet = keyIn(curatedBucket, record.outputLocation);
  if (parquet !== undefined) return { parquet, quarantine: keyIn(curatedBucket, record.quarantineLocation) ?? parquet };
  if (record.lastRunStatus !== undefined) return undefined;
  return {
    parquet: `${PREFIXES.curated}${record.dataset}/ingest_date=${record.ingestDate ?? ''}/manifest_id=${record.manifestId}/`,
    quarantine: `${PREFIXES.quarantine}${record.dataset}/manifest_id=${record.manifestId}/`,
  };
}
