import { MalformedNotificationError } from '../../../../handlers/common/errors';
import { checksumOfHead, contentTagOf, decodeS3Key, fileVersionTag, parseNotification } from '../../../../handlers/domain/s3-event';
import { encodeS3Key, s3Record, s3TestEventBody, uploaded } from '../../../helpers/s3-events';

// A notification as S3 delivers it to SQS for `incoming/orders/2026/11/23/Spring sale (été)=1.ndjson`.
const REAL_S3_BODY = JSON.stringify({
  Records: [
    {
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'eu-west-1',
      eventTime: '2026-11-23T09:58:12.345Z',
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: 'AWS:AIDAJDPLRKLG7UEXAMPLE' },
      requestParameters: { sourceIPAddress: '203.0.113.10' },
      responseElements: {
        'x-amz-request-id': 'C3D13FE58DE4C810',
        'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD',
      },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'ingest',
        bucket: { name: 'ingest-bucket', ownerIdentity: { principalId: 'A3NL1KOZZKExample' }, arn: 'arn:aws:s3:::ingest-bucket' },
        object: {
          key: 'incoming/orders/2026/11/23/Spring+sale+%28%C3%A9t%C3%A9%29%3D1.ndjson',
          size: 3670016,
          eTag: '0123456789abcdef0123456789abcdef',
          sequencer: '0055AED6DCD90281E5',
        },
      },
    },
  ],
});

describe('decodeS3Key', () => {
  test.each([
    ['incoming/orders/a+b.ndjson', 'incoming/orders/a b.ndjson'],
    ['incoming/orders/a%2Bb.ndjson', 'incoming/orders/a+b.ndjson'],
    ['incoming/orders/caf%C3%A9.ndjson', 'incoming/orders/café.ndjson'],
    ['incoming/orders/%E6%97%A5%E6%9C%AC.ndjson', 'incoming/orders/日本.ndjson'],
    ['incoming/orders/100%25.ndjson', 'incoming/orders/100%.ndjson'],
  ])('%s is %s', (raw, decoded) => {
    expect(decodeS3Key(raw)).toBe(decoded);
  });

  test('is the inverse of the encoding S3 applies', () => {
    const key = 'incoming/clicks/part 1 é+%&=?.ndjson';
    expect(decodeS3Key(encodeS3Key(key))).toBe(key);
  });
});

describe('parseNotification', () => {
  test('a real S3 notification: key decoded, size, eTag and sequencer kept', () => {
    const parsed = parseNotification('m1', REAL_S3_BODY);

    expect(parsed).toEqual({
      kind: 'records',
      records: [
        {
          bucket: 'ingest-bucket',
          key: 'incoming/orders/2026/11/23/Spring sale (été)=1.ndjson',
          size: 3670016,
          eTag: '0123456789abcdef0123456789abcdef',
          sequencer: '0055AED6DCD90281E5',
          versionId: undefined,
          eventName: 'ObjectCreated:Put',
          eventTime: '2026-11-23T09:58:12.345Z',
        },
      ],
    });
  });

  test('several records in one message, in order', () => {
    const a = uploaded('b', 'incoming/orders/a.ndjson');
    const b = uploaded('b', 'incoming/orders/b c.ndjson');
    const parsed = parseNotification('m1', JSON.stringify({ Records: [s3Record(a), s3Record(b)] }));

    expect(parsed.kind === 'records' && parsed.records.map((r) => r.key)).toEqual([
      'incoming/orders/a.ndjson',
      'incoming/orders/b c.ndjson',
    ]);
  });

  test('the s3:TestEvent posted when the notification is configured', () => {
    expect(parseNotification('m1', s3TestEventBody('ingest-bucket'))).toEqual({ kind: 'test' });
  });

  test.each([
    ['not JSON', 'hello', /body is not JSON/],
    ['a JSON array', '[1]', /not a JSON object/],
    ['no Records', '{"foo":1}', /no Records array/],
    ['a record of another source', '{"Records":[{"eventSource":"aws:sqs"}]}', /record 0: not an aws:s3 record/],
    ['a record without key', '{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{"size":1}}}]}', /no object key/],
    [
      'a key with broken escapes',
      '{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"a%E9%","size":1,"sequencer":"1"}}}]}',
      /not valid URL encoding/,
    ],
  ])('%s is a MalformedNotificationError naming the message', (_what, body, reason) => {
    const parse = () => parseNotification('msg-7', body);
    expect(parse).toThrow(MalformedNotificationError);
    expect(parse).toThrow(reason);
    expect(parse).toThrow(/msg-7/);
  });
});

describe('fileVersionTag', () => {
  test('sequencer first, then version id, then eTag', () => {
    expect(fileVersionTag({ sequencer: 's', versionId: 'v', eTag: 'e' })).toBe('s');
    expect(fileVersionTag({ sequencer: undefined, versionId: 'v', eTag: 'e' })).toBe('v');
    expect(fileVersionTag({ sequencer: undefined, versionId: undefined, eTag: 'e' })).toBe('e');
  });
});

describe('contentTagOf', () => {
  const crc64 = { algorithm: 'CRC64NVME', value: 'rvlAgO7pOzs=', type: 'FULL_OBJECT' } as const;

  test('is the full-object checksum when there is one: the same bytes under another eTag (part size, SSE-KMS) are one content', () => {
    expect(contentTagOf({ eTag: 'aaa-3', versionId: 'v1', checksum: crc64 })).toBe('crc64nvme:rvlAgO7pOzs=');
    expect(contentTagOf({ eTag: 'bbb-2', versionId: 'v2', checksum: crc64 })).toBe(contentTagOf({ eTag: 'ccc', checksum: crc64 }));
    expect(contentTagOf({ eTag: 'e', checksum: { ...crc64, algorithm: 'SHA256', value: 'x'.repeat(44) } })).toHaveLength(51);
  });

  test('is the eTag for a composite checksum, which changes with the part size', () => {
    expect(contentTagOf({ eTag: 'aaa-2', checksum: { algorithm: 'CRC32', value: 'AAAAAA==-2', type: 'COMPOSITE' } })).toBe('aaa-2');
  });

  test('is the eTag: a retried PUT of the same bytes (new version, new sequencer) has the same identity', () => {
    expect(contentTagOf({ eTag: 'e1', versionId: 'v1', sequencer: 's1' })).toBe(
      contentTagOf({ eTag: 'e1', versionId: 'v2', sequencer: 's2' }),
    );
    expect(contentTagOf({ eTag: 'e1', versionId: 'v1', sequencer: 's1' })).not.toBe(
      contentTagOf({ eTag: 'e2', versionId: 'v2', sequencer: 's2' }),
    );
  });

  test('falls back to the version id, then the sequencer, when an event has no eTag', () => {
    expect(contentTagOf({ eTag: '', versionId: 'v', sequencer: 's' })).toBe('v');
    expect(contentTagOf({ eTag: '', sequencer: 's' })).toBe('s');
  });
});

describe('checksumOfHead', () => {
  test('reads the checksum HeadObject returns with checksum mode, with its type', () => {
    expect(checksumOfHead({ ETag: '"e"', ChecksumCRC64NVME: 'rvlAgO7pOzs=', ChecksumType: 'FULL_OBJECT' })).toEqual({
      algorithm: 'CRC64NVME',
      value: 'rvlAgO7pOzs=',
      type: 'FULL_OBJECT',
    });
    expect(checksumOfHead({ ChecksumCRC32: 'AAAAAA==-3', ChecksumType: 'COMPOSITE' })?.type).toBe('COMPOSITE');
  });

  test('types a checksum without ChecksumType by its value; none without a checksum', () => {
    expect(checksumOfHead({ ChecksumSHA256: 'x'.repeat(44) })?.type).toBe('FULL_OBJECT');
    expect(checksumOfHead({ ChecksumCRC32C: 'AAAAAA==-12' })?.type).toBe('COMPOSITE');
    expect(checksumOfHead({ ETag: '"e"', ChecksumCRC32: '' })).toBeUndefined();
  });
});
