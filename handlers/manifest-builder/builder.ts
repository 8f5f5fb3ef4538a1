/**
 * The manifest builder: puts every accepted S3 object into exactly one manifest of its dataset (I1, I2) and
 * starts the execution of each full manifest before recording it (I3).
 *
 * The batch unit is the SQS message (Powertools batch processor, partial failures); the idempotent unit is
 * the S3 record inside it (Powertools idempotency keyed on the object version the record names: a redelivery is
 * answered from it). Content identity (I7) is decided past it, in the state table: the version's full-object
 * checksum, read with HeadObject (content-identity.ts), keys its `FILE#` item, so an identical re-upload, whatever
 * its upload method, is a duplicate, which refreshes the record's expiry. Idempotency records
 * expire and a crash can leave one in progress, so exactly-once rests on the state table's conditional
 * writes (see state-store.ts); the idempotency layer spares the repeated reads and writes of redeliveries.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { classifyObject, describeRejection, type KeyDecision } from '../domain/dataset';
import {
  decideSlot,
  executionArnOf,
  nextOpening,
  shardOfKey,
  shardOfManifest,
  type DatasetCounter,
  type OpenPointer,
  type ShardPointer,
} from '../domain/manifest';
import { fileVersionTag, parseNotification, type S3ObjectEvent } from '../domain/s3-event';
import type { AwsClients } from '../common/aws-clients';
import { readChecksum, recordedTagsOf } from '../common/content-identity';
import { ContentionError, MalformedNotificationError } from '../common/errors';
import { METRIC, MetricTally, type MetricsSink } from '../common/observability';
import { isRecorded, sealManifest, sealerDepsOf, startSealedManifest } from '../common/sealer';
import type { HandlerSettings } from '../../contracts/lambda-environment';
import { DEFAULT_CONFIG } from '../../contracts/config';
import { IDEMPOTENCY_TABLE } from '../../contracts/table-schema';

/** Queued executions one seal of the builder starts at most (the queue's head, into free slots). */
export const BUILDER_STARTS_PER_SEAL = 3;

/** One accepted object version: the payload of the idempotent unit. */
export interface FileNotification {
  /** `<bucket>/<key>#<version tag>#<eTag>`: the idempotency key, one object version (its content is looked up). */
  readonly identity: string;
  readonly dataset: string;
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly eTag: string;
  /** The sequencer, else the version id, else the eTag. */
  readonly sequencer: string;
  /** The object version the manifest pins for the Glue job (absent when the bucket is not versioned). */
  readonly versionId?: string;
}

/** Where a file ended up. */
export interface Placement {
  readonly outcome: 'accepted' | 'duplicate';
  readonly manifestId: string;
}

/** What the builder is made of; the Lambda entry wires the defaults, tests and the local mode their own. */
export interface ManifestBuilderOptions {
  readonly clients: AwsClients;
  readonly settings: HandlerSettings;
  readonly logger: Logger;
  readonly metrics: MetricsSink;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  /** Attempts at placing one file while concurrent writers keep moving its shard's pointer. @default 40 */
  readonly maxAttempts?: number;
  /** Prefix of idempotency keys; stable across deployments, and the only keys the stack lets the builder touch. @default IDEMPOTENCY_TABLE.builderKeyPrefix */
  readonly idempotencyKeyPrefix?: string;
}

/** The builder: the Lambda handler plus its parts, exposed for the local mode and tests. */
export interface ManifestBuilder {
  /** The SQS-triggered Lambda handler; returns the failed message ids. */
  readonly handler: (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;
  /** The batch processor, for inspection of the last batch. */
  readonly processor: BatchProcessor;
  /** Places one file (not idempotency-wrapped). */
  placeFile(file: FileNotification): Promise<Placement>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How long an instance trusts the dataset's width it read (`shards` on `OPEN#<dataset>`). Which shard a file enters
 * never matters to I1-I3, only to how evenly shards fill, so a width a few seconds old is harmless; shard 0's
 * writers see it fresh with every pointer read.
 */
export const WIDTH_TTL_MS = 10_000;

/** Commits of one file lost to concurrent writers on its shard's pointer after which its writer widens the dataset. */
export const WIDEN_AFTER_LOSSES = 3;

/** Builds a manifest builder from explicit clients and settings. */
export function createManifestBuilder(options: ManifestBuilderOptions): ManifestBuilder {
  const { clients, settings, logger, metrics } = options;
  const clock = options.clock ?? (() => new Date());
  const maxAttempts = options.maxAttempts ?? 40;
  const tally = new MetricTally();
  // After a seal the builder starts the head of the queue (its own manifest only when nothing older waits), a few
  // at most, so one record's work stays small; the sweeper starts the rest of a backlog.
  const sealer = { ...sealerDepsOf({ clients, settings, logger, tally, clock }), maxStartsPerDrain: BUILDER_STARTS_PER_SEAL };
  const { store } = sealer;
  const maxShards = settings.maxShardsPerDataset ?? DEFAULT_CONFIG.maxShardsPerDataset;
  /** Each dataset's width as this instance last read it. */
  const widths = new Map<string, { shards: number; widest: number; readAt: number }>();
  const rules = {
    ingestPrefix: settings.ingestPrefix,
    acceptedSuffixes: settings.acceptedSuffixes,
    maxObjectBytes: (settings.maxObjectMb ?? DEFAULT_CONFIG.maxObjectMb) * 1024 * 1024,
  };

  /** Notes the dataset's width from a read of its item (none yet: one shard). */
  function remember(dataset: string, item: OpenPointer | undefined): { shards: number; widest: number } {
    const width = { shards: Math.min(item?.shards ?? 1, maxShards), widest: item?.widest ?? 1, readAt: Date.now() };
    widths.set(dataset, width);
    return width;
  }

  /** The dataset's width, from this instance's memory while fresh, else read (with the item read, for shard 0). */
  async function widthOf(dataset: string): Promise<{ shards: number; widest: number; item?: OpenPointer | undefined; fresh: boolean }> {
    const known = widths.get(dataset);
    if (known !== undefined && Date.now() - known.readAt < WIDTH_TTL_MS) return { ...known, fresh: false };
    const item = await store.getPointer(dataset);
    return { ...remember(dataset, item), item, fresh: true };
  }

  /** A redelivered file whose manifest stalled (its writer stopped after the file, before the start) is finished here. */
  async function finishStalled(dataset: string, manifestId: string): Promise<void> {
    const meta = await store.getManifest(manifestId);
    if (meta === undefined) return;
    if (meta.status === 'OPEN') {
      const shard = shardOfManifest(meta);
      const pointer = await store.getShardPointer(dataset, shard);
      if (pointer?.manifestId !== manifestId || pointer.count < settings.batchSize) return;
      if (!(await sealManifest(sealer, dataset, shard, manifestId, 'full'))) return;
    } else if (isRecorded(meta, executionArnOf(settings.stateMachineArn, manifestId))) {
      return;
    }
    await startSealedManifest(sealer, manifestId);
  }

  /** The record of this content of the key under any tag it may be recorded by (see `recordedTagsOf`). */
  async function findRecord(file: FileNotification, tags: readonly string[]) {
    for (const tag of tags) {
      const record = await store.getFile(file.bucket, file.key, tag);
      if (record !== undefined) return { ...record, contentTag: tag };
    }
    return undefined;
  }

  /** A delivery of recorded content: counted, its record's expiry refreshed, its manifest finished if stalled. */
  async function duplicateOf(file: FileNotification, known: { manifestId: string; contentTag: string }): Promise<Placement> {
    tally.count(METRIC.duplicatesSkipped);
    await store.refreshFile(file.bucket, file.key, known.contentTag, clock());
    await finishStalled(file.dataset, known.manifestId);
    return { outcome: 'duplicate', manifestId: known.manifestId };
  }

  async function placeFile(file: FileNotification): Promise<Placement> {
    const tags = recordedTagsOf(file, await readChecksum(clients.s3, file));
    const contentTag = tags[0];
    const known = await findRecord(file, tags);
    if (known !== undefined) return duplicateOf(file, known);
    const entry = {
      bucket: file.bucket,
      key: file.key,
      size: file.size,
      eTag: file.eTag,
      sequencer: file.sequencer,
      versionId: file.versionId,
    };
    const { dataset } = file;
    let losses = 0;
    let widened = false;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      // The file's write shard: a function of its key among the dataset's current width (docs/architecture.md,
      // "Sharded open manifests"). Shard 0's pointer is the dataset's item, which also holds the counter and width.
      const width = await widthOf(dataset);
      const shard = shardOfKey(file.key, width.shards);
      let pointer: ShardPointer | undefined;
      let counter: DatasetCounter | undefined;
      if (shard === 0) {
        const item = width.fresh ? width.item : await store.getPointer(dataset);
        if (!width.fresh) remember(dataset, item);
        pointer = item;
        counter = item;
      } else {
        pointer = await store.getShardPointer(dataset, shard);
      }
      const slot = decideSlot(pointer, settings.batchSize);
      if (slot.step === 'open') {
        if (shard !== 0) {
          const item = width.fresh ? width.item : await store.getPointer(dataset);
          remember(dataset, item);
          counter = item;
        }
        const opening = nextOpening(dataset, counter, clock());
        const opened = await store.openManifest(dataset, shard, { pointer, counter }, opening, clock());
        if (opened === 'done') logger.info('Manifest opened', { manifestId: opening.manifestId, dataset, shard });
        else await backoff(attempt);
        continue;
      }
      if (slot.step === 'seal-full') {
        // The writer that filled it stopped before sealing; finish its work, then look again.
        if (await sealManifest(sealer, dataset, shard, slot.manifestId, 'full')) await startSealedManifest(sealer, slot.manifestId);
        continue;
      }
      const written = await store.commitFile(dataset, shard, slot.manifestId, slot.count, entry, clock(), contentTag);
      if (written === 'written') {
        tally.count(METRIC.filesAccepted);
        if (slot.count + 1 >= settings.batchSize && (await sealManifest(sealer, dataset, shard, slot.manifestId, 'full'))) {
          await startSealedManifest(sealer, slot.manifestId);
        }
        return { outcome: 'accepted', manifestId: slot.manifestId };
      }
      if (written === 'file-exists') {
        // A concurrent delivery of the same content won, or this very commit went through and its response was
        // lost (a retry that DynamoDB did not recognise by its token). Either way the file is placed; finish its
        // manifest now if it is full, rather than leave it to the sweeper.
        const winner = await store.getFile(file.bucket, file.key, contentTag);
        return duplicateOf(file, { manifestId: winner?.manifestId ?? slot.manifestId, contentTag });
      }
      // The shard's pointer moved under this commit: other writers are filling the same manifest. Past a few such
      // losses the dataset is spread over one more shard (once per file), so fewer writers share each pointer.
      losses += 1;
      if (losses >= WIDEN_AFTER_LOSSES && !widened && width.shards < maxShards) {
        widened = true;
        const after = remember(dataset, await store.widen(dataset, width, maxShards));
        if (after.shards > width.shards) logger.info('Dataset spread over more shards', { dataset, shards: after.shards });
      }
      if (written === 'conflict') await backoff(attempt);
    }
    throw new ContentionError(file.dataset, maxAttempts);
  }

  const idempotencyConfig = new IdempotencyConfig({
    eventKeyJmesPath: 'identity',
    expiresAfterSeconds: settings.idempotencyTtlSeconds,
    responseHook: (response) => {
      tally.count(METRIC.duplicatesSkipped);
      return response;
    },
  });
  const placeFileOnce = makeIdempotent(placeFile, {
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: settings.idempotencyTable, awsSdkV3Client: clients.dynamodb }),
    config: idempotencyConfig,
    keyPrefix: options.idempotencyKeyPrefix ?? IDEMPOTENCY_TABLE.builderKeyPrefix,
  });

  async function handleObject(messageId: string, event: S3ObjectEvent): Promise<void> {
    const where = { messageId, bucket: event.bucket, key: event.key };
    // Another bucket's record is not ours: skipped, nothing recorded, so a stranger's events cannot fill the table.
    const decision: KeyDecision =
      settings.ingestBucket !== undefined && event.bucket !== settings.ingestBucket
        ? { action: 'skip', reason: 'foreign-bucket' }
        : classifyObject(event.key, event.size, event.eventName, rules);
    if (decision.action === 'skip') {
      tally.count(METRIC.filesSkipped);
      logger.info('S3 record skipped', { ...where, reason: decision.reason });
      return;
    }
    if (decision.action === 'reject') {
      const reason = describeRejection(decision.reason, rules);
      const recorded = await store.putRejected(
        { bucket: event.bucket, key: event.key, size: event.size, reason, code: decision.reason },
        clock(),
      );
      if (recorded) tally.count(METRIC.filesRejected);
      logger.warn('File rejected', { ...where, reason: decision.reason, firstTime: recorded });
      return;
    }
    const file: FileNotification = {
      identity: `${event.bucket}/${event.key}#${fileVersionTag(event)}#${event.eTag}`,
      dataset: decision.dataset,
      bucket: event.bucket,
      key: event.key,
      size: event.size,
      eTag: event.eTag,
      sequencer: fileVersionTag(event),
      versionId: event.versionId,
    };
    const placement = await placeFileOnce(file);
    logger.debug('File placed', { ...where, ...placement });
  }

  async function recordHandler(record: SQSRecord): Promise<void> {
    try {
      const notification = parseNotification(record.messageId, record.body);
      if (notification.kind === 'test') {
        tally.count(METRIC.filesSkipped);
        logger.info('S3 test event skipped', { messageId: record.messageId });
        return;
      }
      // In order: a failure leaves the later records to the redelivery, which skips the earlier ones as done.
      for (const event of notification.records) await handleObject(record.messageId, event);
    } catch (err) {
      if (err instanceof MalformedNotificationError) {
        logger.error('Malformed notification; it goes to the DLQ after maxReceiveCount receives', {
          messageId: record.messageId,
          reason: err.message,
        });
      } else {
        logger.error('Notification failed; SQS redelivers it', { messageId: record.messageId, error: err as Error });
      }
      throw err;
    }
  }

  const processor = new BatchProcessor(EventType.SQS);

  async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
    if (context !== undefined) {
      idempotencyConfig.registerLambdaContext(context);
      logger.addContext(context);
    }
    try {
      return await processPartialResponse(event, recordHandler, processor, { context, processInParallel: false });
    } finally {
      tally.flush(metrics);
    }
  }

  return { handler, processor, placeFile };
}

async function backoff(attempt: number): Promise<void> {
  await sleep(Math.random() * Math.min(200, 5 * 2 ** Math.min(attempt, 6)));
}
