/**
 * Reading manifests from the state table: by day through the `byDay` index (never a scan), one by id, and a
 * manifest's files.
 */
import { GetCommand, QueryCommand, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { keys, ManifestStatus, STATE_TABLE } from '../../pipeline/table-schema';
import { CliContext } from '../context';
import { ManifestNotFoundError, UsageError } from '../errors';
import { daysBetween } from '../format';

/** The `MANIFEST#<id>/META` item (docs/architecture.md, "State table"). */
export interface ManifestRecord {
  readonly manifestId: string;
  readonly dataset: string;
  readonly status: ManifestStatus;
  readonly openedAt?: string;
  readonly ingestDate?: string;
  readonly sealedAt?: string;
  readonly sealReason?: 'full' | 'timeout';
  readonly manifestUri?: string;
  readonly fileCount?: number;
  readonly totalBytes?: number;
  readonly executionArn?: string;
  /** ARNs of the manifest's executions, the original first, then each replay. */
  readonly executions?: string[];
  readonly replayCount?: number;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly linesIn?: number;
  readonly rowsOut?: number;
  readonly rowsQuarantined?: number;
  readonly blankLines?: number;
  readonly outputFiles?: number;
  readonly outputBytes?: number;
  readonly error?: string;
  readonly cause?: string;
  readonly failedState?: string;
  readonly [attribute: string]: unknown;
}

/** One `MANIFEST#<id>/F#<key>` item: a file of the manifest. */
export interface ManifestFile {
  readonly bucket: string;
  readonly key: string;
  readonly size?: number;
  readonly eTag?: string;
  readonly sequencer?: string;
  /** The version the manifest pins (absent for an unversioned bucket). */
  readonly versionId?: string;
}

/** Every status, in the order a manifest moves through them (`PARTIAL`: some files could not be read). */
export const MANIFEST_STATUSES: readonly ManifestStatus[] = ['OPEN', 'SEALED', 'RUNNING', 'SUCCEEDED', 'PARTIAL', 'FAILED'];

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

/** Runs a query to its last page. */
async function queryAll<T>(ctx: CliContext, input: QueryCommandInput): Promise<T[]> {
  const items: T[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await ctx.ddb.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
    items.push(...((page.Items ?? []) as T[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return items;
}

/**
 * Manifests opened since a time, oldest first: one `byDay` query per UTC day (the first bounded by the time),
 * filtered on dataset and status by DynamoDB. The cost grows with the days asked for, not with the table.
 */
export async function listManifests(ctx: CliContext, opts: ListManifestsOptions): Promise<ManifestRecord[]> {
  const index = STATE_TABLE.byDayIndex;
  const sinceIso = opts.since.toISOString();
  const filters: string[] = [];
  const names: Record<string, string> = { '#pk': index.partitionKey };
  const values: Record<string, unknown> = {};
  if (opts.dataset !== undefined) {
    filters.push('#dataset = :dataset');
    names['#dataset'] = 'dataset';
    values[':dataset'] = opts.dataset;
  }
  const statuses = [...new Set(opts.statuses ?? [])].filter((st) => opts.status === undefined || st === opts.status);
  if (opts.status !== undefined && opts.statuses === undefined) statuses.push(opts.status);
  if (opts.statuses !== undefined && statuses.length === 0) return [];
  if (statuses.length === 1) {
    filters.push('#status = :status');
    names['#status'] = 'status';
    values[':status'] = statuses[0];
  } else if (statuses.length > 1) {
    filters.push(`#status IN (${statuses.map((_, i) => `:status${i}`).join(', ')})`);
    names['#status'] = 'status';
    statuses.forEach((st, i) => (values[`:status${i}`] = st));
  }
  const out: ManifestRecord[] = [];
  const days = daysBetween(opts.since, ctx.now());
  for (const [i, day] of days.entries()) {
    const bounded = i === 0;
    const items = await queryAll<ManifestRecord & { sk?: string }>(ctx, {
      TableName: ctx.target.stateTable,
      IndexName: index.name,
      KeyConditionExpression: bounded ? '#pk = :day AND #sk >= :since' : '#pk = :day',
      FilterExpression: filters.length > 0 ? filters.join(' AND ') : undefined,
      ExpressionAttributeNames: bounded ? { ...names, '#sk': index.sortKey } : names,
      ExpressionAttributeValues: { ...values, ':day': keys.day(day), ...(bounded ? { ':since': sinceIso } : {}) },
    });
    out.push(...items.filter((item) => item.sk === undefined || item.sk === 'META'));
  }
  return out;
}

/** Reads a manifest's record (consistent); a replay's execution name (`<id>-r<n>`) finds its manifest too. */
export async function getManifest(ctx: CliContext, manifestId: string): Promise<ManifestRecord> {
  const read = async (id: string) =>
    (await ctx.ddb.send(new GetCommand({ TableName: ctx.target.stateTable, Key: keys.manifest(id), ConsistentRead: true })))
      .Item as ManifestRecord | undefined;
  const item = await read(manifestId);
  if (item !== undefined) return item;
  const replayOf = /^(.+)-r\d+$/.exec(manifestId)?.[1];
  const original = replayOf === undefined ? undefined : await read(replayOf);
  if (original === undefined) throw new ManifestNotFoundError(manifestId);
  return original;
}

/** The manifest's files, sorted by key (then sequencer) as in the manifest file. */
export async function getManifestFiles(ctx: CliContext, manifestId: string): Promise<ManifestFile[]> {
  const { pk } = keys.manifest(manifestId);
  const items = await queryAll<ManifestFile & { sk: string }>(ctx, {
    TableName: ctx.target.stateTable,
    KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :f)',
    ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey, '#sk': STATE_TABLE.sortKey },
    ExpressionAttributeValues: { ':pk': pk, ':f': 'F#' },
    ConsistentRead: true,
  });
  return items
    .map(({ bucket, key, size, eTag, sequencer, versionId }) => ({ bucket, key, size, eTag, sequencer, versionId }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : (a.sequencer ?? '') < (b.sequencer ?? '') ? -1 : (a.sequencer ?? '') > (b.sequencer ?? '') ? 1 : 0));
}

/** The ARNs of a manifest's executions, the original first: the recorded list, else the recorded ARN. */
export function recordedExecutions(record: ManifestRecord): string[] {
  const list = [...(record.executions ?? [])];
  if (record.executionArn !== undefined && !list.includes(record.executionArn)) list.unshift(record.executionArn);
  return list;
}
