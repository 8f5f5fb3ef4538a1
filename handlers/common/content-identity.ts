/**
 * A file's content identity (I7, `contentTagOf`) read from S3: `HeadObject` with checksum mode on the version a
 * notification names. The builder, `pipeline reconcile` and the local mode's helpers all identify content here,
 * so they agree on every `FILE#` key.
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { checksumOfHead, contentTagOf, type ObjectChecksum } from '../domain/s3-event';

/** One object version as a notification or a listing names it. */
export interface ObjectVersionRef {
  readonly bucket: string;
  readonly key: string;
  /** Without quotes, as S3 events give it. */
  readonly eTag: string;
  readonly versionId?: string;
  readonly sequencer?: string;
}

/**
 * The full-object checksum of this version of the object, or undefined when it has none, when S3 answers the
 * HeadObject with a client error (4xx: the version is gone, 404; a delete marker, 405; a missing key to a caller
 * without s3:ListBucket, as the builder is, 403; nothing a retry changes), or when the object is no longer these
 * bytes (an unversioned key overwritten since: its eTag is not the notification's). The content is then
 * identified by its eTag, and the job names a file it cannot read. Other errors (throttling, 5xx, the network)
 * are thrown, so the notification is tried again.
 */
export async function readChecksum(s3: S3Client, object: ObjectVersionRef): Promise<ObjectChecksum | undefined> {
  try {
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: object.bucket, Key: object.key, VersionId: object.versionId, ChecksumMode: 'ENABLED' }),
    );
    if (object.eTag !== '' && (head.ETag ?? '').replace(/"/g, '') !== object.eTag) return undefined;
    return checksumOfHead(head as unknown as Record<string, unknown>);
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== undefined && status >= 400 && status < 500) return undefined;
    throw err;
  }
}

/** The content tags a version may be recorded under: its identity first, then its eTag when that differs (a
 * record written while content was identified by eTag, or for a version S3 no longer has). */
export function recordedTagsOf(object: ObjectVersionRef, checksum: ObjectChecksum | undefined): string[] {
  const tag = contentTagOf({ ...object, checksum });
  const byETag = contentTagOf(object);
  return tag === byETag ? [tag] : [tag, byETag];
}

/** The identity of this version's content (see {@link readChecksum} and `contentTagOf`). */
export async function contentTagOfObject(s3: S3Client, object: ObjectVersionRef): Promise<string> {
  return contentTagOf({ ...object, checksum: await readChecksum(s3, object) });
}
