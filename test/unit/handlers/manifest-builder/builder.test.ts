/**
 * The builder's handling of what is not a file to place, and how it identifies a file's content: no AWS beyond a
 * mocked state table and S3.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { RecordingMetrics, builderOn } from '../../../helpers/pipeline-fixture';
import { lambdaContext, s3Record, s3TestEventBody, sqsEvent, sqsRecord, uploaded } from '../../../helpers/s3-events';
import type { HandlerSettings } from '../../../../contracts/lambda-environment';

const settings: HandlerSettings = {
  stateTable: 'state',
  idempotencyTable: 'idempotency',
  stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:convert',
  curatedBucket: 'curated',
  ingestPrefix: 'incoming/',
  acceptedSuffixes: ['.ndjson'],
  batchSize: 5,
  maxWaitMinutes: 15,
  idempotencyTtlSeconds: 3600,
  region: 'us-east-1',
  maxConcurrentRuns: 5,
  alertSubjectPrefix: 'Ingest pipeline',
};

function setup() {
  const dynamodb = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const metrics = new RecordingMetrics();
  const builder = builderOn(
    {
      dynamodb,
      s3: new S3Client({ region: 'us-east-1' }),
      sfn: new SFNClient({ region: 'us-east-1' }),
      sns: new SNSClient({ region: 'us-east-1' }),
    },
    settings,
    metrics,
  );
  return { metrics, builder };
}

// The state store talks through a document client made from its DynamoDB client: mock every document client.
const ddb = mockClient(DynamoDBDocumentClient);
beforeEach(() => ddb.reset());
afterAll(() => ddb.restore());

const body = (...records: Record<string, unknown>[]) => JSON.stringify({ Records: records });

test('a malformed body fails that message only; the S3 test event and keys outside the prefix are skipped', async () => {
  const { metrics, builder } = setup();
  const records = [
    sqsRecord('not json', 'bad'),
    sqsRecord(s3TestEventBody('ingest'), 'test-event'),
    sqsRecord(body(s3Record(uploaded('ingest', 'elsewhere/orders/a.ndjson'))), 'outside'),
    sqsRecord(body(s3Record(uploaded('ingest', 'incoming/orders/empty.ndjson', 0))), 'empty'),
  ];

  const response = await builder.handler(sqsEvent(records), lambdaContext());

  expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
  expect(metrics.total('FilesSkipped')).toBe(3);
  expect(ddb.calls()).toHaveLength(0);
  expect(metrics.published).toBe(1);
});

test('a bad dataset name or suffix is recorded as REJECTED# with its reason, and counted once', async () => {
  const { metrics, builder } = setup();
  ddb
    .on(PutCommand)
    .resolvesOnce({})
    .resolvesOnce({})
    .rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
  const badName = s3Record(uploaded('ingest', 'incoming/Web-Clicks/a.ndjson'));
  const badSuffix = s3Record(uploaded('ingest', 'incoming/orders/a+b.csv'));

  const response = await builder.handler(
    sqsEvent([sqsRecord(body(badName, badSuffix), 'm1'), sqsRecord(body(badName), 'm1-again')]),
    lambdaContext(),
  );

  expect(response.batchItemFailures).toEqual([]);
  const puts = ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item!);
  expect(puts.map((item) => [item.pk, item.code])).toEqual([
    ['REJECTED#ingest/incoming/Web-Clicks/a.ndjson', 'invalid-dataset-name'],
    ['REJECTED#ingest/incoming/orders/a+b.csv', 'unaccepted-suffix'],
    ['REJECTED#ingest/incoming/Web-Clicks/a.ndjson', 'invalid-dataset-name'],
  ]);
  expect(puts[1].reason).toContain('.ndjson');
  expect(metrics.total('FilesRejected')).toBe(2);
});

test('an object over maxObjectMb, by the size its S3 event reports, is recorded as REJECTED# too-large and never placed', async () => {
  const dynamodb = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const metrics = new RecordingMetrics();
  const clients = {
    dynamodb,
    s3: new S3Client({ region: 'us-east-1' }),
    sfn: new SFNClient({ region: 'us-east-1' }),
    sns: new SNSClient({ region: 'us-east-1' }),
  };
  const builder = builderOn(clients, { ...settings, maxObjectMb: 2 }, metrics);
  ddb.on(PutCommand).resolves({});
  const big = s3Record(uploaded('ingest', 'incoming/orders/big.ndjson', 2 * 1024 * 1024 + 1));

  const response = await builder.handler(sqsEvent([sqsRecord(body(big), 'm1')]), lambdaContext());

  expect(response.batchItemFailures).toEqual([]);
  const calls = ddb.calls().map((c) => c.args[0].constructor.name);
  expect(calls).toEqual(['PutCommand']);
  const item = ddb.commandCalls(PutCommand)[0].args[0].input.Item!;
  expect(item).toMatchObject({ pk: 'REJECTED#ingest/incoming/orders/big.ndjson', code: 'too-large', size: 2 * 1024 * 1024 + 1 });
  expect(item.reason).toContain('2 MB');
  expect(metrics.total('FilesRejected')).toBe(1);
  expect(metrics.total('FilesAccepted')).toBe(0);
});

describe('content identity (I7): the full-object checksum, read with HeadObject', () => {
  const s3 = mockClient(S3Client);
  beforeEach(() => ddb.on(GetCommand).resolves({}));
  afterEach(() => s3.reset());
  afterAll(() => s3.restore());
  const now = new Date('2026-11-23T10:00:00Z');
  const file = {
    identity: 'ingest/incoming/orders/a.ndjson#seq2#etag-2',
    dataset: 'orders',
    bucket: 'ingest',
    key: 'incoming/orders/a.ndjson',
    size: 10,
    eTag: 'etag-2',
    sequencer: 'seq2',
    versionId: 'v2',
  };
  const fileKey = (tag: string) => ({ pk: `FILE#ingest/incoming/orders/a.ndjson#${tag}`, sk: 'META' });
  const builderAtNow = () =>
    builderOn(
      {
        dynamodb: new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
        s3: new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
        sfn: new SFNClient({ region: 'us-east-1' }),
        sns: new SNSClient({ region: 'us-east-1' }),
      },
      settings,
      new RecordingMetrics(),
      () => now,
    );

  test('another eTag with a recorded checksum is a duplicate, and the delivery moves the record expiry to 90 days from now', async () => {
    s3.on(HeadObjectCommand).resolves({ ETag: '"etag-2"', ChecksumCRC64NVME: 'rvlAgO7pOzs=', ChecksumType: 'FULL_OBJECT' });
    ddb.on(GetCommand, { Key: fileKey('crc64nvme:rvlAgO7pOzs=') }).resolves({ Item: { manifestId: 'm1', eTag: 'etag-1' } });
    ddb.on(UpdateCommand).resolves({});

    const placement = await builderAtNow().placeFile(file);

    expect(placement).toEqual({ outcome: 'duplicate', manifestId: 'm1' });
    expect(s3.commandCalls(HeadObjectCommand)[0].args[0].input).toEqual({
      Bucket: 'ingest',
      Key: 'incoming/orders/a.ndjson',
      VersionId: 'v2',
      ChecksumMode: 'ENABLED',
    });
    const update = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(update).toHaveLength(1);
    expect(update[0].Key).toEqual(fileKey('crc64nvme:rvlAgO7pOzs='));
    expect(update[0].ExpressionAttributeValues?.[':expiresAt']).toBe(Math.floor(now.getTime() / 1000) + 90 * 86_400);
    expect(update[0].ConditionExpression).toContain('#ttl < :expiresAt');
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  test('a record under the eTag (written before checksums identified content) is the same content too', async () => {
    s3.on(HeadObjectCommand).resolves({ ETag: '"etag-2"', ChecksumCRC32: 'AAAAAA==', ChecksumType: 'FULL_OBJECT' });
    ddb.on(GetCommand, { Key: fileKey('etag-2') }).resolves({ Item: { manifestId: 'm0' } });
    ddb.on(UpdateCommand).resolves({});

    expect(await builderAtNow().placeFile(file)).toEqual({ outcome: 'duplicate', manifestId: 'm0' });
    const asked = ddb.commandCalls(GetCommand).map((c) => c.args[0].input.Key);
    expect(asked.slice(0, 2)).toEqual([fileKey('crc32:AAAAAA=='), fileKey('etag-2')]);
    expect(ddb.commandCalls(UpdateCommand)[0].args[0].input.Key).toEqual(fileKey('etag-2'));
  });

  test.each([
    ['a composite checksum', { ETag: '"etag-2"', ChecksumCRC32: 'AAAAAA==-2', ChecksumType: 'COMPOSITE' as const }],
    ['no checksum', { ETag: '"etag-2"' }],
    ['a key overwritten since (unversioned: another eTag)', { ETag: '"etag-3"', ChecksumCRC64NVME: 'rvlAgO7pOzs=' }],
  ])('%s: identified by the eTag', async (_, head) => {
    s3.on(HeadObjectCommand).resolves(head);
    ddb.on(GetCommand, { Key: fileKey('etag-2') }).resolves({ Item: { manifestId: 'm0' } });
    ddb.on(UpdateCommand).resolves({});

    expect(await builderAtNow().placeFile(file)).toEqual({ outcome: 'duplicate', manifestId: 'm0' });
    expect(ddb.commandCalls(GetCommand)[0].args[0].input.Key).toEqual(fileKey('etag-2'));
  });

  test('a version S3 no longer has is identified by its eTag; a throttled HeadObject fails the file, to be tried again', async () => {
    s3.on(HeadObjectCommand).rejectsOnce(Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
    ddb.on(GetCommand, { Key: fileKey('etag-2') }).resolves({ Item: { manifestId: 'm0' } });
    ddb.on(UpdateCommand).resolves({});
    const builder = builderAtNow();
    expect(await builder.placeFile(file)).toEqual({ outcome: 'duplicate', manifestId: 'm0' });

    s3.on(HeadObjectCommand).rejects(Object.assign(new Error('SlowDown'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } }));
    await expect(builder.placeFile(file)).rejects.toThrow('SlowDown');
  });
});
