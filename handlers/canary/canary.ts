/**
 * One check of the canary (docs/architecture.md, "Canary"), run every five minutes: finds the canary's recent files
 * in the ingest bucket and their records in the state table, publishes `CanaryFreshnessSeconds` for each file newly
 * converted and `CanaryPendingAgeSeconds`, then, on an upload tick, uploads the next file. It reads the state table
 * and writes nothing there: what it uploaded is in the bucket, and what became of it in the builder's records.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CanaryHandlerSettings } from '../../contracts/lambda-environment';
import { recordedTagsOf } from '../common/content-identity';
import { CANARY_METRIC, MetricTally, type MetricsSink } from '../common/observability';
import type { ManifestMeta, StateStore } from '../common/state-store';
import { assess, canaryBody, canaryKey, checkTimeOf, dayPrefixesToList, isUploadTick, tickOfKey, type CanaryFile } from '../domain/canary';
import { checksumOfHead } from '../domain/s3-event';

/** What a check is made of. */
export interface CanaryDeps {
  readonly s3: S3Client;
  readonly store: StateStore;
  readonly settings: CanaryHandlerSettings;
  readonly logger: Logger;
  readonly metrics: MetricsSink;
}

/** What one check did. */
export interface CanaryReport {
  /** The tick the check stands for. */
  readonly checkTime: Date;
  readonly files: CanaryFile[];
  readonly freshnessSeconds: number[];
  readonly pendingAgeSeconds: number;
  /** The key uploaded by this check, if it was an upload tick. */
  readonly uploaded?: string;
}

/** The canary's files uploaded within the lookback, oldest first, from the listing of their day prefixes. */
async function listCanaryFiles(deps: CanaryDeps, checkTime: Date): Promise<Array<{ key: string; eTag: string; uploadedAt: Date }>> {
  const { settings } = deps;
  const since = checkTime.getTime() - settings.lookbackSeconds * 1000;
  const found: Array<{ key: string; eTag: string; uploadedAt: Date }> = [];
  for (const prefix of dayPrefixesToList(settings.ingestPrefix, checkTime, settings.lookbackSeconds)) {
    let token: string | undefined;
    do {
      const page = await deps.s3.send(
        new ListObjectsV2Command({ Bucket: settings.ingestBucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const tick = object.Key === undefined ? undefined : tickOfKey(object.Key);
        if (tick === undefined || object.LastModified === undefined || tick.getTime() < since) continue;
        found.push({ key: object.Key!, eTag: (object.ETag ?? '').replace(/"/g, ''), uploadedAt: object.LastModified });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }
  return found.sort((a, b) => a.uploadedAt.getTime() - b.uploadedAt.getTime());
}

/**
 * When the file's manifest ended SUCCEEDED, its `finishedAt`. The builder records a file under its content identity
 * (the full-object checksum, else the eTag: `recordedTagsOf`), read here as it reads it: HeadObject with checksum mode.
 */
async function convertedAt(
  deps: CanaryDeps,
  file: { key: string; eTag: string },
  manifests: Map<string, ManifestMeta | undefined>,
): Promise<Date | undefined> {
  const { settings, store } = deps;
  const head = await deps.s3.send(new HeadObjectCommand({ Bucket: settings.ingestBucket, Key: file.key, ChecksumMode: 'ENABLED' }));
  const ref = { bucket: settings.ingestBucket, key: file.key, eTag: (head.ETag ?? file.eTag).replace(/"/g, '') };
  for (const tag of recordedTagsOf(ref, checksumOfHead(head as unknown as Record<string, unknown>))) {
    const record = await store.getFile(settings.ingestBucket, file.key, tag);
    if (record === undefined) continue;
    if (!manifests.has(record.manifestId)) manifests.set(record.manifestId, await store.getManifest(record.manifestId));
    const manifest = manifests.get(record.manifestId);
    if (manifest?.status === 'SUCCEEDED' && typeof manifest.finishedAt === 'string') return new Date(manifest.finishedAt);
    return undefined;
  }
  return undefined;
}

/** One check at the tick of `eventTime` (an EventBridge scheduled event's `time`). Publishes its metrics once. */
export async function runCanary(deps: CanaryDeps, eventTime: string | undefined, now: Date = new Date()): Promise<CanaryReport> {
  const { settings, logger } = deps;
  const checkTime = checkTimeOf(eventTime, now, settings.checkSeconds);
  const manifests = new Map<string, ManifestMeta | undefined>();
  const files: CanaryFile[] = [];
  for (const listed of await listCanaryFiles(deps, checkTime)) {
    files.push({ key: listed.key, uploadedAt: listed.uploadedAt, convertedAt: await convertedAt(deps, listed, manifests) });
  }
  const measured = assess(files, checkTime, now, settings.checkSeconds);
  const tally = new MetricTally();
  for (const seconds of measured.freshnessSeconds) tally.sample(CANARY_METRIC.freshnessSeconds, MetricUnit.Seconds, seconds);
  tally.sample(CANARY_METRIC.pendingAgeSeconds, MetricUnit.Seconds, measured.pendingAgeSeconds);
  tally.flush(deps.metrics);
  logger.info('Canary checked', {
    checkTime: checkTime.toISOString(),
    files: files.length,
    converted: files.filter((f) => f.convertedAt !== undefined).length,
    freshnessSeconds: measured.freshnessSeconds,
    pendingAgeSeconds: measured.pendingAgeSeconds,
    pending: measured.pending,
  });

  let uploaded: string | undefined;
  if (isUploadTick(checkTime, settings.everySeconds)) {
    // After the metrics: a failed upload fails the invocation (the canary's errors alarm) without losing the check.
    const key = canaryKey(settings.ingestPrefix, checkTime);
    await deps.s3.send(
      new PutObjectCommand({ Bucket: settings.ingestBucket, Key: key, Body: canaryBody(checkTime), ContentType: 'application/x-ndjson' }),
    );
    uploaded = key;
    logger.info('Canary file uploaded', { key });
  }
  return { checkTime, files, freshnessSeconds: measured.freshnessSeconds, pendingAgeSeconds: measured.pendingAgeSeconds, uploaded };
}
