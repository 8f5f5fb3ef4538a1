import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { BASE_STACK_NAME, PipelineConfig, canaryAlarmMinutes, canaryLookbackMinutes } from '../contracts/config';
import { Alerting } from './constructs/alerting';
import { Canary } from './constructs/canary';
import { ConversionWorkflow } from './constructs/conversion-workflow';
import { PipelineDashboard } from './constructs/dashboard';
import { ManifestBuilder } from './constructs/manifest-builder';
import { type PipelineLambdaProps } from './constructs/pipeline-lambda';
import { PrivateNetwork } from './constructs/private-network';
import { StateTables } from './constructs/state-tables';
import { Storage } from './constructs/storage';
import { Sweeper } from './constructs/sweeper';

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

    const storage = new Storage(this, 'Storage', {
      ingestTransitionDays: config.ingestTransitionDays,
      curatedNoncurrentDays: config.curatedNoncurrentDays,
      quarantineExpirationDays: config.quarantineExpirationDays,
    });
    const tables = new StateTables(this, 'StateTables');
    // `-c network=private`: the functions and the Glue job in private subnets, reaching AWS through VPC endpoints.
    const network =
      config.network === 'private'
        ? new PrivateNetwork(this, 'Network', {
            logRetentionDays: config.logRetentionDays,
            existingVpc:
              config.vpcId === undefined
                ? undefined
                : {
                    vpcId: config.vpcId,
                    subnetIds: config.privateSubnetIds ?? [],
                    routeTableIds: config.privateRouteTableIds ?? [],
                    availabilityZones: config.availabilityZones ?? [],
                  },
          })
        : undefined;
    const alerting = new Alerting(this, 'Alerting', { stackName: this.stackName, alertEmail: config.alertEmail, stage: config.stage });
    const workflow = new ConversionWorkflow(this, 'ConversionWorkflow', {
      ingestBucket: storage.ingestBucket,
      curatedBucket: storage.curatedBucket,
      stateTable: tables.stateTable,
      alerting,
      stackName: this.stackName,
      glueScriptPath: props.glueScriptPath,
      glue: config.glue,
      ingestPrefix: config.ingestPrefix,
      executionTimeoutMinutes: config.executionTimeoutMinutes,
      logRetentionDays: config.logRetentionDays,
      stage: config.stage,
      network,
    });
    const lambdaProps: PipelineLambdaProps = {
      stateTable: tables.stateTable,
      idempotencyTable: tables.idempotencyTable,
      curatedBucket: storage.curatedBucket,
      ingestBucket: storage.ingestBucket,
      stateMachine: workflow.stateMachine,
      alerting,
      ingestPrefix: config.ingestPrefix,
      acceptedSuffixes: config.acceptedSuffixes,
      batchSize: config.batchSize,
      maxWaitMinutes: config.maxWaitMinutes,
      maxConcurrentRuns: config.glue.maxConcurrentRuns,
      idempotencyTtlDays: config.idempotencyTtlDays,
      maxObjectMb: config.maxObjectMb,
      maxShardsPerDataset: config.maxShardsPerDataset,
      stage: config.stage,
      metricsNamespace: config.metricsNamespace,
      logLevel: config.logLevel,
      logRetentionDays: config.logRetentionDays,
      network,
    };
    const builder = new ManifestBuilder(this, 'ManifestBuilder', {
      ...lambdaProps,
      maxReceiveCount: config.maxReceiveCount,
      maxConcurrency: config.builderMaxConcurrency,
    });
    const sweeper = new Sweeper(this, 'Sweeper', { ...lambdaProps, glueTimeoutMinutes: config.glue.timeoutMinutes });
    // Off unless `canary.everyMinutes` is set (docs/deploy.md, "The canary").
    const canary =
      config.canary.everyMinutes === undefined
        ? undefined
        : new Canary(this, 'Canary', {
            ...lambdaProps,
            everyMinutes: config.canary.everyMinutes,
            lookbackMinutes: canaryLookbackMinutes(config),
            alarmMinutes: canaryAlarmMinutes(config),
          });

    new PipelineDashboard(this, 'Dashboard', {
      builder: builder.lambdaFunction,
      sweeper: sweeper.lambdaFunction,
      ingestQueue: builder.ingestQueue,
      ingestDeadLetterQueue: builder.ingestDeadLetterQueue,
      sweeperDeadLetterQueue: sweeper.deadLetterQueue,
      stateMachine: workflow.stateMachine,
      job: workflow.job,
      oldestOpenManifest: sweeper.oldestOpenManifest,
      metricsNamespace: config.metricsNamespace,
      maxWaitMinutes: config.maxWaitMinutes,
      canary:
        canary === undefined
          ? undefined
          : { freshness: canary.freshness, pendingAge: canary.pendingAge, alarmMinutes: canaryAlarmMinutes(config) },
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
