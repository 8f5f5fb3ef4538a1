/** A CLI context on mocked clients, and a cloud and a local target, for the CLI's unit tests. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DeleteCommand, DynamoDBDocumentClient, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';
import { resolveConfig } from '../../../contracts/config';
import { CliContext } from '../../../cli/context';
import { PipelineTarget } from '../../../cli/target';

export const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:111122223333:stateMachine:ConvertManifest';

export const cloudTarget: PipelineTarget = {
  mode: 'cloud',
  region: 'eu-west-1',
  stackName: 'IngestPipeline',
  ingestBucket: 'ingest-bucket',
  curatedBucket: 'curated-bucket',
  ingestQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/ingest',
  ingestDlqUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/ingest-dlq',
  sweeperDlqUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/sweeper-dlq',
  stateTable: 'state',
  idempotencyTable: 'idempotency',
  stateMachineArn: STATE_MACHINE_ARN,
  glueJobName: 'convert',
  glueDatabase: 'ingest',
  alertTopicArn: 'arn:aws:sns:eu-west-1:111122223333:alerts',
};

export const localTarget: PipelineTarget = {
  ...cloudTarget,
  mode: 'local',
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:4566',
  stackName: undefined,
  sweeperDlqUrl: undefined,
  stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:ConvertManifest',
};

/** The execution ARN of `name` on the test state machine. */
export function executionArn(name: string, stateMachineArn = STATE_MACHINE_ARN): string {
  return stateMachineArn.replace(':stateMachine:', ':execution:') + `:${name}`;
}

/** A context whose clients are plain instances: mock them with `mockClient(ctx.sfn)` etc. */
export function testContext(target: PipelineTarget = cloudTarget, now = new Date('2026-11-23T12:00:00Z')): CliContext {
  const settings = { region: target.region, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };
  return {
    target,
    s3: new S3Client(settings),
    sqs: new SQSClient(settings),
    sfn: new SFNClient(settings),
    ddb: DynamoDBDocumentClient.from(new DynamoDBClient(settings)),
    config: resolveConfig(),
    now: () => now,
  };
}

/**
 * The start queue on a mocked document client, as the table keeps it: a replay's transaction puts its entry, a query
 * of the `QUEUE` partition reads the entries in key order, and a delete removes one. No slot is held (the slots
 * item is absent), so a drain starts the queue's head.
 */
export function mockStartQueue(ddb: AwsStub<any, any, any>): { entries(): Array<Record<string, unknown>> } {
  let queue: Array<Record<string, unknown>> = [];
  ddb.on(TransactWriteCommand).callsFake((input: { TransactItems?: Array<{ Put?: { Item?: Record<string, unknown> } }> }) => {
    const item = input.TransactItems?.[0]?.Put?.Item;
    if (item !== undefined) queue.push(item);
    return {};
  });
  ddb
    .on(QueryCommand, { ExpressionAttributeValues: { ':queue': 'QUEUE' } })
    .callsFake(() => ({ Items: [...queue].sort((a, b) => String(a.sk).localeCompare(String(b.sk))) }));
  ddb.on(DeleteCommand).callsFake((input: { Key: { sk: string } }) => {
    queue = queue.filter((e) => e.sk !== input.Key.sk);
    return {};
  });
  return { entries: () => queue };
}
