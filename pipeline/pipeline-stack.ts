import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { BASE_STACK_NAME, PipelineConfig } from '../contracts/config';
import { Alerting } from './constructs/alerting';
import { ConversionWorkflow } from './constructs/conversion-workflow';
import { PipelineDashboard } from './constructs/dashboard';
import { BUILDER_TIMEOUT, ManifestBuilder } from './constructs/manifest-builder';
import { StateTables } from './constructs/state-tables';
import { Storage } from './constructs/storage';
import { Sweeper, SWEEPER_TIMEOUT } from './constructs/sweeper';

/** Name of the stack `cdk deploy` creates without a stage (`stackName(config)` with one); the CLI reads its outputs. */
export const STACK_NAME = BASE_STACK_NAME;

/** Keys of the stack outputs, read by the CLI (docs/architecture.md, "Local mode"). */
export const OUTPUT_KEYS = [
  'IngestBucket',
  'CuratedBucket',
  'IngestQueueUrl',
  'IngestDlqUrl',
  'SweeperDlqUrl',
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
    const lambdaProps = {
      config,
      stateTable: tables.stateTable,
      idempotencyTable: tables.idempotencyTable,
      curatedBucket: storage.curatedBucket,
      ingestBucket: storage.ingestBucket,
      stateMachine: workflow.stateMachine,
      alertTopic: alerting.topic,
    };
    const builder = new ManifestBuilder(this, 'ManifestBuilder', lambdaProps);
    const sweeper = new Sweeper(this, 'Sweeper', { ...lambdaProps, alertKey: alerting.key });

    alerting.alarmOnDeadLetterQueue(
      'IngestDlqAlarm',
      builder.ingestDeadLetterQueue,
      'S3 notifications the manifest builder failed on reached the ingest DLQ: see them with `npx pipeline dlq`, fix the cause (builder logs), then `npx pipeline dlq redrive`.',
    );
    alerting.alarmOnDeadLetterQueue(
      'SweeperDlqAlarm',
      sweeper.deadLetterQueue,
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
      sweeper.function,
      'sweeper',
      'Read its log group for level ERROR. Each run redoes the work of the failed one a minute later, so nothing needs replaying once the cause is fixed; ' +
        'meanwhile manifests are not sealed on time (see the oldest-open-manifest alarm).',
    );
    alerting.alarmOnLambdaThrottles('BuilderThrottlesAlarm', builder.builder, 'manifest builder');
    alerting.alarmOnLambdaThrottles('SweeperThrottlesAlarm', sweeper.function, 'sweeper');
    alerting.alarmOnLambdaDuration('BuilderDurationAlarm', builder.builder, 'manifest builder', BUILDER_TIMEOUT);
    alerting.alarmOnLambdaDuration('SweeperDurationAlarm', sweeper.function, 'sweeper', SWEEPER_TIMEOUT);
    alerting.alarmOnFailureRate(workflow.stateMachine);
    alerting.alarmOnOldestOpenManifest();
    alerting.alarmOnExecutionNameConflicts();

    new PipelineDashboard(this, 'Dashboard', {
      config,
      builder: builder.builder,
      sweeper: sweeper.function,
      ingestQueue: builder.ingestQueue,
      ingestDeadLetterQueue: builder.ingestDeadLetterQueue,
      sweeperDeadLetterQueue: sweeper.deadLetterQueue,
      stateMachine: workflow.stateMachine,
      job: workflow.job,
      oldestOpenManifest: alerting.oldestOpenManifestMetric(),
    });

    const outputs: Record<(typeof OUTPUT_KEYS)[number], [string, string]> = {
      IngestBucket: [storage.ingestBucket.bucketName, 'Bucket producers upload NDJSON to, under the ingest prefix'],
      CuratedBucket: [storage.curatedBucket.bucketName, 'Manifests, results, Parquet and quarantine'],
      IngestQueueUrl: [builder.ingestQueue.queueUrl, 'S3 notifications for the manifest builder'],
      IngestDlqUrl: [builder.ingestDeadLetterQueue.queueUrl, 'Notifications the builder failed on; `pipeline dlq redrive` moves them back'],
      SweeperDlqUrl: [
        sweeper.deadLetterQueue.queueUrl,
        'Sweeper runs that failed or could not be delivered; `pipeline dlq --queue sweeper` shows them',
      ],
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
