import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { BASE_STACK_NAME, PipelineConfig } from './config';
import { Alerting } from './constructs/alerting';
import { ConversionWorkflow } from './constructs/conversion-workflow';
import { PipelineDashboard } from './constructs/dashboard';
import { IngestQueue } from './constructs/ingest-queue';
import { BUILDER_TIMEOUT, ManifestBuilder, SWEEPER_TIMEOUT, ingestVisibilityTimeout } from './constructs/manifest-builder';
import { StateTables } from './constructs/state-tables';
import { Storage } from './constructs/storage';

/** Name of the stack `cdk deploy` creates without a stage (`stackName(config)` with one); the CLI reads its outputs. */
export const STACK_NAME = BASE_STACK_NAME;

/** Keys of the stack outputs, read by the CLI (docs/architecture.md, "Local mode"). */
export const OUTPUT_KEYS = [
  'IngestBucket',
  'CuratedBucket',
  'IngestQueueUrl',
  'IngestDlqUrl',
  'BuilderDlqUrl',
  'StateTable',
  'IdempotencyTable',
  'StateMachineArn',
  'GlueJobName',
  'GlueDatabase',
  'AlertTopicArn',
] as const;

/** Properties of {@link PipelineStack}. */
export interface PipelineStackProps extends StackProps {
  /** The pipeline's settings, from `configFromContext` in the app or given directly by tests. */
  readonly config: PipelineConfig;
  /** Path of the Glue job's script. @default glue-scripts/ndjson_to_parquet.py */
  readonly glueScriptPath?: string;
}

/** The whole ingest pipeline: buckets, queue, tables, manifest builder, conversion workflow, alerting, dashboard. */
export class PipelineStack extends Stack {
  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config } = props;

    const storage = new Storage(this, 'Storage', { config });
    const tables = new StateTables(this, 'StateTables');
    const alerting = new Alerting(this, 'Alerting', { config, stackName: this.stackName });
    const ingest = new IngestQueue(this, 'IngestQueue', {
      config,
      ingestBucket: storage.ingestBucket,
      visibilityTimeout: ingestVisibilityTimeout(),
    });
    const workflow = new ConversionWorkflow(this, 'ConversionWorkflow', {
      config,
      ingestBucket: storage.ingestBucket,
      curatedBucket: storage.curatedBucket,
      stateTable: tables.stateTable,
      alertTopic: alerting.topic,
      alertKey: alerting.key,
      stackName: this.stackName,
      glueScriptPath: props.glueScriptPath,
    });
    const builder = new ManifestBuilder(this, 'ManifestBuilder', {
      config,
      ingestQueue: ingest.queue,
      stateTable: tables.stateTable,
      idempotencyTable: tables.idempotencyTable,
      curatedBucket: storage.curatedBucket,
      stateMachine: workflow.stateMachine,
      alertTopic: alerting.topic,
      alertKey: alerting.key,
      ingestBucket: storage.ingestBucket,
    });

    alerting.alarmOnDeadLetterQueue(
      'IngestDlqAlarm',
      ingest.deadLetterQueue,
      'S3 notifications the manifest builder failed on reached the ingest DLQ: see them with `npx pipeline dlq`, fix the cause (builder logs), then `npx pipeline dlq redrive`.',
    );
    alerting.alarmOnDeadLetterQueue(
      'SweeperDlqAlarm',
      builder.deadLetterQueue,
      'Sweeper runs failed (see the sweeper log group); each next run redoes the same work, so once the cause is fixed the messages can be purged.',
    );
    alerting.alarmOnLambdaErrors(
      'BuilderErrorsAlarm',
      builder.builder,
      'manifest builder',
      'Read its log group for level ERROR. The notifications it failed on are received again and reach the ingest DLQ after maxReceiveCount receives; ' +
        'once the cause is fixed, `npx pipeline dlq redrive` sends them through again (files already in a manifest are skipped).',
    );
    alerting.alarmOnLambdaErrors(
      'SweeperErrorsAlarm',
      builder.sweeper,
      'sweeper',
      'Read its log group for level ERROR. Each run redoes the work of the failed one a minute later, so nothing needs replaying once the cause is fixed; ' +
        'meanwhile manifests are not sealed on time (see the oldest-open-manifest alarm).',
    );
    alerting.alarmOnLambdaThrottles('BuilderThrottlesAlarm', builder.builder, 'manifest builder');
    alerting.alarmOnLambdaThrottles('SweeperThrottlesAlarm', builder.sweeper, 'sweeper');
    alerting.alarmOnLambdaDuration('BuilderDurationAlarm', builder.builder, 'manifest builder', BUILDER_TIMEOUT);
    alerting.alarmOnLambdaDuration('SweeperDurationAlarm', builder.sweeper, 'sweeper', SWEEPER_TIMEOUT);
    alerting.alarmOnFailureRate(workflow.stateMachine);
    alerting.alarmOnOldestOpenManifest();
    alerting.alarmOnExecutionNameConflicts();

    new PipelineDashboard(this, 'Dashboard', {
      config,
      builder: builder.builder,
      sweeper: builder.sweeper,
      ingestQueue: ingest.queue,
      ingestDeadLetterQueue: ingest.deadLetterQueue,
      sweeperDeadLetterQueue: builder.deadLetterQueue,
      stateMachine: workflow.stateMachine,
      job: workflow.job,
      oldestOpenManifest: alerting.oldestOpenManifestMetric(),
    });

    const outputs: Record<(typeof OUTPUT_KEYS)[number], [string, string]> = {
      IngestBucket: [storage.ingestBucket.bucketName, 'Bucket producers upload NDJSON to, under the ingest prefix'],
      CuratedBucket: [storage.curatedBucket.bucketName, 'Manifests, results, Parquet and quarantine'],
      IngestQueueUrl: [ingest.queue.queueUrl, 'S3 notifications for the manifest builder'],
      IngestDlqUrl: [ingest.deadLetterQueue.queueUrl, 'Notifications the builder failed on; `pipeline dlq redrive` moves them back'],
      BuilderDlqUrl: [builder.deadLetterQueue.queueUrl, 'Failed sweeper invocations of the manifest builder construct'],
      StateTable: [tables.stateTable.tableName, 'State of manifests and files'],
      IdempotencyTable: [tables.idempotencyTable.tableName, 'Idempotency records of the manifest builder'],
      StateMachineArn: [workflow.stateMachine.stateMachineArn, 'Conversion state machine, one execution per manifest'],
      GlueJobName: [workflow.job.jobName, 'Glue job converting a manifest to Parquet'],
      GlueDatabase: [workflow.database.databaseName, 'Glue Data Catalog database of the datasets'],
      AlertTopicArn: [alerting.topic.topicArn, 'Alerts topic'],
    };
    for (const key of OUTPUT_KEYS) {
      const [value, description] = outputs[key];
      new CfnOutput(this, key, { value, description });
    }
  }
}
