/**
 * Reconcile and backfill: every object version under the ingest prefix is compared with the state table, and what
 * no notification brought (a notification lost or expired in the DLQ, a file older than the stack) is sent to the
 * ingest queue as the S3 event notification S3 would have sent, so the manifest builder places it through its one
 * code path (I1: a notification it already had is a duplicate for it, never a second file).
 *
 * One object version is:
 * - `inManifests` when its content is recorded: the `FILE#<bucket>/<key>#<contentTag>` item exists. The content tag is
 *   the version's full-object checksum, else its eTag, read as the builder reads it (`contentTagOfObject`: one
 *   HeadObject per compared version), so a non-current version whose bytes are recorded under another version
 *   of the key (a producer's retried PUT, another part size) is in a manifest already and nothing is sent for it;
 *   a record under the eTag counts too (written before content was identified by checksum);
 * - `rejected` when the key is recorded as refused (`REJECTED#<bucket>/<key>`);
 * - `missing` otherwise, unless the builder would ignore it without a trace (a zero-byte object, such as a folder
 *   marker): such versions are counted apart, never sent. Missing versions are sent once per content: two
 *   versions with the same bytes are one file, so the second would only be a duplicate.
 *
 * `FILE#` items expire 90 days after the last delivery of their content: the builder refreshes a record's expiry
 * at each duplicate (`refreshFile`), and a version is delivered after it was modified, so every version modified
 * within the last 90 days whose content was delivered still has its record. A version modified before that
 * horizon may have had a record that expired, and sending it would convert it again; so once the state table is
 * older than the horizon, versions modified before it are not compared (counted apart), and `--since` cannot
 * reach past it. (`REJECTED#` items expire 90 days after they are written; sending a version whose rejection
 * expired only has it rejected again.) While the table is younger, nothing has expired and every version is compared (a backfill of files
 * older than the stack).
 */
import { ListObjectVersionsCommand, ListObjectVersionsCommandOutput, ObjectVersion } from '@aws-sdk/client-s3';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { classifyObject } from '../../handlers/domain/dataset';
import { readChecksum, recordedTagsOf } from '../../handlers/common/content-identity';
import { keys, STATE_TABLE } from '../../contracts/table-schema';
import { CliContext } from '../context';
import { CliError, UsageError } from '../errors';
import { formatTime } from '../format';
import { validateDataset } from './upload';

/**
 * Days a `FILE#` or `REJECTED#` item lives (the state store's `fileTtlSeconds`; a unit test holds them equal).
 * A version modified this long ago may have had a record that has expired since.
 */
export const FILE_RECORD_RETENTION_DAYS = 90;

const DAY_MS = 86_400_000;

/** The four figures per dataset, in the order they are printed. */
export interface DatasetCounts {
  /** Versions whose content is in a manifest (its `FILE#` item exists). */
  inManifests: number;
  /** Versions of keys recorded as refused (`REJECTED#`). */
  rejected: number;
  /** Versions with neither record: no notification reached the builder. */
  missing: number;
  /** Notifications sent for them (one per content; none in a dry run). */
  sent: number;
}

/** Options of {@link reconcile}. */
export interface ReconcileOptions {
  /** Only this dataset (its prefix `incoming/<dataset>/`). @default every key under the ingest prefix */
  readonly dataset?: string;
  /** Only versions modified at or after this time. @default every version the state table can still vouch for */
  readonly since?: Date;
  /** Compare and count, send nothing. @default false */
  readonly dryRun?: boolean;
  /** Called after each page of the listing. */
  readonly onPage?: (progress: ReconcileProgress) => void;
}

/** Progress after a page of the listing. */
export interface ReconcileProgress {
  /** Versions listed so far. */
  readonly listed: number;
  /** Whether the listing has more pages. */
  readonly more: boolean;
  readonly missing: number;
  readonly sent: number;
}

/** A missing object version sent to the ingest queue (or that a dry run would send). */
export interface MissingFile {
  readonly dataset: string;
  readonly key: string;
  readonly versionId?: string;
  readonly eTag: string;
  readonly size: number;
  readonly lastModified?: string;
}

/** What a reconcile found and did. */
export interface ReconcileResult {
  /** Per dataset (the key's first segment under the ingest prefix; `(none)` when there is none). */
  readonly datasets: Record<string, DatasetCounts>;
  /** Versions listed (delete markers aside). */
  readonly listed: number;
  /** Versions left out by `since` or the record horizon. */
  readonly notCompared: number;
  /** Versions the builder ignores without a trace (zero-byte objects). */
  readonly ignored: number;
  /** Versions modified before this were not compared; undefined when every version was. */
  readonly comparedSince?: string;
  /** Why versions before `comparedSince` were not compared, when it is the record horizon rather than `--since`. */
  readonly horizonNote?: string;
  /** The files sent (dry run: that would be sent), in listing order. */
  readonly files: MissingFile[];
}

/** The key as an S3 event record carries it: URL-encoded UTF-8 as a form value (`+` for a space), `/` kept. */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/%2F/g, '/')
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The partition of the target's ARNs (`aws`, `aws-cn`, `aws-us-gov`). */
function partitionOf(ctx: CliContext): string {
  return ctx.target.stateMachineArn.split(':')[1] || 'aws';
}

/**
 * The S3 event notification S3 sends for a created object version (one record per message, as S3 sends them), with
 * the version, eTag and size. The `sequencer` is left out: it is S3's internal order of writes to a key, which no
 * listing gives, and a made-up one could order wrongly against S3's own; without it the builder orders the key's
 * files by version id. `configurationId` says where the message came from.
 */
export function s3EventNotification(
  file: { bucket: string; key: string; size: number; eTag: string; versionId?: string; lastModified?: Date },
  region: string,
  partition = 'aws',
): string {
  const object: Record<string, unknown> = { key: encodeS3EventKey(file.key), size: file.size, eTag: file.eTag };
  if (file.versionId !== undefined) object.versionId = file.versionId;
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: (file.lastModified ?? new Date()).toISOString(),
        // A multipart upload's eTag carries the part count after a dash.
        eventName: /-\d+$/.test(file.eTag) ? 'ObjectCreated:CompleteMultipartUpload' : 'ObjectCreated:Put',
        userIdentity: { principalId: 'pipeline-reconcile' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: {},
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'pipeline-reconcile',
          bucket: { name: file.bucket, arn: `arn:${partition}:s3:::${file.bucket}` },
          object,
        },
      },
    ],
  });
}

/** The dataset a key is counted under: its first segment under the prefix, `(none)` when it has none. */
export function datasetLabel(key: string, ingestPrefix: string): string {
  const rest = key.slice(ingestPrefix.length);
  const slash = rest.indexOf('/');
  return slash > 0 ? rest.slice(0, slash) : '(none)';
}

/**
 * From when versions can be compared: `since`, bounded by the record horizon once the state table is older than it.
 * Throws a {@link UsageError} when `since` reaches past the horizon.
 */
export async function comparableSince(ctx: CliContext, since: Date | undefined): Promise<{ from?: Date; horizonNote?: string }> {
  const now = ctx.now();
  const horizon = new Date(now.getTime() - FILE_RECORD_RETENTION_DAYS * DAY_MS);
  const table = await ctx.ddb.send(new DescribeTableCommand({ TableName: ctx.target.stateTable }));
  const created = table.Table?.CreationDateTime;
  if (created !== undefined && new Date(created).getTime() >= horizon.getTime()) return { from: since };
  if (since !== undefined && since.getTime() < horizon.getTime()) {
    throw new UsageError(
      `--since ${formatTime(since)} reaches past ${formatTime(horizon)}: file records expire after ${FILE_RECORD_RETENTION_DAYS} days, ` +
        'so a file converted before then would look missing and be converted again',
    );
  }
  if (since !== undefined) return { from: since };
  return {
    from: horizon,
    horizonNote: `versions modified before ${formatTime(horizon)} were not compared: file records expire after ${FILE_RECORD_RETENTION_DAYS} days, so such a file would look missing even if converted`,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** HeadObject calls in flight at once while identifying a page's versions. */
const HEAD_CONCURRENCY = 16;

/** `work` on each item, at most `limit` at a time, results in order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Which of the given item keys exist (consistent reads, 100 keys a call, unprocessed keys asked again). */
async function existingKeys(ctx: CliContext, pks: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  const unique = [...new Set(pks)];
  for (let i = 0; i < unique.length; i += 100) {
    let request: Record<string, unknown>[] | undefined = unique.slice(i, i + 100).map((pk) => ({ pk, sk: 'META' }));
    for (let attempt = 0; request !== undefined && request.length > 0; attempt++) {
      if (attempt > 0) await sleep(Math.min(2000, 50 * 2 ** attempt));
      if (attempt > 10) throw new CliError('the state table keeps leaving keys unprocessed (throttled?): try again later');
      const out = await ctx.ddb.send(
        new BatchGetCommand({
          RequestItems: {
            [ctx.target.stateTable]: {
              Keys: request,
              ConsistentRead: true,
              ProjectionExpression: '#pk',
              ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
            },
          },
        }),
      );
      for (const item of out.Responses?.[ctx.target.stateTable] ?? []) found.add(String(item[STATE_TABLE.partitionKey]));
      request = out.UnprocessedKeys?.[ctx.target.stateTable]?.Keys as Record<string, unknown>[] | undefined;
    }
  }
  return found;
}

/** Sends notifications to the ingest queue, 10 a call; entries SQS refuses are tried again, then reported. */
async function sendNotifications(ctx: CliContext, bodies: readonly string[]): Promise<number> {
  let sent = 0;
  for (let i = 0; i < bodies.length; i += 10) {
    let entries = bodies.slice(i, i + 10).map((body, n) => ({ Id: String(i + n), MessageBody: body }));
    for (let attempt = 0; entries.length > 0; attempt++) {
      if (attempt > 0) await sleep(200 * attempt);
      const out = await ctx.sqs.send(new SendMessageBatchCommand({ QueueUrl: ctx.target.ingestQueueUrl, Entries: entries }));
      sent += out.Successful?.length ?? 0;
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      if (failed.size > 0 && attempt >= 3) {
        const first = out.Failed?.[0];
        throw new CliError(
          `the ingest queue refused ${failed.size} notifications (${first?.Code ?? 'no code'}: ${first?.Message ?? 'no message'}) after ${sent} were sent; ` +
            'run reconcile again to send the rest (what was sent is found in manifests then)',
        );
      }
      entries = entries.filter((e) => failed.has(e.Id));
    }
  }
  return sent;
}

/** Lists every object version under the prefix and sends what no notification brought (see the module comment). */
export async function reconcile(ctx: CliContext, opts: ReconcileOptions = {}): Promise<ReconcileResult> {
  if (opts.dataset !== undefined) validateDataset(opts.dataset);
  const { ingestPrefix, acceptedSuffixes } = ctx.config;
  const rules = { ingestPrefix, acceptedSuffixes };
  const bucket = ctx.target.ingestBucket;
  const prefix = opts.dataset === undefined ? ingestPrefix : `${ingestPrefix}${opts.dataset}/`;
  const { from, horizonNote } = await comparableSince(ctx, opts.since);
  const partition = partitionOf(ctx);

  const datasets: Record<string, DatasetCounts> = {};
  const counts = (name: string) => (datasets[name] ??= { inManifests: 0, rejected: 0, missing: 0, sent: 0 });
  if (opts.dataset !== undefined) counts(opts.dataset);
  const files: MissingFile[] = [];
  /** Contents already sent (or to be sent): a second version with the same bytes is the same file. */
  const contents = new Set<string>();
  let listed = 0;
  let notCompared = 0;
  let ignored = 0;
  let missingTotal = 0;
  let sentTotal = 0;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  let page: ListObjectVersionsCommandOutput;
  do {
    page = await ctx.s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        VersionIdMarker: versionIdMarker,
        MaxKeys: 1000,
      }),
    );
    const versions = (page.Versions ?? []).filter((v): v is ObjectVersion & { Key: string } => v.Key !== undefined);
    listed += versions.length;
    const candidates: { version: ObjectVersion & { Key: string }; eTag: string; versionId?: string }[] = [];
    for (const version of versions) {
      if (from !== undefined && (version.LastModified === undefined || new Date(version.LastModified).getTime() < from.getTime())) {
        notCompared += 1;
        continue;
      }
      if (classifyObject(version.Key, Number(version.Size ?? 0), 'ObjectCreated:Put', rules).action === 'skip') {
        ignored += 1;
        continue;
      }
      const eTag = (version.ETag ?? '').replace(/"/g, '');
      // An unversioned bucket lists the version id "null", and its events carry none.
      const versionId = version.VersionId && version.VersionId !== 'null' ? version.VersionId : undefined;
      candidates.push({ version, eTag, versionId });
    }
    const compared = await mapLimited(candidates, HEAD_CONCURRENCY, async (c) => {
      const object = { bucket, key: c.version.Key, eTag: c.eTag, versionId: c.versionId };
      const fileKeys = recordedTagsOf(object, await readChecksum(ctx.s3, object)).map((tag) => keys.file(bucket, c.version.Key, tag).pk);
      return { ...c, fileKey: fileKeys[0], fileKeys, rejectedKey: keys.rejected(bucket, c.version.Key).pk };
    });
    const existing = await existingKeys(
      ctx,
      compared.flatMap((c) => [...c.fileKeys, c.rejectedKey]),
    );
    const toSend: { file: MissingFile; body: string }[] = [];
    for (const c of compared) {
      const name = datasetLabel(c.version.Key, ingestPrefix);
      const n = counts(name);
      if (c.fileKeys.some((k) => existing.has(k))) n.inManifests += 1;
      else if (existing.has(c.rejectedKey)) n.rejected += 1;
      else {
        n.missing += 1;
        missingTotal += 1;
        if (contents.has(c.fileKey)) continue;
        contents.add(c.fileKey);
        const lastModified = c.version.LastModified === undefined ? undefined : new Date(c.version.LastModified);
        const size = Number(c.version.Size ?? 0);
        toSend.push({
          file: {
            dataset: name,
            key: c.version.Key,
            versionId: c.versionId,
            eTag: c.eTag,
            size,
            lastModified: lastModified?.toISOString(),
          },
          body: s3EventNotification(
            { bucket, key: c.version.Key, size, eTag: c.eTag, versionId: c.versionId, lastModified },
            ctx.target.region,
            partition,
          ),
        });
      }
    }
    files.push(...toSend.map((t) => t.file));
    if (!opts.dryRun && toSend.length > 0) {
      const sent = await sendNotifications(
        ctx,
        toSend.map((t) => t.body),
      );
      sentTotal += sent;
      for (const t of toSend) counts(t.file.dataset).sent += 1;
    }
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
    opts.onPage?.({ listed, more: page.IsTruncated === true, missing: missingTotal, sent: sentTotal });
  } while (page.IsTruncated === true && (keyMarker !== undefined || versionIdMarker !== undefined));

  return {
    datasets,
    listed,
    notCompared,
    ignored,
    comparedSince: from?.toISOString(),
    horizonNote: notCompared > 0 ? horizonNote : undefined,
    files,
  };
}
