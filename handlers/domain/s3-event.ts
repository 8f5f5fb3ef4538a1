/**
 * S3 event notifications as S3 sends them through SQS: one JSON document per message, either an `s3:TestEvent`
 * (posted when the bucket notification is configured) or `{ Records: [...] }` with one or more records whose
 * object keys are URL-encoded (`+` for a space, `%XX` for other bytes, UTF-8).
 */
import { MalformedNotificationError } from '../common/errors';

/** One object-created record, key decoded. */
export interface S3ObjectEvent {
  readonly bucket: string;
  /** The object key, decoded. */
  readonly key: string;
  readonly size: number;
  readonly eTag: string;
  /** Orders events of one key; real S3 always sends it. */
  readonly sequencer?: string;
  readonly versionId?: string;
  /** For example `ObjectCreated:Put`. */
  readonly eventName: string;
  readonly eventTime: string;
}

/** What one SQS message carries. */
export type Notification = { readonly kind: 'test' } | { readonly kind: 'records'; readonly records: readonly S3ObjectEvent[] };

/** Decodes an S3 event key: `+` is a space, then percent-decoding as UTF-8. */
export function decodeS3Key(raw: string): string {
  return decodeURIComponent(raw.replace(/\+/g, ' '));
}

/**
 * What orders the writes of one key: the sequencer when present (real S3 always sends it), else the version id,
 * else the eTag. Kept on the file's records; not its identity (see {@link contentTagOf}).
 */
export function fileVersionTag(event: Pick<S3ObjectEvent, 'sequencer' | 'versionId' | 'eTag'>): string {
  return event.sequencer || event.versionId || event.eTag;
}

/** The checksum algorithms of S3 objects, in the order a HeadObject response is searched for one. */
export const CHECKSUM_ALGORITHMS = ['CRC64NVME', 'CRC32', 'CRC32C', 'SHA1', 'SHA256'] as const;

/** An object's checksum as `HeadObject` with `ChecksumMode: ENABLED` returns it. */
export interface ObjectChecksum {
  readonly algorithm: (typeof CHECKSUM_ALGORITHMS)[number];
  /** Base64, as S3 gives it; a composite checksum ends in `-<parts>`. */
  readonly value: string;
  /** `FULL_OBJECT`: of the object's bytes, whatever the upload; `COMPOSITE`: of its parts' checksums. */
  readonly type: 'FULL_OBJECT' | 'COMPOSITE';
}

/**
 * The checksum of a `HeadObject` response (`ChecksumCRC64NVME`, `ChecksumCRC32`, ... and `ChecksumType`), if any.
 * A response without `ChecksumType` (an object older than the field) is typed by its value: a composite one ends
 * in `-<parts>`.
 */
export function checksumOfHead(head: Readonly<Record<string, unknown>>): ObjectChecksum | undefined {
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = head[`Checksum${algorithm}`];
    if (typeof value !== 'string' || value === '') continue;
    const declared = head.ChecksumType;
    const type = declared === 'FULL_OBJECT' || declared === 'COMPOSITE' ? declared : /-\d+$/.test(value) ? 'COMPOSITE' : 'FULL_OBJECT';
    return { algorithm, value, type };
  }
  return undefined;
}

/**
 * The identity of one content of a key (I7): its full-object checksum when it has one (`crc64nvme:<base64>`), so
 * the same bytes are one file whatever uploaded them: a producer's retried PUT, another multipart part size,
 * SSE-KMS (each of which changes the eTag). S3 gives every object uploaded since 2025 a full-object checksum:
 * the upload's own, else a CRC64NVME it computes ("Checking object integrity in Amazon S3",
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html). A composite checksum
 * depends on the part size, so an object with one, or none, is identified by its eTag; without an eTag, by the
 * version id, else the sequencer. At most 7 + 44 characters (`sha256:` and a SHA-256 in base64).
 */
export function contentTagOf(object: {
  readonly eTag: string;
  readonly versionId?: string;
  readonly sequencer?: string;
  readonly checksum?: ObjectChecksum;
}): string {
  const { checksum } = object;
  if (checksum !== undefined && checksum.type === 'FULL_OBJECT') return `${checksum.algorithm.toLowerCase()}:${checksum.value}`;
  return object.eTag || object.versionId || object.sequencer || '';
}

/** True for event names of created objects (`ObjectCreated:Put`, `ObjectCreated:CompleteMultipartUpload`, ...). */
export function isObjectCreated(eventName: string): boolean {
  return eventName.startsWith('ObjectCreated:');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseRecord(messageId: string, raw: unknown, index: number): S3ObjectEvent {
  const fail = (reason: string): never => {
    throw new MalformedNotificationError(messageId, `record ${index}: ${reason}`);
  };
  if (!isObject(raw)) return fail('not an object');
  const s3 = raw.s3;
  if (raw.eventSource !== 'aws:s3' || !isObject(s3)) return fail('not an aws:s3 record');
  const bucket = isObject(s3.bucket) ? s3.bucket.name : undefined;
  const object = isObject(s3.object) ? s3.object : undefined;
  if (typeof bucket !== 'string' || bucket === '') return fail('no bucket name');
  if (object === undefined || typeof object.key !== 'string' || object.key === '') return fail('no object key');
  let key: string;
  try {
    key = decodeS3Key(object.key);
  } catch {
    return fail('object key is not valid URL encoding');
  }
  const size = object.size === undefined ? 0 : Number(object.size);
  if (!Number.isFinite(size) || size < 0) return fail('object size is not a number');
  const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
  const eTag = text(object.eTag) ?? '';
  const sequencer = text(object.sequencer);
  const versionId = text(object.versionId);
  const eventName = text(raw.eventName) ?? '';
  if (sequencer === undefined && versionId === undefined && eTag === '' && eventName.startsWith('ObjectCreated:')) {
    return fail('no sequencer, version id nor eTag to identify the object version');
  }
  return { bucket, key, size, eTag, sequencer, versionId, eventName, eventTime: text(raw.eventTime) ?? '' };
}

/** Parses one SQS message body; throws {@link MalformedNotificationError} for anything that is not an S3 notification. */
export function parseNotification(messageId: string, body: string): Notification {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    throw new MalformedNotificationError(messageId, 'body is not JSON');
  }
  if (!isObject(doc)) throw new MalformedNotificationError(messageId, 'body is not a JSON object');
  if (doc.Event === 's3:TestEvent') return { kind: 'test' };
  if (!Array.isArray(doc.Records)) throw new MalformedNotificationError(messageId, 'no Records array');
  return { kind: 'records', records: doc.Records.map((record, i) => parseRecord(messageId, record, i)) };
}
