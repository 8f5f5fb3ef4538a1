import * as path from 'node:path';
import { CfnElement, Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type LambdaService, type LambdaSettings, toEnvironment } from '../../contracts/lambda-environment';
import { PipelineConfig, PREFIXES } from '../config';
import { IDEMPOTENCY_TABLE, STATE_TABLE, STATE_TABLE_PREFIXES } from '../table-schema';
import { grantPublishTo } from './alerting';
import { retentionDays } from './log-retention';
import { acknowledge, arnRef } from './nag';

const REPO_ROOT = path.join(__dirname, '..', '..');

/** Timeout of the manifest builder; the ingest queue's visibility timeout is derived from it. */
export const BUILDER_TIMEOUT = Duration.seconds(60);
/** Timeout of the sweeper: under the minute between its runs. */
export const SWEEPER_TIMEOUT = Duration.seconds(50);
/** How long the event source gathers notifications before invoking the builder. */
export const BUILDER_BATCHING_WINDOW = Duration.seconds(5);
/** Notifications per invocation: enough to amortise the cold path, few enough to finish well within the timeout. */
export const BUILDER_BATCH_SIZE = 50;
/** Concurrent builder invocations the event source may run; bounds the write rate on one dataset's OPEN item. */
export const BUILDER_MAX_CONCURRENCY = 10;

/** The ingest queue's visibility timeout: six times the builder's timeout plus its batching window, as AWS advises. */
export function ingestVisibilityTimeout(): Duration {
  return Duration.seconds(6 * BUILDER_TIMEOUT.toSeconds() + BUILDER_BATCHING_WINDOW.toSeconds());
}

/** Properties of {@link ManifestBuilder}. */
export interface ManifestBuilderProps {
  /** The pipeline's settings. */
  readonly config: PipelineConfig;
  /** S3 notifications to consume. */
  readonly ingestQueue: sqs.IQueue;
  /** State table: open manifests, files, manifests. */
  readonly stateTable: dynamodb.ITable;
  /** Powertools idempotency records. */
  readonly idempotencyTable: dynamodb.ITable;
  /** Bucket that receives manifest files under `manifests/`. */
  readonly curatedBucket: s3.IBucket;
  /** The ingest bucket: the builder skips records of any other. */
  readonly ingestBucket: s3.IBucket;
  /** The conversion state machine, started once per sealed manifest. */
  readonly stateMachine: sfn.IStateMachine;
  /** Where the sweeper announces manifests whose execution ended without recording an outcome. */
  readonly alertTopic: sns.ITopic;
  /** The alerts topic's key. */
  readonly alertKey: kms.IKey;
}

/**
 * The manifest builder (SQS-triggered: puts each new file into exactly one manifest, seals full ones) and the
 * sweeper (every minute: seals manifests whose oldest file waited `maxWaitMinutes`, resumes sealed manifests
 * that have no execution), with the dead-letter queue of the sweeper's failed invocations.
 */
export class ManifestBuilder extends Construct {
  /** SQS-triggered manifest builder. */
  public readonly builder: nodejs.NodejsFunction;
  /** Scheduled sweeper. */
  public readonly sweeper: nodejs.NodejsFunction;
  /** Sweeper invocations that failed after Lambda's retries or could not be delivered by EventBridge. */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ManifestBuilderProps) {
    super(scope, id);
    const { config } = props;

    const settings: LambdaSettings = {
      stateTable: props.stateTable.tableName,
      idempotencyTable: props.idempotencyTable.tableName,
      stateMachineArn: props.stateMachine.stateMachineArn,
      curatedBucket: props.curatedBucket.bucketName,
      ingestBucket: props.ingestBucket.bucketName,
      alertTopicArn: props.alertTopic.topicArn,
      ingestPrefix: config.ingestPrefix,
      acceptedSuffixes: config.acceptedSuffixes,
      batchSize: config.batchSize,
      maxWaitMinutes: config.maxWaitMinutes,
      maxConcurrentRuns: config.glue.maxConcurrentRuns,
      idempotencyTtlSeconds: config.idempotencyTtlDays * 24 * 3600,
      maxObjectMb: config.maxObjectMb,
    };
    const makeFunction = (
      name: string,
      service: LambdaService,
      entry: string,
      timeout: Duration,
      description: string,
      extra: Partial<nodejs.NodejsFunctionProps> = {},
    ) => {
      const logGroup = new logs.LogGroup(this, `${name}Logs`, { retention: retentionDays(config.logRetentionDays) });
      // Its own role, allowed to write only to its own log group (instead of AWSLambdaBasicExecutionRole's
      // every log group of the account).
      const role = new iam.Role(this, `${name}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Runs the ${service} Lambda`,
      });
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'OwnLogGroup',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn],
        }),
      );
      return new nodejs.NodejsFunction(this, name, {
        description,
        entry: path.join(REPO_ROOT, entry),
        handler: 'handler',
        projectRoot: REPO_ROOT,
        depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 512,
        timeout,
        tracing: lambda.Tracing.ACTIVE,
        role,
        environment: {
          ...toEnvironment(settings, { service, metricsNamespace: config.metricsNamespace, logLevel: config.logLevel }),
          NODE_OPTIONS: '--enable-source-maps',
        },
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        bundling: { minify: true, sourceMap: true, target: 'node22' },
        ...extra,
      });
    };

    this.builder = makeFunction(
      'Builder',
      'manifest-builder',
      'handlers/manifest-builder/index.ts',
      BUILDER_TIMEOUT,
      'Puts each new ingest file into exactly one manifest; seals full manifests and starts their conversion',
    );
    this.builder.addEventSource(
      new SqsEventSource(props.ingestQueue, {
        batchSize: BUILDER_BATCH_SIZE,
        maxBatchingWindow: BUILDER_BATCHING_WINDOW,
        reportBatchItemFailures: true,
        maxConcurrency: BUILDER_MAX_CONCURRENCY,
      }),
    );

    this.deadLetterQueue = new sqs.Queue(this, 'SweeperDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // Overlapping sweeps are harmless (every seal and start is conditional or idempotent), so no reserved
    // concurrency: it would fail deployment in accounts with the minimum concurrency quota.
    this.sweeper = makeFunction(
      'Sweeper',
      'sweeper',
      'handlers/sweeper/index.ts',
      SWEEPER_TIMEOUT,
      'Seals manifests whose oldest file waited too long; resumes sealed manifests that have no execution',
      // The next run a minute later does the same work, so a failed run is not retried; it goes to the DLQ,
      // whose alarm tells the operator the sweeper is failing.
      { deadLetterQueue: this.deadLetterQueue, retryAttempts: 0, maxEventAge: Duration.minutes(2) },
    );

    new events.Rule(this, 'SweeperSchedule', {
      description: 'Runs the manifest sweeper every minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [
        new targets.LambdaFunction(this.sweeper, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: Duration.minutes(2),
        }),
      ],
    });

    const manifestKeys = `${PREFIXES.manifests}*`;
    const table = props.stateTable.tableArn;
    const onlyPrefixes = (...prefixes: string[]) => ({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes.map((prefix) => `${prefix}*`) },
    });
    const { open, file, manifest, rejected } = STATE_TABLE_PREFIXES;
    // The builder opens manifests, writes files into them (FILE#, MANIFEST#.../F#), records rejections, seals and
    // starts: it reads and writes those items, never scans, deletes, or writes in batches.
    this.builder.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PlaceFiles',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
        resources: [table],
        conditions: onlyPrefixes(open, file, manifest, rejected),
      }),
    );
    // The sweeper seals, starts and records ended executions (OPEN#, MANIFEST#), and is the only one that deletes:
    // a manifest opened and never written to.
    this.sweeper.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SealAndStart',
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
        resources: [table],
        conditions: onlyPrefixes(open, manifest),
      }),
    );
    this.sweeper.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PendingAndRunning',
        actions: ['dynamodb:Query'],
        resources: [STATE_TABLE.pendingIndex.name, STATE_TABLE.runningIndex.name].map((index) => `${table}/index/${index}`),
        // Whether the condition key is the index's partition key or absent for an index query, these pass.
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['PENDING', 'RUNNING'] } },
      }),
    );
    // Powertools deletes a record whose function failed, so the retry is not answered from it.
    this.builder.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'IdempotencyRecords',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [props.idempotencyTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${IDEMPOTENCY_TABLE.builderKeyPrefix}#*`] } },
      }),
    );
    for (const fn of [this.builder, this.sweeper]) {
      fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'WriteManifestFiles', actions: ['s3:PutObject'], resources: [props.curatedBucket.arnForObjects(manifestKeys)] }));
      // The result file beside a manifest is the Glue job's word on the conversion; the Lambdas must not forge it.
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'NeverResultFiles',
          effect: iam.Effect.DENY,
          actions: ['s3:PutObject'],
          resources: [props.curatedBucket.arnForObjects(`${PREFIXES.manifests}*.result.json`)],
        }),
      );
      props.stateMachine.grantStartExecution(fn);
      // ExecutionAlreadyExists is checked against the existing execution's input (I3); the sweeper also reads
      // how an execution ended that recorded no outcome (I7).
      props.stateMachine.grantExecution(fn, 'states:DescribeExecution', 'states:GetExecutionHistory');
      // A manifest is started only while fewer than maxConcurrentRuns executions run (a backlog queues).
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:ListExecutions'], resources: [props.stateMachine.stateMachineArn] }));
    }
    grantPublishTo(this.sweeper, props.alertTopic, props.alertKey);

    for (const fn of [this.builder, this.sweeper]) {
      const policy = fn.role!.node.tryFindChild('DefaultPolicy')!;
      acknowledge(policy, 'Manifest files are one object per manifest under manifests/, named at run time; the result files there are denied.',
        `IAM5[Resource::${arnRef(props.curatedBucket)}/${manifestKeys}]`);
      acknowledge(policy, 'Executions are named after manifests at run time; DescribeExecution and GetExecutionHistory are limited to the executions of the conversion state machine.',
        `IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${Stack.of(this).getLogicalId(props.stateMachine.node.defaultChild as CfnElement)}"}]}]}:*]`);
      acknowledge(policy, 'X-Ray PutTraceSegments and PutTelemetryRecords (active tracing) support no resource-level permissions.',
        'IAM5[Resource::*]');
      acknowledge(fn, 'nodejs22.x is the runtime the design fixes (an LTS runtime supported by Lambda and Powertools); moving to a newer one is a deliberate upgrade, tested first.',
        'L1');
    }
  }
}
