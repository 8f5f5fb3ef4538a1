import { GetJobCommand, GlueClient } from '@aws-sdk/client-glue';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { runCli } from '../../../../cli/main';
import { flushDataset, flushManifest } from '../../../../cli/ops/flush';
import { cloudTarget, executionArn, testContext } from '../fixtures';

const ID = 'orders-20261123-000042';
const NOW = new Date('2026-11-23T12:00:00Z');

const glue = mockClient(GlueClient);

function transactionCancelled(code: string): Error {
  return Object.assign(new Error(`Transaction cancelled [${code}]`), {
    name: 'TransactionCanceledException',
    CancellationReasons: [{ Code: code }, { Code: 'None' }],
  });
}

const FILES = [
  {
    pk: `MANIFEST#${ID}`,
    sk: 'F#incoming/orders/b.ndjson#e2',
    bucket: 'ingest-bucket',
    key: 'incoming/orders/b.ndjson',
    size: 20,
    eTag: 'e2',
    sequencer: '02',
    versionId: 'v2',
  },
  {
    pk: `MANIFEST#${ID}`,
    sk: 'F#incoming/orders/a.ndjson#e1',
    bucket: 'ingest-bucket',
    key: 'incoming/orders/a.ndjson',
    size: 10,
    eTag: 'e1',
    sequencer: '01',
    versionId: 'v1',
  },
];

/**
 * A context whose table holds `orders`' open manifest with `count` files, and `running` executions holding capacity
 * slots; the seal, the queue and the start go through.
 */
function pipelineWithOpenManifest(count: number, opts: { running?: number; maxConcurrentRuns?: number } = {}) {
  const ctx = testContext(cloudTarget, NOW);
  const ddb = mockClient(ctx.ddb);
  const s3 = mockClient(ctx.s3);
  const sfn = mockClient(ctx.sfn);
  const order: string[] = [];
  let status = 'OPEN';
  ddb.on(GetCommand, { Key: { pk: 'OPEN#orders', sk: 'META' } }).resolves({
    Item: { pk: 'OPEN#orders', sk: 'META', manifestId: ID, count, openedAt: '2026-11-23T11:58:00.000Z', day: '2026-11-23', seq: 42 },
  });
  ddb.on(GetCommand, { Key: { pk: `MANIFEST#${ID}`, sk: 'META' } }).callsFake(() => ({
    Item: {
      manifestId: ID,
      dataset: 'orders',
      status,
      openedAt: '2026-11-23T11:58:00.000Z',
      ingestDate: '2026-11-23',
      ...(status === 'OPEN' ? {} : { sealedAt: NOW.toISOString(), sealReason: 'flush' }),
      pendingSk: `2026-11-23T11:58:00.000Z#${ID}`,
    },
  }));
  ddb.on(TransactWriteCommand).callsFake(() => {
    order.push('seal');
    status = 'SEALED';
    return {};
  });
  const holders: Record<string, { manifestId: string; takenAt: string }> = Object.fromEntries(
    Array.from({ length: opts.running ?? 0 }, (_, i) => [`x-${i}`, { manifestId: `x-${i}`, takenAt: NOW.toISOString() }]),
  );
  let queued: Record<string, unknown> | undefined;
  ddb.on(GetCommand, { Key: { pk: 'SLOTS', sk: 'META' } }).callsFake(() => ({ Item: { pk: 'SLOTS', sk: 'META', holders } }));
  ddb.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
    order.push('queue');
    queued = input.Item;
    return {};
  });
  ddb
    .on(QueryCommand)
    .callsFake((input: { ExpressionAttributeValues?: Record<string, unknown> }) =>
      input.ExpressionAttributeValues?.[':queue'] === 'QUEUE' ? { Items: queued === undefined ? [] : [queued] } : { Items: FILES },
    );
  ddb.on(UpdateCommand).callsFake((input: { Key: { pk: string } }) => {
    order.push(input.Key.pk === 'SLOTS' ? 'slot' : 'record');
    return {};
  });
  ddb.on(DeleteCommand).callsFake(() => {
    order.push('dequeue');
    queued = undefined;
    return {};
  });
  s3.on(PutObjectCommand).callsFake(() => {
    order.push('manifest-file');
    return {};
  });
  sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => {
    order.push('start');
    return { executionArn: executionArn(input.name), startDate: NOW };
  });
  glue.reset();
  glue.on(GetJobCommand).resolves({ Job: { Name: 'convert', ExecutionProperty: { MaxConcurrentRuns: opts.maxConcurrentRuns ?? 5 } } });
  return { ctx, ddb, s3, sfn, order, setStatus: (s: string) => (status = s) };
}

describe('flushDataset', () => {
  it('seals the open manifest with reason flush, writes its manifest file, queues it, takes a slot, starts the execution named after it, then records it (I3)', async () => {
    const { ctx, ddb, s3, sfn, order } = pipelineWithOpenManifest(2);

    const [result, ...others] = await flushDataset(ctx, 'orders');

    expect(others).toEqual([]);
    expect(result).toEqual({
      dataset: 'orders',
      outcome: 'sealed',
      manifestId: ID,
      fileCount: 2,
      executionArn: executionArn(ID),
      queued: false,
    });
    expect(order).toEqual(['seal', 'manifest-file', 'queue', 'slot', 'start', 'record', 'dequeue']);
    // The seal: conditional on the manifest being OPEN and the pointer naming it, in one transaction.
    const seal = ddb.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems!;
    expect(seal[0].Update!.ConditionExpression).toBe('#status = :open');
    expect(seal[0].Update!.ExpressionAttributeValues).toMatchObject({ ':reason': 'flush', ':sealed': 'SEALED' });
    expect(seal[1].Update!.Key).toEqual({ pk: 'OPEN#orders', sk: 'META' });
    expect(seal[1].Update!.ConditionExpression).toBe('manifestId = :id');
    const start = sfn.commandCalls(StartExecutionCommand)[0].args[0].input;
    expect(start.name).toBe(ID);
    expect(JSON.parse(start.input!)).toMatchObject({ manifestId: ID, dataset: 'orders', fileCount: 2, totalBytes: 30 });
    const manifestFile = JSON.parse(s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string);
    expect(manifestFile).toMatchObject({ manifestId: ID, sealReason: 'flush', fileCount: 2 });
    expect(manifestFile.files.map((f: { key: string }) => f.key)).toEqual(['incoming/orders/a.ndjson', 'incoming/orders/b.ndjson']);
  });

  it("leaves a sealed manifest queued when every capacity slot is held (the Glue job's MaxConcurrentRuns)", async () => {
    const { ctx, sfn, order } = pipelineWithOpenManifest(2, { running: 2, maxConcurrentRuns: 2 });

    const [result] = await flushDataset(ctx, 'orders');

    expect(result).toMatchObject({ outcome: 'sealed', manifestId: ID, queued: true });
    expect(result).not.toHaveProperty('executionArn', expect.anything());
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(order).toEqual(['seal', 'manifest-file', 'queue']);
  });

  it('does nothing when the dataset has no open manifest, or one with no file yet', async () => {
    const none = pipelineWithOpenManifest(0);
    none.ddb
      .on(GetCommand, { Key: { pk: 'OPEN#orders', sk: 'META' } })
      .resolves({ Item: { pk: 'OPEN#orders', sk: 'META', count: 0, day: '2026-11-23', seq: 42 } });
    expect(await flushDataset(none.ctx, 'orders')).toEqual([{ dataset: 'orders', outcome: 'nothing-open' }]);
    expect(none.order).toEqual([]);

    const empty = pipelineWithOpenManifest(0);
    expect(await flushDataset(empty.ctx, 'orders')).toEqual([{ dataset: 'orders', outcome: 'empty', manifestId: ID }]);
    expect(empty.order).toEqual([]);
  });

  it('with a manifest id, seals only that manifest, while it is still open in its shard', async () => {
    const p = pipelineWithOpenManifest(2);
    p.ddb.on(GetCommand, { Key: { pk: 'MANIFEST#orders-20261123-000041', sk: 'META' } }).resolves({
      Item: { manifestId: 'orders-20261123-000041', dataset: 'orders', status: 'SEALED', shard: 0 },
    });
    expect(await flushManifest(p.ctx, 'orders', 'orders-20261123-000041')).toEqual({
      dataset: 'orders',
      outcome: 'not-open',
      manifestId: 'orders-20261123-000041',
    });
    expect(p.order).toEqual([]);
    expect(await flushManifest(p.ctx, 'orders', ID)).toMatchObject({ outcome: 'sealed', manifestId: ID });
  });

  it('starts a manifest someone else sealed in between, without sealing it again', async () => {
    const p = pipelineWithOpenManifest(3);
    p.ddb.on(TransactWriteCommand).callsFake(() => {
      p.setStatus('SEALED');
      throw transactionCancelled('ConditionalCheckFailed');
    });

    const [result] = await flushDataset(p.ctx, 'orders');

    expect(result).toMatchObject({ outcome: 'already-sealed', manifestId: ID, executionArn: executionArn(ID) });
    expect(p.order).toEqual(['manifest-file', 'queue', 'slot', 'start', 'record', 'dequeue']);
  });

  it('gives up with a reason when files keep arriving at the instant of every seal', async () => {
    const p = pipelineWithOpenManifest(3);
    p.ddb.on(TransactWriteCommand).rejects(transactionCancelled('TransactionConflict'));

    await expect(flushDataset(p.ctx, 'orders')).rejects.toThrow(`${ID} is receiving files right now and could not be sealed`);
    expect(p.sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  }, 20_000);

  it('refuses an invalid dataset name before any call', async () => {
    const p = pipelineWithOpenManifest(2);
    await expect(flushDataset(p.ctx, 'Orders')).rejects.toThrow(/dataset "Orders" is not valid/);
    expect(p.ddb.calls()).toHaveLength(0);
  });
});

describe('pipeline flush', () => {
  it('prints what it sealed and started, and the same as JSON', async () => {
    const p = pipelineWithOpenManifest(2);
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: () => undefined, stderrIsTTY: false };

    expect(await runCli(['node', 'pipeline', 'flush', '--dataset', 'orders'], { makeContext: async () => p.ctx, io })).toBe(0);
    expect(out[0]).toBe(`sealed ${ID} (2 files); execution ${ID} started`);
    expect(out.join('\n')).toContain(`npx pipeline status ${ID}`);

    const q = pipelineWithOpenManifest(0);
    const json: string[] = [];
    const code = await runCli(['node', 'pipeline', 'flush', '--dataset', 'orders', '--json'], {
      makeContext: async () => q.ctx,
      io: { ...io, out: (t: string) => json.push(t) },
    });
    expect(code).toBe(0);
    expect(JSON.parse(json.join('\n'))).toEqual([{ dataset: 'orders', outcome: 'empty', manifestId: ID }]);
  });

  it('needs --dataset', async () => {
    const err: string[] = [];
    const code = await runCli(['node', 'pipeline', 'flush'], {
      makeContext: async () => testContext(),
      io: { out: () => undefined, err: (t) => err.push(t), stderrIsTTY: false },
    });
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/--dataset/);
  });
});
