/**
 * A backlog of 1,000 queued manifests against moto (real DynamoDB, S3, SNS and Step Functions APIs; executions are
 * recorded, not run): sweeps start them oldest first into the capacity slots, never more than the slots at once,
 * each sweep with a bounded number of calls whatever the backlog, until every manifest is started.
 */
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { ListExecutionsCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { BatchWriteCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '../../handlers/common/aws-clients';
import { MetricTally } from '../../handlers/common/observability';
import { enqueueSealedManifest, sealerDepsOf } from '../../handlers/common/sealer';
import { StateStore } from '../../handlers/common/state-store';
import { buildManifestDocument, executionInputOf, manifestIdOf } from '../../handlers/domain/manifest';
import { sweep, type SweepReport } from '../../handlers/sweeper/sweep';
import type { HandlerSettings } from '../../contracts/lambda-environment';
import { keys } from '../../contracts/table-schema';
import { MotoServer, settingsFor, type PipelineResources } from '../helpers/moto';
import { RecordingMetrics, silentLogger } from '../helpers/pipeline-fixture';
import { uploaded } from '../helpers/s3-events';

jest.setTimeout(30 * 60_000);

const BACKLOG = 1000;
const SLOTS = 50;
const DATASETS = ['orders', 'clicks', 'users', 'events'];

let server: MotoServer;
let resources: PipelineResources;
let settings: HandlerSettings;

beforeAll(async () => {
  server = await MotoServer.start();
  resources = await server.createPipelineResources();
  const { sns } = server.clients();
  const topic = await sns.send(new CreateTopicCommand({ Name: 'alerts' }));
  settings = settingsFor(resources, { batchSize: 1, maxConcurrentRuns: SLOTS, alertTopicArn: topic.TopicArn });
});

afterAll(async () => {
  await server?.stop();
});

/** Counts every AWS call made through `clients` (the state store's document client shares the DynamoDB client's stack). */
function countCalls(clients: AwsClients): { reset(): void; total(): number; byCommand(): Record<string, number> } {
  let counts: Record<string, number> = {};
  type Stack = { add(middleware: unknown, options: { step: string; name: string }): void };
  for (const client of [clients.dynamodb, clients.s3, clients.sfn, clients.sns] as unknown as Array<{ middlewareStack: Stack }>) {
    client.middlewareStack.add(
      (next: (args: any) => Promise<any>, context: { commandName?: string }) => async (args: any) => {
        const name = context.commandName ?? 'unknown';
        counts[name] = (counts[name] ?? 0) + 1;
        return next(args);
      },
      { step: 'initialize', name: 'countCalls' },
    );
  }
  return {
    reset: () => (counts = {}),
    total: () => Object.values(counts).reduce((a, b) => a + b, 0),
    byCommand: () => ({ ...counts }),
  };
}

/**
 * 1,000 manifests of one file each, sealed full one after the other (`sealedAt` one second apart, interleaved across
 * datasets, so the queue's order is the seal's, not a dataset's nor an id's) and queued, as builders leave them when
 * every slot is held: the items a seal and `enqueueSealedManifest` write (the SEALED record in the `pending` index,
 * its file, its queue entry with the execution input), written in batches to keep the setup short. The real
 * `enqueueSealedManifest` of one of them must find its entry already there, the same.
 */
async function queueBacklog(clients: AwsClients, base: number): Promise<string[]> {
  const doc = DynamoDBDocumentClient.from(clients.dynamodb);
  const items: Array<Record<string, unknown>> = [];
  const order: string[] = [];
  const seqs = new Map<string, number>();
  for (let i = 0; i < BACKLOG; i++) {
    const dataset = DATASETS[i % DATASETS.length];
    const seq = (seqs.get(dataset) ?? 0) + 1;
    seqs.set(dataset, seq);
    const manifestId = manifestIdOf(dataset, '20261201', seq);
    const sealedAt = new Date(base + i * 1000).toISOString();
    const openedAt = new Date(base + i * 1000 - 500).toISOString();
    const object = uploaded(resources.ingestBucket, `incoming/${dataset}/part-${i}.ndjson`);
    const file = {
      bucket: object.bucket,
      key: object.key,
      size: object.size,
      eTag: `etag-${i}`,
      sequencer: object.sequencer,
      versionId: `v${i}`,
    };
    const meta = {
      manifestId,
      dataset,
      status: 'SEALED' as const,
      openedAt,
      ingestDate: '2026-12-01',
      sealedAt,
      sealReason: 'full' as const,
    };
    const input = JSON.stringify(executionInputOf(buildManifestDocument(meta, [file]), settings.curatedBucket));
    items.push(
      {
        ...keys.manifest(manifestId),
        ...meta,
        gsi1pk: keys.day('2026-12-01'),
        gsi1sk: `${openedAt}#${manifestId}`,
        pendingPk: keys.pending,
        pendingSk: `${openedAt}#${manifestId}`,
      },
      { ...keys.manifestFile(manifestId, file.key, file.eTag), ...file },
      {
        ...keys.queueEntry(1, sealedAt, manifestId),
        manifestId,
        dataset,
        executionName: manifestId,
        replay: 0,
        input,
        queuedAt: sealedAt,
        rank: 1,
      },
    );
    order.push(manifestId);
  }
  for (let i = 0; i < items.length; i += 25) {
    const batch = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    const out = await doc.send(new BatchWriteCommand({ RequestItems: { [settings.stateTable]: batch } }));
    expect(Object.keys(out.UnprocessedItems ?? {})).toEqual([]);
  }
  const sealer = sealerDepsOf({ clients, settings, logger: silentLogger(), tally: new MetricTally(), clock: () => new Date() });
  const written = (await new StateStore(clients.dynamodb, settings.stateTable).listQueue(2))[1];
  expect(await enqueueSealedManifest(sealer, order[1])).toEqual({ entry: written });
  return order;
}

async function runningExecutions(clients: AwsClients): Promise<string[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await clients.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: resources.stateMachineArn, statusFilter: 'RUNNING', maxResults: 1000, nextToken }),
    );
    names.push(...(page.executions ?? []).map((e) => e.name!));
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return names;
}

/**
 * Ends every running execution: most as the state machine ends a conversion (RecordSuccess, then
 * ReleaseSlotAfterSuccess gives the slot back), every seventh aborted before recording anything, its slot and its
 * outcome left to the sweeper.
 */
async function endRuns(clients: AwsClients, names: readonly string[], doc: DynamoDBDocumentClient, store: StateStore): Promise<void> {
  await Promise.all(
    names.map(async (name) => {
      const executionArn = `${resources.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
      if (Number(name.slice(-6)) % 7 !== 0) {
        await doc.send(
          new UpdateCommand({
            TableName: settings.stateTable,
            Key: keys.manifest(name),
            UpdateExpression: 'SET #status = :succeeded, finishedAt = :now REMOVE runningPk, runningSk',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':succeeded': 'SUCCEEDED', ':now': new Date().toISOString() },
          }),
        );
        expect(await store.releaseSlot(name)).toBe(true);
      }
      await clients.sfn.send(new StopExecutionCommand({ executionArn }));
    }),
  );
}

test('1,000 queued manifests start oldest first, never more than the slots at once, each sweep within a bounded number of calls', async () => {
  const inspector = server.clients();
  const doc = DynamoDBDocumentClient.from(inspector.dynamodb);
  const inspectorStore = new StateStore(inspector.dynamodb, settings.stateTable);
  const order = await queueBacklog(server.clients(), Date.parse('2026-12-01T00:00:00.000Z'));
  expect((await inspectorStore.listQueue()).map((e) => e.manifestId)).toEqual(order);

  const clients = server.clients();
  const calls = countCalls(clients);
  const started: string[] = [];
  const perSweep: Array<{ calls: number; started: number; recorded: number; freed: number; byCommand: Record<string, number> }> = [];
  let report: SweepReport | undefined;
  for (let round = 0; started.length < BACKLOG || (report?.queued.length ?? 1) > 0; round++) {
    // A sweep whose time budget runs out (a slow emulator) starts fewer: the next one goes on from the head.
    if (round > 3 * (BACKLOG / SLOTS) + 20) throw new Error(`backlog not cleared after ${round} sweeps: ${started.length} started`);
    if (round === 5) {
      // A starter that stopped between taking a slot and StartExecution: its slot names the head of the queue.
      const head = (await inspectorStore.listQueue(1))[0];
      expect(await inspectorStore.takeSlot(head.executionName, head.manifestId, SLOTS, new Date())).toBe('taken');
    }
    calls.reset();
    report = await sweep(
      { clients, settings, logger: silentLogger(), metrics: new RecordingMetrics() },
      new Date(Date.now() + 10 * 60_000),
    );

    perSweep.push({
      calls: calls.total(),
      started: report.started.length,
      recorded: report.endedRecorded.length,
      freed: report.slotsFreed.length,
      byCommand: calls.byCommand(),
    });
    expect(report.failed).toEqual([]);
    started.push(...report.started);

    const running = await runningExecutions(inspector);
    expect(running.length).toBeLessThanOrEqual(SLOTS);
    expect(Object.keys((await inspectorStore.getSlots()).holders).length).toBeLessThanOrEqual(SLOTS);
    await endRuns(inspector, running, doc, inspectorStore);
  }

  // Oldest first, every one once, whichever sweep (or crashed starter's slot) started it.
  expect(started).toEqual(order);
  expect(await inspectorStore.listQueue()).toEqual([]);
  // Each sweep: a fixed number of reads (indexes, slots, queue, running executions; the slots item created once), five
  // calls per start, seven per execution that ended without recording an outcome (recorded FAILED and alerted) and two
  // per slot given back; never more starts nor records than slots. Nothing per queued manifest.
  for (const s of perSweep) {
    const bound = 15 + 5 * s.started + 7 * s.recorded + 2 * s.freed;
    expect({ ...s, withinBound: s.calls <= bound, atMostSlots: s.started <= SLOTS && s.recorded <= SLOTS }).toMatchObject({
      withinBound: true,
      atMostSlots: true,
    });
  }
  expect(perSweep.some((s) => s.recorded > 0 && s.freed > 0)).toBe(true);
  // The first sweep, with all 1,000 queued, costs no more than a sweep with a few left.
  expect(perSweep[0].calls).toBeLessThanOrEqual(15 + 5 * SLOTS);
});
