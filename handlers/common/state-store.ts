/**
 * The state table adapter (contracts/table-schema.ts, docs/architecture.md "State table"), for the handlers and
 * the operator CLI alike: the manifest record, the reads (every page), and the conditional writes. Every write that
 * moves a file or a manifest is conditional; the conditions are what keep I1 and I2, so they live here, each
 * next to the reason it exists.
 *
 * The invariant the writes keep, per write shard of a dataset (docs/architecture.md, "Sharded open manifests"):
 * the shard's pointer (`OPEN#<dataset>` for shard 0, `OPEN#<dataset>#<k>`) has `manifestId = X` exactly when
 * `MANIFEST#X/META.status = OPEN` (and its `shard` is that shard). Opening and sealing change both items in one
 * transaction, and a file is written in a transaction conditioned on its shard's pointer, so a file can only enter
 * a manifest that is open at that instant, and a sealed manifest's `F#` items are final. Every opening, in any
 * shard, also moves the dataset's counter (`day`, `seq` on `OPEN#<dataset>`) by compare-and-set, so no two
 * manifests get one id.
 *
 * Longer than the other modules on purpose: every conditional write that keeps I1 to I3 (and the outbox's and the
 * indexes' moves, I7) is here, beside the others it must agree with; split up, they could no longer be read together.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type QueryCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { STATE_TABLE, STATE_TABLE_PREFIXES, keys, type ManifestStatus } from '../../contracts/table-schema';
import type { EndedOutcome } from '../domain/ended-execution';
import type { DatasetCounter, ManifestFileEntry, OpenPointer, SealReason, ShardPointer } from '../domain/manifest';
import { hasErrorName } from './errors';

/** A file written into a manifest, as its `FILE#` item records it. */
export interface FileRecord extends ManifestFileEntry {
  readonly manifestId: string;
  readonly dataset: string;
  /** The content tag the item is keyed by (absent on items written before it was stored). */
  readonly contentTag?: string;
}

/** The `MANIFEST#<id>/META` item (docs/architecture.md, "State table"), with every attribute it may carry. */
export interface ManifestRecord {
  readonly manifestId: string;
  readonly dataset: string;
  /** The write shard it was opened in (absent on manifests opened before shards: 0). */
  readonly shard?: number;
  readonly status: ManifestStatus;
  readonly openedAt?: string;
  readonly ingestDate?: string;
  readonly sealedAt?: string;
  readonly sealReason?: SealReason;
  readonly manifestUri?: string;
  readonly fileCount?: number;
  readonly totalBytes?: number;
  /** The execution holding, or last holding, the manifest. */
  readonly executionArn?: string;
  /** Execution ARNs, the original first, then each replay (appended by `pipeline replay`). */
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
  /** The status of the output in place (`SUCCEEDED` or `PARTIAL`), which a failed run leaves as it was (I4). */
  readonly outputStatus?: ManifestStatus;
  /** How the last run ended; `FAILED` while `status` still names the previous output's status after a failed replay. */
  readonly lastRunStatus?: ManifestStatus;
  /** The run directories the output in place was written to (Parquet, quarantine): where readers read. */
  readonly outputLocation?: string;
  readonly quarantineLocation?: string;
  /** Present while the manifest has no recorded execution. */
  readonly pendingSk?: string;
  readonly [attribute: string]: unknown;
}

/** The record as the builder and the sweeper read it: every META item has its opening time and day. */
export type ManifestMeta = ManifestRecord & { readonly openedAt: string; readonly ingestDate: string };

/** One `MANIFEST#<id>/F#<key>#<contentTag>` item as stored: a file of the manifest. */
export interface ManifestFileItem {
  readonly bucket: string;
  readonly key: string;
  readonly size?: number;
  readonly eTag?: string;
  readonly sequencer?: string;
  /** The version the manifest pins (absent for an unversioned bucket). */
  readonly versionId?: string;
}

/** Filters of {@link StateStore.listManifestsOfDay}. */
export interface DayFilter {
  /** Only manifests opened at or after this ISO time. @default the whole day */
  readonly since?: string;
  readonly dataset?: string;
  /** Only manifests in one of these statuses. @default every status */
  readonly statuses?: readonly ManifestStatus[];
}

/** Runs a query to its last page. */
export async function queryAllPages<T = Record<string, unknown>>(doc: DynamoDBDocumentClient, input: QueryCommandInput): Promise<T[]> {
  const items: T[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
    items.push(...((page.Items ?? []) as T[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return items;
}

/** An entry of the sparse `running` index. */
export interface RunningEntry {
  readonly manifestId: string;
  readonly dataset: string;
  readonly executionArn?: string;
  /** Whether the record listed its executions (`executions`) when the index was written. */
  readonly recorded: boolean;
}

/** How an execution ended without recording its outcome, as the sweeper records it (I7), with the outcome's alert. */
export interface EndedExecution extends EndedOutcome {
  readonly executionArn: string;
  readonly alert: PendingAlert;
}

/** An alert of the outbox: written with the final status, published, then cleared (I7). */
export interface PendingAlert {
  readonly subject: string;
  readonly message: string;
}

/** A manifest of the sparse `alerts` index, as its record holds it (read consistently). */
export interface AlertEntry {
  readonly manifestId: string;
  /** The index's sort key, which the clear is conditional on: an alert written since is another alert. */
  readonly alertSk: string;
  readonly subject: string;
  readonly message: string;
  readonly executionArn?: string;
}

/** An entry of the sparse `pending` index. */
export interface PendingEntry {
  readonly manifestId: string;
  readonly dataset: string;
  readonly openedAt: string;
  readonly status: ManifestStatus;
}

/** An execution holding a capacity slot (`SLOTS.holders.<executionName>`). */
export interface SlotHolder {
  readonly manifestId: string;
  /** When the slot was taken (ISO): before StartExecution. */
  readonly takenAt: string;
}

/** The capacity slots as read (consistently): every execution holding one, by execution name. */
export interface Slots {
  readonly holders: Readonly<Record<string, SlotHolder>>;
}

/** What taking a slot did: taken by this call; already held by that execution (another starter took it); none free. */
export type TakeSlotOutcome = 'taken' | 'held' | 'full';

/** An execution waiting in the start queue for a slot (`QUEUE`/`<rank>#<queuedAt>#<executionName>`). */
export interface QueueEntry {
  /** The entry's sort key, `<rank>#<queuedAt>#<executionName>`: the queue's order. */
  readonly sk: string;
  readonly manifestId: string;
  readonly dataset: string;
  /** The execution to start: the manifest id (the original), or `<id>-r<n>` (replay n). */
  readonly executionName: string;
  /** 0 for the original execution, n for replay n. */
  readonly replay: number;
  /** The execution's input (JSON), as StartExecution takes it. */
  readonly input: string;
  readonly queuedAt: string;
  /** 0: put ahead of the queue (`pipeline replay --now`); 1: in turn. */
  readonly rank: 0 | 1;
}

/** The `alerts` index's sort key of an outcome's alert: `<finishedAt ISO>#<manifestId>`, as the ASL writes it. */
export function alertSortKey(finishedAt: string, manifestId: string): string {
  return `${finishedAt}#${manifestId}`;
}

/** Why a conditional write did not happen. */
export type WriteOutcome = 'done' | 'condition-failed' | 'conflict';

/** The outcome of writing a file into a manifest. */
export type CommitOutcome = 'written' | 'file-exists' | 'pointer-moved' | 'conflict';

interface CancellationReason {
  Code?: string;
}

function cancellationCodes(err: unknown): string[] | undefined {
  if (!hasErrorName(err, 'TransactionCanceledException')) return undefined;
  const reasons = (err as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
  return reasons.map((r) => r.Code ?? 'None');
}

function isConditionFailure(err: unknown): boolean {
  return hasErrorName(err, 'ConditionalCheckFailedException');
}

/** Seconds since the epoch, for the TTL attribute. */
function epochSeconds(at: Date): number {
  return Math.floor(at.getTime() / 1000);
}

/** How long `FILE#` items are kept: far beyond any redelivery (the cost model counts their storage with it). */
export const FILE_ITEM_TTL_SECONDS = 90 * 86_400;

/** Reads and writes the state table. */
export class StateStore {
  readonly #doc: DynamoDBDocumentClient;

  constructor(
    /** A client (the handlers'), or a document client made with `removeUndefinedValues` (the CLI's). */
    client: DynamoDBClient | DynamoDBDocumentClient,
    readonly tableName: string,
    /** How long `FILE#` items are kept. @default FILE_ITEM_TTL_SECONDS (90 days) */
    readonly fileTtlSeconds = FILE_ITEM_TTL_SECONDS,
  ) {
    this.#doc =
      client instanceof DynamoDBDocumentClient
        ? client
        : DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** The file's record when some manifest already holds this content of the key (`contentTag`: see `contentTagOf`). */
  async getFile(bucket: string, key: string, contentTag: string): Promise<FileRecord | undefined> {
    const out = await this.#doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.file(bucket, key, contentTag), ConsistentRead: true }),
    );
    return out.Item === undefined ? undefined : ({ contentTag, ...out.Item } as FileRecord);
  }

  /**
   * A delivery of content already recorded: the record's expiry moves to `fileTtlSeconds` from now (never back),
   * so a record outlives by the full retention the last upload of its content, which `pipeline reconcile`'s
   * horizon relies on. Nothing happens when the record is gone (expired meanwhile).
   */
  async refreshFile(bucket: string, key: string, contentTag: string, now: Date): Promise<void> {
    const expiresAt = epochSeconds(now) + this.fileTtlSeconds;
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.file(bucket, key, contentTag),
          UpdateExpression: 'SET #ttl = :expiresAt, lastDeliveredAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#ttl) OR #ttl < :expiresAt)',
          ExpressionAttributeNames: { '#ttl': STATE_TABLE.ttlAttribute },
          ExpressionAttributeValues: { ':expiresAt': expiresAt, ':now': now.toISOString() },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  /** The dataset's item: shard 0's pointer, the dataset's manifest counter and its shard widths. */
  async getPointer(dataset: string): Promise<OpenPointer | undefined> {
    const out = await this.#doc.send(new GetCommand({ TableName: this.tableName, Key: keys.open(dataset), ConsistentRead: true }));
    if (out.Item === undefined) return undefined;
    const item = out.Item as {
      manifestId?: string;
      count?: number;
      openedAt?: string;
      day?: string;
      seq?: unknown;
      shards?: unknown;
      widest?: unknown;
    };
    const shards = Math.max(1, Number(item.shards ?? 1));
    return {
      manifestId: item.manifestId,
      count: Number(item.count ?? 0),
      openedAt: item.openedAt,
      // An item whose dataset never opened a manifest (only its width set) has no counter yet.
      day: item.day ?? '',
      seq: Number(item.seq ?? 0),
      shards,
      widest: Math.max(shards, Number(item.widest ?? 1)),
    };
  }

  /** Write shard `shard`'s pointer to its open manifest (shard 0: read from the dataset's item). */
  async getShardPointer(dataset: string, shard: number): Promise<ShardPointer | undefined> {
    if (shard === 0) return this.getPointer(dataset);
    const out = await this.#doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.openShard(dataset, shard), ConsistentRead: true }),
    );
    if (out.Item === undefined) return undefined;
    const item = out.Item as { manifestId?: string; count?: number; openedAt?: string };
    return { manifestId: item.manifestId, count: Number(item.count ?? 0), openedAt: item.openedAt };
  }

  /**
   * Spreads the dataset's files over one more shard: `shards` from `seen.shards` to `seen.shards + 1` (and `widest`
   * with it), only if no one changed them since `seen` was read and the new width stays within `maxShards`.
   * Returns the dataset's item as it is afterwards (read again when another writer moved it first).
   */
  async widen(dataset: string, seen: Pick<OpenPointer, 'shards' | 'widest'>, maxShards: number): Promise<OpenPointer | undefined> {
    const next = seen.shards + 1;
    if (next > maxShards) return this.getPointer(dataset);
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.open(dataset),
          UpdateExpression: 'SET #shards = :next, #widest = :widest',
          ConditionExpression:
            'attribute_exists(pk) AND ' +
            (seen.shards === 1 ? '(attribute_not_exists(#shards) OR #shards = :from)' : '#shards = :from') +
            ' AND ' +
            (seen.widest === 1 ? '(attribute_not_exists(#widest) OR #widest = :seenWidest)' : '#widest = :seenWidest'),
          ExpressionAttributeNames: { '#shards': 'shards', '#widest': 'widest' },
          ExpressionAttributeValues: {
            ':next': next,
            ':from': seen.shards,
            ':widest': Math.max(next, seen.widest),
            ':seenWidest': seen.widest,
          },
        }),
      );
      return { ...(await this.getPointer(dataset))!, shards: next, widest: Math.max(next, seen.widest) };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return this.getPointer(dataset);
    }
  }

  /**
   * Spreads the dataset's files over fewer shards: `shards` from `from` to `to` (at least 1), only if it is still
   * `from`. `widest` stays: a shard no longer written may still hold an open manifest until the sweeper seals it.
   * False when the condition did not hold.
   */
  async narrow(dataset: string, from: number, to: number): Promise<boolean> {
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.open(dataset),
          UpdateExpression: 'SET #shards = :to',
          ConditionExpression: '#shards = :from',
          ExpressionAttributeNames: { '#shards': 'shards' },
          ExpressionAttributeValues: { ':from': from, ':to': Math.max(1, to) },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** A manifest's META item. */
  async getManifest(manifestId: string): Promise<ManifestMeta | undefined> {
    const out = await this.#doc.send(new GetCommand({ TableName: this.tableName, Key: keys.manifest(manifestId), ConsistentRead: true }));
    return out.Item as ManifestMeta | undefined;
  }

  /**
   * Opens manifest `opening.manifestId` in write shard `shard` and points the shard at it, provided the shard's
   * pointer names no open manifest, the dataset's counter is still `before.counter` (no concurrent opening in any
   * shard won) and the id was never used. For shard 0 the pointer and the counter are one item (`OPEN#<dataset>`).
   */
  async openManifest(
    dataset: string,
    shard: number,
    before: { readonly pointer: ShardPointer | undefined; readonly counter: DatasetCounter | undefined },
    opening: { manifestId: string; day: string; seq: number },
    now: Date,
  ): Promise<WriteOutcome> {
    const openedAt = now.toISOString();
    const ingestDate = `${opening.day.slice(0, 4)}-${opening.day.slice(4, 6)}-${opening.day.slice(6, 8)}`;
    // No counter yet (the dataset never opened a manifest): the item is absent, or holds only the dataset's width.
    const counterCondition =
      before.counter === undefined || before.counter.day === ''
        ? { ConditionExpression: 'attribute_not_exists(#seq)', ExpressionAttributeValues: {} }
        : {
            ConditionExpression: '#day = :prevDay AND #seq = :prevSeq',
            ExpressionAttributeValues: { ':prevDay': before.counter.day, ':prevSeq': before.counter.seq },
          };
    const meta = {
      Put: {
        TableName: this.tableName,
        Item: {
          ...keys.manifest(opening.manifestId),
          manifestId: opening.manifestId,
          dataset,
          shard,
          status: 'OPEN' satisfies ManifestStatus,
          openedAt,
          ingestDate,
          [STATE_TABLE.byDayIndex.partitionKey]: keys.day(ingestDate),
          [STATE_TABLE.byDayIndex.sortKey]: `${openedAt}#${opening.manifestId}`,
          [STATE_TABLE.pendingIndex.partitionKey]: keys.pending,
          [STATE_TABLE.pendingIndex.sortKey]: `${openedAt}#${opening.manifestId}`,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
    const pointTo = {
      UpdateExpression: 'SET manifestId = :id, #count = :zero, totalBytes = :zero, openedAt = :openedAt',
      ExpressionAttributeNames: { '#count': 'count' } as Record<string, string>,
      ExpressionAttributeValues: { ':id': opening.manifestId, ':zero': 0, ':openedAt': openedAt } as Record<string, unknown>,
    };
    const count = {
      UpdateExpression: 'SET #day = :day, #seq = :seq',
      ExpressionAttributeNames: { '#day': 'day', '#seq': 'seq' },
      ExpressionAttributeValues: { ':day': opening.day, ':seq': opening.seq, ...counterCondition.ExpressionAttributeValues },
    };
    const items: NonNullable<TransactWriteCommandInput['TransactItems']> =
      shard === 0
        ? [
            meta,
            {
              Update: {
                TableName: this.tableName,
                Key: keys.open(dataset),
                UpdateExpression: `${pointTo.UpdateExpression}, #day = :day, #seq = :seq`,
                ExpressionAttributeNames: { ...pointTo.ExpressionAttributeNames, ...count.ExpressionAttributeNames },
                ExpressionAttributeValues: { ...pointTo.ExpressionAttributeValues, ...count.ExpressionAttributeValues },
                ConditionExpression: `attribute_not_exists(manifestId) AND ${counterCondition.ConditionExpression}`,
              },
            },
          ]
        : [
            meta,
            {
              Update: {
                TableName: this.tableName,
                Key: keys.openShard(dataset, shard),
                ...pointTo,
                ConditionExpression: 'attribute_not_exists(manifestId)',
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: keys.open(dataset),
                ...count,
                ConditionExpression: counterCondition.ConditionExpression,
              },
            },
          ];
    try {
      await this.#transact(items);
      return 'done';
    } catch (err) {
      return this.#classify(err);
    }
  }

  /**
   * Writes a file into the manifest the pointer names, in one transaction: the pointer's count moves from
   * `count` to `count + 1` (an exact compare-and-set, so the writer knows whether it filled the manifest),
   * the `FILE#` item is created only if absent (I1 under concurrent duplicates), and the `F#` item lists the file.
   * Both are keyed by `contentTag`, the content's identity (`contentTagOf`).
   */
  async commitFile(
    dataset: string,
    shard: number,
    manifestId: string,
    count: number,
    file: ManifestFileEntry,
    now: Date,
    contentTag: string,
  ): Promise<CommitOutcome> {
    const { bucket, key, size, eTag, sequencer, versionId } = file;
    const fields = { bucket, key, size, eTag, sequencer, versionId };
    try {
      await this.#transact([
        {
          Update: {
            TableName: this.tableName,
            Key: keys.openShard(dataset, shard),
            UpdateExpression: 'SET #count = :next ADD totalBytes :size',
            ConditionExpression: 'manifestId = :id AND #count = :count',
            ExpressionAttributeNames: { '#count': 'count' },
            ExpressionAttributeValues: { ':id': manifestId, ':count': count, ':next': count + 1, ':size': file.size },
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: {
              ...keys.file(file.bucket, file.key, contentTag),
              manifestId,
              dataset,
              ...fields,
              contentTag,
              recordedAt: now.toISOString(),
              [STATE_TABLE.ttlAttribute]: epochSeconds(now) + this.fileTtlSeconds,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          // One item per content of the key: a key overwritten with new bytes while the manifest is open is
          // two files of it, each pinned to its version, each a slot (I7).
          Put: {
            TableName: this.tableName,
            Item: {
              ...keys.manifestFile(manifestId, file.key, contentTag),
              ...fields,
            },
          },
        },
      ]);
      return 'written';
    } catch (err) {
      const codes = cancellationCodes(err);
      if (codes === undefined) throw err;
      if (codes[1] === 'ConditionalCheckFailed') return 'file-exists';
      if (codes[0] === 'ConditionalCheckFailed') return 'pointer-moved';
      return 'conflict';
    }
  }

  /**
   * Seals an open manifest and clears its shard's pointer in one transaction. Afterwards no file can enter it,
   * so the `F#` items read next are final. `condition-failed`: it was not open (someone else sealed it).
   */
  async seal(dataset: string, shard: number, manifestId: string, reason: SealReason, now: Date): Promise<WriteOutcome> {
    try {
      await this.#transact([
        {
          Update: {
            TableName: this.tableName,
            Key: keys.manifest(manifestId),
            UpdateExpression: 'SET #status = :sealed, sealedAt = :now, sealReason = :reason',
            ConditionExpression: '#status = :open',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':sealed': 'SEALED', ':open': 'OPEN', ':now': now.toISOString(), ':reason': reason },
          },
        },
        {
          Update: {
            TableName: this.tableName,
            Key: keys.openShard(dataset, shard),
            UpdateExpression: 'REMOVE manifestId',
            ConditionExpression: 'manifestId = :id',
            ExpressionAttributeValues: { ':id': manifestId },
          },
        },
      ]);
      return 'done';
    } catch (err) {
      return this.#classify(err);
    }
  }

  /**
   * Removes an open manifest that never received a file (its opener stopped before writing one), so the
   * sweeper never starts an execution for nothing. The pointer's count of 0 is the proof it is empty.
   */
  async discardEmpty(dataset: string, shard: number, manifestId: string): Promise<WriteOutcome> {
    try {
      await this.#transact([
        {
          Delete: {
            TableName: this.tableName,
            Key: keys.manifest(manifestId),
            ConditionExpression: '#status = :open',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':open': 'OPEN' },
          },
        },
        {
          Update: {
            TableName: this.tableName,
            Key: keys.openShard(dataset, shard),
            UpdateExpression: 'REMOVE manifestId',
            ConditionExpression: 'manifestId = :id AND #count = :zero',
            ExpressionAttributeNames: { '#count': 'count' },
            ExpressionAttributeValues: { ':id': manifestId, ':zero': 0 },
          },
        },
      ]);
      return 'done';
    } catch (err) {
      return this.#classify(err);
    }
  }

  /** The `F#` items of a manifest as stored: consistent, every page, in the table's order. */
  async listManifestFileItems(manifestId: string): Promise<ManifestFileItem[]> {
    const items = await queryAllPages<ManifestFileItem>(this.#doc, {
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :f)',
      ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey, '#sk': STATE_TABLE.sortKey },
      ExpressionAttributeValues: { ':pk': keys.manifest(manifestId).pk, ':f': 'F#' },
      ConsistentRead: true,
    });
    return items.map(({ bucket, key, size, eTag, sequencer, versionId }) => ({ bucket, key, size, eTag, sequencer, versionId }));
  }

  /** The files of a manifest as its manifest file lists them (a missing eTag or sequencer is empty). */
  async listManifestFiles(manifestId: string): Promise<ManifestFileEntry[]> {
    return (await this.listManifestFileItems(manifestId)).map((item) => ({
      bucket: item.bucket,
      key: item.key,
      size: Number(item.size),
      eTag: item.eTag ?? '',
      sequencer: item.sequencer ?? '',
      ...(typeof item.versionId === 'string' && item.versionId !== '' ? { versionId: item.versionId } : {}),
    }));
  }

  /**
   * The manifests opened on one UTC day (`YYYY-MM-DD`), oldest first, from the `byDay` index (never a scan),
   * filtered on opening time, dataset and status by DynamoDB; every page.
   */
  async listManifestsOfDay(day: string, filter: DayFilter = {}): Promise<ManifestRecord[]> {
    const index = STATE_TABLE.byDayIndex;
    const filters: string[] = [];
    const names: Record<string, string> = { '#pk': index.partitionKey };
    const values: Record<string, unknown> = {};
    if (filter.dataset !== undefined) {
      filters.push('#dataset = :dataset');
      names['#dataset'] = 'dataset';
      values[':dataset'] = filter.dataset;
    }
    const statuses = filter.statuses ?? [];
    if (statuses.length === 1) {
      filters.push('#status = :status');
      names['#status'] = 'status';
      values[':status'] = statuses[0];
    } else if (statuses.length > 1) {
      filters.push(`#status IN (${statuses.map((_, i) => `:status${i}`).join(', ')})`);
      names['#status'] = 'status';
      statuses.forEach((st, i) => (values[`:status${i}`] = st));
    }
    const bounded = filter.since !== undefined;
    const items = await queryAllPages(this.#doc, {
      TableName: this.tableName,
      IndexName: index.name,
      KeyConditionExpression: bounded ? '#pk = :day AND #sk >= :since' : '#pk = :day',
      FilterExpression: filters.length > 0 ? filters.join(' AND ') : undefined,
      ExpressionAttributeNames: bounded ? { ...names, '#sk': index.sortKey } : names,
      ExpressionAttributeValues: { ...values, ':day': keys.day(day), ...(bounded ? { ':since': filter.since } : {}) },
    });
    return items.filter((item) => item[STATE_TABLE.sortKey] === undefined || item[STATE_TABLE.sortKey] === 'META') as ManifestRecord[];
  }

  /**
   * Records replay `n` (execution `executionArn`) of a manifest, only if no one recorded it first: conditional on
   * `replayCount` being `n - 1`, so two operators cannot both record replay n. `known` are the executions recorded
   * before it, kept at the head of the list when the record has none. False when the condition did not hold.
   */
  async recordReplay(manifestId: string, n: number, executionArn: string, known: readonly string[], now: Date): Promise<boolean> {
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.manifest(manifestId),
          UpdateExpression:
            'SET #replayCount = :n, #executions = list_append(if_not_exists(#executions, :known), :arn), #lastReplayAt = :now ' +
            'REMOVE #queuedReplay',
          ConditionExpression:
            n === 1
              ? 'attribute_exists(#pk) AND (attribute_not_exists(#replayCount) OR #replayCount = :prev)'
              : 'attribute_exists(#pk) AND #replayCount = :prev',
          ExpressionAttributeNames: {
            '#pk': STATE_TABLE.partitionKey,
            '#replayCount': 'replayCount',
            '#executions': 'executions',
            '#lastReplayAt': 'lastReplayAt',
            '#queuedReplay': 'queuedReplay',
          },
          ExpressionAttributeValues: {
            ':n': n,
            ':prev': n - 1,
            ':known': [...known],
            ':arn': [executionArn],
            ':now': now.toISOString(),
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /**
   * Records the started execution (I3: only after StartExecution accepted it). Attributes the state machine
   * may already have written are left alone: `status` is not touched, the first ARN is kept, and the ARN enters
   * `executions` once, at the head. The same write leaves the `pending` index; while the manifest is still SEALED
   * (MarkRunning has not run yet) it enters the `running` index in that write, so a manifest whose execution is
   * aborted before MarkRunning is still found by the sweeper: until final, a manifest is in exactly one of the
   * two indexes.
   */
  async recordExecution(
    manifestId: string,
    record: { executionArn: string; manifestUri: string; fileCount: number; totalBytes: number; startedAt: Date },
  ): Promise<void> {
    const values = {
      ':arn': record.executionArn,
      ':arns': [record.executionArn],
      ':none': [],
      ':uri': record.manifestUri,
      ':count': record.fileCount,
      ':bytes': record.totalBytes,
      ':startedAt': record.startedAt.toISOString(),
    };
    const set =
      'SET executionArn = if_not_exists(executionArn, :arn), executions = list_append(:arns, if_not_exists(executions, :none)), ' +
      'manifestUri = :uri, fileCount = :count, totalBytes = :bytes, startedAt = if_not_exists(startedAt, :startedAt)';
    const remove = `REMOVE ${STATE_TABLE.pendingIndex.partitionKey}, ${STATE_TABLE.pendingIndex.sortKey}`;
    const notRecorded = 'attribute_exists(pk) AND (attribute_not_exists(executions) OR NOT contains(executions, :arn))';
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.manifest(manifestId),
          UpdateExpression: `${set}, #runningPk = :runningPk, #runningSk = :runningSk ${remove}`,
          ConditionExpression: `${notRecorded} AND #status = :sealed`,
          ExpressionAttributeNames: {
            '#status': 'status',
            '#runningPk': STATE_TABLE.runningIndex.partitionKey,
            '#runningSk': STATE_TABLE.runningIndex.sortKey,
          },
          ExpressionAttributeValues: {
            ...values,
            ':sealed': 'SEALED' satisfies ManifestStatus,
            ':runningPk': keys.running,
            ':runningSk': `${record.startedAt.toISOString()}#${manifestId}`,
          },
        }),
      );
      return;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      // Not SEALED any more (MarkRunning put it in the running index, or it is final), or already recorded.
    }
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.manifest(manifestId),
          UpdateExpression: `${set} ${remove}`,
          ConditionExpression: notRecorded,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      // Already recorded by an earlier attempt, whose write also left the pending index.
    }
  }

  /** Records a refused file; false when it was already recorded (a redelivery), so it is counted once. */
  async putRejected(rejection: { bucket: string; key: string; size: number; reason: string; code: string }, now: Date): Promise<boolean> {
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.tableName,
          // Rejections expire as FILE# items do: a key that is never fixed does not grow the table forever.
          Item: {
            ...keys.rejected(rejection.bucket, rejection.key),
            ...rejection,
            rejectedAt: now.toISOString(),
            [STATE_TABLE.ttlAttribute]: epochSeconds(now) + this.fileTtlSeconds,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** Every manifest without an execution yet, oldest first, from the sparse `pending` index (eventually consistent). */
  async listPending(): Promise<PendingEntry[]> {
    const items = await this.#queryIndex<PendingEntry>(STATE_TABLE.pendingIndex, keys.pending);
    return items.map((item) => ({ manifestId: item.manifestId, dataset: item.dataset, openedAt: item.openedAt, status: item.status }));
  }

  /**
   * Every manifest an execution holds or was started for (RUNNING, or SEALED with its execution recorded before
   * MarkRunning ran), from the sparse `running` index (eventually consistent).
   */
  async listRunning(): Promise<RunningEntry[]> {
    const items = await this.#queryIndex<RunningEntry & { executions?: unknown }>(STATE_TABLE.runningIndex, keys.running);
    return items.map((item) => ({
      manifestId: item.manifestId,
      dataset: item.dataset,
      executionArn: item.executionArn,
      recorded: Array.isArray(item.executions) && item.executions.length > 0,
    }));
  }

  /** The manifests whose outcome's alert is not published yet, oldest first, from the sparse `alerts` index. */
  async listPendingAlerts(): Promise<Array<{ manifestId: string }>> {
    const items = await this.#queryIndex<{ manifestId: string }>(STATE_TABLE.alertsIndex, keys.alertPending);
    return items.map((item) => ({ manifestId: item.manifestId }));
  }

  /** The manifest's pending alert, read consistently (the index may lag); undefined when none is pending. */
  async getPendingAlert(manifestId: string): Promise<AlertEntry | undefined> {
    const meta = await this.getManifest(manifestId);
    const sk = meta?.[STATE_TABLE.alertsIndex.sortKey];
    if (meta === undefined || meta[STATE_TABLE.alertsIndex.partitionKey] === undefined || typeof sk !== 'string') return undefined;
    return {
      manifestId,
      alertSk: sk,
      subject: typeof meta.alertSubject === 'string' ? meta.alertSubject : '',
      message: typeof meta.alertMessage === 'string' ? meta.alertMessage : '',
      executionArn: meta.executionArn,
    };
  }

  /**
   * Clears a published alert: only while the record still holds that alert (`alertSk`), so an alert written since
   * stays pending. False when the condition did not hold (someone else cleared it).
   */
  async clearAlert(manifestId: string, alertSk: string, now: Date): Promise<boolean> {
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.manifest(manifestId),
          UpdateExpression: 'SET alertSentAt = :now REMOVE #pending, #sk',
          ConditionExpression: '#sk = :sk',
          ExpressionAttributeNames: { '#pending': STATE_TABLE.alertsIndex.partitionKey, '#sk': STATE_TABLE.alertsIndex.sortKey },
          ExpressionAttributeValues: { ':sk': alertSk, ':now': now.toISOString() },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /**
   * The capacity slots, read consistently (docs/architecture.md, "Capacity slots"); none held when the item does not
   * exist yet.
   */
  async getSlots(): Promise<Slots> {
    const out = await this.#doc.send(new GetCommand({ TableName: this.tableName, Key: keys.slots(), ConsistentRead: true }));
    const holders = (out.Item?.holders ?? {}) as Record<string, SlotHolder>;
    return { holders };
  }

  /**
   * Takes a slot for execution `executionName` of `manifestId`, before it is started: one conditional write that
   * adds it to `holders` only while it is absent and fewer than `max` executions hold one, so concurrent takers can
   * never hold more than `max` together. `held`: that execution holds one already (another starter took it).
   */
  async takeSlot(executionName: string, manifestId: string, max: number, now: Date): Promise<TakeSlotOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.slots(),
            UpdateExpression: 'SET #holders.#name = :holder',
            // size() of a map is its number of elements (DynamoDB Developer Guide, "Condition and filter
            // expressions, operators, and functions"); the map exists (ensureSlots) before the first take.
            ConditionExpression: 'attribute_exists(#holders) AND attribute_not_exists(#holders.#name) AND size(#holders) < :max',
            ExpressionAttributeNames: { '#holders': 'holders', '#name': executionName },
            ExpressionAttributeValues: { ':holder': { manifestId, takenAt: now.toISOString() } satisfies SlotHolder, ':max': max },
          }),
        );
        return 'taken';
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
      const out = await this.#doc.send(new GetCommand({ TableName: this.tableName, Key: keys.slots(), ConsistentRead: true }));
      const holders = out.Item?.holders as Record<string, SlotHolder> | undefined;
      if (holders === undefined && attempt === 1) {
        await this.#ensureSlots();
        continue;
      }
      return holders?.[executionName] !== undefined ? 'held' : 'full';
    }
  }

  /** Creates the slots item with no holder, unless it exists. */
  async #ensureSlots(): Promise<void> {
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.slots(), holders: {} },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  /**
   * Gives back the slot of execution `executionName`; with `takenAt`, only that very holding (a slot taken again for
   * the same execution since, by a redrive, stays). False when it held none (given back already).
   */
  async releaseSlot(executionName: string, takenAt?: string): Promise<boolean> {
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.slots(),
          UpdateExpression: 'REMOVE #holders.#name',
          ConditionExpression:
            takenAt === undefined
              ? 'attribute_exists(#holders.#name)'
              : 'attribute_exists(#holders.#name) AND #holders.#name.takenAt = :takenAt',
          ExpressionAttributeNames: { '#holders': 'holders', '#name': executionName },
          ...(takenAt === undefined ? {} : { ExpressionAttributeValues: { ':takenAt': takenAt } }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /**
   * Puts an execution in the start queue. Idempotent: the entry's key is a function of its rank, its time and its
   * execution, so a starter that enqueues again after a crash writes the same entry.
   */
  async enqueue(entry: Omit<QueueEntry, 'sk'>): Promise<QueueEntry> {
    const key = keys.queueEntry(entry.rank, entry.queuedAt, entry.executionName);
    try {
      await this.#doc.send(
        new PutCommand({ TableName: this.tableName, Item: { ...key, ...entry }, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    return { ...entry, sk: key.sk };
  }

  /**
   * Puts replay `n` of a manifest in the start queue, and marks the record (`queuedReplay`) in the same transaction,
   * only while no replay is queued and replay n is not recorded (`replayCount` is n - 1): two operators cannot queue
   * two replays of one manifest. `condition-failed` when one is queued or recorded already.
   */
  async enqueueReplay(entry: Omit<QueueEntry, 'sk'>): Promise<{ outcome: WriteOutcome; entry: QueueEntry }> {
    const key = keys.queueEntry(entry.rank, entry.queuedAt, entry.executionName);
    const n = entry.replay;
    try {
      await this.#transact([
        { Put: { TableName: this.tableName, Item: { ...key, ...entry }, ConditionExpression: 'attribute_not_exists(pk)' } },
        {
          Update: {
            TableName: this.tableName,
            Key: keys.manifest(entry.manifestId),
            UpdateExpression: 'SET #queuedReplay = :name',
            ConditionExpression:
              'attribute_exists(pk) AND attribute_not_exists(#queuedReplay) AND ' +
              (n === 1 ? '(attribute_not_exists(#replayCount) OR #replayCount = :prev)' : '#replayCount = :prev'),
            ExpressionAttributeNames: { '#queuedReplay': 'queuedReplay', '#replayCount': 'replayCount' },
            ExpressionAttributeValues: { ':name': entry.executionName, ':prev': n - 1 },
          },
        },
      ]);
      return { outcome: 'done', entry: { ...entry, sk: key.sk } };
    } catch (err) {
      return { outcome: this.#classify(err), entry: { ...entry, sk: key.sk } };
    }
  }

  /** Clears a queued replay's mark on the record (it was dropped), only while it names that replay. */
  async clearQueuedReplay(manifestId: string, executionName: string): Promise<void> {
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.manifest(manifestId),
          UpdateExpression: 'REMOVE #queuedReplay',
          ConditionExpression: '#queuedReplay = :name',
          ExpressionAttributeNames: { '#queuedReplay': 'queuedReplay' },
          ExpressionAttributeValues: { ':name': executionName },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  /**
   * The start queue in order (rank, then time), read consistently; at most `limit` entries when given (one page of
   * them), else every page.
   */
  async listQueue(limit?: number): Promise<QueueEntry[]> {
    const input: QueryCommandInput = {
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :queue',
      ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
      ExpressionAttributeValues: { ':queue': STATE_TABLE_PREFIXES.queue },
      ConsistentRead: true,
    };
    const items =
      limit === undefined
        ? await queryAllPages<QueueEntry>(this.#doc, input)
        : (((await this.#doc.send(new QueryCommand({ ...input, Limit: limit }))).Items ?? []) as QueueEntry[]);
    return items.map((item) => ({
      sk: item.sk,
      manifestId: item.manifestId,
      dataset: item.dataset,
      executionName: item.executionName,
      replay: Number(item.replay),
      input: item.input,
      queuedAt: item.queuedAt,
      rank: Number(item.rank) === 0 ? 0 : 1,
    }));
  }

  /** Removes an entry from the start queue: its execution is started and recorded, or it can never start. */
  async dequeue(sk: string): Promise<void> {
    await this.#doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: STATE_TABLE_PREFIXES.queue, sk } }));
  }

  /** Every item of one partition of a sparse index, oldest first, every page. */
  async #queryIndex<T>(index: { name: string; partitionKey: string }, value: string): Promise<T[]> {
    return queryAllPages<T>(this.#doc, {
      TableName: this.tableName,
      IndexName: index.name,
      KeyConditionExpression: '#pk = :value',
      ExpressionAttributeNames: { '#pk': index.partitionKey },
      ExpressionAttributeValues: { ':value': value },
    });
  }

  /**
   * Records FAILED for a manifest whose execution ended without recording an outcome (timed out, aborted, a
   * runtime error no Catch can take). Only while that execution still holds it, so a later execution's record is
   * never overwritten and two sweeps record (and alert) once. False when the condition did not hold.
   */
  async recordEndedExecution(manifestId: string, ended: EndedExecution): Promise<boolean> {
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.manifest(manifestId),
          // The alert is part of the final record (the outbox): published after this write, cleared once SNS took it.
          UpdateExpression:
            // A run that fails leaves the output in place and its status (outputStatus, I4); the failure is the last run's.
            'SET #status = if_not_exists(outputStatus, :failed), lastRunStatus = :failed, finishedAt = :finishedAt, ' +
            '#error = :error, #cause = :cause, failedState = :failedState, ' +
            'alertSubject = :subject, alertMessage = :message, #alertPending = :alertPending, #alertSk = :alertSk ' +
            `REMOVE ${STATE_TABLE.runningIndex.partitionKey}, ${STATE_TABLE.runningIndex.sortKey}`,
          // SEALED: the execution was recorded but ended before its MarkRunning (aborted, or refused the claim).
          ConditionExpression: '#status IN (:running, :sealed) AND executionArn = :arn',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#error': 'error',
            '#cause': 'cause',
            '#alertPending': STATE_TABLE.alertsIndex.partitionKey,
            '#alertSk': STATE_TABLE.alertsIndex.sortKey,
          },
          ExpressionAttributeValues: {
            ':subject': ended.alert.subject,
            ':message': ended.alert.message,
            ':alertPending': keys.alertPending,
            ':alertSk': alertSortKey(ended.finishedAt, manifestId),
            ':failed': 'FAILED' satisfies ManifestStatus,
            ':running': 'RUNNING' satisfies ManifestStatus,
            ':sealed': 'SEALED' satisfies ManifestStatus,
            ':arn': ended.executionArn,
            ':finishedAt': ended.finishedAt,
            ':error': ended.error,
            ':cause': ended.cause,
            ':failedState': ended.failedState,
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /**
   * One transaction. The SDK resends this same request on a retry: with its token, a retry of a commit that went
   * through succeeds again instead of failing on its own conditions (no seal skipped, no duplicate miscounted).
   */
  async #transact(items: NonNullable<TransactWriteCommandInput['TransactItems']>): Promise<void> {
    await this.#doc.send(new TransactWriteCommand({ ClientRequestToken: randomUUID(), TransactItems: items }));
  }

  #classify(err: unknown): WriteOutcome {
    const codes = cancellationCodes(err);
    if (codes === undefined) throw err;
    return codes.includes('ConditionalCheckFailed') ? 'condition-failed' : 'conflict';
  }
}
