import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionStatus,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetJobCommand, GlueClient } from '@aws-sdk/client-glue';
import { DeleteCommand, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { ManifestRecord } from '../../../../handlers/common/state-store';
import {
  findFailedManifests,
  manifestIdOfExecution,
  redriveManifest,
  replayExecutionName,
  replayManifest,
  replayRefusal,
} from '../../../../cli/ops/replay';
import { runCli } from '../../../../cli/main';
import { cloudTarget, executionArn, localTarget, mockStartQueue, STATE_MACHINE_ARN, testContext } from '../fixtures';

const ID = 'orders-20261123-000042';
const INPUT = {
  manifestId: ID,
  dataset: 'orders',
  manifestUri: `s3://curated-bucket/manifests/orders/${ID}.json`,
  resultUri: `s3://curated-bucket/manifests/orders/${ID}.result.json`,
  resultKey: `manifests/orders/${ID}.result.json`,
  ingestDate: '2026-11-23',
  fileCount: 2,
  totalBytes: 7340032,
};

function record(overrides: Partial<ManifestRecord> = {}): ManifestRecord {
  return {
    manifestId: ID,
    dataset: 'orders',
    status: 'FAILED',
    manifestUri: INPUT.manifestUri,
    ingestDate: INPUT.ingestDate,
    fileCount: 2,
    totalBytes: 7340032,
    executionArn: executionArn(ID),
    executions: [executionArn(ID)],
    ...overrides,
  };
}

describe('replayExecutionName', () => {
  it('names replay n <manifestId>-r<n>', () => {
    expect(replayExecutionName(ID, 1)).toBe(`${ID}-r1`);
    expect(replayExecutionName(ID, 12)).toBe(`${ID}-r12`);
  });

  it('refuses a name over the 80 characters Step Functions allows', () => {
    expect(() => replayExecutionName(`${'a'.repeat(70)}-20261123-000001`, 1)).toThrow(/exceeds Step Functions' 80 characters/);
  });
});

describe('replayRefusal', () => {
  const ended = (status: 'FAILED' | 'SUCCEEDED' | 'TIMED_OUT' | 'ABORTED') => [{ arn: executionArn(ID), status }];
  const running = [{ arn: executionArn(ID), status: 'RUNNING' as const }];

  it.each([
    ['FAILED', false, undefined],
    ['PARTIAL', false, undefined],
    ['SUCCEEDED', false, /already SUCCEEDED.*pass --force/],
    ['SUCCEEDED', true, undefined],
  ] as const)('status %s, force %s', (status, force, expected) => {
    const reason = replayRefusal(record({ status }), ended(status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED'), force);

    if (expected === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(expected);
  });

  it.each(['FAILED', 'PARTIAL'] as const)('refuses a %s manifest whose alert is still pending, until the sweeper sends it', (status) => {
    expect(replayRefusal(record({ status, alertPending: 'PENDING' }), ended('FAILED'), true)).toBe(
      `its ${status} alert is not published yet (the sweeper sends it within a minute, npx pipeline status ${ID}); replay it then`,
    );
  });

  it.each([false, true])('refuses a RUNNING manifest whose execution runs, force %s', (force) => {
    expect(replayRefusal(record({ status: 'RUNNING' }), running, force)).toBe(
      `is RUNNING under execution ${ID}: wait for it to finish (npx pipeline status ${ID}); one execution holds a manifest at a time, so --force does not start another`,
    );
  });

  it.each(['TIMED_OUT', 'ABORTED'] as const)(
    'refuses a RUNNING manifest whose execution %s, even with force, until the sweeper finishes it',
    (status) => {
      for (const force of [false, true]) {
        expect(replayRefusal(record({ status: 'RUNNING' }), ended(status), force)).toBe(
          `is RUNNING but its execution ${ID} has ended (${status}) without recording an outcome: the sweeper records it FAILED within a minute or two; replay it then`,
        );
      }
    },
  );

  it('refuses any manifest while a replay of it runs, even with force', () => {
    const latest = [
      { arn: executionArn(ID), status: 'FAILED' as const },
      { arn: executionArn(`${ID}-r1`), status: 'RUNNING' as const },
    ];
    for (const status of ['FAILED', 'PARTIAL', 'SUCCEEDED'] as const) {
      expect(replayRefusal(record({ status }), latest, true)).toMatch(new RegExp(`^execution ${ID}-r1 of it is RUNNING`));
    }
  });

  it('never replays an open manifest nor a sealed one not started yet, even with --force', () => {
    expect(replayRefusal(record({ status: 'OPEN', executions: undefined, executionArn: undefined }), [], true)).toMatch(/still OPEN/);
    expect(replayRefusal(record({ status: 'SEALED', executions: undefined, executionArn: undefined }), [], true)).toMatch(
      /not started yet: the sweeper starts it/,
    );
  });

  it('refuses a sealed manifest whose execution is about to claim it, and allows one whose execution ended before claiming', () => {
    expect(replayRefusal(record({ status: 'SEALED' }), running, true)).toMatch(`is starting: execution ${ID} is about to claim it`);
    expect(replayRefusal(record({ status: 'SEALED' }), ended('ABORTED'), false)).toBeUndefined();
  });
});

describe('replayManifest', () => {
  const ctx = testContext(cloudTarget);
  const sfn = mockClient(ctx.sfn);
  const ddb = mockClient(ctx.ddb);
  const glue = mockClient(GlueClient);
  const notFound = Object.assign(new Error('no such execution'), { name: 'ExecutionDoesNotExist' });
  /** The start queue as the table holds it: what the replay's transaction put, until it is dequeued. */
  let queue: Array<Record<string, unknown>>;
  let holders: Record<string, unknown>;

  beforeEach(() => {
    sfn.reset();
    ddb.reset();
    glue.reset();
    queue = [];
    holders = {};
    glue.on(GetJobCommand).resolves({ Job: { ExecutionProperty: { MaxConcurrentRuns: 2 } } });
    ddb.on(UpdateCommand).resolves({});
    ddb.on(GetCommand, { Key: { pk: 'SLOTS', sk: 'META' } }).callsFake(() => ({ Item: { pk: 'SLOTS', sk: 'META', holders } }));
    ddb.on(TransactWriteCommand).callsFake((input: { TransactItems: Array<{ Put?: { Item: Record<string, unknown> } }> }) => {
      queue.push(input.TransactItems[0].Put!.Item);
      return {};
    });
    ddb.on(QueryCommand).callsFake(() => ({ Items: [...queue].sort((a, b) => String(a.sk).localeCompare(String(b.sk))) }));
    ddb.on(DeleteCommand).callsFake((input: { Key: { sk: string } }) => {
      queue = queue.filter((e) => e.sk !== input.Key.sk);
      return {};
    });
  });

  afterAll(() => glue.restore());

  /** The write that records the replay on the MANIFEST record (the others take and give back slots). */
  const updateInput = () =>
    ddb.commandCalls(UpdateCommand).find((c) => String(c.args[0].input.Key?.pk).startsWith('MANIFEST#'))!.args[0].input;

  it('queues <id>-r1 with the input of the original execution, takes a free slot, starts it and records it conditionally', async () => {
    ddb.on(GetCommand).resolves({ Item: record() });
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn(ID) }).resolves({ input: JSON.stringify(INPUT), status: 'FAILED' });
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn(`${ID}-r1`) }).rejects(notFound);
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn(`${ID}-r1`), startDate: new Date() });

    const result = await replayManifest(ctx, ID);

    // Queued with the record's mark in one transaction, conditioned on no replay waiting and on replayCount.
    const enqueue = ddb.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems!;
    expect(enqueue[0].Put!.Item).toMatchObject({
      pk: 'QUEUE',
      executionName: `${ID}-r1`,
      replay: 1,
      rank: 1,
      input: JSON.stringify(INPUT),
    });
    expect(enqueue[1].Update!.ConditionExpression).toBe(
      'attribute_exists(pk) AND attribute_not_exists(#queuedReplay) AND (attribute_not_exists(#replayCount) OR #replayCount = :prev)',
    );
    const slot = ddb.commandCalls(UpdateCommand)[0].args[0].input;
    expect(slot.Key).toEqual({ pk: 'SLOTS', sk: 'META' });
    expect(slot.ExpressionAttributeNames).toMatchObject({ '#name': `${ID}-r1` });
    expect(queue).toEqual([]);

    expect(sfn.commandCalls(StartExecutionCommand)[0].args[0].input).toEqual({
      stateMachineArn: STATE_MACHINE_ARN,
      name: `${ID}-r1`,
      input: JSON.stringify(INPUT),
    });
    expect(updateInput().ConditionExpression).toBe(
      'attribute_exists(#pk) AND (attribute_not_exists(#replayCount) OR #replayCount = :prev)',
    );
    expect(updateInput().ExpressionAttributeValues).toMatchObject({
      ':n': 1,
      ':prev': 0,
      ':arn': [executionArn(`${ID}-r1`)],
      ':known': [executionArn(ID)],
    });
    expect(result).toMatchObject({
      executionName: `${ID}-r1`,
      replay: 1,
      alreadyStarted: false,
      inputFrom: 'original-execution',
      consoleUrl: `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${executionArn(`${ID}-r1`)}`,
    });
    expect(result.queued).toBeUndefined();
  });

  it('waits in the queue, saying where, when every slot is held; --now puts it ahead of the queue and says so', async () => {
    holders = { a: { manifestId: 'a', takenAt: '2026-11-23T11:00:00.000Z' }, b: { manifestId: 'b', takenAt: '2026-11-23T11:00:00.000Z' } };
    ddb.on(GetCommand).resolves({ Item: record() });
    ddb.on(GetCommand, { Key: { pk: 'SLOTS', sk: 'META' } }).callsFake(() => ({ Item: { pk: 'SLOTS', sk: 'META', holders } }));
    queue = [
      {
        pk: 'QUEUE',
        sk: '1#2026-11-23T11:30:00.000Z#older-20261123-000001',
        manifestId: 'older-20261123-000001',
        executionName: 'older-20261123-000001',
        replay: 0,
        rank: 1,
        input: '{}',
        queuedAt: '2026-11-23T11:30:00.000Z',
      },
    ];
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn(ID) }).resolves({ input: JSON.stringify(INPUT), status: 'FAILED' });
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn(`${ID}-r1`) }).rejects(notFound);

    const inTurn = await replayManifest(ctx, ID);
    expect(inTurn).toMatchObject({ executionName: `${ID}-r1`, queued: { position: 2, waiting: 2, slots: 2 } });
    expect(inTurn.jumpedAhead).toBeUndefined();

    queue = queue.filter((e) => e.replay === 0);
    const jumped = await replayManifest(ctx, ID, { now: true });
    expect(jumped).toMatchObject({ queued: { position: 1, waiting: 2, slots: 2 }, jumpedAhead: 1 });
    expect(queue.find((e) => e.executionName === `${ID}-r1`)).toMatchObject({ sk: `0#2026-11-23T12:00:00.000Z#${ID}-r1`, rank: 0 });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('refuses a second replay while one of the manifest waits in the queue', async () => {
    ddb.on(GetCommand).resolves({ Item: record({ queuedReplay: `${ID}-r1` }) });
    sfn.on(DescribeExecutionCommand).resolves({ input: JSON.stringify(INPUT), status: 'FAILED' });

    await expect(replayManifest(ctx, ID, { now: true })).rejects.toThrow(
      `${ID}: replay ${ID}-r1 of it is already waiting in the start queue: it starts in turn (npx pipeline status ${ID})`,
    );
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('replay --force --allow-missing-files passes allowMissingFiles in the input; without the flag the input is the original', async () => {
    ddb.on(GetCommand).resolves({ Item: record({ status: 'SUCCEEDED' }) });
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn(ID) }).resolves({ input: JSON.stringify(INPUT), status: 'SUCCEEDED' });
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn(`${ID}-r1`), startDate: new Date() });
    const cli = (...args: string[]) =>
      runCli(['node', 'pipeline', 'replay', ID, '--force', ...args], {
        makeContext: async () => ctx,
        io: { out: () => undefined, err: () => undefined, stderrIsTTY: false },
      });

    expect(await cli('--allow-missing-files')).toBe(0);
    expect(await cli()).toBe(0);

    const inputs = sfn.commandCalls(StartExecutionCommand).map((c) => JSON.parse(c.args[0].input.input ?? '') as unknown);
    expect(inputs).toEqual([{ ...INPUT, allowMissingFiles: true }, INPUT]);
  });

  it('refuses --allow-missing-files with --redrive, which resumes with the input it had', async () => {
    const err: string[] = [];
    const code = await runCli(['node', 'pipeline', 'replay', ID, '--redrive', '--allow-missing-files'], {
      makeContext: async () => ctx,
      io: { out: () => undefined, err: (t) => err.push(t), stderrIsTTY: false },
    });

    expect(code).not.toBe(0);
    expect(err.join('\n')).toMatch(/--allow-missing-files applies to a new replay, not to --redrive/);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('numbers the next replay after replayCount and conditions on it', async () => {
    ddb
      .on(GetCommand)
      .resolves({ Item: record({ replayCount: 2, executions: [executionArn(ID), executionArn(`${ID}-r1`), executionArn(`${ID}-r2`)] }) });
    sfn.on(DescribeExecutionCommand).resolves({ input: JSON.stringify(INPUT), status: 'FAILED' });
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn(`${ID}-r3`) }).rejects(notFound);
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn(`${ID}-r3`), startDate: new Date() });

    const result = await replayManifest(ctx, ID);

    expect(result.executionName).toBe(`${ID}-r3`);
    expect(sfn.commandCalls(DescribeExecutionCommand)[0].args[0].input.executionArn).toBe(executionArn(ID));
    expect(updateInput().ConditionExpression).toBe('attribute_exists(#pk) AND #replayCount = :prev');
    expect(updateInput().ExpressionAttributeValues).toMatchObject({ ':n': 3, ':prev': 2 });
  });

  it('refuses a succeeded manifest with the reason, starting nothing', async () => {
    ddb.on(GetCommand).resolves({ Item: record({ status: 'SUCCEEDED', finishedAt: '2026-11-23T10:00:00Z' }) });
    sfn.on(DescribeExecutionCommand).resolves({ input: JSON.stringify(INPUT), status: 'SUCCEEDED' });

    await expect(replayManifest(ctx, ID)).rejects.toMatchObject({
      name: 'ReplayRefusedError',
      message: expect.stringContaining(`${ID}: already SUCCEEDED at 2026-11-23T10:00:00Z: pass --force`),
    });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('replays a succeeded manifest with force', async () => {
    ddb.on(GetCommand).resolves({ Item: record({ status: 'SUCCEEDED' }) });
    sfn.on(DescribeExecutionCommand).resolves({ input: JSON.stringify(INPUT), status: 'SUCCEEDED' });
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn(`${ID}-r1`) }).rejects(notFound);
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn(`${ID}-r1`), startDate: new Date() });

    await expect(replayManifest(ctx, ID, { force: true })).resolves.toMatchObject({ executionName: `${ID}-r1` });
  });

  it.each([false, true])(
    'refuses a RUNNING manifest, force %s, whether its execution runs or has ended, starting nothing',
    async (force) => {
      ddb.on(GetCommand).resolves({ Item: record({ status: 'RUNNING' }) });
      sfn.on(DescribeExecutionCommand).resolvesOnce({ status: 'RUNNING', input: JSON.stringify(INPUT) });
      sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn(`${ID}-r1`), startDate: new Date() });

      await expect(replayManifest(ctx, ID, { force })).rejects.toMatchObject({
        name: 'ReplayRefusedError',
        message: `${ID}: is RUNNING under execution ${ID}: wait for it to finish (npx pipeline status ${ID}); one execution holds a manifest at a time, so --force does not start another`,
      });

      sfn.on(DescribeExecutionCommand).resolves({ status: 'TIMED_OUT', input: JSON.stringify(INPUT) });
      await expect(replayManifest(ctx, ID, { force })).rejects.toThrow(
        `${ID}: is RUNNING but its execution ${ID} has ended (TIMED_OUT) without recording an outcome: the sweeper records it FAILED within a minute or two; replay it then`,
      );

      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    },
  );

  it('asks the holder of a RUNNING record, not only the latest recorded execution', async () => {
    // The original holds the manifest again after a replay r1 ended: r1 is the latest recorded, the original runs.
    ddb.on(GetCommand).resolves({
      Item: record({
        status: 'RUNNING',
        replayCount: 1,
        executionArn: executionArn(ID),
        executions: [executionArn(ID), executionArn(`${ID}-r1`)],
      }),
    });
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn(ID) }).resolves({ status: 'RUNNING', input: JSON.stringify(INPUT) });
    sfn
      .on(DescribeExecutionCommand, { executionArn: executionArn(`${ID}-r1`) })
      .resolves({ status: 'FAILED', input: JSON.stringify(INPUT) });

    await expect(replayManifest(ctx, ID, { force: true })).rejects.toThrow(`is RUNNING under execution ${ID}:`);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('replays a PARTIAL manifest without force', async () => {
    ddb.on(GetCommand).resolves({ Item: record({ status: 'PARTIAL', filesRead: 1, filesFailed: 1 }) });
    sfn.on(DescribeExecutionCommand).resolves({ input: JSON.stringify(INPUT), status: 'FAILED' });
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn(`${ID}-r1`) }).rejects(notFound);
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn(`${ID}-r1`), startDate: new Date() });

    const result = await replayManifest(ctx, ID);

    expect(result).toMatchObject({ executionName: `${ID}-r1`, alreadyStarted: false, alreadyRecorded: false });
    expect(sfn.commandCalls(StartExecutionCommand)[0].args[0].input).toEqual({
      stateMachineArn: STATE_MACHINE_ARN,
      name: `${ID}-r1`,
      input: JSON.stringify(INPUT),
    });
    expect(updateInput().ExpressionAttributeValues).toMatchObject({ ':n': 1, ':arn': [executionArn(`${ID}-r1`)] });
  });

  it('refuses, without recording it, an existing execution of the replay name with another input', async () => {
    const other = { ...INPUT, manifestUri: 's3://curated-bucket/manifests/orders/some-other.json' };
    ddb.on(GetCommand).resolves({ Item: record() });
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn(ID) }).resolves({ input: JSON.stringify(INPUT), status: 'FAILED' });
    sfn
      .on(DescribeExecutionCommand, { executionArn: executionArn(`${ID}-r1`) })
      .resolves({ input: JSON.stringify(other), status: 'SUCCEEDED' });
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('exists'), { name: 'ExecutionAlreadyExists' }));

    await expect(replayManifest(ctx, ID)).rejects.toMatchObject({
      name: 'ReplayRefusedError',
      message: expect.stringContaining(
        `${ID}: an execution named ${ID}-r1 already exists with another input, so it is not this manifest's replay`,
      ),
    });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('two replays at once queue one: the table refuses the second mark, which is then refused naming the first', async () => {
    const before = record({ status: 'PARTIAL' });
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: before })
      .resolves({ Item: record({ status: 'PARTIAL', queuedReplay: `${ID}-r1` }) });
    ddb.on(TransactWriteCommand).rejects(
      Object.assign(new Error('cancelled'), {
        name: 'TransactionCanceledException',
        CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
      }),
    );
    sfn.on(DescribeExecutionCommand).resolves({ input: JSON.stringify(INPUT), status: 'FAILED' });
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn(`${ID}-r1`) }).rejects(notFound);

    await expect(replayManifest(ctx, ID)).rejects.toThrow(`replay ${ID}-r1 of it is already waiting in the start queue`);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('records a replay that was started but not recorded (ExecutionAlreadyExists) instead of starting another', async () => {
    ddb.on(GetCommand).resolves({ Item: record() });
    sfn.on(DescribeExecutionCommand).resolves({ input: JSON.stringify(INPUT), status: 'FAILED' });
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('exists'), { name: 'ExecutionAlreadyExists' }));

    const result = await replayManifest(ctx, ID);

    expect(result).toMatchObject({ alreadyStarted: true, executionArn: executionArn(`${ID}-r1`) });
    expect(updateInput().ExpressionAttributeValues?.[':arn']).toEqual([executionArn(`${ID}-r1`)]);
  });

  it('reports a replay recorded meanwhile by someone else', async () => {
    ddb.on(GetCommand).resolves({ Item: record() });
    ddb.on(UpdateCommand).rejects(Object.assign(new Error('cond'), { name: 'ConditionalCheckFailedException' }));
    sfn.on(DescribeExecutionCommand).resolves({ input: JSON.stringify(INPUT), status: 'FAILED' });
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn(`${ID}-r1`), startDate: new Date() });

    await expect(replayManifest(ctx, ID)).rejects.toThrow('replay 1 was recorded by someone else meanwhile');
  });

  it('rebuilds the input from the record when the original execution is gone', async () => {
    ddb.on(GetCommand).resolves({ Item: record() });
    sfn.on(DescribeExecutionCommand).rejects(notFound);
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn(`${ID}-r1`), startDate: new Date() });

    const result = await replayManifest(ctx, ID);

    expect(result.inputFrom).toBe('manifest-record');
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input ?? '')).toEqual(INPUT);
  });

  it('finds the manifest of a replay name and says when there is none', async () => {
    ddb.on(GetCommand).resolves({});

    await expect(replayManifest(ctx, `${ID}-r2`)).rejects.toMatchObject({
      name: 'ManifestNotFoundError',
      message: `no manifest "${ID}-r2" in the state table`,
    });
    expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input.Key)).toEqual([
      { pk: `MANIFEST#${ID}-r2`, sk: 'META' },
      { pk: `MANIFEST#${ID}`, sk: 'META' },
    ]);
  });
});

describe('redriveManifest', () => {
  const ctx = testContext(cloudTarget);
  const sfn = mockClient(ctx.sfn);
  const ddb = mockClient(ctx.ddb);
  const latest = executionArn(`${ID}-r1`);
  const t = (s: number) => new Date(Date.UTC(2026, 10, 23, 10, 0, s));

  const glue = mockClient(GlueClient);

  beforeEach(() => {
    sfn.reset();
    ddb.reset();
    glue.reset();
    glue.on(GetJobCommand).resolves({ Job: { ExecutionProperty: { MaxConcurrentRuns: 2 } } });
    ddb.on(GetCommand).resolves({ Item: record({ replayCount: 1, executions: [executionArn(ID), latest] }) });
    ddb.on(UpdateCommand).resolves({});
  });

  afterAll(() => glue.restore());

  it('takes a capacity slot for the redriven run, and is refused when every slot is held', async () => {
    sfn.on(DescribeExecutionCommand).resolves({ name: `${ID}-r1`, status: 'FAILED', redriveStatus: 'REDRIVABLE' });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    sfn.on(RedriveExecutionCommand).resolves({ redriveDate: t(20) });

    await redriveManifest(ctx, ID, { force: true });
    const writes = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    // The ended run's own holding (if any is left) is replaced, then a slot is taken under the execution's name.
    expect(writes.map((w) => [w.Key, w.UpdateExpression])).toEqual([
      [{ pk: 'SLOTS', sk: 'META' }, 'REMOVE #holders.#name'],
      [{ pk: 'SLOTS', sk: 'META' }, 'SET #holders.#name = :holder'],
    ]);
    expect(writes[1].ExpressionAttributeNames).toMatchObject({ '#name': `${ID}-r1` });

    ddb.reset();
    sfn.resetHistory();
    ddb.on(GetCommand).resolves({ Item: record({ replayCount: 1, executions: [executionArn(ID), latest] }) });
    ddb.on(GetCommand, { Key: { pk: 'SLOTS', sk: 'META' } }).resolves({ Item: { holders: { a: {}, b: {} } } });
    ddb
      .on(UpdateCommand, { UpdateExpression: 'SET #holders.#name = :holder' })
      .rejects(Object.assign(new Error('cond'), { name: 'ConditionalCheckFailedException' }));
    await expect(redriveManifest(ctx, ID, { force: true })).rejects.toThrow(
      `${ID}: all 2 capacity slots are held (glue.maxConcurrentRuns): a redrive cannot wait for one`,
    );
    expect(sfn.commandCalls(RedriveExecutionCommand)).toHaveLength(0);
  });

  it('redrives the latest execution in place and links its console page', async () => {
    sfn.on(DescribeExecutionCommand).resolves({ name: `${ID}-r1`, status: 'TIMED_OUT', redriveStatus: 'REDRIVABLE' });
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 1, type: 'ExecutionStarted', timestamp: t(0) },
        { id: 2, type: 'TaskStateEntered', timestamp: t(1), stateEnteredEventDetails: { name: 'Convert' } },
        { id: 3, type: 'TaskScheduled', timestamp: t(1) },
        { id: 4, type: 'ExecutionTimedOut', timestamp: t(9), executionTimedOutEventDetails: { error: 'States.Timeout' } },
      ],
    });
    sfn.on(RedriveExecutionCommand).resolves({ redriveDate: t(20) });

    const result = await redriveManifest(ctx, ID);

    expect(sfn.commandCalls(RedriveExecutionCommand)[0].args[0].input).toEqual({ executionArn: latest });
    expect(result.consoleUrl).toContain(`#/v2/executions/details/${latest}`);
  });

  it('refuses an execution Step Functions says cannot be redriven, suggesting replay', async () => {
    sfn.on(DescribeExecutionCommand).resolves({
      name: `${ID}-r1`,
      status: 'FAILED',
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution redrivable period exceeded.',
    });

    await expect(redriveManifest(ctx, ID)).rejects.toThrow(
      `${ID}: execution ${ID}-r1 cannot be redriven (Execution redrivable period exceeded.): replay it instead: npx pipeline replay ${ID}`,
    );
    expect(sfn.commandCalls(RedriveExecutionCommand)).toHaveLength(0);
  });

  it('refuses, unless forced, an execution that ended in its Fail state after a caught error', async () => {
    sfn.on(DescribeExecutionCommand).resolves({ name: `${ID}-r1`, status: 'FAILED', redriveStatus: 'REDRIVABLE' });
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 1, type: 'TaskStateEntered', timestamp: t(1), stateEnteredEventDetails: { name: 'Convert' } },
        { id: 2, type: 'TaskScheduled', timestamp: t(1) },
        {
          id: 3,
          type: 'TaskFailed',
          timestamp: t(2),
          taskFailedEventDetails: { resourceType: 'glue', resource: 'startJobRun.sync', error: 'States.TaskFailed', cause: 'boom' },
        },
        { id: 4, type: 'TaskStateExited', timestamp: t(2), stateExitedEventDetails: { name: 'Convert' } },
        { id: 5, type: 'FailStateEntered', timestamp: t(3), stateEnteredEventDetails: { name: 'Fail' } },
        { id: 6, type: 'ExecutionFailed', timestamp: t(3), executionFailedEventDetails: { error: 'States.TaskFailed' } },
      ],
    });
    sfn.on(RedriveExecutionCommand).resolves({ redriveDate: t(20) });

    await expect(redriveManifest(ctx, ID)).rejects.toThrow(/ended in its Fail state Fail after Convert failed and was caught/);
    await expect(redriveManifest(ctx, ID, { force: true })).resolves.toMatchObject({ executionArn: latest });
  });

  it('refuses a PARTIAL manifest (it would end in its Partial state again), suggesting replay', async () => {
    ddb.on(GetCommand).resolves({ Item: record({ status: 'PARTIAL', replayCount: 1, executions: [executionArn(ID), latest] }) });
    sfn.on(DescribeExecutionCommand).resolves({ name: `${ID}-r1`, status: 'FAILED', redriveStatus: 'REDRIVABLE' });

    await expect(redriveManifest(ctx, ID, { force: true })).rejects.toThrow(
      `${ID}: is PARTIAL: a redrive would only end in its Partial state again; replay it instead`,
    );
    expect(sfn.commandCalls(RedriveExecutionCommand)).toHaveLength(0);
  });

  it('refuses while another execution holds the manifest', async () => {
    ddb.on(GetCommand).resolves({
      Item: record({ status: 'RUNNING', replayCount: 1, executionArn: executionArn(ID), executions: [executionArn(ID), latest] }),
    });
    sfn.on(DescribeExecutionCommand, { executionArn: executionArn(ID) }).resolves({ name: ID, status: 'RUNNING' });
    sfn
      .on(DescribeExecutionCommand, { executionArn: latest })
      .resolves({ name: `${ID}-r1`, status: 'FAILED', redriveStatus: 'REDRIVABLE' });

    await expect(redriveManifest(ctx, ID, { force: true })).rejects.toThrow(
      `${ID}: execution ${ID} of it is RUNNING: wait for it to finish`,
    );
    expect(sfn.commandCalls(RedriveExecutionCommand)).toHaveLength(0);
  });

  it('says RedriveExecution is not available in the local emulator and suggests replay', async () => {
    const local = testContext(localTarget);

    await expect(redriveManifest(local, ID)).rejects.toMatchObject({
      name: 'NotAvailableLocallyError',
      message: `RedriveExecution is not available in the local emulator; replay it instead: npx pipeline replay ${ID}`,
    });
  });
});

describe('findFailedManifests (replay --failed --since)', () => {
  // testContext's clock: 2026-11-23T12:00:00Z; --since 24h is 2026-11-22T12:00:00Z.
  const ctx = testContext(cloudTarget);
  const sfn = mockClient(ctx.sfn);
  const ddb = mockClient(ctx.ddb);
  const since = new Date('2026-11-22T12:00:00Z');
  const at = (iso: string) => new Date(iso);

  const execution = (name: string, status: ExecutionStatus, startDate: string, stopDate: string) => ({
    executionArn: executionArn(name),
    stateMachineArn: STATE_MACHINE_ARN,
    name,
    status,
    startDate: at(startDate),
    stopDate: at(stopDate),
  });

  /** Records as the state machine (RecordFailure, RecordPartial) and the sweeper leave them: finishedAt is the end. */
  const records: Record<string, Partial<ManifestRecord>> = {
    // Opened 10 days ago, failed again yesterday evening in a replay: failed in the window.
    'orders-20261113-000001': { status: 'FAILED', openedAt: '2026-11-13T08:00:00.000Z', finishedAt: '2026-11-22T20:00:00.000Z' },
    // Opened in the window, PARTIAL in the window.
    'orders-20261123-000002': { status: 'PARTIAL', openedAt: '2026-11-23T01:00:00.000Z', finishedAt: '2026-11-23T01:20:00.000Z' },
    // Opened just before the window, timed out in it (recorded by the sweeper with the execution's stop).
    'clicks-20261122-000003': { status: 'FAILED', openedAt: '2026-11-22T11:00:00.000Z', finishedAt: '2026-11-22T13:00:00.000Z' },
    // Failed in the window, since replayed to SUCCEEDED: nothing to replay.
    'orders-20261122-000004': { status: 'SUCCEEDED', openedAt: '2026-11-22T13:00:00.000Z', finishedAt: '2026-11-23T09:00:00.000Z' },
    // Opened in the window but failed before it? Impossible; opened before and failed before: not in the window.
    'orders-20261121-000005': { status: 'FAILED', openedAt: '2026-11-21T09:00:00.000Z', finishedAt: '2026-11-21T10:00:00.000Z' },
  };

  beforeEach(() => {
    sfn.reset();
    ddb.reset();
    sfn.on(DescribeStateMachineCommand).resolves({ definition: JSON.stringify({ StartAt: 'A', TimeoutSeconds: 21_600, States: {} }) });
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    sfn.on(ListExecutionsCommand, { statusFilter: 'FAILED' }).resolves({
      executions: [
        execution('orders-20261122-000004', 'FAILED', '2026-11-22T13:05:00Z', '2026-11-22T13:30:00Z'),
        execution('orders-20261123-000002', 'FAILED', '2026-11-23T01:05:00Z', '2026-11-23T01:21:00Z'),
        execution('orders-20261113-000001-r2', 'FAILED', '2026-11-22T19:00:00Z', '2026-11-22T20:00:01Z'),
        execution('orders-20261113-000001-r1', 'FAILED', '2026-11-21T09:00:00Z', '2026-11-21T10:00:00Z'),
        execution('orders-20261121-000005', 'FAILED', '2026-11-21T09:10:00Z', '2026-11-21T10:00:01Z'),
        // Older than the definition's timeout and the redrive window before --since: the listing stops here.
        execution('orders-20261101-000009', 'FAILED', '2026-11-01T00:00:00Z', '2026-11-01T01:00:00Z'),
      ],
    });
    sfn.on(ListExecutionsCommand, { statusFilter: 'TIMED_OUT' }).resolves({
      executions: [execution('clicks-20261122-000003', 'TIMED_OUT', '2026-11-22T11:30:00Z', '2026-11-22T13:00:00Z')],
    });
    ddb.on(GetCommand).callsFake((input: { Key: { pk: string } }) => {
      const id = input.Key.pk.replace('MANIFEST#', '');
      const r = records[id];
      return { Item: r ? { manifestId: id, dataset: id.split('-')[0], ...r } : undefined };
    });
  });

  it('finds the manifests that ended FAILED or PARTIAL since the time, whenever they opened, oldest failure first', async () => {
    const found = await findFailedManifests(ctx, since);

    expect(found.map((m) => m.manifestId)).toEqual(['clicks-20261122-000003', 'orders-20261113-000001', 'orders-20261123-000002']);
    expect(sfn.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input.statusFilter)).toEqual(['FAILED', 'TIMED_OUT', 'ABORTED']);
    // The manifest failed only before the window is never read; the one beyond the listing's bound neither.
    const read = ddb.commandCalls(GetCommand).map((c) => c.args[0].input.Key?.pk);
    expect(read).not.toContain('MANIFEST#orders-20261121-000005');
    expect(read).not.toContain('MANIFEST#orders-20261101-000009');
  });

  it('keeps only one dataset when asked', async () => {
    expect((await findFailedManifests(ctx, since, 'clicks')).map((m) => m.manifestId)).toEqual(['clicks-20261122-000003']);
  });

  it('replay --failed --since 24h replays the manifest that opened before the window and failed in it, not the one that failed before it', async () => {
    ddb.on(UpdateCommand).resolves({});
    mockStartQueue(ddb);
    const glue = mockClient(GlueClient);
    glue.on(GetJobCommand).resolves({ Job: { ExecutionProperty: { MaxConcurrentRuns: 5 } } });
    sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
      if (input.executionArn.endsWith('-r1')) throw Object.assign(new Error('none'), { name: 'ExecutionDoesNotExist' });
      return { input: JSON.stringify(INPUT), status: 'FAILED' };
    });
    sfn
      .on(StartExecutionCommand)
      .callsFake((input: { name: string }) => ({ executionArn: executionArn(input.name), startDate: new Date() }));
    const out: string[] = [];

    const code = await runCli(['node', 'pipeline', 'replay', '--failed', '--since', '24h', '--yes'], {
      makeContext: async () => ctx,
      io: { out: (t) => out.push(t), err: () => undefined, stderrIsTTY: false },
    });

    glue.restore();
    expect(code).toBe(0);
    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name)).toEqual([
      'clicks-20261122-000003-r1',
      'orders-20261113-000001-r1',
      'orders-20261123-000002-r1',
    ]);
  });
});

describe('manifestIdOfExecution', () => {
  it('names the manifest of an original execution and of a replay, and nothing else', () => {
    expect(manifestIdOfExecution('orders-20261123-000042')).toBe('orders-20261123-000042');
    expect(manifestIdOfExecution('orders-20261123-000042-r12')).toBe('orders-20261123-000042');
    expect(manifestIdOfExecution('some-other-execution')).toBeUndefined();
  });
});
