/** The builder's handling of what is not a file to place: no AWS beyond a mocked state table. */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
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
