import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { resolveTarget, targetFromLocalStack, targetFromStackOutputs } from '../../../cli/target';

const OUTPUTS = {
  IngestBucket: 'ingest-b',
  CuratedBucket: 'curated-b',
  IngestQueueUrl: 'https://sqs/ingest',
  IngestDlqUrl: 'https://sqs/ingest-dlq',
  SweeperDlqUrl: 'https://sqs/sweeper-dlq',
  StateTable: 'state-t',
  IdempotencyTable: 'idem-t',
  StateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:Convert',
  GlueJobName: 'job',
  GlueDatabase: 'db',
  AlertTopicArn: 'arn:aws:sns:eu-west-1:111122223333:alerts',
};
const asOutputs = (o: Record<string, string>) => Object.entries(o).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue }));

const LOCAL_STACK = {
  endpoint: 'http://127.0.0.1:4599',
  region: 'us-east-1',
  accessKeyId: 'LKIAAAAAAAAAAAAAAAAA',
  secretAccessKey: 'secret-of-the-instance',
  ingestBucket: 'ingest-l',
  curatedBucket: 'curated-l',
  ingestQueueUrl: 'http://127.0.0.1:4599/123456789012/ingest',
  ingestDlqUrl: 'http://127.0.0.1:4599/123456789012/ingest-dlq',
  stateTable: 'state-l',
  idempotencyTable: 'idem-l',
  stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Convert',
  glueJobName: 'job-l',
  glueDatabase: 'db-l',
  alertTopicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
  outboxDir: '/tmp/outbox',
  batchSize: 200,
  maxWaitSeconds: 60,
};

describe('targetFromStackOutputs', () => {
  it('maps every output of the stack to the target', () => {
    const target = targetFromStackOutputs('IngestPipeline', 'eu-west-1', asOutputs(OUTPUTS));

    expect(target).toEqual({
      mode: 'cloud',
      region: 'eu-west-1',
      stackName: 'IngestPipeline',
      ingestBucket: 'ingest-b',
      curatedBucket: 'curated-b',
      ingestQueueUrl: 'https://sqs/ingest',
      ingestDlqUrl: 'https://sqs/ingest-dlq',
      sweeperDlqUrl: 'https://sqs/sweeper-dlq',
      stateTable: 'state-t',
      idempotencyTable: 'idem-t',
      stateMachineArn: OUTPUTS.StateMachineArn,
      glueJobName: 'job',
      glueDatabase: 'db',
      alertTopicArn: OUTPUTS.AlertTopicArn,
    });
  });

  it('accepts outputs declared inside constructs (path in front, hash behind) and an absent SweeperDlqUrl', () => {
    const nested = Object.fromEntries(
      Object.entries(OUTPUTS)
        .filter(([k]) => k !== 'SweeperDlqUrl')
        .map(([k, v]) => [`Storage${k}0A1B2C3D`, v]),
    );

    const target = targetFromStackOutputs('S', 'eu-west-1', asOutputs(nested));

    expect(target.stateTable).toBe('state-t');
    expect(target.sweeperDlqUrl).toBeUndefined();
  });

  it('names the missing outputs', () => {
    const { StateTable: _s, GlueJobName: _g, ...rest } = OUTPUTS;

    expect(() => targetFromStackOutputs('S', 'eu-west-1', asOutputs(rest))).toThrow(/no output StateTable, GlueJobName/);
  });
});

describe('targetFromLocalStack', () => {
  it('reads stack.json into a local target with the emulator endpoint', () => {
    const target = targetFromLocalStack(LOCAL_STACK, '/state/stack.json');

    expect(target).toMatchObject({
      mode: 'local',
      endpoint: 'http://127.0.0.1:4599',
      region: 'us-east-1',
      stateDir: '/state',
      stateTable: 'state-l',
    });
    expect(target.credentials).toEqual({ accessKeyId: 'LKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'secret-of-the-instance' });
  });

  it('refuses a stack.json without the instance key: the emulator answers no other', () => {
    const { accessKeyId: _k, secretAccessKey: _s, ...rest } = LOCAL_STACK;

    expect(() => targetFromLocalStack(rest, '/state/stack.json')).toThrow(
      '/state/stack.json lacks accessKeyId, secretAccessKey: restart the local mode',
    );
  });

  it('names the keys stack.json lacks', () => {
    const { stateTable: _t, ...rest } = LOCAL_STACK;

    expect(() => targetFromLocalStack(rest, '/state/stack.json')).toThrow('/state/stack.json lacks stateTable');
  });
});

describe('resolveTarget', () => {
  const cfn = mockClient(CloudFormationClient);
  let dir: string;

  beforeEach(() => {
    cfn.reset();
    dir = mkdtempSync(path.join(os.tmpdir(), 'cli-target-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const makeCfn = () => new CloudFormationClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });

  it("reads the outputs of --stack-name from CloudFormation, in the client's region", async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'IngestPipeline' }).resolves({
      Stacks: [{ StackName: 'IngestPipeline', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: asOutputs(OUTPUTS) }],
    });

    const target = await resolveTarget({ stackName: 'IngestPipeline', stateDir: undefined }, {}, makeCfn);

    expect(target.mode).toBe('cloud');
    expect(target.region).toBe('eu-west-1');
    expect(target.stateMachineArn).toBe(OUTPUTS.StateMachineArn);
  });

  it('takes the stack name from PIPELINE_STACK_NAME', async () => {
    cfn
      .on(DescribeStacksCommand)
      .resolves({ Stacks: [{ StackName: 'X', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: asOutputs(OUTPUTS) }] });

    await resolveTarget({}, { PIPELINE_STACK_NAME: 'FromEnv' }, makeCfn);

    expect(cfn.commandCalls(DescribeStacksCommand)[0].args[0].input).toEqual({ StackName: 'FromEnv' });
  });

  it('says when the stack does not exist', async () => {
    const err = Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' });
    cfn.on(DescribeStacksCommand).rejects(err);

    await expect(resolveTarget({ stackName: 'Nope' }, {}, makeCfn)).rejects.toThrow('stack Nope does not exist in this account and region');
  });

  it('uses the local mode of --state-dir, and refuses it together with --stack-name', async () => {
    writeFileSync(path.join(dir, 'stack.json'), JSON.stringify(LOCAL_STACK));

    await expect(resolveTarget({ stateDir: dir }, {}, makeCfn)).resolves.toMatchObject({ mode: 'local', stateTable: 'state-l' });
    await expect(resolveTarget({ stateDir: dir, stackName: 'S' }, {}, makeCfn)).rejects.toThrow('choose one target');
    expect(cfn.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  });

  it('says the local mode is not running when --local has no stack.json, and what to do with no target at all', async () => {
    await expect(resolveTarget({ local: true, stateDir: dir }, {}, makeCfn)).rejects.toThrow(
      /local mode is not running .*npx pipeline local start/,
    );
    await expect(resolveTarget({}, {}, makeCfn, dir)).rejects.toThrow(/^no pipeline to talk to: pass --stack-name/);
  });

  it('defaults to the local mode when its stack.json exists, unless a stack name is given', async () => {
    writeFileSync(path.join(dir, 'stack.json'), JSON.stringify(LOCAL_STACK));
    cfn
      .on(DescribeStacksCommand)
      .resolves({ Stacks: [{ StackName: 'S', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: asOutputs(OUTPUTS) }] });

    await expect(resolveTarget({}, {}, makeCfn, dir)).resolves.toMatchObject({ mode: 'local' });
    await expect(resolveTarget({ stackName: 'S' }, {}, makeCfn, dir)).resolves.toMatchObject({ mode: 'cloud' });
  });
});
