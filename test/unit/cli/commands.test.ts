/** The command line as an operator meets it: exit codes, one-line reasons, help with examples, confirmation. */
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { buildProgram, runCli } from '../../../cli/main';
import { CliIo } from '../../../cli/commands/shared';
import { CliContext } from '../../../cli/context';
import { GetJobCommand, GlueClient } from '@aws-sdk/client-glue';
import { cloudTarget, executionArn, localTarget, mockStartQueue, STATE_MACHINE_ARN, testContext } from './fixtures';

const ID = 'orders-20261123-000042';

function io(confirmAnswer?: boolean) {
  const out: string[] = [];
  const err: string[] = [];
  const asked: string[] = [];
  const value: CliIo = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    stderrIsTTY: false,
    confirm:
      confirmAnswer === undefined
        ? undefined
        : async (q) => {
            asked.push(q);
            return confirmAnswer;
          },
  };
  return { value, out, err, asked };
}

async function run(args: string[], ctx: CliContext, confirmAnswer?: boolean) {
  const streams = io(confirmAnswer);
  const code = await runCli(['node', 'pipeline', ...args], { makeContext: async () => ctx, io: streams.value });
  return { code, stdout: streams.out.join('\n'), stderr: streams.err.join('\n'), asked: streams.asked };
}

describe('pipeline (command line)', () => {
  const ctx = testContext(cloudTarget);
  const sfn = mockClient(ctx.sfn);
  const ddb = mockClient(ctx.ddb);

  beforeEach(() => {
    sfn.reset();
    ddb.reset();
  });

  // Every command the program registers, and every subcommand: a command added later is held to the same help.
  const commandPaths = buildProgram({ makeContext: async () => ctx, io: io().value }).commands.flatMap((cmd) => [
    [cmd.name()],
    ...cmd.commands.map((sub) => [cmd.name(), sub.name()]),
  ]);

  it('registers the operator commands', () => {
    expect(commandPaths.map((p) => p.join(' '))).toEqual(
      expect.arrayContaining(['upload', 'status', 'replay', 'flush', 'dlq', 'dlq redrive', 'cost', 'reconcile', 'smoke', 'console']),
    );
  });

  it.each(commandPaths.map((path) => [path.join(' '), path] as const))('%s --help shows an example and exits 0', async (_name, cmd) => {
    const result = await run([...cmd, '--help'], ctx);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Examples?:\n {2}\$ npx pipeline /);
  });

  it('refuses to replay a succeeded manifest with a one-line reason and exit code 1', async () => {
    ddb.on(GetCommand).resolves({ Item: { manifestId: ID, dataset: 'orders', status: 'SUCCEEDED', executions: [executionArn(ID)] } });
    sfn.on(DescribeExecutionCommand).resolves({ input: '{"manifestId":"x"}', status: 'SUCCEEDED' });

    const result = await run(['replay', ID], ctx);

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `refused ${ID}: already SUCCEEDED: pass --force to convert it again (its Parquet is replaced, not duplicated)\nerror: ${ID}: already SUCCEEDED: pass --force to convert it again (its Parquet is replaced, not duplicated)`,
    );
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('replays a failed manifest and prints the new execution with its console URL', async () => {
    ddb.on(GetCommand).resolves({ Item: { manifestId: ID, dataset: 'orders', status: 'FAILED', executions: [executionArn(ID)] } });
    ddb.on(UpdateCommand).resolves({});
    sfn.on(DescribeExecutionCommand).resolves({ input: '{"manifestId":"x"}', status: 'FAILED' });
    sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn(`${ID}-r1`), startDate: new Date() });

    const result = await run(['replay', ID, '--json'], ctx);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).outcomes[0]).toMatchObject({
      manifestId: ID,
      outcome: 'replayed',
      result: { executionName: `${ID}-r1` },
    });
  });

  it('asks before replaying more than three manifests, and needs --yes without a terminal', async () => {
    const ids = [1, 2, 3, 4].map((n) => `orders-20261123-00000${n}`);
    sfn.on(DescribeStateMachineCommand).resolves({ definition: '{"TimeoutSeconds":21600}' });
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    sfn.on(ListExecutionsCommand, { statusFilter: 'FAILED' }).resolves({
      executions: ids.map((id) => ({
        executionArn: executionArn(id),
        name: id,
        stateMachineArn: STATE_MACHINE_ARN,
        status: 'FAILED',
        startDate: new Date('2026-11-23T10:00:00Z'),
        stopDate: new Date('2026-11-23T10:10:00Z'),
      })),
    });
    ddb.on(GetCommand).callsFake((input: { Key: { pk: string } }) => {
      const id = input.Key.pk.replace('MANIFEST#', '');
      return {
        Item: {
          manifestId: id,
          dataset: 'orders',
          status: 'FAILED',
          finishedAt: '2026-11-23T10:09:00.000Z',
          executions: [executionArn(id)],
        },
      };
    });

    const noTty = await run(['replay', '--failed', '--since', '1d'], ctx);
    const declined = await run(['replay', '--failed', '--since', '1d'], ctx, false);

    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toBe('error: replay of 4 manifests needs confirmation: pass --yes (no terminal to ask on)');
    expect(declined.asked).toEqual(['Replay 4 manifests (orders-20261123-000001, orders-20261123-000002, orders-20261123-000003, ...)?']);
    expect(declined.code).toBe(1);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('replay --failed replays PARTIAL manifests as well as FAILED ones, never the others', async () => {
    // Each had a failed execution in the window; the table says what each manifest is now.
    const day = [
      { manifestId: 'orders-20261123-000001', status: 'FAILED' },
      { manifestId: 'orders-20261123-000002', status: 'PARTIAL' },
      { manifestId: 'orders-20261123-000003', status: 'SUCCEEDED' },
      { manifestId: 'orders-20261123-000004', status: 'RUNNING' },
    ].map((m, i) => ({
      ...m,
      dataset: 'orders',
      sk: 'META',
      finishedAt: `2026-11-23T10:0${i}:00.000Z`,
      executions: [executionArn(m.manifestId)],
    }));
    sfn.on(DescribeStateMachineCommand).resolves({ definition: '{"TimeoutSeconds":21600}' });
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    sfn.on(ListExecutionsCommand, { statusFilter: 'FAILED' }).resolves({
      executions: day.map((m) => ({
        executionArn: executionArn(m.manifestId),
        name: m.manifestId,
        stateMachineArn: STATE_MACHINE_ARN,
        status: 'FAILED',
        startDate: new Date('2026-11-23T09:00:00Z'),
        stopDate: new Date('2026-11-23T09:30:00Z'),
      })),
    });
    ddb
      .on(GetCommand)
      .callsFake((input: { Key: { pk: string } }) => ({ Item: day.find((m) => `MANIFEST#${m.manifestId}` === input.Key.pk) }));
    ddb.on(UpdateCommand).resolves({});
    const queue = mockStartQueue(ddb);
    const glue = mockClient(GlueClient);
    glue.on(GetJobCommand).resolves({ Job: { ExecutionProperty: { MaxConcurrentRuns: 5 } } });
    // The originals ended FAILED; no replay exists yet.
    sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
      if (input.executionArn.endsWith('-r1')) throw Object.assign(new Error('none'), { name: 'ExecutionDoesNotExist' });
      return { input: '{"manifestId":"x"}', status: 'FAILED' };
    });
    sfn
      .on(StartExecutionCommand)
      .callsFake((input: { name: string }) => ({ executionArn: executionArn(input.name), startDate: new Date() }));

    const result = await run(['replay', '--failed', '--since', '1d'], ctx);
    glue.restore();
    expect(queue.entries()).toEqual([]);

    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').filter((l) => !l.startsWith('  console: '))).toEqual([
      'started orders-20261123-000001-r1',
      'started orders-20261123-000002-r1',
    ]);
    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name)).toEqual([
      'orders-20261123-000001-r1',
      'orders-20261123-000002-r1',
    ]);
  });

  it('says so when a replay finds its execution started and recorded by another replay at the same time', async () => {
    const before = { manifestId: ID, dataset: 'orders', status: 'PARTIAL', executions: [executionArn(ID)] };
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: before })
      .resolves({ Item: { ...before, replayCount: 1, executions: [executionArn(ID), executionArn(`${ID}-r1`)] } });
    ddb.on(UpdateCommand).rejects(Object.assign(new Error('cond'), { name: 'ConditionalCheckFailedException' }));
    sfn.on(DescribeExecutionCommand).resolves({ input: '{"manifestId":"x"}', status: 'FAILED' });
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('exists'), { name: 'ExecutionAlreadyExists' }));

    const result = await run(['replay', ID], ctx);

    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe(`${ID}-r1 was already started and recorded by another replay of ${ID}: nothing new started`);
  });

  it('refuses to replay a RUNNING manifest even with --force, with exit code 1', async () => {
    ddb.on(GetCommand).resolves({
      Item: { manifestId: ID, dataset: 'orders', status: 'RUNNING', executionArn: executionArn(ID), executions: [executionArn(ID)] },
    });
    sfn.on(DescribeExecutionCommand).resolves({ input: '{"manifestId":"x"}', status: 'RUNNING' });

    const result = await run(['replay', ID, '--force'], ctx);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`error: ${ID}: is RUNNING under execution ${ID}: wait for it to finish .*--force does not start another$`),
    );
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('says --redrive is not available in the local mode and suggests replay', async () => {
    const local = testContext(localTarget);

    const result = await run(['replay', ID, '--redrive'], local);

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`error: RedriveExecution is not available in the local emulator; replay instead: npx pipeline replay ${ID}`);
  });

  it('shows a manifest with its executions, their retries and failures, and console URLs in the cloud', async () => {
    const t = (s: number) => new Date(Date.UTC(2026, 10, 23, 10, 0, s));
    ddb.on(GetCommand).resolves({
      Item: {
        manifestId: ID,
        dataset: 'orders',
        status: 'FAILED',
        fileCount: 1,
        totalBytes: 10,
        executions: [executionArn(ID)],
        error: 'States.TaskFailed',
        failedState: 'Convert',
        cause: 'Path does not exist',
      },
    });
    ddb
      .on(QueryCommand)
      .resolves({ Items: [{ sk: 'F#incoming/orders/a.ndjson', bucket: 'ingest-bucket', key: 'incoming/orders/a.ndjson', size: 10 }] });
    sfn.on(DescribeExecutionCommand).rejects(Object.assign(new Error('no'), { name: 'ExecutionDoesNotExist' }));
    sfn
      .on(DescribeExecutionCommand, { executionArn: executionArn(ID) })
      .resolves({ name: ID, status: 'FAILED', startDate: t(0), stopDate: t(9) });
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 1, type: 'TaskStateEntered', timestamp: t(1), stateEnteredEventDetails: { name: 'Convert' } },
        { id: 2, type: 'TaskScheduled', timestamp: t(1) },
        {
          id: 3,
          type: 'TaskFailed',
          timestamp: t(2),
          taskFailedEventDetails: {
            resourceType: 'glue',
            resource: 'startJobRun.sync',
            error: 'States.TaskFailed',
            cause: 'Path does not exist',
          },
        },
        { id: 4, type: 'TaskScheduled', timestamp: t(3) },
        {
          id: 5,
          type: 'TaskFailed',
          timestamp: t(4),
          taskFailedEventDetails: {
            resourceType: 'glue',
            resource: 'startJobRun.sync',
            error: 'States.TaskFailed',
            cause: 'Path does not exist',
          },
        },
        { id: 6, type: 'TaskStateExited', timestamp: t(4), stateExitedEventDetails: { name: 'Convert' } },
        { id: 7, type: 'FailStateEntered', timestamp: t(5), stateEnteredEventDetails: { name: 'Failed' } },
        { id: 8, type: 'ExecutionFailed', timestamp: t(5), executionFailedEventDetails: { error: 'States.TaskFailed' } },
      ],
    });

    const result = await run(['status', ID], ctx);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('error         States.TaskFailed in Convert: Path does not exist');
    expect(result.stdout).toContain('incoming/orders/a.ndjson  10 B');
    expect(result.stdout).toContain(`${ID}  FAILED  started 2026-11-23 10:00:00Z  stopped 2026-11-23 10:00:09Z (9.0s)`);
    expect(result.stdout).toContain(
      `console: https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${executionArn(ID)}`,
    );
    expect(result.stdout).toContain('Convert [Task] 3.0s: caught; retried 1x (States.TaskFailed); States.TaskFailed: Path does not exist');
    expect(result.stdout).toContain('Failed [Fail]: failed; States.TaskFailed: no cause given');
    expect(result.stdout).toContain('Executions (1)');
  });

  it('status of a manifest whose replay failed shows the output in place and the failed last run', async () => {
    ddb.on(GetCommand).resolves({
      Item: {
        manifestId: ID,
        dataset: 'orders',
        status: 'SUCCEEDED',
        outputStatus: 'SUCCEEDED',
        lastRunStatus: 'FAILED',
        fileCount: 1,
        totalBytes: 10,
        linesIn: 3,
        rowsOut: 3,
        rowsQuarantined: 0,
        blankLines: 0,
        executions: [executionArn(ID)],
        error: 'States.TaskFailed',
        failedState: 'Convert',
        cause: 'rows_would_be_dropped',
      },
    });
    ddb.on(QueryCommand).resolves({ Items: [] });
    sfn.on(DescribeExecutionCommand).rejects(Object.assign(new Error('no'), { name: 'ExecutionDoesNotExist' }));

    const result = await run(['status', ID], ctx);

    expect(result.stdout).toContain('3 in = 3 rows + 0 quarantined + 0 blank');
    expect(result.stdout).toMatch(/last run\s+FAILED \(the output in place, its status and counts are unchanged\)/);
    expect(result.stdout).toContain('States.TaskFailed in Convert: rows_would_be_dropped');
  });

  it('rejects a bad --state and a bad dataset name with exit code 2 before calling AWS', async () => {
    const badState = await run(['status', '--state', 'broken'], ctx);
    const badDataset = await run(['upload', __filename, '--dataset', 'Bad-Name'], ctx);

    expect(badState).toMatchObject({
      code: 2,
      stderr: 'error: --state "broken" is not one of OPEN, SEALED, RUNNING, SUCCEEDED, PARTIAL, FAILED',
    });
    expect(badDataset.code).toBe(2);
    expect(badDataset.stderr).toMatch(/^error: dataset "Bad-Name" is not valid/);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('dlq --queue sweeper shows the sweeper DLQ alone; builder, its older name, still names it; another name is a usage error', async () => {
    const cloud = testContext(cloudTarget);
    const sqs = mockClient(cloud.sqs);
    sqs
      .on(GetQueueAttributesCommand)
      .resolves({ Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' } });
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [] });

    for (const name of ['sweeper', 'builder']) {
      const result = await run(['dlq', '--queue', name], cloud);
      expect(result).toMatchObject({ code: 0, stdout: 'sweeper DLQ (failed scheduled sweeper runs): about 0 waiting, 0 in flight' });
    }
    expect(new Set(sqs.commandCalls(ReceiveMessageCommand).map((c) => c.args[0].input.QueueUrl))).toEqual(
      new Set([cloudTarget.sweeperDlqUrl]),
    );
    expect(await run(['dlq', '--queue', 'other'], cloud)).toMatchObject({
      code: 2,
      stderr: 'error: --queue "other" is neither ingest nor sweeper',
    });
  });

  it('prints dlq redrive as JSON when asked, though the parent dlq command has --json too', async () => {
    const local = testContext(localTarget);
    const sqs = mockClient(local.sqs);
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0' } });
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [] });

    const result = await run(['dlq', 'redrive', '--json'], local);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ method: 'receive-send-delete', moved: 0, failed: 0, remaining: 0 });
  });
});
