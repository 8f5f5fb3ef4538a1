/**
 * I7 in the manifest builder and the sweeper, against moto (real DynamoDB, S3, SNS, SQS and Step Functions APIs):
 * files are object contents (an identical re-upload is a duplicate, new bytes under a key a new file pinned to its
 * version), execution names are verified, a seal survives contention, and an execution that ended without
 * recording its outcome is recorded FAILED with one alert.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { DescribeExecutionCommand, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '../../handlers/common/aws-clients';
import type { HandlerSettings } from '../../contracts/lambda-environment';
import { manifestIdOf, parseManifestId } from '../../handlers/domain/manifest';
import { StateStore } from '../../handlers/common/state-store';
import { keys, STATE_TABLE } from '../../contracts/table-schema';
import { MotoServer, settingsFor, type PipelineResources } from '../helpers/moto';
import { failCommand } from '../helpers/faults';
import { RecordingMetrics, afterMaxWait, builderOn, deliver, deliverUntilDone, sweepOn } from '../helpers/pipeline-fixture';
import { notificationOf, reuploaded, uploaded } from '../helpers/s3-events';

let server: MotoServer;
let resources: PipelineResources;
let settings: HandlerSettings;
let inspector: AwsClients;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  server = await MotoServer.start();
});

afterAll(async () => {
  await server?.stop();
});

async function freshPipeline(overrides: Partial<HandlerSettings> = {}): Promise<void> {
  await server.reset();
  resources = await server.createPipelineResources();
  settings = settingsFor(resources, overrides);
  inspector = server.clients();
  doc = DynamoDBDocumentClient.from(inspector.dynamodb);
}

async function meta(manifestId: string): Promise<Record<string, any> | undefined> {
  return (await doc.send(new GetCommand({ TableName: resources.stateTable, Key: keys.manifest(manifestId), ConsistentRead: true }))).Item;
}

/** The id of the last manifest opened for `dataset` (the dataset's pointer names it). */
async function lastOpened(dataset: string): Promise<string> {
  const pointer = await new StateStore(inspector.dynamodb, resources.stateTable).getPointer(dataset);
  return manifestIdOf(dataset, pointer!.day, pointer!.seq);
}

/** Delivers two files of `orders` through a builder on `clients` (a manifest of two fills); returns its record. */
async function fillManifestOfTwo(clients: AwsClients): Promise<Record<string, any> | undefined> {
  const objects = [uploaded('ingest-test', 'incoming/orders/a.ndjson'), uploaded('ingest-test', 'incoming/orders/b.ndjson')];
  await deliverUntilDone(builderOn(clients, settings), objects.map(notificationOf));
  return meta(await lastOpened('orders'));
}

async function manifestFile(
  dataset: string,
  manifestId: string,
): Promise<{ files: Array<{ key: string; versionId?: string; eTag: string }> }> {
  const out = await inspector.s3.send(
    new GetObjectCommand({ Bucket: resources.curatedBucket, Key: `manifests/${dataset}/${manifestId}.json` }),
  );
  return JSON.parse(await out.Body!.transformToString());
}

test('an identical re-upload (same eTag, new version) is a duplicate: counted, never placed again', async () => {
  await freshPipeline({ batchSize: 2 });
  const first = { ...uploaded('ingest-test', 'incoming/orders/a.ndjson'), versionId: 'v1' };
  const retriedPut = reuploaded(first, true);
  const metrics = new RecordingMetrics();
  const builder = builderOn(server.clients(), settings, metrics);

  await deliverUntilDone(builder, [notificationOf(first)]);
  await deliverUntilDone(builder, [notificationOf(retriedPut)]);
  await sweepOn(server.clients(), settings, afterMaxWait(settings));

  const manifestId = await lastOpened('orders');
  const document = await manifestFile('orders', manifestId);
  expect(document.files.map((f) => [f.key, f.versionId])).toEqual([['incoming/orders/a.ndjson', 'v1']]);
  expect(metrics.total('FilesAccepted')).toBe(1);
  expect(metrics.total('DuplicatesSkipped')).toBe(1);
});

test('new content under a key is a new file, each content pinned to its own version, two slots of the manifest', async () => {
  await freshPipeline({ batchSize: 2 });
  const first = { ...uploaded('ingest-test', 'incoming/orders/a.ndjson'), versionId: 'v1' };
  const overwrite = reuploaded(first, false);
  const builder = builderOn(server.clients(), settings);

  await deliverUntilDone(builder, [notificationOf(first)]);
  await deliverUntilDone(builder, [notificationOf(overwrite)]);

  const manifestId = await lastOpened('orders');
  const record = await meta(manifestId);
  const document = await manifestFile('orders', manifestId);
  // Two contents fill the manifest of two: it was sealed and started by the second write.
  expect(record?.status).toBe('SEALED');
  expect(record?.fileCount).toBe(2);
  expect(document.files.map((f) => f.versionId).sort()).toEqual(['v1', overwrite.versionId].sort());
  expect(new Set(document.files.map((f) => f.eTag)).size).toBe(2);
});

test('an execution of the manifest name with another input is a conflict, never taken as started', async () => {
  await freshPipeline({ batchSize: 1 });
  const object = uploaded('ingest-test', 'incoming/orders/a.ndjson');
  // What a restored state table leads to: the id the builder will open next was used by an earlier manifest.
  const today = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  const reusedId = `orders-${today}-000001`;
  await inspector.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: resources.stateMachineArn,
      name: reusedId,
      input: JSON.stringify({ manifestId: reusedId, fileCount: 99 }),
    }),
  );
  const metrics = new RecordingMetrics();
  const builder = builderOn(server.clients(), settings, metrics);

  const left = await deliver(builder, [notificationOf(object)]);
  const record = await meta(reusedId);

  expect(left).toHaveLength(1);
  expect(metrics.total('ExecutionNameConflicts')).toBe(1);
  expect(record?.status).toBe('SEALED');
  expect(record?.executions).toBeUndefined();
  expect(record?.[STATE_TABLE.pendingIndex.partitionKey]).toBeDefined();
});

test('a seal that meets TransactionConflict is tried again at once: the full manifest starts without the sweeper', async () => {
  await freshPipeline({ batchSize: 2 });
  const clients = server.clients();
  let conflicts = 0;
  clients.dynamodb.middlewareStack.add(
    (next: (args: any) => Promise<any>, context: { commandName?: string }) => async (args: any) => {
      const first = args.input?.TransactItems?.[0]?.Update;
      if (
        context.commandName === 'TransactWriteItemsCommand' &&
        String(first?.UpdateExpression ?? '').includes(':sealed') &&
        conflicts < 2
      ) {
        conflicts += 1;
        throw Object.assign(new Error('Transaction cancelled'), {
          name: 'TransactionCanceledException',
          CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }],
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'sealConflict' },
  );
  const record = await fillManifestOfTwo(clients);
  expect(conflicts).toBe(2);
  expect(record?.status).toBe('SEALED');
  expect(record?.executions).toHaveLength(1);
});

test('a commit whose response is lost and whose retry fails on its own condition still seals and starts the full manifest', async () => {
  await freshPipeline({ batchSize: 2 });
  const clients = server.clients();
  let lost = 0;
  // Inside the SDK's retry loop: the filling commit goes through, then its response is lost as a 500 would be.
  clients.dynamodb.middlewareStack.add(
    (next: (args: any) => Promise<any>, context: { commandName?: string }) => async (args: any) => {
      const result = await next(args);
      if (
        context.commandName === 'TransactWriteItemsCommand' &&
        lost === 0 &&
        String(args.input?.TransactItems?.[0]?.Update?.UpdateExpression ?? '').includes(':next')
      ) {
        const pointer = await DynamoDBDocumentClient.from(inspector.dynamodb).send(
          new GetCommand({ TableName: resources.stateTable, Key: keys.open('orders'), ConsistentRead: true }),
        );
        if (Number(pointer.Item?.count) === 2) {
          lost += 1;
          throw Object.assign(new Error('We encountered an internal error'), {
            name: 'InternalServerError',
            $fault: 'server',
            $metadata: { httpStatusCode: 500 },
          });
        }
      }
      return result;
    },
    { step: 'deserialize', name: 'lostResponse' },
  );
  const record = await fillManifestOfTwo(clients);
  expect(lost).toBe(1);
  expect(record?.status).toBe('SEALED');
  expect(record?.fileCount).toBe(2);
  expect(record?.executions).toHaveLength(1);
});

describe('an execution that ended without recording an outcome', () => {
  let queueUrl: string;
  let sqs: SQSClient;

  async function alerts(): Promise<string[]> {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    return (out.Messages ?? []).map((m) => JSON.parse(m.Body!).Message as string);
  }

  async function runningManifest(manifestId: string, executionArn: string): Promise<void> {
    await doc.send(
      new UpdateCommand({
        TableName: resources.stateTable,
        Key: keys.manifest(manifestId),
        UpdateExpression:
          'SET manifestId = :id, dataset = :ds, #status = :running, executionArn = :arn, executions = :arns, fileCount = :n, runningPk = :rpk, runningSk = :rsk',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':id': manifestId,
          ':ds': 'orders',
          ':running': 'RUNNING',
          ':arn': executionArn,
          ':arns': [executionArn],
          ':n': 3,
          ':rpk': keys.running,
          ':rsk': `2026-11-30T00:00:00.000Z#${manifestId}`,
        },
      }),
    );
  }

  /** An SQS queue subscribed to a fresh alerts topic, named in the settings. */
  async function alertQueue(): Promise<void> {
    sqs = new SQSClient(server.clientConfig());
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'alerts-test' }))).QueueUrl!;
    const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!
      .QueueArn!;
    const topicArn = (await inspector.sns.send(new CreateTopicCommand({ Name: 'alerts-test' }))).TopicArn!;
    await inspector.sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
    settings = { ...settings, alertTopicArn: topicArn, region: 'eu-west-1' };
  }

  afterEach(() => sqs?.destroy());

  test('an aborted execution: the manifest is recorded FAILED with the reason, and one alert names it, once', async () => {
    await freshPipeline();
    await alertQueue();
    const manifestId = 'orders-20261130-000007';
    const started = await inspector.sfn.send(
      new StartExecutionCommand({ stateMachineArn: resources.stateMachineArn, name: manifestId, input: '{}' }),
    );
    await inspector.sfn.send(
      new StopExecutionCommand({ executionArn: started.executionArn!, error: 'Operator', cause: 'stopped by hand' }),
    );
    await runningManifest(manifestId, started.executionArn!);
    const metrics = new RecordingMetrics();

    const first = await sweepOn(server.clients(), settings, new Date(), metrics);
    const second = await sweepOn(server.clients(), settings, new Date(), metrics);
    const record = await meta(manifestId);
    const messages = await alerts();

    expect((await inspector.sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn! }))).status).toBe('ABORTED');
    expect(first.endedRecorded).toEqual([manifestId]);
    expect(second.endedRecorded).toEqual([]);
    expect(record).toMatchObject({ status: 'FAILED', error: 'Execution.Aborted' });
    expect(record?.runningPk).toBeUndefined();
    expect(metrics.total('EndedExecutionsRecorded')).toBe(1);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(`Manifest ${manifestId} of dataset orders (3 files) was not converted.`);
    expect(messages[0]).toContain('Error: Execution.Aborted');
    expect(messages[0]).toContain(`npx pipeline replay ${manifestId}`);
    expect(messages[0]).toContain('https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/');
  });

  test('an aborted replay of a SUCCEEDED manifest leaves its status, counts and output; the failure is on the run, alerted once (I4)', async () => {
    await freshPipeline();
    await alertQueue();
    const manifestId = 'orders-20261130-000008';
    const replay = await inspector.sfn.send(
      new StartExecutionCommand({ stateMachineArn: resources.stateMachineArn, name: `${manifestId}-r1`, input: '{}' }),
    );
    await inspector.sfn.send(new StopExecutionCommand({ executionArn: replay.executionArn!, error: 'Operator', cause: 'stopped' }));
    // The replay's MarkRunning ran over a SUCCEEDED record: RUNNING, the output in place and its counts kept.
    await runningManifest(manifestId, replay.executionArn!);
    const output = 's3://curated/curated/orders/ingest_date=2026-11-30/manifest_id=orders-20261130-000008/run=20261130T000000Z-0a1b2c3d/';
    await doc.send(
      new UpdateCommand({
        TableName: resources.stateTable,
        Key: keys.manifest(manifestId),
        UpdateExpression: 'SET outputStatus = :s, rowsOut = :rows, linesIn = :lines, outputLocation = :out',
        ExpressionAttributeValues: { ':s': 'SUCCEEDED', ':rows': 41, ':lines': 42, ':out': output },
      }),
    );

    const swept = await sweepOn(server.clients(), settings, new Date(), new RecordingMetrics());
    const record = await meta(manifestId);
    const messages = await alerts();

    expect(swept.endedRecorded).toEqual([manifestId]);
    expect(record).toMatchObject({
      status: 'SUCCEEDED',
      lastRunStatus: 'FAILED',
      error: 'Execution.Aborted',
      rowsOut: 41,
      linesIn: 42,
      outputLocation: output,
    });
    expect(record?.runningPk).toBeUndefined();
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(`Manifest ${manifestId} of dataset orders (3 files) was not converted.`);
  });

  test('a sealed manifest whose execution is aborted before MarkRunning is found by the sweeper, recorded FAILED and alerted once', async () => {
    await freshPipeline({ batchSize: 1 });
    await alertQueue();
    // A full manifest: sealed, started and its execution recorded by the builder. moto runs no execution here, so
    // its MarkRunning never runs: the record stays SEALED, as when an execution is stopped before that state.
    await deliverUntilDone(builderOn(server.clients(), settings), [notificationOf(uploaded('ingest-test', 'incoming/orders/a.ndjson'))]);
    const manifestId = await lastOpened('orders');
    const started = await meta(manifestId);
    await inspector.sfn.send(new StopExecutionCommand({ executionArn: started!.executions[0] }));

    const first = await sweepOn(server.clients(), settings, new Date());
    const second = await sweepOn(server.clients(), settings, new Date());
    const record = await meta(manifestId);
    const messages = await alerts();

    // Until final, the manifest is in exactly one of the sweeper's indexes: here the running one.
    expect(started).toMatchObject({ status: 'SEALED', runningPk: keys.running });
    expect(started?.[STATE_TABLE.pendingIndex.partitionKey]).toBeUndefined();
    expect(first.endedRecorded).toEqual([manifestId]);
    expect(second.endedRecorded).toEqual([]);
    expect(record).toMatchObject({ status: 'FAILED', error: 'Execution.Aborted' });
    expect(record?.runningPk).toBeUndefined();
    expect(record?.[STATE_TABLE.pendingIndex.partitionKey]).toBeUndefined();
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(`Manifest ${manifestId} of dataset orders (1 files) was not converted.`);
  });

  test('an alert SNS refuses stays on the record (the outbox) and a later sweep publishes it, once', async () => {
    await freshPipeline();
    await alertQueue();
    const manifestId = 'orders-20261130-000011';
    const started = await inspector.sfn.send(
      new StartExecutionCommand({ stateMachineArn: resources.stateMachineArn, name: manifestId, input: '{}' }),
    );
    await inspector.sfn.send(new StopExecutionCommand({ executionArn: started.executionArn! }));
    await runningManifest(manifestId, started.executionArn!);
    const refusing = server.clients();
    const refused = failCommand(refusing.sns, 'PublishCommand', 100, 'ThrottledException');

    const first = await sweepOn(refusing, settings, new Date());
    const pending = await meta(manifestId);
    const beforeRetry = await alerts();
    const second = await sweepOn(server.clients(), settings, new Date());
    const third = await sweepOn(server.clients(), settings, new Date());
    const record = await meta(manifestId);
    const messages = await alerts();

    // The first sweep recorded FAILED with the alert in the same write, then could not publish it (twice).
    expect(first.endedRecorded).toEqual([manifestId]);
    expect(first.alertsPublished).toEqual([]);
    expect(refused.failures).toBe(2);
    expect(pending).toMatchObject({
      status: 'FAILED',
      alertPending: keys.alertPending,
      alertSubject: 'Ingest pipeline: manifest failed',
    });
    expect(beforeRetry).toEqual([]);
    expect(second.alertsPublished).toEqual([manifestId]);
    expect(third.alertsPublished).toEqual([]);
    expect(record?.alertPending).toBeUndefined();
    expect(record?.alertSentAt).toBeDefined();
    expect(messages).toHaveLength(1);
    expect(messages[0]).toBe(pending?.alertMessage);
  });

  test('an alert the state machine left pending is published by the sweeper once its execution has ended, not before', async () => {
    await freshPipeline();
    await alertQueue();
    const manifestId = 'orders-20261130-000012';
    const started = await inspector.sfn.send(
      new StartExecutionCommand({ stateMachineArn: resources.stateMachineArn, name: manifestId, input: '{}' }),
    );
    // What RecordFailure writes: FAILED with its alert, out of the running index, into the alerts index.
    await doc.send(
      new UpdateCommand({
        TableName: resources.stateTable,
        Key: keys.manifest(manifestId),
        UpdateExpression:
          'SET manifestId = :id, dataset = :ds, #status = :failed, executionArn = :arn, alertSubject = :subject, alertMessage = :message, alertPending = :pending, alertSk = :sk',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':id': manifestId,
          ':ds': 'orders',
          ':failed': 'FAILED',
          ':arn': started.executionArn!,
          ':subject': `Ingest pipeline: manifest ${manifestId} failed`,
          ':message': `Manifest ${manifestId} of dataset orders (2 files) was not converted.`,
          ':pending': keys.alertPending,
          ':sk': `2026-11-30T00:00:00.000Z#${manifestId}`,
        },
      }),
    );

    // The execution still runs: it is publishing the alert itself, with its own retries.
    const whileRunning = await sweepOn(server.clients(), settings, new Date());
    const messagesWhileRunning = await alerts();
    await inspector.sfn.send(new StopExecutionCommand({ executionArn: started.executionArn! }));
    const afterEnd = await sweepOn(server.clients(), settings, new Date());
    const later = await sweepOn(server.clients(), settings, new Date());
    const messages = await alerts();

    expect(whileRunning.alertsPublished).toEqual([]);
    expect(messagesWhileRunning).toEqual([]);
    expect(afterEnd.alertsPublished).toEqual([manifestId]);
    expect(later.alertsPublished).toEqual([]);
    expect(messages).toEqual([`Manifest ${manifestId} of dataset orders (2 files) was not converted.`]);
    expect((await meta(manifestId))?.alertPending).toBeUndefined();
  });

  test('a record held by a later execution is left alone when an earlier execution of the manifest ends', async () => {
    await freshPipeline();
    settings = { ...settings, alertTopicArn: undefined };
    const manifestId = 'orders-20261130-000008';
    const earlier = await inspector.sfn.send(
      new StartExecutionCommand({ stateMachineArn: resources.stateMachineArn, name: manifestId, input: '{}' }),
    );
    const later = await inspector.sfn.send(
      new StartExecutionCommand({ stateMachineArn: resources.stateMachineArn, name: `${manifestId}-r1`, input: '{}' }),
    );
    await inspector.sfn.send(new StopExecutionCommand({ executionArn: earlier.executionArn! }));
    await runningManifest(manifestId, later.executionArn!);

    const report = await sweepOn(server.clients(), settings, new Date());
    const record = await meta(manifestId);
    const running = await doc.send(
      new QueryCommand({
        TableName: resources.stateTable,
        IndexName: STATE_TABLE.runningIndex.name,
        KeyConditionExpression: '#pk = :r',
        ExpressionAttributeNames: { '#pk': STATE_TABLE.runningIndex.partitionKey },
        ExpressionAttributeValues: { ':r': keys.running },
      }),
    );

    expect(report.endedRecorded).toEqual([]);
    expect(record?.status).toBe('RUNNING');
    expect(running.Items?.map((i) => i.manifestId)).toEqual([manifestId]);
  });
});

test('a backlog waits in the table: a manifest starts only while fewer than maxConcurrentRuns executions run', async () => {
  await freshPipeline({ batchSize: 1, maxConcurrentRuns: 1 });
  const objects = [uploaded('ingest-test', 'incoming/orders/a.ndjson'), uploaded('ingest-test', 'incoming/orders/b.ndjson')];
  const builder = builderOn(server.clients(), settings);
  const metrics = new RecordingMetrics();

  await deliverUntilDone(builder, objects.map(notificationOf));
  const second = await lastOpened('orders');
  const first = manifestIdOf('orders', parseManifestId(second)!.day, 1);
  const queuedWhileBusy = await sweepOn(server.clients(), settings, afterMaxWait(settings), metrics);
  const waiting = await meta(second);
  await inspector.sfn.send(new StopExecutionCommand({ executionArn: (await meta(first))!.executions[0] }));
  const afterwards = await sweepOn(server.clients(), settings, afterMaxWait(settings));

  expect((await meta(first))?.executions).toHaveLength(1);
  expect(queuedWhileBusy.queued).toEqual([second]);
  expect(queuedWhileBusy.oldestOpenManifestAgeSeconds).toBe(0);
  expect(metrics.values.get('ManifestsQueued')).toEqual([1]);
  expect(waiting).toMatchObject({ status: 'SEALED' });
  expect(waiting?.executions).toBeUndefined();
  expect(afterwards.started).toEqual([second]);
  expect((await meta(second))?.executions).toHaveLength(1);
});

test('a started manifest whose original execution was not recorded is recorded even while executions fill the capacity', async () => {
  await freshPipeline({ batchSize: 1, maxConcurrentRuns: 1 });
  const object = uploaded('ingest-test', 'incoming/orders/a.ndjson');
  const clients = server.clients();
  // The starter stops right after StartExecution: recordExecution never runs.
  clients.dynamodb.middlewareStack.add(
    (next: (args: any) => Promise<any>, context: { commandName?: string }) => async (args: any) => {
      if (context.commandName === 'UpdateItemCommand' && String(args.input?.UpdateExpression ?? '').includes('executions = list_append')) {
        throw Object.assign(new Error('injected crash after StartExecution'), { name: 'InjectedCrash' });
      }
      return next(args);
    },
    { step: 'initialize', name: 'crashBeforeRecord' },
  );
  await deliver(builderOn(clients, settings), [notificationOf(object)]);
  const manifestId = await lastOpened('orders');
  const executionArn = `${resources.stateMachineArn.replace(':stateMachine:', ':execution:')}:${manifestId}`;
  // What MarkRunning does when the execution starts: RUNNING under it, moved from the pending to the running index.
  await doc.send(
    new UpdateCommand({
      TableName: resources.stateTable,
      Key: keys.manifest(manifestId),
      UpdateExpression: 'SET #status = :running, executionArn = :arn, runningPk = :rpk, runningSk = :rsk REMOVE pendingPk, pendingSk',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':running': 'RUNNING',
        ':arn': executionArn,
        ':rpk': keys.running,
        ':rsk': `2026-11-30T00:00:00.000Z#${manifestId}`,
      },
    }),
  );

  const report = await sweepOn(server.clients(), settings, afterMaxWait(settings));

  expect(report.queued).toEqual([]);
  expect(report.started).toEqual([manifestId]);
  expect((await meta(manifestId))?.executions).toEqual([executionArn]);
  expect((await meta(manifestId))?.[STATE_TABLE.pendingIndex.partitionKey]).toBeUndefined();
  expect((await meta(manifestId))?.status).toBe('RUNNING');
});

test('records of another bucket are skipped without a trace; a key a path reader would resolve elsewhere is rejected, and rejections expire', async () => {
  await freshPipeline();
  const metrics = new RecordingMetrics();
  const builder = builderOn(server.clients(), settings, metrics);
  const foreign = uploaded('someone-else', 'incoming/orders/a.ndjson');
  const traversal = uploaded('ingest-test', 'incoming/orders/../payments/x.ndjson');

  await deliverUntilDone(builder, [notificationOf(foreign), notificationOf(traversal)]);
  const items = (await inspector.dynamodb.send(new ScanCommand({ TableName: resources.stateTable }))).Items ?? [];
  const pks = items.map((i) => i.pk.S);
  const rejected = await doc.send(
    new GetCommand({ TableName: resources.stateTable, Key: keys.rejected('ingest-test', traversal.key), ConsistentRead: true }),
  );

  expect(pks.filter((pk) => pk?.includes('someone-else'))).toEqual([]);
  expect(pks.filter((pk) => pk?.startsWith('FILE#') || pk?.startsWith('MANIFEST#'))).toEqual([]);
  expect(rejected.Item).toMatchObject({ code: 'unsafe-key' });
  expect(rejected.Item?.[STATE_TABLE.ttlAttribute]).toBeGreaterThan(Date.now() / 1000);
  expect(metrics.total('FilesSkipped')).toBe(1);
  expect(metrics.total('FilesRejected')).toBe(1);
});

test("a file name Spark's listing would skip is rejected with a reason a producer can act on; a folder of such a name is accepted", async () => {
  await freshPipeline();
  const metrics = new RecordingMetrics();
  const builder = builderOn(server.clients(), settings, metrics);
  const hidden = uploaded('ingest-test', 'incoming/orders/_partial.ndjson');
  const inFolder = uploaded('ingest-test', 'incoming/orders/_staging/a.ndjson');

  await deliverUntilDone(builder, [notificationOf(hidden), notificationOf(inFolder)]);
  const rejected = await doc.send(
    new GetCommand({ TableName: resources.stateTable, Key: keys.rejected('ingest-test', hidden.key), ConsistentRead: true }),
  );
  const items = (await inspector.dynamodb.send(new ScanCommand({ TableName: resources.stateTable }))).Items ?? [];

  expect(rejected.Item).toMatchObject({ code: 'hidden-name', key: hidden.key });
  expect(rejected.Item?.reason).toContain('rename the file');
  expect(items.filter((i) => i.pk?.S?.startsWith('FILE#')).map((i) => i.key?.S)).toEqual([inFolder.key]);
  expect(metrics.total('FilesRejected')).toBe(1);
});

test("a dataset's width moves by compare-and-set: two writers widening from one width add one shard, never past the most allowed", async () => {
  await freshPipeline();
  await deliverUntilDone(builderOn(server.clients(), settings), [notificationOf(uploaded('ingest-test', 'incoming/orders/a.ndjson'))]);
  const store = new StateStore(inspector.dynamodb, resources.stateTable);
  const seen = (await store.getPointer('orders'))!;

  const both = await Promise.all([store.widen('orders', seen, 3), store.widen('orders', seen, 3)]);
  const third = await store.widen('orders', (await store.getPointer('orders'))!, 3);
  const capped = await store.widen('orders', third!, 3);
  const narrowed = await store.narrow('orders', 3, 1);
  const stale = await store.narrow('orders', 3, 2);
  const after = await store.getPointer('orders');

  expect(seen).toMatchObject({ shards: 1, widest: 1 });
  expect(both.map((p) => p?.shards)).toEqual([2, 2]);
  expect(third).toMatchObject({ shards: 3, widest: 3 });
  expect(capped).toMatchObject({ shards: 3, widest: 3 });
  expect([narrowed, stale]).toEqual([true, false]);
  // The counter and shard 0's open manifest are untouched; `widest` keeps every shard that may hold one in reach.
  expect(after).toMatchObject({ shards: 1, widest: 3, day: seen.day, seq: seen.seq, manifestId: seen.manifestId, count: 1 });
});
