/**
 * The manifest builder and the sweeper against moto (real DynamoDB, S3 and Step Functions APIs), under the
 * faults a deployment sees. Every test ends on the same check: invariantViolations() is empty.
 */
import type { SQSRecord } from 'aws-lambda';
import type { AwsClients } from '../../handlers/common/aws-clients';
import type { HandlerSettings } from '../../contracts/lambda-environment';
import { CallCounter, failCommand } from '../helpers/faults';
import { invariantViolations, readFinalState } from '../helpers/final-state';
import { MotoServer, settingsFor, type PipelineResources } from '../helpers/moto';
import { RecordingMetrics, afterMaxWait, builderOn, deliver, deliverUntilDone, spreadOver, sweepOn } from '../helpers/pipeline-fixture';
import { StateStore } from '../../handlers/common/state-store';
import { chunks, notificationOf, shuffled, uploaded, type UploadedObject } from '../helpers/s3-events';

/** The crash tests run the batch once per AWS call it makes: minutes on a busy machine (14 at a load of 25 on 2 cores). */
const CRASH_LOOP_TIMEOUT_MS = 1_500_000;

let server: MotoServer;
let resources: PipelineResources;
let settings: HandlerSettings;
let inspector: AwsClients;

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
}

/** `n` uploads spread over two datasets, one with a key S3 has to encode. */
function uploads(n: number): UploadedObject[] {
  return Array.from({ length: n }, (_, i) =>
    uploaded(
      'ingest-test',
      i % 3 === 0 ? `incoming/clicks/2026/11/part ${i} é+%.ndjson` : `incoming/orders/2026/11/${String(i).padStart(3, '0')}.ndjson`,
      1000 + i,
    ),
  );
}

async function expectInvariants(objects: UploadedObject[]): Promise<void> {
  const state = await readFinalState(inspector, resources);
  expect(invariantViolations(state, objects, settings.batchSize, resources.stateMachineArn)).toEqual([]);
}

/** Flushes what is still open, as the sweeper does once maxWaitMinutes passed. */
async function sweepEverything(): Promise<void> {
  const report = await sweepOn(server.clients(), settings, afterMaxWait(settings));
  expect(report.failed).toEqual([]);
}

test('every notification delivered 3 times in shuffled order: each file in exactly one manifest', async () => {
  await freshPipeline();
  const objects = uploads(17);
  const deliveries = shuffled([...objects, ...objects, ...objects].map(notificationOf), 7);
  const metrics = new RecordingMetrics();
  const builder = builderOn(server.clients(), settings, metrics);

  for (const batch of chunks(deliveries, 10)) await deliverUntilDone(builder, batch);
  await sweepEverything();

  await expectInvariants(objects);
  expect(metrics.total('FilesAccepted')).toBe(17);
  expect(metrics.total('DuplicatesSkipped')).toBe(34);
  // 11 orders and 6 clicks at 5 per manifest: two full manifests of orders, one of clicks.
  expect(metrics.total('ManifestsSealedFull')).toBe(3);
});

/** The shards of the manifests on the emulator, by dataset. */
async function shardsInUse(): Promise<Map<string, Set<number>>> {
  const state = await readFinalState(inspector, resources);
  const shards = new Map<string, Set<number>>();
  for (const { meta } of state.manifests.values())
    shards.set(meta.dataset, new Set([...(shards.get(meta.dataset) ?? []), Number(meta.shard ?? 0)]));
  return shards;
}

test(
  'a crash before any one of the AWS calls, then the batch redelivered: each file in exactly one manifest, on one shard and on three',
  async () => {
    const objects = uploads(7);
    const batch = objects.map(notificationOf);
    // `orders` spreads its files over three write shards, `clicks` stays on one: both paths in every run. With three
    // files a manifest, `clicks` fills shard 0's and `orders` fills one of its other shards' (the keys decide which).
    const pipeline = async () => {
      await freshPipeline({ batchSize: 3 });
      await spreadOver(inspector, resources.stateTable, 'orders', 3);
    };

    // A run without faults numbers the calls a delivery of this batch makes.
    await pipeline();
    const reference = new CallCounter();
    await deliverUntilDone(builderOn(reference.attach(server.clients()), settings), batch);
    const totalCalls = reference.calls.length;
    expect(totalCalls).toBeGreaterThan(20);
    expect((await shardsInUse()).get('orders')?.size).toBeGreaterThan(1);
    const full = [...(await readFinalState(inspector, resources)).manifests.values()].filter((m) => m.meta.sealReason === 'full');
    expect(full.map((m) => [m.meta.dataset, Number(m.meta.shard ?? 0) > 0]).sort()).toEqual([
      ['clicks', false],
      ['orders', true],
    ]);

    for (let crashAt = 1; crashAt <= totalCalls; crashAt++) {
      await pipeline();
      const crashing = new CallCounter(crashAt);
      // Remaining time 1 ms: by the redelivery the crashed invocation's in-progress idempotency records have expired,
      // as they have in Lambda once the visibility timeout (longer than the function timeout) passed.
      const left = await deliver(builderOn(crashing.attach(server.clients()), settings), batch, 1);
      expect(left.length).toBeGreaterThan(0);

      await deliverUntilDone(builderOn(server.clients(), settings), batch);
      await sweepEverything();
      const state = await readFinalState(inspector, resources);
      const problems = invariantViolations(state, objects, settings.batchSize, resources.stateMachineArn);
      if (problems.length > 0) throw new Error(`crash before call #${crashAt} (${reference.calls[crashAt - 1]}): ${problems.join('; ')}`);
    }
  },
  CRASH_LOOP_TIMEOUT_MS,
);

test('4 invocations running concurrently on overlapping batches', async () => {
  await freshPipeline();
  const objects = uploads(24);
  const messages = objects.map(notificationOf);
  // Each invocation gets half the files, shifted: every file is in two batches, some in three.
  const batches: SQSRecord[][] = [0, 6, 12, 18].map((start) =>
    Array.from({ length: 12 }, (_, i) => messages[(start + i) % messages.length]),
  );
  batches[3].push(...messages.slice(3, 6));
  const lambdas = batches.map(() => builderOn(server.clients(), settings));

  const left = await Promise.all(batches.map((b, i) => deliver(lambdas[i], shuffled(b, i + 1))));
  await Promise.all(left.map((l, i) => deliverUntilDone(lambdas[i], l)));
  await sweepEverything();

  await expectInvariants(objects);
});

test('StartExecution failing once, then succeeding on redelivery', async () => {
  await freshPipeline();
  const objects = uploads(15)
    .filter((o) => o.key.includes('/orders/'))
    .slice(0, 5);
  const clients = server.clients();
  const injected = failCommand(clients.sfn, 'StartExecutionCommand', 1);
  const builder = builderOn(clients, settings);
  const messages = objects.map(notificationOf);

  const left = await deliver(builder, messages);
  expect(injected.failures).toBe(1);
  // The fifth file filled the manifest; its seal went through, its start did not: that message is redelivered.
  expect(left.map((r) => r.messageId)).toEqual([messages[4].messageId]);
  const sealed = await readFinalState(inspector, resources);
  expect([...sealed.manifests.values()].map((m) => m.meta.status)).toEqual(['SEALED']);
  expect(sealed.executions.size).toBe(0);

  await deliverUntilDone(builder, left);

  await expectInvariants(objects);
});

test('the sweeper flushes partial manifests while files keep arriving', async () => {
  await freshPipeline({ batchSize: 4 });
  const objects = uploads(30);
  const builder = builderOn(server.clients(), settings);
  const sweeperClients = server.clients();
  const sweepMetrics = new RecordingMetrics();
  let sweeping = true;
  const sweeper = (async () => {
    let runs = 0;
    while (sweeping || runs < 1) {
      // Every manifest is past maxWaitMinutes for this sweeper: it seals whatever is open.
      const report = await sweepOn(sweeperClients, settings, afterMaxWait(settings), sweepMetrics);
      expect(report.failed).toEqual([]);
      runs += 1;
    }
    return runs;
  })();

  for (const batch of chunks(objects.map(notificationOf), 3)) await deliverUntilDone(builder, batch);
  sweeping = false;
  const runs = await sweeper;
  await sweepEverything();

  expect(runs).toBeGreaterThan(1);
  expect(sweepMetrics.total('ManifestsSealedTimeout')).toBeGreaterThan(0);
  await expectInvariants(objects);
});

test(
  'a crash of the sweeper before any one of its AWS calls, then the next run, with a dataset over three shards',
  async () => {
    const objects = uploads(8);
    const batch = objects.map(notificationOf);
    await freshPipeline();
    await spreadOver(inspector, resources.stateTable, 'orders', 3);
    await deliverUntilDone(builderOn(server.clients(), settings), batch);
    const reference = new CallCounter();
    await sweepOn(reference.attach(server.clients()), settings, afterMaxWait(settings));
    const totalCalls = reference.calls.length;
    expect(totalCalls).toBeGreaterThan(5);

    for (let crashAt = 1; crashAt <= totalCalls; crashAt++) {
      await freshPipeline();
      await spreadOver(inspector, resources.stateTable, 'orders', 3);
      await deliverUntilDone(builderOn(server.clients(), settings), batch);
      const crashing = new CallCounter(crashAt);
      // A crash inside listPending rejects the run; one later on is caught per manifest and reported.
      await sweepOn(crashing.attach(server.clients()), settings, afterMaxWait(settings)).catch(() => undefined);
      expect(crashing.calls.length).toBeGreaterThanOrEqual(crashAt);

      await sweepEverything();
      const state = await readFinalState(inspector, resources);
      const problems = invariantViolations(state, objects, settings.batchSize, resources.stateMachineArn);
      if (problems.length > 0)
        throw new Error(`sweeper crash before call #${crashAt} (${reference.calls[crashAt - 1]}): ${problems.join('; ')}`);
    }
  },
  CRASH_LOOP_TIMEOUT_MS,
);

test('the same file placed by four writers at once, idempotency bypassed: the state table alone keeps it in one manifest', async () => {
  await freshPipeline();
  const [object] = uploads(2).filter((o) => o.key.includes('/orders/'));
  const file = {
    identity: `${object.bucket}/${object.key}#${object.eTag!}`,
    dataset: 'orders',
    bucket: object.bucket,
    key: object.key,
    size: object.size,
    eTag: object.eTag!,
    sequencer: object.sequencer,
  };
  const writers = [1, 2, 3, 4].map(() => builderOn(server.clients(), settings));

  const placements = await Promise.all(writers.map((w) => w.placeFile(file)));

  expect(placements.filter((p) => p.outcome === 'accepted')).toHaveLength(1);
  expect(new Set(placements.map((p) => p.manifestId)).size).toBe(1);
  await sweepEverything();
  await expectInvariants([object]);
  const state = await readFinalState(inspector, resources);
  expect([...state.manifests.values()][0].meta.fileCount).toBe(1);
});

test('six builders on one dataset at once: the dataset spreads over more shards, each file in exactly one manifest', async () => {
  await freshPipeline({ batchSize: 5, maxShardsPerDataset: 4 });
  const objects = Array.from({ length: 90 }, (_, i) =>
    uploaded('ingest-test', `incoming/orders/2026/11/${String(i).padStart(3, '0')}.ndjson`, 500 + i),
  );
  const messages = objects.map(notificationOf);
  const lambdas = Array.from({ length: 6 }, () => builderOn(server.clients(), settings));
  // Each builder takes the next SQS batch of 3, as Lambda's pollers hand them out; every third file is delivered twice.
  const queue = chunks([...messages, ...messages.filter((_, i) => i % 3 === 0)], 3);
  let next = 0;

  await Promise.all(
    lambdas.map(async (lambda) => {
      while (next < queue.length) await deliverUntilDone(lambda, queue[next++]);
    }),
  );
  const widened = await new StateStore(inspector.dynamodb, resources.stateTable).getPointer('orders');
  await sweepEverything();

  await expectInvariants(objects);
  expect(widened?.shards).toBeGreaterThan(1);
  expect(widened?.shards).toBeLessThanOrEqual(4);
  expect((await shardsInUse()).get('orders')?.size).toBeGreaterThan(1);
});

test("the sweeper seals every shard's open manifest once due, counts them in the age gauge until then, and narrows a quiet dataset", async () => {
  await freshPipeline({ batchSize: 50 });
  await spreadOver(inspector, resources.stateTable, 'orders', 3);
  const objects = Array.from({ length: 24 }, (_, i) => uploaded('ingest-test', `incoming/orders/part-${i}.ndjson`, 100 + i));
  await deliverUntilDone(builderOn(server.clients(), settings), objects.map(notificationOf));
  const open = [...(await readFinalState(inspector, resources)).manifests.values()].map((m) => m.meta);
  const store = new StateStore(inspector.dynamodb, resources.stateTable);

  // Ten minutes on: none is due (maxWaitMinutes 15); every shard's manifest is in the gauge.
  const early = await sweepOn(server.clients(), settings, new Date(Date.now() + 10 * 60_000));
  const due = await sweepOn(server.clients(), settings, afterMaxWait(settings));
  const after = await store.getPointer('orders');

  expect(open.map((m) => m.shard).sort()).toEqual([0, 1, 2]);
  expect(early.sealed).toEqual([]);
  expect(early.oldestOpenManifestAgeSeconds).toBeGreaterThanOrEqual(599);
  expect(due.sealed.sort()).toEqual(open.map((m) => m.manifestId).sort());
  expect(due.narrowed).toEqual([{ dataset: 'orders', from: 3, to: 1 }]);
  expect(after).toMatchObject({ shards: 1, widest: 3 });
  await expectInvariants(objects);

  // Files of the quiet dataset go to one manifest again.
  const later = Array.from({ length: 6 }, (_, i) => uploaded('ingest-test', `incoming/orders/later-${i}.ndjson`, 10 + i));
  await deliverUntilDone(builderOn(server.clients(), settings), later.map(notificationOf));
  await sweepEverything();
  const state = await readFinalState(inspector, resources);
  const holders = new Set(later.map((o) => [...state.manifests.values()].find((m) => m.keys.includes(o.key))?.meta.manifestId));
  expect(holders.size).toBe(1);
  await expectInvariants([...objects, ...later]);
});
