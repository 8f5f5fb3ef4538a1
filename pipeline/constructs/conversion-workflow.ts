import * as path from 'node:path';
import { ArnFormat, CfnElement, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { PipelineConfig, PREFIXES } from '../config';
import { ConvertManifestPlaceholders, convertManifestDefinition } from './convert-manifest-definition';
import { retentionDays } from './log-retention';
import { acknowledge, arnRef } from './nag';

/** The Glue job's script; written and tested under `glue-scripts/`. */
export const GLUE_SCRIPT_PATH = path.join(__dirname, '..', '..', 'glue-scripts', 'ndjson_to_parquet.py');

/** Result files the Glue job writes and the state machine reads (docs/architecture.md, "Buckets and prefixes"). */
const RESULT_KEYS = `${PREFIXES.manifests}*.result.json`;

/** Properties of {@link ConversionWorkflow}. */
export interface ConversionWorkflowProps {
  /** The pipeline's settings (Glue sizing, execution timeout, log retention). */
  readonly config: PipelineConfig;
  /** Raw NDJSON, read by the Glue job under the ingest prefix. */
  readonly ingestBucket: s3.IBucket;
  /** Manifests in, results, Parquet and quarantine out. */
  readonly curatedBucket: s3.IBucket;
  /** The MANIFEST records the state machine updates. */
  readonly stateTable: dynamodb.ITable;
  /** Where failures are announced. */
  readonly alertTopic: sns.ITopic;
  /** Path of the Glue job's script. @default {@link GLUE_SCRIPT_PATH} */
  readonly glueScriptPath?: string;
}

/**
 * The conversion of one manifest: the Glue Spark job (NDJSON to Parquet, with its security configuration and
 * catalog database), and the state machine that runs it and records the outcome (the sweeper records and
 * announces what the state machine cannot: executions that time out, are aborted or fail on a runtime error).
 */
export class ConversionWorkflow extends Construct {
  /** The Glue Spark job. */
  public readonly job: glue.Job;
  /** Catalog database holding one table per dataset, so Athena queries the Parquet without a crawler. */
  public readonly database: glue.Database;
  /** One execution per manifest, named after it. */
  public readonly stateMachine: sfn.StateMachine;
  /** Encrypts the Glue job's logs and bookmarks. */
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: ConversionWorkflowProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);
    if (config.glue.executionClass === 'FLEX' && !['G.1X', 'G.2X'].includes(config.glue.workerType)) {
      throw new Error(`Glue FLEX runs only on G.1X or G.2X workers, not ${config.glue.workerType}: use executionClass STANDARD`);
    }

    this.key = new kms.Key(this, 'GlueKey', {
      description: 'Encrypts the ingest pipeline Glue job logs and bookmarks',
      enableKeyRotation: true,
    });
    // Glue's CloudWatch encryption associates this key with the job's log groups: the Logs service must use it.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '/aws-glue/*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );

    const securityConfiguration = new glue.SecurityConfiguration(this, 'SecurityConfiguration', {
      s3Encryption: glue.S3Encryption.s3Managed(),
      cloudWatchEncryption: glue.CloudWatchEncryption.kms(this.key),
      jobBookmarksEncryption: glue.JobBookmarksEncryption.clientSideKms(this.key),
    });

    this.database = new glue.Database(this, 'Database', {
      description: 'Parquet datasets converted by the ingest pipeline, one table per dataset',
    });

    const role = new iam.Role(this, 'JobRole', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description: 'Runs the ingest pipeline conversion job: reads raw NDJSON, writes Parquet and quarantine',
    });
    this.grantJobAccess(role, props);
    this.acknowledgeJobAccess(role, props);

    const jobProps: glue.PySparkEtlJobProps = {
      description: 'Converts the NDJSON files of one manifest to Parquet; bad lines go to quarantine',
      role,
      script: glue.Code.fromAsset(props.glueScriptPath ?? GLUE_SCRIPT_PATH),
      glueVersion: config.glue.version as glue.GlueVersion,
      workerConfiguration: {
        workerType: config.glue.workerType as glue.WorkerType,
        numberOfWorkers: config.glue.maxWorkers,
      },
      maxConcurrentRuns: config.glue.maxConcurrentRuns,
      // Retries belong to the state machine, which sees and records them.
      maxRetries: 0,
      timeout: Duration.minutes(config.glue.timeoutMinutes),
      securityConfiguration,
      enableMetrics: true,
      continuousLogging: { enabled: true },
      defaultArguments: {
        // With auto scaling, numberOfWorkers is the upper bound: a small manifest uses few workers.
        '--enable-auto-scaling': 'true',
        '--enable-glue-datacatalog': 'true',
        '--job-bookmark-option': 'job-bookmark-disable',
        '--catalog_database': this.database.databaseName,
        '--target_file_mb': String(config.glue.targetFileMb),
        '--curated_path': props.curatedBucket.s3UrlForObject(PREFIXES.curated),
        '--quarantine_path': props.curatedBucket.s3UrlForObject(PREFIXES.quarantine),
        // A dataset with a schema file here is parsed with it instead of an inferred one (glue-scripts/README.md).
        '--schema_prefix': props.curatedBucket.s3UrlForObject(PREFIXES.schemas),
        '--staging_path': props.curatedBucket.s3UrlForObject(PREFIXES.staging),
      },
    };
    this.job =
      config.glue.executionClass === 'FLEX'
        ? new glue.PySparkFlexEtlJob(this, 'Job', jobProps)
        : new glue.PySparkEtlJob(this, 'Job', jobProps);

    const substitutions: ConvertManifestPlaceholders = {
      StateTableName: props.stateTable.tableName,
      GlueJobName: this.job.jobName,
      GlueDatabaseName: this.database.databaseName,
      AlertTopicArn: props.alertTopic.topicArn,
      CuratedBucketName: props.curatedBucket.bucketName,
      TargetFileMb: String(config.glue.targetFileMb),
      Region: stack.region,
    };
    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      retention: retentionDays(config.logRetentionDays),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'Converts one manifest of NDJSON files to Parquet and records the outcome',
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(convertManifestDefinition(config.executionTimeoutMinutes)),
      definitionSubstitutions: { ...substitutions },
      tracingEnabled: true,
      // Every state's entry and exit, without inputs and outputs: those hold S3 locations and error causes that
      // may quote data lines; operators see them in the execution history, which IAM guards per user.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    this.grantStateMachineAccess(props);
  }

  /** Least privilege of the Glue job: raw data under the ingest prefix, its own prefixes, its catalog database. */
  private grantJobAccess(role: iam.Role, props: ConversionWorkflowProps): void {
    const stack = Stack.of(this);
    props.ingestBucket.grantRead(role, `${props.config.ingestPrefix}*`);
    props.curatedBucket.grantRead(role, `${PREFIXES.manifests}*`);
    props.curatedBucket.grantRead(role, `${PREFIXES.schemas}*`);
    props.curatedBucket.grantPut(role, RESULT_KEYS);
    // A retry or replay deletes the files of the manifest's partition before it writes them again (I4).
    props.curatedBucket.grantReadWrite(role, `${PREFIXES.curated}*`);
    props.curatedBucket.grantDelete(role, `${PREFIXES.curated}*`);
    props.curatedBucket.grantReadWrite(role, `${PREFIXES.quarantine}*`);
    props.curatedBucket.grantDelete(role, `${PREFIXES.quarantine}*`);
    // Copies of pinned versions whose key was overwritten since the seal, removed at the end of the run.
    props.curatedBucket.grantReadWrite(role, `${PREFIXES.staging}*`);
    props.curatedBucket.grantDelete(role, `${PREFIXES.staging}*`);
    this.key.grantEncryptDecrypt(role);

    const catalogArn = stack.formatArn({ service: 'glue', resource: 'catalog' });
    const databaseArn = stack.formatArn({ service: 'glue', resource: 'database', resourceName: this.database.databaseName });
    const tablesArn = stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${this.database.databaseName}/*` });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CatalogOfTheDatasets',
        actions: [
          'glue:GetDatabase',
          'glue:GetTable',
          'glue:GetTables',
          'glue:CreateTable',
          'glue:UpdateTable',
          'glue:GetPartition',
          'glue:GetPartitions',
          'glue:BatchGetPartition',
          'glue:CreatePartition',
          'glue:BatchCreatePartition',
          'glue:UpdatePartition',
        ],
        resources: [catalogArn, databaseArn, tablesArn],
      }),
    );
    // Spark's Glue catalog client looks up the `default` database when it starts.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CatalogClientStartup',
        actions: ['glue:GetDatabase'],
        resources: [catalogArn, stack.formatArn({ service: 'glue', resource: 'database', resourceName: 'default' })],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ContinuousLogging',
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
        resources: [
          stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '/aws-glue/*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'JobMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': 'Glue' } },
      }),
    );
  }

  /** Why the Glue job's policy has the wildcards it has. */
  private acknowledgeJobAccess(role: iam.Role, props: ConversionWorkflowProps): void {
    const policy = role.node.tryFindChild('DefaultPolicy')!;
    const curated = arnRef(props.curatedBucket);
    acknowledge(
      policy,
      'Action wildcards of the CDK grant methods (grantRead, grantPut, grantReadWrite, grantDelete, grantEncryptDecrypt), each limited in its statement to the prefixes or the key below.',
      'IAM5[Action::s3:GetBucket*]',
      'IAM5[Action::s3:GetObject*]',
      'IAM5[Action::s3:List*]',
      'IAM5[Action::s3:Abort*]',
      'IAM5[Action::s3:DeleteObject*]',
      'IAM5[Action::kms:GenerateDataKey*]',
      'IAM5[Action::kms:ReEncrypt*]',
    );
    acknowledge(
      policy,
      'The job reads the objects a manifest lists (any key under the ingest prefix), the manifest files and the datasets\' pinned schemas (one per dataset, datasets are known only at run time), and owns the Parquet, quarantine and result objects under their prefixes; all keys are known only at run time.',
      `IAM5[Resource::${arnRef(props.ingestBucket)}/${props.config.ingestPrefix}*]`,
      `IAM5[Resource::${curated}/${PREFIXES.manifests}*]`,
      `IAM5[Resource::${curated}/${PREFIXES.schemas}*]`,
      `IAM5[Resource::${curated}/${RESULT_KEYS}]`,
      `IAM5[Resource::${curated}/${PREFIXES.curated}*]`,
      `IAM5[Resource::${curated}/${PREFIXES.quarantine}*]`,
      `IAM5[Resource::${curated}/${PREFIXES.staging}*]`,
    );
    acknowledge(
      policy,
      'glue.Code grants the job read of its script in the CDK asset bucket; asset keys are content hashes.',
      'IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
    );
    acknowledge(
      policy,
      'One catalog table per dataset, created by the job when a dataset first arrives; limited to the pipeline database.',
      `IAM5[Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/<${Stack.of(this).getLogicalId(this.database.node.defaultChild as CfnElement)}>/*]`,
    );
    acknowledge(
      policy,
      'Glue names the continuous-logging log groups itself, all under /aws-glue/.',
      'IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws-glue/*]',
    );
    acknowledge(
      policy,
      'cloudwatch:PutMetricData supports no resource-level permissions; the statement is limited to the Glue namespace by condition.',
      'IAM5[Resource::*]',
    );
  }

  /** What the ASL's tasks call: the MANIFEST record, the Glue job, the result file, the alerts topic. */
  private grantStateMachineAccess(props: ConversionWorkflowProps): void {
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RecordTheOutcome',
        actions: ['dynamodb:UpdateItem'],
        resources: [props.stateTable.tableArn],
      }),
    );
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RunTheConversionJob',
        actions: ['glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun'],
        resources: [this.job.jobArn],
      }),
    );
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadTheResultFile',
        actions: ['s3:GetObject'],
        resources: [props.curatedBucket.arnForObjects(RESULT_KEYS)],
      }),
    );
    // Without ListBucket a missing result file reads as AccessDenied; with it, as NoSuchKey, which is the truth.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'TellAMissingResultFile',
        actions: ['s3:ListBucket'],
        resources: [props.curatedBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${PREFIXES.manifests}*`] } },
      }),
    );
    props.alertTopic.grantPublish(this.stateMachine);

    const policy = this.stateMachine.role.node.tryFindChild('DefaultPolicy')!;
    acknowledge(
      policy,
      'Result files are one object per manifest (manifests/<dataset>/<id>.result.json), named at run time.',
      `IAM5[Resource::${arnRef(props.curatedBucket)}/${RESULT_KEYS}]`,
    );
    acknowledge(policy, 'kms:GenerateDataKey* comes with grantPublish on the encrypted alerts topic, on its one key.', 'IAM5[Action::kms:GenerateDataKey*]');
    acknowledge(
      policy,
      'X-Ray (tracing) and CloudWatch Logs vended delivery (execution logging) actions support no resource-level permissions.',
      'IAM5[Resource::*]',
    );
  }
}
