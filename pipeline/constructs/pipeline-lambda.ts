/**
 * What the manifest builder and the sweeper have in common: their environment (written by the one codec the
 * handlers read, contracts/lambda-environment.ts), a function with its own log group and role, and the right to
 * write manifest files and start, find and describe the conversion's executions.
 */
import * as path from 'node:path';
import { CfnElement, Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type LambdaService, type LambdaSettings, toEnvironment } from '../../contracts/lambda-environment';
import { DEFAULT_CONFIG, type LogLevel, PREFIXES, alertSubjectPrefix } from '../../contracts/config';
import { STATE_TABLE_PREFIXES } from '../../contracts/table-schema';
import { Alerting } from './alerting';
import { PrivateNetwork } from './private-network';
import { retentionDays } from './log-retention';
import { acknowledge, arnRef } from './nag';

const REPO_ROOT = path.join(__dirname, '..', '..');

/**
 * The settings both Lambdas are told (docs/architecture.md, "Lambda environment") and made with; each defaults to
 * the pipeline's default (`DEFAULT_CONFIG` of contracts/config.ts).
 */
export interface PipelineLambdaSettings {
  /** Key prefix under which producers upload. @default DEFAULT_CONFIG.ingestPrefix */
  readonly ingestPrefix?: string;
  /** Key suffixes accepted as NDJSON input. @default DEFAULT_CONFIG.acceptedSuffixes */
  readonly acceptedSuffixes?: readonly string[];
  /** Most files in one manifest. @default DEFAULT_CONFIG.batchSize */
  readonly batchSize?: number;
  /** A manifest is sealed when its oldest file has waited this long. @default DEFAULT_CONFIG.maxWaitMinutes */
  readonly maxWaitMinutes?: number;
  /** Conversions allowed at once: the Glue job's `maxConcurrentRuns`. @default DEFAULT_CONFIG.glue.maxConcurrentRuns */
  readonly maxConcurrentRuns?: number;
  /** Days an idempotency record is kept. @default DEFAULT_CONFIG.idempotencyTtlDays */
  readonly idempotencyTtlDays?: number;
  /** Largest object accepted, in MB. @default DEFAULT_CONFIG.maxObjectMb */
  readonly maxObjectMb?: number;
  /** Most write shards of one dataset. @default DEFAULT_CONFIG.maxShardsPerDataset */
  readonly maxShardsPerDataset?: number;
  /** The pipeline's stage, named in the alerts' subject. @default no stage */
  readonly stage?: string;
  /** Namespace of the Lambdas' metrics. @default DEFAULT_CONFIG.metricsNamespace */
  readonly metricsNamespace?: string;
  /** Log level of the Lambdas. @default DEFAULT_CONFIG.logLevel */
  readonly logLevel?: LogLevel;
  /** Retention of the Lambdas' log groups, in days. @default DEFAULT_CONFIG.logRetentionDays */
  readonly logRetentionDays?: number;
}

/** The settings and the resources both Lambdas are told about and act on. */
export interface PipelineLambdaProps extends PipelineLambdaSettings {
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
  /** The alerts topic (where the sweeper announces manifests whose execution ended without recording an outcome) and the alarms of the function. */
  readonly alerting: Alerting;
  /** With `network=private`: the subnets and the security group the function runs in. @default Lambda's own network */
  readonly network?: PrivateNetwork;
}

/** The handlers' settings for these resources and settings (docs/architecture.md, "Lambda environment"). */
export function lambdaSettingsOf(props: PipelineLambdaProps): LambdaSettings {
  const d = DEFAULT_CONFIG;
  return {
    stateTable: props.stateTable.tableName,
    idempotencyTable: props.idempotencyTable.tableName,
    stateMachineArn: props.stateMachine.stateMachineArn,
    curatedBucket: props.curatedBucket.bucketName,
    ingestBucket: props.ingestBucket.bucketName,
    alertTopicArn: props.alerting.topic.topicArn,
    alertSubjectPrefix: alertSubjectPrefix(props.stage),
    ingestPrefix: props.ingestPrefix ?? d.ingestPrefix,
    acceptedSuffixes: props.acceptedSuffixes ?? d.acceptedSuffixes,
    batchSize: props.batchSize ?? d.batchSize,
    maxWaitMinutes: props.maxWaitMinutes ?? d.maxWaitMinutes,
    maxConcurrentRuns: props.maxConcurrentRuns ?? d.glue.maxConcurrentRuns,
    idempotencyTtlSeconds: (props.idempotencyTtlDays ?? d.idempotencyTtlDays) * 24 * 3600,
    maxObjectMb: props.maxObjectMb ?? d.maxObjectMb,
    maxShardsPerDataset: props.maxShardsPerDataset ?? d.maxShardsPerDataset,
  };
}

/** How one Lambda of the pipeline is made. */
export interface PipelineFunctionOptions {
  /** Which Lambda: its `POWERTOOLS_SERVICE_NAME`, and the name its role's description gives. */
  readonly service: LambdaService;
  /** Handler module, relative to the repository root. */
  readonly entry: string;
  /** Timeout of an invocation. */
  readonly timeout: Duration;
  /** The function's description in the console. */
  readonly description: string;
  /** Function properties that only this Lambda has (a dead-letter queue, retries). @default none */
  readonly extra?: Partial<nodejs.NodejsFunctionProps>;
  /** The environment, for a Lambda that is not told the builder's and the sweeper's settings. @default theirs, from `props` */
  readonly environment?: Record<string, string>;
}

/**
 * A function named `name` in `scope`, with its log group (`<name>Logs`) and a role (`<name>Role`) allowed to
 * write only to that log group (instead of AWSLambdaBasicExecutionRole's every log group of the account).
 */
export function pipelineFunction(
  scope: Construct,
  name: string,
  props: PipelineLambdaProps,
  options: PipelineFunctionOptions,
): nodejs.NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${name}Logs`, {
    retention: retentionDays(props.logRetentionDays ?? DEFAULT_CONFIG.logRetentionDays),
  });
  const role = new iam.Role(scope, `${name}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Runs the ${options.service} Lambda`,
  });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'OwnLogGroup',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }),
  );
  const network = props.network;
  const interfaces = network?.grantFunctionInterfaces(scope, `${name}NetworkInterfaces`, role);
  const fn = new nodejs.NodejsFunction(scope, name, {
    description: options.description,
    entry: path.join(REPO_ROOT, options.entry),
    handler: 'handler',
    projectRoot: REPO_ROOT,
    depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 512,
    timeout: options.timeout,
    tracing: lambda.Tracing.ACTIVE,
    role,
    environment: {
      ...(options.environment ??
        toEnvironment(lambdaSettingsOf(props), {
          service: options.service,
          metricsNamespace: props.metricsNamespace ?? DEFAULT_CONFIG.metricsNamespace,
          logLevel: props.logLevel ?? DEFAULT_CONFIG.logLevel,
        })),
      NODE_OPTIONS: '--enable-source-maps',
    },
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    bundling: { minify: true, sourceMap: true, target: 'node22' },
    ...(network === undefined
      ? {}
      : { vpc: network.vpc, vpcSubnets: { subnets: network.subnets }, securityGroups: [network.functionsSecurityGroup] }),
    ...options.extra,
  });
  if (interfaces !== undefined) fn.node.addDependency(interfaces);
  return fn;
}

/**
 * Lets `fn` write manifest files (never result files), start executions of the conversion state machine, and
 * list and describe them; with the reasons for the wildcards this needs.
 */
export function grantManifestStarts(
  fn: nodejs.NodejsFunction,
  props: Pick<PipelineLambdaProps, 'curatedBucket' | 'stateMachine' | 'stateTable'>,
): void {
  const manifestKeys = `${PREFIXES.manifests}*`;
  // Every start takes a capacity slot (the SLOTS item) and goes through the start queue (the QUEUE partition): the
  // builder and the sweeper queue, start the queue's head and remove its entries; the sweeper gives back slots.
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'CapacitySlotsAndStartQueue',
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
      resources: [props.stateTable.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [STATE_TABLE_PREFIXES.slots, STATE_TABLE_PREFIXES.queue] } },
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'WriteManifestFiles',
      actions: ['s3:PutObject'],
      resources: [props.curatedBucket.arnForObjects(manifestKeys)],
    }),
  );
  // The result file and the outcome document beside a manifest are the Glue job's word on the conversion; the
  // Lambdas must not forge them.
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'NeverResultFiles',
      effect: iam.Effect.DENY,
      actions: ['s3:PutObject'],
      resources: [
        props.curatedBucket.arnForObjects(`${PREFIXES.manifests}*.result.json`),
        props.curatedBucket.arnForObjects(`${PREFIXES.manifests}*.outcome.json`),
      ],
    }),
  );
  props.stateMachine.grantStartExecution(fn);
  // ExecutionAlreadyExists is checked against the existing execution's input (I3); the sweeper also reads
  // how an execution ended that recorded no outcome (I7).
  props.stateMachine.grantExecution(fn, 'states:DescribeExecution', 'states:GetExecutionHistory');
  // The sweeper skips the executions that run (ListExecutions) before it describes the others.
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:ListExecutions'], resources: [props.stateMachine.stateMachineArn] }));
}

/** The reasons a reviewer reads for the findings {@link grantManifestStarts} and the runtime raise. */
export function acknowledgeManifestStarts(
  scope: Construct,
  fn: nodejs.NodejsFunction,
  props: Pick<PipelineLambdaProps, 'curatedBucket' | 'stateMachine' | 'stateTable'>,
): void {
  const policy = fn.role!.node.tryFindChild('DefaultPolicy')!;
  acknowledge(
    policy,
    'Manifest files are one object per manifest under manifests/, named at run time; the result files there are denied.',
    `IAM5[Resource::${arnRef(props.curatedBucket)}/${PREFIXES.manifests}*]`,
  );
  acknowledge(
    policy,
    'Executions are named after manifests at run time; DescribeExecution and GetExecutionHistory are limited to the executions of the conversion state machine.',
    `IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${Stack.of(scope).getLogicalId(props.stateMachine.node.defaultChild as CfnElement)}"}]}]}:*]`,
  );
  acknowledge(
    policy,
    'X-Ray PutTraceSegments and PutTelemetryRecords (active tracing) support no resource-level permissions.',
    'IAM5[Resource::*]',
  );
  acknowledge(
    fn,
    'nodejs22.x is the runtime the design fixes (an LTS runtime supported by Lambda and Powertools); moving to a newer one is a deliberate upgrade, tested first.',
    'L1',
  );
}
