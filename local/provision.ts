/**
 * Creates the pipeline's resources on the emulator from the same settings (`contracts/config.ts`), the same key
 * layout (`contracts/table-schema.ts`) and the same ASL file and placeholders as the CDK stack.
 */
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand, type GlobalSecondaryIndex } from '@aws-sdk/client-dynamodb';
import { CreateDatabaseCommand, CreateJobCommand, GlueClient } from '@aws-sdk/client-glue';
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { alertSubjectPrefix, type PipelineConfig } from '../contracts/config';
import { glueJobArguments } from '../contracts/glue-job';
import {
  CONVERT_MANIFEST_ASL_PATH,
  convertManifestDefinition,
  fillPlaceholders,
  type ConvertManifestPlaceholders,
} from '../contracts/convert-manifest-asl';
import { IDEMPOTENCY_TABLE, STATE_TABLE, STATE_TABLE_INDEXES, STATE_TABLE_KEY_ATTRIBUTES } from '../contracts/table-schema';
import { clientConfig, type LocalCredentials, type LocalStack } from '../contracts/local-stack';
import { LOCAL_ACCOUNT, REPO_ROOT } from './layout';

/** The ASL file shared with the stack. */
export const ASL_FILE = CONVERT_MANIFEST_ASL_PATH;

/** The Glue script shared with the stack; the emulator runs it under pyspark. */
export const GLUE_SCRIPT = path.join(REPO_ROOT, 'glue-scripts', 'ndjson_to_parquet.py');
/** The folder of the script's package, which the stack ships as a zip with `--extra-py-files`; the emulator zips it. */
export const GLUE_PACKAGE_ROOT = path.join(REPO_ROOT, 'glue-scripts', 'src');

/** Resource names of the local mode: fixed, so the AWS CLI examples in the README work as written. */
export const LOCAL_NAMES = {
  ingestBucket: 'pipeline-ingest-local',
  curatedBucket: 'pipeline-curated-local',
  ingestQueue: 'pipeline-ingest-local',
  ingestDlq: 'pipeline-ingest-dlq-local',
  stateTable: 'pipeline-state-local',
  idempotencyTable: 'pipeline-idempotency-local',
  glueJob: 'ndjson-to-parquet-local',
  glueDatabase: 'ingest_pipeline_local',
  alertTopic: 'pipeline-alerts-local',
  stateMachine: 'convert-manifest-local',
} as const;

/** Options of {@link provision}. */
export interface ProvisionOptions {
  /** Emulator endpoint, e.g. `http://127.0.0.1:4566`. */
  readonly endpoint: string;
  readonly region: string;
  /** The instance's access key, the only one the emulator answers to. */
  readonly credentials: LocalCredentials;
  /** The resolved settings (batch size, suffixes, Glue settings, receive count). */
  readonly config: PipelineConfig;
  /** How long the oldest file of a manifest waits before the sweeper seals it, in seconds. */
  readonly maxWaitSeconds: number;
  /** Folder where the emulator writes alert emails. */
  readonly outboxDir: string;
  /** Visibility timeout of the ingest queue: short locally so failed records come back soon. @default 10 */
  readonly visibilityTimeoutSeconds?: number;
  /** Address subscribed to the alerts topic. @default config.alertEmail ?? 'ops@example.com' */
  readonly alertEmail?: string;
  /**
   * Execution timeout in seconds, in place of the config's minutes and below its lower bound: only for tests that
   * make an execution time out. @default config.executionTimeoutMinutes * 60
   */
  readonly executionTimeoutSeconds?: number;
}

/** The values of the ASL placeholders (docs/architecture.md, "ASL placeholders"). */
export function aslSubstitutions(config: PipelineConfig, region: string, topicArn: string): ConvertManifestPlaceholders {
  return {
    StateTableName: LOCAL_NAMES.stateTable,
    GlueJobName: LOCAL_NAMES.glueJob,
    AlertTopicArn: topicArn,
    CuratedBucketName: LOCAL_NAMES.curatedBucket,
    Region: region,
    AlertSubjectPrefix: alertSubjectPrefix(config.stage),
  };
}

/** Creates every resource on the emulator and returns what `stack.json` records. */
export async function provision(options: ProvisionOptions): Promise<LocalStack> {
  const { config, region } = options;
  const aws = clientConfig({ endpoint: options.endpoint, region, ...options.credentials });
  const s3 = new S3Client(aws);
  const sqs = new SQSClient(aws);
  const ddb = new DynamoDBClient(aws);
  const glue = new GlueClient(aws);
  const sns = new SNSClient(aws);
  const sfn = new SFNClient(aws);
  try {
    // Storage: the ingest bucket is versioned like the stack's, so a deleted object can be restored.
    await s3.send(new CreateBucketCommand({ Bucket: LOCAL_NAMES.ingestBucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: LOCAL_NAMES.ingestBucket, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new CreateBucketCommand({ Bucket: LOCAL_NAMES.curatedBucket }));

    // Ingest queue and its DLQ.
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: LOCAL_NAMES.ingestDlq }));
    const dlqArn = await queueArn(sqs, dlq.QueueUrl!);
    const queue = await sqs.send(
      new CreateQueueCommand({
        QueueName: LOCAL_NAMES.ingestQueue,
        Attributes: {
          VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 10),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: config.maxReceiveCount }),
        },
      }),
    );
    const ingestQueueArn = await queueArn(sqs, queue.QueueUrl!);

    // One notification rule per accepted suffix on the ingest prefix, as the stack's IngestQueue construct does.
    // Setting it makes the emulator post an s3:TestEvent to the queue, as S3 does; the builder skips it.
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: LOCAL_NAMES.ingestBucket,
        NotificationConfiguration: {
          QueueConfigurations: config.acceptedSuffixes.map((suffix, i) => ({
            Id: `ingest-${i}`,
            QueueArn: ingestQueueArn,
            Events: ['s3:ObjectCreated:*'],
            Filter: {
              Key: {
                FilterRules: [
                  { Name: 'prefix', Value: config.ingestPrefix },
                  { Name: 'suffix', Value: suffix },
                ],
              },
            },
          })),
        },
      }),
    );

    // State and idempotency tables with the keys and indexes of contracts/table-schema.ts.
    const gsi = (index: { name: string; partitionKey: string; sortKey: string }): GlobalSecondaryIndex => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    });
    await ddb.send(
      new CreateTableCommand({
        TableName: LOCAL_NAMES.stateTable,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: STATE_TABLE_KEY_ATTRIBUTES.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: STATE_TABLE.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: STATE_TABLE_INDEXES.map(gsi),
      }),
    );
    await ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: LOCAL_NAMES.stateTable,
        TimeToLiveSpecification: { AttributeName: STATE_TABLE.ttlAttribute, Enabled: true },
      }),
    );
    await ddb.send(
      new CreateTableCommand({
        TableName: LOCAL_NAMES.idempotencyTable,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, KeyType: 'HASH' }],
      }),
    );
    await ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: LOCAL_NAMES.idempotencyTable,
        TimeToLiveSpecification: { AttributeName: IDEMPOTENCY_TABLE.ttlAttribute, Enabled: true },
      }),
    );

    // Glue: the catalog database and the conversion job; the emulator runs the script for real.
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: LOCAL_NAMES.glueDatabase } }));
    await glue.send(
      new CreateJobCommand({
        Name: LOCAL_NAMES.glueJob,
        Role: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${LOCAL_NAMES.glueJob}`,
        Command: { Name: 'glueetl', ScriptLocation: GLUE_SCRIPT, PythonVersion: '3' },
        GlueVersion: config.glue.version,
        WorkerType: config.glue.workerType,
        NumberOfWorkers: config.glue.maxWorkers,
        ExecutionClass: config.glue.executionClass,
        Timeout: config.glue.timeoutMinutes,
        ExecutionProperty: { MaxConcurrentRuns: config.glue.maxConcurrentRuns },
        // The script's package on its Python path, as the stack's job has it (the emulator allows this folder only).
        DefaultArguments: { ...glueDefaultArguments(config), '--extra-py-files': GLUE_PACKAGE_ROOT },
      }),
    );

    // Alerts: the emulator writes each message of a topic with an email subscription to the outbox.
    const topic = await sns.send(new CreateTopicCommand({ Name: LOCAL_NAMES.alertTopic }));
    await sns.send(
      new SubscribeCommand({
        TopicArn: topic.TopicArn!,
        Protocol: 'email',
        Endpoint: options.alertEmail ?? config.alertEmail ?? 'ops@example.com',
      }),
    );

    // The state machine last: the emulator switched execution on before it serves, so this one executes.
    // The same text as the stack's: the ASL file with the configured execution timeout, placeholders filled.
    const definition = JSON.parse(convertManifestDefinition(config.executionTimeoutMinutes)) as { TimeoutSeconds: number };
    if (options.executionTimeoutSeconds !== undefined) definition.TimeoutSeconds = options.executionTimeoutSeconds;
    const asl = fillPlaceholders(JSON.stringify(definition), aslSubstitutions(config, region, topic.TopicArn!));
    const machine = await sfn.send(
      new CreateStateMachineCommand({
        name: LOCAL_NAMES.stateMachine,
        definition: asl,
        roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${LOCAL_NAMES.stateMachine}`,
        type: 'STANDARD',
      }),
    );

    return {
      endpoint: options.endpoint,
      region,
      ...options.credentials,
      ingestBucket: LOCAL_NAMES.ingestBucket,
      curatedBucket: LOCAL_NAMES.curatedBucket,
      ingestQueueUrl: queue.QueueUrl!,
      ingestDlqUrl: dlq.QueueUrl!,
      stateTable: LOCAL_NAMES.stateTable,
      idempotencyTable: LOCAL_NAMES.idempotencyTable,
      stateMachineArn: machine.stateMachineArn!,
      glueJobName: LOCAL_NAMES.glueJob,
      glueDatabase: LOCAL_NAMES.glueDatabase,
      alertTopicArn: topic.TopicArn!,
      outboxDir: options.outboxDir,
      batchSize: config.batchSize,
      maxWaitSeconds: options.maxWaitSeconds,
      maxConcurrentRuns: config.glue.maxConcurrentRuns,
    };
  } finally {
    for (const client of [s3, sqs, ddb, glue, sns, sfn]) client.destroy();
  }
}

/** Arguments every run of the job gets, from the same function as the stack's; the state machine adds the manifest's own. */
export function glueDefaultArguments(config: PipelineConfig): Record<string, string> {
  return glueJobArguments(config.glue, { curatedBucket: LOCAL_NAMES.curatedBucket, catalogDatabase: LOCAL_NAMES.glueDatabase });
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  return out.Attributes!.QueueArn!;
}
