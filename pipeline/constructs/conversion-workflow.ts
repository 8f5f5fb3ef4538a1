import * as path from 'node:path';
import { Arn, ArnFormat, CfnElement, CfnResource, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DEFAULT_CONFIG, type GlueSettings, PREFIXES, alertSubjectPrefix } from '../../contracts/config';
import { glueJobArguments } from '../../contracts/glue-job';
import { STATE_TABLE_PREFIXES } from '../../contracts/table-schema';
import { ConvertManifestPlaceholders, convertManifestDefinition } from '../../contracts/convert-manifest-asl';
import { retentionDays } from './log-retention';
import { lineCheckJarAsset } from './line-check-jar';
import { Alerting, grantPublishTo } from './alerting';
import { GLUE_LOG_GROUPS, glueLogGroupPatterns } from './glue-log-groups';
import { acknowledge, arnRef, nagText } from './nag';
import { PrivateNetwork } from './private-network';

/** The Glue job's entry script; written and tested under `glue-scripts/`. */
export const GLUE_SCRIPT_PATH = path.join(__dirname, '..', '..', 'glue-scripts', 'ndjson_to_parquet.py');
/**
 * The folder holding the job's package (`ndjson_conversion/`), which the entry script imports. CDK zips a folder
 * asset with the folder's content at the root of the archive, which is the layout Glue asks of `--extra-py-files`:
 * "The package directory should be at the root of the archive, and must contain an __init__.py file for the
 * package" (AWS Glue Developer Guide, "Using Python libraries with AWS Glue", "Zipping libraries for inclusion",
 * https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-python-libraries.html).
 */
export const GLUE_PACKAGE_ROOT = path.join(__dirname, '..', '..', 'glue-scripts', 'src');

/** Result files the Glue job writes for operators (docs/architecture.md, "Buckets and prefixes"). */
const RESULT_KEYS = `${PREFIXES.manifests}*.result.json`;
/** Outcome documents the Glue job writes and the state machine decides on (docs/architecture.md, "Outcome document"). */
const OUTCOME_KEYS = `${PREFIXES.manifests}*.outcome.json`;

/**
 * The job's script (or its package, or one of its jars) as one object of the CDK asset bucket, readable by its key only. `Code.fromAsset` and
 * `Code.fromBucket` grant `grantRead(key)`, which adds `s3:List*` and `s3:GetBucket*` on the whole asset bucket:
 * every asset of every stack of the account and region.
 */
class ScriptObject extends glue.Code {
  constructor(
    private readonly asset: s3assets.Asset,
    private readonly sid: string,
  ) {
    super();
  }

  bind(_scope: Construct, grantable: iam.IGrantable): glue.CodeConfig {
    grantable.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: this.sid,
        actions: ['s3:GetObject'],
        resources: [this.asset.bucket.arnForObjects(this.asset.s3ObjectKey)],
      }),
    );
    return { s3Location: { bucketName: this.asset.s3BucketName, objectKey: this.asset.s3ObjectKey } };
  }
}

/** Properties of {@link ConversionWorkflow}. */
export interface ConversionWorkflowProps {
  /** Raw NDJSON, read by the Glue job under the ingest prefix. */
  readonly ingestBucket: s3.IBucket;
  /** Manifests in, results, Parquet and quarantine out. */
  readonly curatedBucket: s3.IBucket;
  /** The MANIFEST records the state machine updates. */
  readonly stateTable: dynamodb.ITable;
  /** The alerts topic, where failures are announced, and the alarm on the rate of failed conversions. */
  readonly alerting: Alerting;
  /** Names the job's log groups apart from every other stack's (`IngestPipeline`, `IngestPipeline-dev`). */
  readonly stackName: string;
  /** Path of the Glue job's script. @default {@link GLUE_SCRIPT_PATH} */
  readonly glueScriptPath?: string;
  /** The Glue job's sizing, timeout and argument settings. @default DEFAULT_CONFIG.glue */
  readonly glue?: GlueSettings;
  /** Key prefix of the raw objects the job may read. @default DEFAULT_CONFIG.ingestPrefix */
  readonly ingestPrefix?: string;
  /** Execution timeout of the state machine, in minutes. @default DEFAULT_CONFIG.executionTimeoutMinutes */
  readonly executionTimeoutMinutes?: number;
  /** Retention of the job's and the state machine's log groups, in days. @default DEFAULT_CONFIG.logRetentionDays */
  readonly logRetentionDays?: number;
  /** The pipeline's stage, named in the alerts' subject. @default no stage */
  readonly stage?: string;
  /** With `network=private`: the job runs in its first subnet through a Glue `NETWORK` connection. @default Glue's own network */
  readonly network?: PrivateNetwork;
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
  /** With `network=private`: the Glue `NETWORK` connection the job runs in. */
  public readonly connection?: glue.Connection;
  /** The job's log groups: its stdout/stderr (`output`), Glue's and Spark's own (`error`), continuous logging. */
  public readonly logGroups: { readonly output: logs.LogGroup; readonly error: logs.LogGroup; readonly continuous: logs.LogGroup };

  constructor(scope: Construct, id: string, props: ConversionWorkflowProps) {
    super(scope, id);
    const glueSettings = props.glue ?? DEFAULT_CONFIG.glue;
    const retention = retentionDays(props.logRetentionDays ?? DEFAULT_CONFIG.logRetentionDays);
    const stack = Stack.of(this);
    if (glueSettings.executionClass === 'FLEX' && !['G.1X', 'G.2X'].includes(glueSettings.workerType)) {
      throw new Error(`Glue FLEX runs only on G.1X or G.2X workers, not ${glueSettings.workerType}: use executionClass STANDARD`);
    }

    this.key = new kms.Key(this, 'GlueKey', {
      description: 'Encrypts the ingest pipeline Glue job logs and bookmarks',
      enableKeyRotation: true,
    });
    // The job's log groups belong to the stack, so they have a retention and this key from the start instead of
    // Glue creating account-wide ones (/aws-glue/jobs/output, /error) that keep every job's logs forever.
    // Their prefix carries the stack name: two stages never share a log group.
    const logPrefix = `/aws-glue/jobs/${props.stackName}`;
    const jobLogGroup = (name: string) =>
      new logs.LogGroup(this, `JobLogs${name[0].toUpperCase()}${name.slice(1)}`, {
        logGroupName: `${logPrefix}/${name}`,
        retention,
        encryptionKey: this.key,
        removalPolicy: RemovalPolicy.DESTROY,
      });
    const [output, error, continuous] = GLUE_LOG_GROUPS.map(jobLogGroup);
    this.logGroups = { output, error, continuous };

    // Named after the stack: Glue names the job's encrypted log groups after it (./glue-log-groups.ts). The capital
    // letters keep its names apart from any stage's log prefix, which is lower case after the base stack name.
    const securityConfigurationName = `${props.stackName}-GlueJob`;
    const securityConfiguration = new glue.SecurityConfiguration(this, 'SecurityConfiguration', {
      securityConfigurationName,
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
    // The names the job's logs may take: the role may write them, and CloudWatch Logs may encrypt with the job key
    // for them and no other group.
    const logGroupArns = glueLogGroupPatterns({ prefix: logPrefix, securityConfigurationName, roleName: role.roleName }).map((name) =>
      stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': logGroupArns } },
      }),
    );
    this.grantJobAccess(role, props, logGroupArns);
    this.acknowledgeJobAccess(role, props, logGroupArns);

    if (props.network !== undefined) {
      // A job in a VPC runs through a connection of type NETWORK, in one subnet ("A job or development endpoint can
      // only access one VPC (and subnet) at a time"), and needs the S3 endpoint: "To access Amazon S3 from within
      // your VPC, a VPC endpoint is required" (AWS Glue Developer Guide, "Setting up network access to data stores",
      // https://docs.aws.amazon.com/glue/latest/dg/start-connecting.html). The group is the job's own: all TCP among
      // its workers, HTTPS to the endpoints (./private-network.ts).
      const connection = new glue.Connection(this, 'Connection', {
        type: glue.ConnectionType.NETWORK,
        description: 'Private subnet of the ingest pipeline conversion job',
        network: glue.ConnectionNetwork.subnet(props.network.subnets[0]),
        securityGroups: [props.network.jobSecurityGroup],
      });
      this.connection = connection;
      if (!Token.isUnresolved(props.network.subnets[0].availabilityZone)) {
        // An existing VPC's subnet: its zone is the one the deployer named (`availabilityZones`), not a zone to pick.
        const reason =
          "The zone of an existing subnet, given in context with the subnet's id: the connection must name the subnet's own zone.";
        Validations.of(connection).acknowledge({ id: 'CloudFormation-Validate::W3010', reason });
        (connection.node.defaultChild as CfnResource).addMetadata('cfn-lint', { config: { ignore_checks: ['W3010'] } });
      }
      // Glue reads the job's connection with the job's role when a run starts.
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ItsNetworkConnection',
          actions: ['glue:GetConnection'],
          resources: [stack.formatArn({ service: 'glue', resource: 'catalog' }), connection.connectionArn],
        }),
      );
      props.network.grantJobInterfaces(this, 'JobNetworkInterfaces', role);
    }

    const script = new s3assets.Asset(this, 'Script', { path: props.glueScriptPath ?? GLUE_SCRIPT_PATH });
    // Zipped by CDK at synth; Python's byte-code caches stay out of it.
    const jobPackage = new s3assets.Asset(this, 'Package', { path: GLUE_PACKAGE_ROOT, exclude: ['**/__pycache__', '**/*.pyc'] });
    // The job's JVM helpers (glue-scripts/jvm), built by Maven at synth time; on the job's classpath through `--extra-jars`.
    const lineCheck = lineCheckJarAsset(this, 'LineCheckJar');
    const jobProps: glue.PySparkEtlJobProps = {
      description: 'Converts the NDJSON files of one manifest to Parquet; bad lines go to quarantine',
      role,
      script: new ScriptObject(script, 'ItsOwnScript'),
      // `--extra-py-files`: Glue puts the zip on the script's Python path before running it.
      extraPythonFiles: [new ScriptObject(jobPackage, 'ItsPackage')],
      // `--extra-jars`, read by its key only as the script is.
      extraJars: [new ScriptObject(lineCheck, 'ItsLineCheckJar')],
      glueVersion: glueSettings.version as glue.GlueVersion,
      workerConfiguration: {
        workerType: glueSettings.workerType as glue.WorkerType,
        numberOfWorkers: glueSettings.maxWorkers,
      },
      maxConcurrentRuns: glueSettings.maxConcurrentRuns,
      // Retries belong to the state machine, which sees and records them.
      maxRetries: 0,
      timeout: Duration.minutes(glueSettings.timeoutMinutes),
      securityConfiguration,
      enableMetrics: true,
      connections: this.connection === undefined ? undefined : [this.connection],
      // Glue versions before 5 log continuously to this group; 5 and later to `<prefix>/output` and `/error`.
      continuousLogging: { enabled: true, logGroup: this.logGroups.continuous },
      defaultArguments: {
        // With auto scaling, numberOfWorkers is the upper bound: a small manifest uses few workers.
        '--enable-auto-scaling': 'true',
        // No `--enable-glue-datacatalog`: the job records schemas and partitions through Glue's API (boto3) and
        // Spark reads no catalog table, and with it Spark's Hive client asks for a `default` database on every run.
        // No bookmarks: a manifest lists exactly what a run reads, and the script uses no Job.init/commit.
        '--job-bookmark-option': 'job-bookmark-disable',
        '--custom-logGroup-prefix': logPrefix,
        ...glueJobArguments(glueSettings, { curatedBucket: props.curatedBucket.bucketName, catalogDatabase: this.database.databaseName }),
      },
    };
    this.job =
      glueSettings.executionClass === 'FLEX'
        ? new glue.PySparkFlexEtlJob(this, 'Job', jobProps)
        : new glue.PySparkEtlJob(this, 'Job', jobProps);

    const substitutions: ConvertManifestPlaceholders = {
      StateTableName: props.stateTable.tableName,
      GlueJobName: this.job.jobName,
      AlertTopicArn: props.alerting.topic.topicArn,
      CuratedBucketName: props.curatedBucket.bucketName,
      Region: stack.region,
      AlertSubjectPrefix: alertSubjectPrefix(props.stage),
    };
    const definition = convertManifestDefinition(props.executionTimeoutMinutes ?? DEFAULT_CONFIG.executionTimeoutMinutes);
    // Only the placeholders the ASL uses: a value it no longer reads (a job argument moved to the job's defaults)
    // is not passed along where nothing checks it.
    const usedSubstitutions = Object.fromEntries(Object.entries(substitutions).filter(([name]) => definition.includes(`\${${name}}`)));
    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      // Step Functions adds each log group it delivers to into the account's CloudWatch Logs resource policy, which
      // is limited to 5,120 characters; groups under /aws/vendedlogs/ need no entry ("Avoiding Amazon CloudWatch
      // Logs resource policy size restrictions", https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html).
      logGroupName: `/aws/vendedlogs/states/${props.stackName}-convert-manifest`,
      retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'Converts one manifest of NDJSON files to Parquet and records the outcome',
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(definition),
      definitionSubstitutions: usedSubstitutions,
      tracingEnabled: true,
      // Every state's entry and exit, without inputs and outputs: those hold S3 locations and error causes that
      // may quote data lines; operators see them in the execution history, which IAM guards per user.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    this.grantStateMachineAccess(props);
    this.grantJobItsExecution(role);
    props.alerting.alarmOnFailureRate(this.stateMachine);
  }

  /**
   * The job switches a run's output in only while the execution that started it still runs (`--execution_arn`), so
   * the run of an aborted or timed-out execution switches nothing (I4). A policy of its own, outside the role's
   * default policy, which the job may depend on: the state machine depends on the job.
   */
  private grantJobItsExecution(role: iam.Role): void {
    const stack = Stack.of(this);
    const machineName = Arn.split(this.stateMachine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName;
    const executions = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${machineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const policy = new iam.Policy(this, 'JobAsksItsExecution', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({ sid: 'DescribeTheRunsExecution', actions: ['states:DescribeExecution'], resources: [executions] }),
      ],
    });
    acknowledge(
      policy,
      "Executions are named after manifests at run time; the job asks only about the conversion state machine's executions.",
      `IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${stack.getLogicalId(this.stateMachine.node.defaultChild as CfnElement)}"}]}]}:*]`,
    );
  }

  /** Least privilege of the Glue job: raw data under the ingest prefix, its own prefixes, its catalog database. */
  private grantJobAccess(role: iam.Role, props: ConversionWorkflowProps, logGroupArns: string[]): void {
    const stack = Stack.of(this);
    const { ingestBucket, curatedBucket } = props;
    const ingestKeys = `${props.ingestPrefix ?? DEFAULT_CONFIG.ingestPrefix}*`;
    const allow = (sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources, conditions }));

    // A manifest pins versions: the job reads a version (GetObjectVersion), or the current one when none is pinned.
    allow('ReadRawFiles', ['s3:GetObject', 's3:GetObjectVersion'], [ingestBucket.arnForObjects(ingestKeys)]);
    // Listing the versions of a manifest's key finds a copy with the pinned eTag; no listing outside the ingest
    // prefix, so the job cannot enumerate what else the bucket holds.
    allow('ListRawFilesOnly', ['s3:ListBucket', 's3:ListBucketVersions'], [ingestBucket.bucketArn], {
      StringLike: { 's3:prefix': [ingestKeys] },
    });
    allow(
      'ReadManifestsAndSchemas',
      ['s3:GetObject'],
      [curatedBucket.arnForObjects(`${PREFIXES.manifests}*`), curatedBucket.arnForObjects(`${PREFIXES.schemas}*`)],
    );
    allow('WriteTheResultFile', ['s3:PutObject'], [curatedBucket.arnForObjects(RESULT_KEYS), curatedBucket.arnForObjects(OUTCOME_KEYS)]);
    // Each run writes into a directory of its own; a later run of the dataset deletes outputs superseded more than a
    // day before (I4); staged copies of pinned versions are removed at the end of the run. Large Parquet files go up
    // in parts.
    allow(
      'OwnOutputPrefixes',
      ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      [PREFIXES.curated, PREFIXES.quarantine, PREFIXES.staging].map((prefix) => curatedBucket.arnForObjects(`${prefix}*`)),
    );
    // Hadoop's S3 file system tells a directory by a HEAD of its own key before it lists it, so reading an output
    // prefix's key (`curated`, no slash) must answer 404, not 403; and after writing a file (the result file, the
    // outcome document) it deletes the empty directory markers above it, keys ending in `/` (S3A, "Controlling the S3A
    // Directory Marker Behavior", https://hadoop.apache.org/docs/r3.3.4/hadoop-aws/tools/hadoop-aws/directory_markers.html).
    // Both seen by the IAM check of the end-to-end tests (test/e2e/support/iam-check.ts). Never a manifest file.
    allow(
      'ProbeOutputDirectories',
      ['s3:GetObject'],
      [PREFIXES.curated, PREFIXES.quarantine, PREFIXES.staging].map((prefix) => curatedBucket.arnForObjects(prefix.replace(/\/$/, ''))),
    );
    allow(
      'RemoveDirectoryMarkers',
      ['s3:DeleteObject'],
      [curatedBucket.arnForObjects(PREFIXES.manifests), curatedBucket.arnForObjects(`${PREFIXES.manifests}*/`)],
    );
    // Spark lists its output directories and the committer's temporary ones while it writes.
    allow('ListCuratedBucket', ['s3:ListBucket', 's3:ListBucketMultipartUploads'], [curatedBucket.bucketArn]);
    allow('BucketRegion', ['s3:GetBucketLocation'], [ingestBucket.bucketArn, curatedBucket.bucketArn]);
    // Logs and bookmarks encrypted with the job's key (security configuration).
    allow('JobKey', ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'], [this.key.keyArn]);

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
    // Only the job's log groups (./glue-log-groups.ts): the group itself, and its streams (`:*`). Glue creates a
    // group it does not find and associates the key with it, which for the stack's own groups is a no-op.
    allow(
      'OwnLogGroups',
      ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
      logGroupArns.flatMap((arn) => [arn, `${arn}:*`]),
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
  private acknowledgeJobAccess(role: iam.Role, props: ConversionWorkflowProps, logGroupArns: string[]): void {
    const policy = role.node.tryFindChild('DefaultPolicy')!;
    const curated = arnRef(props.curatedBucket);
    acknowledge(
      policy,
      "The job reads the objects a manifest lists (any key under the ingest prefix), the manifest files and the datasets' pinned schemas (one per dataset, datasets are known only at run time), and owns the Parquet, quarantine, staging and result objects under their prefixes; all keys are known only at run time.",
      `IAM5[Resource::${arnRef(props.ingestBucket)}/${props.ingestPrefix ?? DEFAULT_CONFIG.ingestPrefix}*]`,
      `IAM5[Resource::${curated}/${PREFIXES.manifests}*]`,
      `IAM5[Resource::${curated}/${PREFIXES.schemas}*]`,
      `IAM5[Resource::${curated}/${RESULT_KEYS}]`,
      `IAM5[Resource::${curated}/${OUTCOME_KEYS}]`,
      `IAM5[Resource::${curated}/${PREFIXES.curated}*]`,
      `IAM5[Resource::${curated}/${PREFIXES.quarantine}*]`,
      `IAM5[Resource::${curated}/${PREFIXES.staging}*]`,
    );
    acknowledge(
      policy,
      "The directory markers S3A removes above the files it writes under manifests/: keys ending in '/', never a manifest file.",
      `IAM5[Resource::${curated}/${PREFIXES.manifests}*/]`,
    );
    acknowledge(
      policy,
      'One catalog table per dataset, created by the job when a dataset first arrives; limited to the pipeline database.',
      `IAM5[Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/<${Stack.of(this).getLogicalId(this.database.node.defaultChild as CfnElement)}>/*]`,
    );
    acknowledge(
      policy,
      'cloudwatch:PutMetricData supports no resource-level permissions; the statement is limited to the Glue namespace by condition.',
      'IAM5[Resource::*]',
    );
    acknowledge(
      policy,
      "The job's log groups and their streams: Glue names the groups after the stack's prefix, security configuration and role, in the forms AWS documents (glue-log-groups.ts); each pattern is anchored on this stack's names.",
      ...logGroupArns.flatMap((arn) => [arn, `${arn}:*`]).map((arn) => `IAM5[Resource::${nagText(this, arn)}]`),
    );
  }

  /** What the ASL's tasks call: the MANIFEST record, the Glue job, the result file, the alerts topic. */
  private grantStateMachineAccess(props: ConversionWorkflowProps): void {
    // Only MANIFEST# items: the state machine records outcomes, it never touches files, pointers or rejections.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RecordTheOutcome',
        actions: ['dynamodb:UpdateItem'],
        resources: [props.stateTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${STATE_TABLE_PREFIXES.manifest}*`] } },
      }),
    );
    // ReleaseSlotAfter*: the execution gives back its capacity slot once its outcome is recorded.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'GiveBackTheCapacitySlot',
        actions: ['dynamodb:UpdateItem'],
        resources: [props.stateTable.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [STATE_TABLE_PREFIXES.slots] } },
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
        sid: 'ReadTheOutcomeDocument',
        actions: ['s3:GetObject'],
        resources: [props.curatedBucket.arnForObjects(OUTCOME_KEYS)],
      }),
    );
    // Without ListBucket a missing outcome document reads as AccessDenied; with it, as NoSuchKey, which is the truth
    // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Permissions").
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'TellAMissingOutcomeDocument',
        actions: ['s3:ListBucket'],
        resources: [props.curatedBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${PREFIXES.manifests}*`] } },
      }),
    );
    grantPublishTo(this.stateMachine.role, props.alerting.topic, props.alerting.key);

    const policy = this.stateMachine.role.node.tryFindChild('DefaultPolicy')!;
    acknowledge(
      policy,
      'Outcome documents are one object per manifest (manifests/<dataset>/<id>.outcome.json), named at run time.',
      `IAM5[Resource::${arnRef(props.curatedBucket)}/${OUTCOME_KEYS}]`,
    );
    acknowledge(
      policy,
      'X-Ray (tracing) and CloudWatch Logs vended delivery (execution logging) actions support no resource-level permissions.',
      'IAM5[Resource::*]',
    );
  }
}
