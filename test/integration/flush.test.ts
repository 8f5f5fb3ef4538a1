/**
 * `pipeline flush` against moto (real DynamoDB, S3, Step Functions and Glue APIs), beside the manifest builder and
 * the sweeper: a flushed manifest is sealed and started as a time-based seal is, a backlog queues it, files arriving
 * during a flush land in exactly one manifest, and every test ends on invariantViolations() being empty.
 */
import { CreateJobCommand, GlueClient } from '@aws-sdk/client-glue';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { createContext, type CliContext } from '../../cli/context';
import { flushDataset } from '../../cli/ops/flush';
import { stateStoreOf } from '../../cli/ops/manifests';
import type { HandlerSettings } from '../../contracts/lambda-environment';
import { invariantViolations, readFinalState } from '../helpers/final-state';
import { MotoServer, settingsFor, type PipelineResources } from '../helpers/moto';
import { afterMaxWait, builderOn, deliverUntilDone, spreadOver, sweepOn } from '../helpers/pipeline-fixture';
import { notificationOf, uploaded, type UploadedObject } from '../helpers/s3-events';

const GLUE_JOB = 'convert-test';

let server: MotoServer;
let resources: PipelineResources;
let settings: HandlerSettings;
let ctx: CliContext;

beforeAll(async () => {
  server = await MotoServer.start();
});

afterAll(async () => {
  for (const client of [ctx?.s3, ctx?.sqs, ctx?.sfn, ctx?.ddb]) client?.destroy();
  await server?.stop();
});

/** Fresh resources, a Glue job allowing `maxConcurrentRuns` runs, and the CLI's context on them. */
async function freshPipeline(maxConcurrentRuns: number): Promise<void> {
  await server.reset();
  resources = await server.createPipelineResources();
  settings = settingsFor(resources);
  const glue = new GlueClient(server.clientConfig());
  await glue.send(
    new CreateJobCommand({
      Name: GLUE_JOB,
      Role: 'arn:aws:iam::123456789012:role/glue',
      Command: { Name: 'glueetl', ScriptLocation: 's3://assets/job.py' },
      ExecutionProperty: { MaxConcurrentRuns: maxConcurrentRuns },
    }),
  );
  glue.destroy();
  const { endpoint, credentials } = server.clientConfig();
  ctx = createContext({
    mode: 'local',
    region: 'us-east-1',
    endpoint,
    credentials,
    ingestBucket: resources.ingestBucket,
    curatedBucket: resources.curatedBucket,
    ingestQueueUrl: 'unused',
    ingestDlqUrl: 'unused',
    stateTable: resources.stateTable,
    idempotencyTable: resources.idempotencyTable,
    stateMachineArn: resources.stateMachineArn,
    glueJobName: GLUE_JOB,
    glueDatabase: 'unused',
    alertTopicArn: 'unused',
  });
}

function files(dataset: string, n: number, from = 0): UploadedObject[] {
  return Array.from({ length: n }, (_, i) => uploaded(resources.ingestBucket, `incoming/${dataset}/part-${from + i}.ndjson`, 100 + i));
}

async function expectInvariants(objects: UploadedObject[]): Promise<void> {
  const state = await readFinalState(server.clients(), resources);
  expect(invariantViolations(state, objects, settings.batchSize, resources.stateMachineArn)).toEqual([]);
}

test('a flush seals the open manifest (sealReason flush), starts the execution named after it and records it; the next file opens another', async () => {
  await freshPipeline(5);
  const builder = builderOn(server.clients(), settings);
  const first = files('orders', 3);
  await deliverUntilDone(builder, first.map(notificationOf));
  const store = stateStoreOf(ctx);
  const openId = (await store.getPointer('orders'))!.manifestId!;

  const [result, ...others] = await flushDataset(ctx, 'orders');

  expect(others).toEqual([]);
  expect(result).toMatchObject({ outcome: 'sealed', manifestId: openId, fileCount: 3, queued: false });
  const executionArn = (result as { executionArn: string }).executionArn;
  expect(executionArn.split(':').pop()).toBe(openId);
  const meta = await store.getManifest(openId);
  expect(meta).toMatchObject({ status: 'SEALED', sealReason: 'flush', executions: [executionArn], fileCount: 3 });
  expect(meta!.pendingSk).toBeUndefined();
  const described = await ctx.sfn.send(new DescribeExecutionCommand({ executionArn }));
  expect(JSON.parse(described.input!)).toMatchObject({ manifestId: openId, dataset: 'orders', fileCount: 3 });
  expect((await store.getPointer('orders'))!.manifestId).toBeUndefined();

  expect(await flushDataset(ctx, 'orders')).toEqual([{ dataset: 'orders', outcome: 'nothing-open' }]);
  const later = files('orders', 1, 10);
  await deliverUntilDone(builder, later.map(notificationOf));
  const nextId = (await store.getPointer('orders'))!.manifestId!;
  expect(nextId).not.toBe(openId);

  await flushDataset(ctx, 'orders');
  await expectInvariants([...first, ...later]);
});

test('a flush while the Glue job runs all it may leaves the manifest queued; the sweeper starts it', async () => {
  // Moto runs no execution: the first flushed one stays RUNNING and takes the only run the job allows.
  await freshPipeline(1);
  const builder = builderOn(server.clients(), settings);
  const orders = files('orders', 2);
  const clicks = files('clicks', 2);
  await deliverUntilDone(builder, [...orders, ...clicks].map(notificationOf));

  expect(await flushDataset(ctx, 'orders')).toMatchObject([{ outcome: 'sealed', queued: false }]);
  const [queued] = await flushDataset(ctx, 'clicks');
  expect(queued).toMatchObject({ outcome: 'sealed', queued: true });
  const queuedId = (queued as { manifestId: string }).manifestId;
  expect(await stateStoreOf(ctx).getManifest(queuedId)).toMatchObject({ status: 'SEALED', pendingSk: expect.any(String) });

  const report = await sweepOn(server.clients(), settings, afterMaxWait(settings));
  expect(report.started).toEqual([queuedId]);
  await expectInvariants([...orders, ...clicks]);
});

test('flushes racing the builder: every file in exactly one manifest, each manifest started once', async () => {
  await freshPipeline(1000);
  const objects = files('orders', 12);
  const builders = [builderOn(server.clients(), settings), builderOn(server.clients(), settings)];

  await Promise.all([
    deliverUntilDone(builders[0], objects.slice(0, 6).map(notificationOf)),
    deliverUntilDone(builders[1], objects.slice(6).map(notificationOf)),
    (async () => {
      for (let i = 0; i < 4; i++) await flushDataset(ctx, 'orders').catch(() => undefined);
    })(),
  ]);
  await flushDataset(ctx, 'orders');
  const report = await sweepOn(server.clients(), settings, afterMaxWait(settings));
  expect(report.failed).toEqual([]);

  await expectInvariants(objects);
});

test("a flush seals every write shard's open manifest, the shards a dataset no longer writes to included", async () => {
  await freshPipeline(1000);
  // Room for every file: no manifest fills, each shard's stays open.
  settings = { ...settings, batchSize: 50 };
  await spreadOver(server.clients(), resources.stateTable, 'orders', 3);
  const objects = files('orders', 12);
  await deliverUntilDone(builderOn(server.clients(), settings), objects.map(notificationOf));
  const store = stateStoreOf(ctx);
  // The dataset narrowed meanwhile: shards 1 and 2 are no longer written, and their manifests are still open.
  expect(await store.narrow('orders', 3, 1)).toBe(true);
  const open = await Promise.all([0, 1, 2].map((shard) => store.getShardPointer('orders', shard)));

  const results = await flushDataset(ctx, 'orders');

  expect(open.every((p) => p?.manifestId !== undefined)).toBe(true);
  expect(results.map((r) => (r as { manifestId: string }).manifestId)).toEqual(open.map((p) => p!.manifestId));
  expect(results.every((r) => r.outcome === 'sealed')).toBe(true);
  expect(results.reduce((n, r) => n + (r as { fileCount: number }).fileCount, 0)).toBe(12);
  expect(await flushDataset(ctx, 'orders')).toEqual([{ dataset: 'orders', outcome: 'nothing-open' }]);
  await expectInvariants(objects);
});
