/** Factories of S3 event notifications as S3 sends them through SQS, and of Lambda SQS events and contexts. */
import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';

/** The eTag of an event that names none in the test's object (the MD5 of no bytes). */
export const DEFAULT_ETAG = 'd41d8cd98f00b204e9800998ecf8427e';

/** Encodes a key the way S3 puts it in event notifications: form encoding, `/` kept, a space as `+`. */
export function encodeS3Key(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
}

/** One uploaded object. */
export interface UploadedObject {
  readonly bucket: string;
  /** Decoded key. */
  readonly key: string;
  readonly size: number;
  readonly sequencer: string;
  readonly eTag?: string;
  /** The object version, as a versioned bucket's events carry it. */
  readonly versionId?: string;
}

let sequence = 0x1000;

/** An uploaded object with a fresh sequencer. */
export function uploaded(bucket: string, key: string, size = 1024): UploadedObject {
  sequence += 1;
  return {
    bucket,
    key,
    size,
    sequencer: `0062E99A88DC407${sequence.toString(16).toUpperCase().padStart(6, '0')}`,
    eTag: `etag${sequence}`,
  };
}

/** A later upload of the same key: a new version and sequencer; the same eTag when `sameContent`, else a new one. */
export function reuploaded(previous: UploadedObject, sameContent: boolean, size = previous.size): UploadedObject {
  sequence += 1;
  return {
    ...previous,
    size,
    sequencer: `0062E99A88DC407${sequence.toString(16).toUpperCase().padStart(6, '0')}`,
    eTag: sameContent ? previous.eTag : `etag${sequence}`,
    versionId: `v${sequence}`,
  };
}

/** The S3 event record of an upload (event version 2.1, as delivered to SQS). */
export function s3Record(object: UploadedObject, eventName = 'ObjectCreated:Put'): Record<string, unknown> {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2026-11-23T10:00:00.000Z',
    eventName,
    userIdentity: { principalId: 'AWS:AIDAEXAMPLE' },
    requestParameters: { sourceIPAddress: '203.0.113.10' },
    responseElements: {
      'x-amz-request-id': 'C3D13FE58DE4C810',
      'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD',
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'ingest-notification',
      bucket: { name: object.bucket, ownerIdentity: { principalId: 'A3NL1KOZZKExample' }, arn: `arn:aws:s3:::${object.bucket}` },
      object: {
        key: encodeS3Key(object.key),
        size: object.size,
        eTag: object.eTag ?? DEFAULT_ETAG,
        sequencer: object.sequencer,
        ...(object.versionId === undefined ? {} : { versionId: object.versionId }),
      },
    },
  };
}

/** The body S3 posts when a notification is configured. */
export function s3TestEventBody(bucket: string): string {
  return JSON.stringify({
    Service: 'Amazon S3',
    Event: 's3:TestEvent',
    Time: '2026-11-23T10:00:00.000Z',
    Bucket: bucket,
    RequestId: 'A1B2C3',
    HostId: 'h0st',
  });
}

/** An SQS record as Lambda receives it. */
export function sqsRecord(body: string, messageId: string = randomUUID()): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1795000000000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1795000000000',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:ingest',
    awsRegion: 'us-east-1',
  };
}

/** One SQS message per object, each with one S3 record; the message id is stable per object. */
export function notificationOf(object: UploadedObject): SQSRecord {
  return sqsRecord(JSON.stringify({ Records: [s3Record(object)] }), `msg-${object.bucket}/${object.key}#${object.sequencer}`);
}

/** A Lambda SQS event. */
export function sqsEvent(records: readonly SQSRecord[]): SQSEvent {
  return { Records: [...records] };
}

/** A Lambda context whose remaining time is `remainingMs`. */
export function lambdaContext(remainingMs = 60_000): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'manifest-builder',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:manifest-builder',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/manifest-builder',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A copy of `items` in random order (Fisher-Yates, seeded for reproducible failures). */
export function shuffled<T>(items: readonly T[], seed = 42): T[] {
  const out = [...items];
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Splits `items` into chunks of `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
