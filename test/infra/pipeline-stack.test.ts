import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SETTING_VARIABLES } from '../../contracts/lambda-environment';
import { DEFAULT_CONFIG } from '../../contracts/config';
import { DURATION_ALARM_SHARE, FAILURE_RATE_THRESHOLD } from '../../pipeline/constructs/alerting';
import { OUTPUT_KEYS } from '../../pipeline/pipeline-stack';
import { IDEMPOTENCY_TABLE, STATE_TABLE, STATE_TABLE_INDEXES } from '../../contracts/table-schema';
import { REPO_ROOT, SynthesizedPipeline, logicalIdAt, resourcesOf, synthPipeline } from './synth';

// One synth of the defaults serves every test that does not need other settings.
let pipeline: SynthesizedPipeline;
let template: Template;
beforeAll(() => {
  pipeline = synthPipeline({ alertEmail: 'ops@example.com' });
  template = pipeline.template;
});

const ids = () => {
  const at = (constructPath: string) => logicalIdAt(pipeline.stack, constructPath);
  return {
    ingestBucket: at('Storage/Ingest'),
    curatedBucket: at('Storage/Curated'),
    logsBucket: at('Storage/AccessLogs'),
    ingestQueue: at('ManifestBuilder/IngestQueue/Queue'),
    ingestDlq: at('ManifestBuilder/IngestQueue/DeadLetterQueue'),
    sweeperDlq: at('Sweeper/DeadLetterQueue'),
    builder: at('ManifestBuilder/Builder'),
    sweeper: at('Sweeper/Function'),
    stateTable: at('StateTables/StateTable'),
    idempotencyTable: at('StateTables/IdempotencyTable'),
    stateMachine: at('ConversionWorkflow/StateMachine'),
    job: at('ConversionWorkflow/Job'),
    database: at('ConversionWorkflow/Database'),
    securityConfiguration: at('ConversionWorkflow/SecurityConfiguration'),
    topic: at('Alerting/Topic'),
    topicKey: at('Alerting/TopicKey'),
  };
};

/** The statements of the policies attached to a role. */
function statementsOfRole(roleId: string): Array<Record<string, any>> {
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
}

function roleOfFunction(functionId: string): string {
  return template.toJSON().Resources[functionId].Properties.Role['Fn::GetAtt'][0];
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

describe('storage', () => {
  test('both data buckets are encrypted, private, SSL-only and log their access to the log bucket', () => {
    const { ingestBucket, curatedBucket, logsBucket } = ids();
    for (const bucket of [ingestBucket, curatedBucket]) {
      const props = template.toJSON().Resources[bucket].Properties;
      expect(props.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
      expect(props.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(props.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: logsBucket });
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucket },
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    }
  });

  test('the ingest bucket is versioned and its lifecycle only moves raw objects to a cheaper class (I6)', () => {
    const props = template.toJSON().Resources[ids().ingestBucket].Properties;
    expect(props.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    const rules = props.LifecycleConfiguration.Rules as Array<Record<string, any>>;
    expect(
      rules.some(
        (r) =>
          r.Transitions?.[0]?.StorageClass === 'STANDARD_IA' && r.Transitions[0].TransitionInDays === DEFAULT_CONFIG.ingestTransitionDays,
      ),
    ).toBe(true);
    for (const rule of rules) {
      expect(rule.ExpirationInDays).toBeUndefined();
      expect(rule.NoncurrentVersionExpiration).toBeUndefined();
    }
  });
});

describe('data protection', () => {
  test('the curated bucket is versioned; old versions expire after curatedNoncurrentDays, quarantine after quarantineExpirationDays', () => {
    const custom = synthPipeline({ quarantineExpirationDays: 14, curatedNoncurrentDays: 10 });
    for (const [t, quarantineDays, noncurrentDays] of [
      [template, DEFAULT_CONFIG.quarantineExpirationDays, DEFAULT_CONFIG.curatedNoncurrentDays],
      [custom.template, 14, 10],
    ] as const) {
      const props = t.toJSON().Resources[logicalIdAt(t === template ? pipeline.stack : custom.stack, 'Storage/Curated')].Properties;
      expect(props.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      const rules = props.LifecycleConfiguration.Rules as Array<Record<string, any>>;
      expect(rules).toContainEqual(expect.objectContaining({ Prefix: 'quarantine/', ExpirationInDays: quarantineDays, Status: 'Enabled' }));
      expect(rules).toContainEqual(
        expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: noncurrentDays }, Status: 'Enabled' }),
      );
      const whole = rules.filter((r) => r.NoncurrentVersionExpiration !== undefined && r.Prefix === undefined);
      expect(whole).toHaveLength(1);
      // Nothing but quarantine expires: Parquet, manifests and schemas stay current until someone replaces them.
      expect(rules.filter((r) => r.ExpirationInDays !== undefined).map((r) => r.Prefix)).toEqual(['quarantine/']);
    }
  });

  test('the state table refuses deletion; the idempotency table, which only deduplicates, does not need to', () => {
    const { stateTable, idempotencyTable } = ids();
    expect(template.toJSON().Resources[stateTable].Properties.DeletionProtectionEnabled).toBe(true);
    expect(template.toJSON().Resources[stateTable].DeletionPolicy).toBe('Retain');
    expect(template.toJSON().Resources[idempotencyTable].Properties.DeletionProtectionEnabled).toBeUndefined();
  });

  test('the Glue job logs to log groups of the stack, named after it, with the configured retention and the job key', () => {
    const { job } = ids();
    const glueKey = logicalIdAt(pipeline.stack, 'ConversionWorkflow/GlueKey');
    const groups = Object.entries(resourcesOf(template, 'AWS::Logs::LogGroup')).filter(([, g]) =>
      String(g.Properties.LogGroupName).startsWith('/aws-glue/'),
    );
    expect(groups.map(([, g]) => g.Properties.LogGroupName).sort()).toEqual([
      '/aws-glue/jobs/IngestPipeline/continuous',
      '/aws-glue/jobs/IngestPipeline/error',
      '/aws-glue/jobs/IngestPipeline/output',
    ]);
    for (const [, group] of groups) {
      expect(group.Properties.RetentionInDays).toBe(DEFAULT_CONFIG.logRetentionDays);
      expect(group.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [glueKey, 'Arn'] });
    }
    const args = template.toJSON().Resources[job].Properties.DefaultArguments;
    // Glue 5 writes <prefix>/output and <prefix>/error; earlier versions log continuously to the named group.
    expect(args['--custom-logGroup-prefix']).toBe('/aws-glue/jobs/IngestPipeline');
    expect(args['--continuous-log-logGroup']).toEqual({
      Ref: groups.find(([, g]) => g.Properties.LogGroupName.endsWith('/continuous'))![0],
    });
  });

  test('the names the job logs under, the names its role may write and the names the job key encrypts for are the same', () => {
    const { job, securityConfiguration } = ids();
    const resources = template.toJSON().Resources;
    const glueKey = logicalIdAt(pipeline.stack, 'ConversionWorkflow/GlueKey');
    const roleId = resources[job].Properties.Role['Fn::GetAtt'][0] as string;
    // The template's values with the references a deployment fills in: the role's name, the account, the region.
    const names = {
      [roleId]: 'IngestPipeline-JobRole-ABC123',
      'AWS::Partition': 'aws',
      'AWS::Region': 'eu-west-1',
      'AWS::AccountId': '123456789012',
    };
    const text = (v: any): string =>
      typeof v === 'string'
        ? v
        : v.Ref !== undefined
          ? names[v.Ref]
          : v['Fn::GetAtt'] !== undefined // a log group of the stack, as the CDK's grant on the job names it
            ? `arn:aws:logs:eu-west-1:123456789012:log-group:${resources[v['Fn::GetAtt'][0]].Properties.LogGroupName}:*`
            : (v['Fn::Join'][1] as unknown[]).map(text).join(v['Fn::Join'][0]);
    const scName = resources[securityConfiguration].Properties.Name as string;
    const prefix = resources[job].Properties.DefaultArguments['--custom-logGroup-prefix'] as string;
    expect(scName).toBe('IngestPipeline-GlueJob');
    expect(resources[job].Properties.SecurityConfiguration).toEqual({ Ref: securityConfiguration });

    const logStatements = statementsOfRole(roleId).filter((st) => asList(st.Action).some((a) => String(a).startsWith('logs:')));
    const granted = logStatements.flatMap((st) => asList(st.Resource));
    const roleArns = granted.filter((r: any) => r['Fn::GetAtt'] === undefined).map(text);
    const keyStatement = (resources[glueKey].Properties.KeyPolicy.Statement as any[]).find((st) =>
      JSON.stringify(st.Principal).includes('logs.'),
    );
    const keyArns = asList(keyStatement.Condition.ArnLike['kms:EncryptionContext:aws:logs:arn']).map(text);
    // The role: each group and its streams; the key: each group. The same names.
    expect(new Set(roleArns)).toEqual(new Set(keyArns.flatMap((arn) => [arn, `${arn}:*`])));

    const arnLike = (pattern: string, arn: string) =>
      new RegExp(
        `^${pattern
          .split('*')
          .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
          .join('.*')}$`,
      ).test(arn);
    const groupArn = (name: string) => `arn:aws:logs:eu-west-1:123456789012:log-group:${name}`;
    const allowed = (name: string) =>
      keyArns.some((p) => arnLike(p, groupArn(name))) && roleArns.some((p) => arnLike(p, `${groupArn(name)}:log-stream:jr_1-driver`));
    // Every name AWS documents for a job with this prefix, security configuration and role (glue-log-groups.ts).
    const documented = [
      `${prefix}/output`,
      `${prefix}/error`,
      `${prefix}/continuous-${scName}`,
      `/aws-glue/jobs/error-${scName}`,
      `/aws-glue/jobs/logs-v2-${scName}`,
      `/aws-glue/jobs-${names[roleId]}-${scName}/output`,
      `/aws-glue/jobs/${scName}-role/${names[roleId]}/output`,
      `/aws-glue/jobs/${scName}-role/${names[roleId]}/error`,
    ];
    for (const name of documented) expect({ name, allowed: allowed(name) }).toEqual({ name, allowed: true });
    // What the CDK grants on the continuous group by itself is among those names.
    for (const arn of granted.filter((r: any) => r['Fn::GetAtt'] !== undefined).map(text)) {
      expect(roleArns.some((p) => arnLike(p, arn))).toBe(true);
    }
    // Not another stage's, nor Glue's shared groups, nor another job's.
    for (const name of [
      '/aws-glue/jobs/IngestPipeline-dev/output',
      '/aws-glue/jobs/error-IngestPipeline-dev-GlueJob',
      '/aws-glue/jobs/output',
      '/aws-glue/jobs/error',
      `/aws-glue/jobs/IngestPipeline-dev-GlueJob-role/${names[roleId]}/output`,
      '/aws-glue/jobs-OtherRole-IngestPipeline-GlueJob/output',
    ]) {
      expect({ name, allowed: allowed(name) }).toEqual({ name, allowed: false });
    }
  });

  test('the state machine logs to a group under /aws/vendedlogs/states/, named after the stack', () => {
    const { stateMachine } = ids();
    const destination = template.toJSON().Resources[stateMachine].Properties.LoggingConfiguration.Destinations[0];
    const groupId = destination.CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0] as string;

    expect(template.toJSON().Resources[groupId].Properties.LogGroupName).toBe('/aws/vendedlogs/states/IngestPipeline-convert-manifest');
  });
});

describe('ingest queue', () => {
  test('queue and DLQ are encrypted; notifications move to the DLQ after maxReceiveCount receives', () => {
    const { ingestQueue, ingestDlq } = ids();
    const queue = template.toJSON().Resources[ingestQueue].Properties;
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [ingestDlq, 'Arn'] },
      maxReceiveCount: DEFAULT_CONFIG.maxReceiveCount,
    });
    expect(template.toJSON().Resources[ingestDlq].Properties.SqsManagedSseEnabled).toBe(true);
  });

  test('visibility timeout is at least six times the builder timeout', () => {
    const { ingestQueue, builder } = ids();
    const visibility = template.toJSON().Resources[ingestQueue].Properties.VisibilityTimeout as number;
    const timeout = template.toJSON().Resources[builder].Properties.Timeout as number;
    expect(visibility).toBeGreaterThanOrEqual(6 * timeout);
  });

  test('one ObjectCreated notification per accepted suffix, each on the ingest prefix, all to the ingest queue', () => {
    const { ingestBucket, ingestQueue } = ids();
    const [notifications] = Object.values(resourcesOf(template, 'Custom::S3BucketNotifications'));
    expect(notifications.Properties.BucketName).toEqual({ Ref: ingestBucket });
    const configs = notifications.Properties.NotificationConfiguration.QueueConfigurations as Array<Record<string, any>>;
    const filters = configs.map((c) => {
      expect(c.Events).toEqual(['s3:ObjectCreated:*']);
      expect(c.QueueArn).toEqual({ 'Fn::GetAtt': [ingestQueue, 'Arn'] });
      const rules = c.Filter.Key.FilterRules as Array<{ Name: string; Value: string }>;
      return {
        prefix: rules.find((r) => r.Name === 'prefix')?.Value,
        suffix: rules.find((r) => r.Name === 'suffix')?.Value,
      };
    });
    expect(filters).toEqual(DEFAULT_CONFIG.acceptedSuffixes.map((suffix) => ({ prefix: DEFAULT_CONFIG.ingestPrefix, suffix })));
  });

  test('the notification filters follow the config', () => {
    const custom = synthPipeline({ ingestPrefix: 'drop/', acceptedSuffixes: '.ndjson,.ndjson.gz' }).template;
    const [notifications] = Object.values(resourcesOf(custom, 'Custom::S3BucketNotifications'));
    const rules = (notifications.Properties.NotificationConfiguration.QueueConfigurations as Array<Record<string, any>>).map(
      (c) => c.Filter.Key.FilterRules,
    );
    expect(rules).toEqual(
      [
        [
          { Name: 'suffix', Value: '.ndjson' },
          { Name: 'prefix', Value: 'drop/' },
        ],
        [
          { Name: 'suffix', Value: '.ndjson.gz' },
          { Name: 'prefix', Value: 'drop/' },
        ],
      ].map((pair) => expect.arrayContaining(pair)),
    );
  });

  test('overlapping suffixes, which S3 would refuse at deploy time, fail the synth', () => {
    expect(() => synthPipeline({ acceptedSuffixes: '.json,.ndjson.json' })).toThrow(/overlap/);
  });
});

describe('state tables', () => {
  test('state table: keys, TTL and the byDay and pending indexes from table-schema.ts; on demand, PITR, encrypted', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: STATE_TABLE.sortKey, KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: STATE_TABLE.ttlAttribute, Enabled: true },
      GlobalSecondaryIndexes: STATE_TABLE_INDEXES.map((index) =>
        Match.objectLike({
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
        }),
      ),
    });
  });

  test('idempotency table: Powertools key and expiry attribute; on demand, PITR, encrypted', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: IDEMPOTENCY_TABLE.ttlAttribute, Enabled: true },
    });
  });
});

describe('manifest builder and sweeper', () => {
  test('both run nodejs22.x on ARM64 with active tracing and the environment the handlers read', () => {
    const { builder, sweeper, stateTable, idempotencyTable, stateMachine, curatedBucket } = ids();
    for (const [fn, service] of [
      [builder, 'manifest-builder'],
      [sweeper, 'sweeper'],
    ]) {
      const props = template.toJSON().Resources[fn].Properties;
      expect(props.Runtime).toBe('nodejs22.x');
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.TracingConfig).toEqual({ Mode: 'Active' });
      expect(props.Environment.Variables).toMatchObject({
        POWERTOOLS_SERVICE_NAME: service,
        POWERTOOLS_METRICS_NAMESPACE: DEFAULT_CONFIG.metricsNamespace,
        POWERTOOLS_LOG_LEVEL: DEFAULT_CONFIG.logLevel,
        STATE_TABLE: { Ref: stateTable },
        IDEMPOTENCY_TABLE: { Ref: idempotencyTable },
        STATE_MACHINE_ARN: { Ref: stateMachine },
        CURATED_BUCKET: { Ref: curatedBucket },
        INGEST_PREFIX: DEFAULT_CONFIG.ingestPrefix,
        ACCEPTED_SUFFIXES: DEFAULT_CONFIG.acceptedSuffixes.join(','),
        BATCH_SIZE: String(DEFAULT_CONFIG.batchSize),
        MAX_WAIT_MINUTES: String(DEFAULT_CONFIG.maxWaitMinutes),
        IDEMPOTENCY_TTL_SECONDS: String(DEFAULT_CONFIG.idempotencyTtlDays * 86400),
      });
      // Every variable comes from the one writer the handlers' reader pairs with, and nothing else but source maps.
      expect(Object.keys(props.Environment.Variables).sort()).toEqual(
        [
          ...Object.values(SETTING_VARIABLES),
          'POWERTOOLS_SERVICE_NAME',
          'POWERTOOLS_METRICS_NAMESPACE',
          'POWERTOOLS_LOG_LEVEL',
          'NODE_OPTIONS',
        ].sort(),
      );
    }
  });

  test('the builder consumes the ingest queue in batches and reports partial failures', () => {
    const { builder, ingestQueue } = ids();
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: builder },
      EventSourceArn: { 'Fn::GetAtt': [ingestQueue, 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumBatchingWindowInSeconds: Match.anyValue(),
      ScalingConfig: { MaximumConcurrency: DEFAULT_CONFIG.builderMaxConcurrency },
    });
  });

  test("the builder's event source runs at most builderMaxConcurrency invocations, so a small account quota leaves room for the sweeper", () => {
    const small = synthPipeline({ alertEmail: 'ops@example.com', builderMaxConcurrency: 3 });
    const mappings = Object.values(resourcesOf(small.template, 'AWS::Lambda::EventSourceMapping'));

    expect(mappings.map((m) => m.Properties.ScalingConfig)).toEqual([{ MaximumConcurrency: 3 }]);
    // No function reserves concurrency: a reservation would fail the deploy in an account with a small quota.
    for (const fn of Object.values(resourcesOf(small.template, 'AWS::Lambda::Function'))) {
      expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
  });

  test('the sweeper runs every minute and its failures land in its DLQ', () => {
    const { sweeper, sweeperDlq } = ids();
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [sweeper, 'Arn'] }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': [sweeperDlq, 'Arn'] } } }),
      ],
    });
    expect(template.toJSON().Resources[sweeper].Properties.DeadLetterConfig).toEqual({ TargetArn: { 'Fn::GetAtt': [sweeperDlq, 'Arn'] } });
  });

  test('least privilege: state table, manifest files only, start executions; the idempotency table and the ingest checksums for the builder only', () => {
    const { builder, sweeper, stateTable, idempotencyTable, stateMachine, curatedBucket, ingestBucket } = ids();
    for (const fn of [builder, sweeper]) {
      const statements = statementsOfRole(roleOfFunction(fn));
      const text = JSON.stringify(statements);
      const s3Writes = statements.filter((s) => s.Effect === 'Allow' && asList(s.Action).includes('s3:PutObject'));
      expect(s3Writes).toHaveLength(1);
      expect(s3Writes[0].Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [curatedBucket, 'Arn'] }, '/manifests/*']] });
      // The builder reads the ingest objects' checksums (HeadObject: GetObject, GetObjectVersion) under the prefix, no more.
      const onIngest = statements.filter((st) => JSON.stringify(st).includes(ingestBucket));
      expect(onIngest).toEqual(
        fn === builder
          ? [
              expect.objectContaining({
                Effect: 'Allow',
                Action: ['s3:GetObject', 's3:GetObjectVersion'],
                Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [ingestBucket, 'Arn'] }, '/incoming/*']] },
              }),
            ]
          : [],
      );
      expect(statements).toContainEqual(
        expect.objectContaining({ Action: ['states:ListExecutions', 'states:StartExecution'], Resource: { Ref: stateMachine } }),
      );
      expect(
        statements.some((s) => asList(s.Action).includes('dynamodb:UpdateItem') && JSON.stringify(s.Resource).includes(stateTable)),
      ).toBe(true);
      expect(text.includes(idempotencyTable)).toBe(fn === builder);
      expect(text).not.toContain('"s3:*"');
      expect(text).not.toContain('"dynamodb:*"');
    }
  });

  test('each Lambda writes only to its own log group, with the configured retention', () => {
    const { builder } = ids();
    const logGroupId = template.toJSON().Resources[builder].Properties.LoggingConfig.LogGroup.Ref as string;
    expect(template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(DEFAULT_CONFIG.logRetentionDays);
    const logStatements = statementsOfRole(roleOfFunction(builder)).filter((s) => asList(s.Action).includes('logs:PutLogEvents'));
    expect(logStatements).toEqual([expect.objectContaining({ Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] } })]);
    template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 1); // the CDK's notification handler only
  });
});

describe('conversion workflow', () => {
  test('Glue job: 5.1, G.1X, auto scaling up to maxWorkers, FLEX by default, timeout, concurrency, continuous logging, security configuration', () => {
    const { database, securityConfiguration } = ids();
    template.hasResourceProperties('AWS::Glue::Job', {
      Command: { Name: 'glueetl', PythonVersion: '3', ScriptLocation: Match.anyValue() },
      GlueVersion: '5.1',
      WorkerType: 'G.1X',
      NumberOfWorkers: DEFAULT_CONFIG.glue.maxWorkers,
      ExecutionClass: 'FLEX',
      Timeout: DEFAULT_CONFIG.glue.timeoutMinutes,
      MaxRetries: 0,
      ExecutionProperty: { MaxConcurrentRuns: DEFAULT_CONFIG.glue.maxConcurrentRuns },
      SecurityConfiguration: { Ref: securityConfiguration },
      DefaultArguments: Match.objectLike({
        '--enable-auto-scaling': 'true',
        '--enable-continuous-cloudwatch-log': 'true',
        '--enable-metrics': Match.anyValue(),
        '--catalog_database': { Ref: database },
        '--target_file_mb': String(DEFAULT_CONFIG.glue.targetFileMb),
        '--schema_prefix': Match.anyValue(),
        '--max_decompressed_bytes': String(DEFAULT_CONFIG.glue.maxDecompressedMb * 1024 * 1024),
        '--max_line_bytes': String(DEFAULT_CONFIG.glue.maxLineKb * 1024),
        '--max_schema_fields': String(DEFAULT_CONFIG.glue.maxSchemaFields),
      }),
    });
    template.hasResourceProperties('AWS::Glue::SecurityConfiguration', {
      EncryptionConfiguration: {
        S3Encryptions: [{ S3EncryptionMode: 'SSE-S3' }],
        CloudWatchEncryption: { CloudWatchEncryptionMode: 'SSE-KMS', KmsKeyArn: Match.anyValue() },
        JobBookmarksEncryption: { JobBookmarksEncryptionMode: 'CSE-KMS', KmsKeyArn: Match.anyValue() },
      },
    });
  });

  test("the job asks Glue for no Spark catalog: it writes the catalog through Glue's API, and Spark reads none", () => {
    const job = Object.values(resourcesOf(template, 'AWS::Glue::Job'))[0];
    expect(job.Properties.DefaultArguments).not.toHaveProperty('--enable-glue-datacatalog');
    expect(job.Properties.DefaultArguments['--job-bookmark-option']).toBe('job-bookmark-disable');
  });

  test('the job runs the script of glue-scripts/ as an asset', () => {
    const job = Object.values(resourcesOf(template, 'AWS::Glue::Job'))[0];
    expect(JSON.stringify(job.Properties.Command.ScriptLocation)).toMatch(/\.py"/);
    const assetManifest = JSON.parse(fs.readFileSync(path.join(pipeline.app.outdir, 'IngestPipeline.assets.json'), 'utf8'));
    const sources = Object.values(assetManifest.files as Record<string, { source: { path: string } }>).map((f) => f.source.path);
    const staged = sources.filter((p) => p.endsWith('.py')).map((p) => fs.readFileSync(path.join(pipeline.app.outdir, p), 'utf8'));
    expect(staged).toEqual([fs.readFileSync(path.join(REPO_ROOT, 'glue-scripts', 'ndjson_to_parquet.py'), 'utf8')]);
  });

  test('the job has its package on its Python path: a zip asset of glue-scripts/src named by --extra-py-files', () => {
    const job = Object.values(resourcesOf(template, 'AWS::Glue::Job'))[0];
    const packageKey = /\/([0-9a-f]{64})\.zip"/.exec(JSON.stringify(job.Properties.DefaultArguments['--extra-py-files']))![1];
    const assetManifest = JSON.parse(fs.readFileSync(path.join(pipeline.app.outdir, 'IngestPipeline.assets.json'), 'utf8'));
    const asset = (assetManifest.files as Record<string, { source: { path: string; packaging?: string } }>)[packageKey];

    // CDK zips the staged folder as it is: the package's folder at the archive's root, as Glue asks.
    expect(asset.source.packaging).toBe('zip');
    const staged = path.join(pipeline.app.outdir, asset.source.path);
    const source = path.join(REPO_ROOT, 'glue-scripts', 'src');
    const modules = (root: string) =>
      fs
        .readdirSync(path.join(root, 'ndjson_conversion'))
        .filter((name) => name.endsWith('.py'))
        .sort();
    expect(fs.readdirSync(staged)).toEqual(['ndjson_conversion']);
    expect(modules(staged)).toEqual(modules(source));
    expect(modules(staged)).toContain('__init__.py');
    for (const name of modules(source)) {
      expect(fs.readFileSync(path.join(staged, 'ndjson_conversion', name), 'utf8')).toBe(
        fs.readFileSync(path.join(source, 'ndjson_conversion', name), 'utf8'),
      );
    }
    expect(fs.existsSync(path.join(staged, 'ndjson_conversion', '__pycache__'))).toBe(false);
  });

  test('STANDARD execution class and larger workers follow the config; FLEX on workers it does not support fails the synth', () => {
    const custom = synthPipeline({ glue: { executionClass: 'STANDARD', workerType: 'G.2X', maxWorkers: 4 } }).template;
    custom.hasResourceProperties('AWS::Glue::Job', { ExecutionClass: Match.absent(), WorkerType: 'G.2X', NumberOfWorkers: 4 });
    expect(() => synthPipeline({ glue: { executionClass: 'FLEX', workerType: 'G.4X' } })).toThrow(/FLEX/);
  });

  test('the job reads only the ingest prefix and writes only its own prefixes of the curated bucket', () => {
    const { job, ingestBucket, curatedBucket } = ids();
    const roleId = template.toJSON().Resources[job].Properties.Role['Fn::GetAtt'][0] as string;
    const statements = statementsOfRole(roleId);
    const objectResources = (bucket: string, actionPrefix: string) =>
      statements
        .filter((s) => asList(s.Action).some((a) => String(a).startsWith(actionPrefix)))
        .flatMap((s) => asList(s.Resource))
        .filter((r) => JSON.stringify(r).includes(bucket) && JSON.stringify(r).includes('/'))
        .map((r) => (r as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1][1]);
    expect(new Set(objectResources(ingestBucket, 's3:Get'))).toEqual(new Set(['/incoming/*']));
    expect(objectResources(ingestBucket, 's3:Put')).toEqual([]);
    expect(objectResources(ingestBucket, 's3:Delete')).toEqual([]);
    expect(new Set(objectResources(curatedBucket, 's3:Put'))).toEqual(
      new Set(['/manifests/*.result.json', '/manifests/*.outcome.json', '/curated/*', '/quarantine/*', '/staging/*']),
    );
    // Under manifests/, only the directory markers S3A removes above the files it writes: keys ending in '/'.
    expect(new Set(objectResources(curatedBucket, 's3:Delete'))).toEqual(
      new Set(['/curated/*', '/quarantine/*', '/staging/*', '/manifests/', '/manifests/*/']),
    );
  });

  test('state machine: STANDARD, X-Ray, every state logged without execution data', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false, Destinations: [Match.anyValue()] },
    });
  });

  test('the ASL file fills every placeholder from the stack, and the timeout comes from the config', () => {
    const asl = fs.readFileSync(path.join(REPO_ROOT, 'state-machines', 'convert-manifest.asl.json'), 'utf8');
    const placeholders = new Set([...asl.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]));
    const { stateTable, job, topic, curatedBucket } = ids();
    const custom = synthPipeline({ executionTimeoutMinutes: 400 }).template;
    const machine = Object.values(resourcesOf(custom, 'AWS::StepFunctions::StateMachine'))[0].Properties;
    expect(new Set(Object.keys(machine.DefinitionSubstitutions))).toEqual(placeholders);
    expect(JSON.parse(machine.DefinitionString).TimeoutSeconds).toBe(400 * 60);
    const defaults = Object.values(resourcesOf(template, 'AWS::StepFunctions::StateMachine'))[0].Properties;
    const values: Record<string, unknown> = {
      StateTableName: { Ref: stateTable },
      GlueJobName: { Ref: job },
      AlertTopicArn: { Ref: topic },
      CuratedBucketName: { Ref: curatedBucket },
      Region: { Ref: 'AWS::Region' },
      AlertSubjectPrefix: 'Ingest pipeline',
    };
    // Exactly the placeholders the ASL uses, each with the stack's value.
    expect(defaults.DefinitionSubstitutions).toEqual(Object.fromEntries([...placeholders].map((name) => [name, values[name]])));
    expect(JSON.parse(defaults.DefinitionString).TimeoutSeconds).toBe(DEFAULT_CONFIG.executionTimeoutMinutes * 60);
  });

  test('the state machine may update the state table, run the job, read result files and publish alerts, nothing more', () => {
    const { stateMachine, stateTable, job, topic, curatedBucket } = ids();
    const roleId = template.toJSON().Resources[stateMachine].Properties.RoleArn['Fn::GetAtt'][0] as string;
    const statements = statementsOfRole(roleId);
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: 'dynamodb:UpdateItem', Resource: { 'Fn::GetAtt': [stateTable, 'Arn'] } }),
    );
    const glueStatement = statements.find((s) => asList(s.Action).includes('glue:StartJobRun'))!;
    expect(new Set(asList(glueStatement.Action))).toEqual(
      new Set(['glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun']),
    );
    expect(JSON.stringify(glueStatement.Resource)).toContain(`":job/",{"Ref":"${job}"}`);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [curatedBucket, 'Arn'] }, '/manifests/*.outcome.json']] },
      }),
    );
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: topic } }));
    const actions = statements.flatMap((s) => asList(s.Action)).map(String);
    expect(actions.filter((a) => a.startsWith('s3:'))).toEqual(['s3:GetObject', 's3:ListBucket']);
    // MANIFEST# items, and the slots item (giving its capacity slot back).
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:UpdateItem', 'dynamodb:UpdateItem']);
  });

  test('no EventBridge rule re-announces ended executions: the state machine and the sweeper send the one alert', () => {
    const rules = Object.values(resourcesOf(template, 'AWS::Events::Rule'));
    expect(rules.filter((r) => r.Properties.EventPattern?.source?.[0] === 'aws.states')).toEqual([]);
  });

  test('the builder and the sweeper may describe the executions of the state machine; only the sweeper may publish alerts', () => {
    const json = template.toJSON();
    const policies = Object.values(json.Resources as Record<string, any>).filter((r) => r.Type === 'AWS::IAM::Policy');
    const withDescribe = policies.filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes('states:DescribeExecution'));
    const roles = withDescribe.flatMap((p) => p.Properties.Roles.map((r: { Ref: string }) => r.Ref));
    const builderRole = logicalIdAt(pipeline.stack, 'ManifestBuilder/BuilderRole');
    const sweeperRole = logicalIdAt(pipeline.stack, 'Sweeper/FunctionRole');
    expect(roles).toContain(builderRole);
    expect(roles).toContain(sweeperRole);
    const publishers = policies
      .filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes('sns:Publish'))
      .flatMap((p) => p.Properties.Roles.map((r: { Ref: string }) => r.Ref));
    expect(publishers).toContain(sweeperRole);
    expect(publishers).not.toContain(builderRole);
  });
});

describe('alerting', () => {
  test('an execution name used by another input alarms, for the builder and the sweeper', () => {
    for (const service of ['manifest-builder', 'sweeper']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ExecutionNameConflicts',
        Dimensions: [{ Name: 'service', Value: service }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  test("the topic is KMS-encrypted and SSL-only; only this stack's alarms, by ARN, may publish to it and use its key; no EventBridge rule may", () => {
    const { topic, topicKey: key } = ids();
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const policy = Object.values(resourcesOf(template, 'AWS::SNS::TopicPolicy'))[0].Properties;
    expect(policy.Topics).toEqual([{ Ref: topic }]);
    const statements = policy.PolicyDocument.Statement as Array<Record<string, any>>;
    const keyStatements = template.toJSON().Resources[key].Properties.KeyPolicy.Statement as Array<Record<string, any>>;
    const byService = (list: Array<Record<string, any>>, service: string) =>
      list.filter((s) => s.Effect === 'Allow' && asList(s.Principal?.Service).includes(service));
    // The ARN of every alarm of the stack, spelled as the template spells it, by name.
    const alarmNames = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm'))
      .map((a) => a.Properties.AlarmName as string)
      .sort();
    const alarmArn = (name: string) => ({
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:alarm:${name}`],
      ],
    });
    expect(alarmNames.length).toBeGreaterThan(0);
    for (const [list, action] of [
      [statements, 'sns:Publish'],
      [keyStatements, 'kms:GenerateDataKey*'],
    ] as const) {
      const fromCloudWatch = byService(list, 'cloudwatch.amazonaws.com');
      expect(fromCloudWatch).toHaveLength(1);
      expect(asList(fromCloudWatch[0].Action)).toContain(action);
      expect(fromCloudWatch[0].Condition.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
      expect(fromCloudWatch[0].Condition.ArnEquals['aws:SourceArn']).toEqual(alarmNames.map(alarmArn));
      expect(byService(list, 'events.amazonaws.com')).toEqual([]);
    }
    // No topic or key of the stack lets EventBridge in: no rule publishes to the topic.
    const resourcePolicies = [
      ...Object.values(resourcesOf(template, 'AWS::SNS::TopicPolicy')).map((r) => r.Properties.PolicyDocument),
      ...Object.values(resourcesOf(template, 'AWS::KMS::Key')).map((r) => r.Properties.KeyPolicy),
    ];
    expect(JSON.stringify(resourcePolicies)).not.toContain('events.amazonaws.com');
    expect(byService(statements, 'lambda.amazonaws.com')).toEqual([]);
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
  });

  test('the alert email subscribes when set, and only then', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    synthPipeline().template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  test('alarms on both DLQs, both Lambdas, the failure rate of executions and the oldest open manifest, all to the topic', () => {
    const { ingestDlq, sweeperDlq, builder, sweeper, stateMachine, topic } = ids();
    const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: topic }]);
    const find = (metricName: string, dimension: unknown) =>
      alarms.filter((a) => a.MetricName === metricName && JSON.stringify(a.Dimensions).includes(JSON.stringify(dimension)));
    for (const dlq of [ingestDlq, sweeperDlq]) {
      expect(find('ApproximateNumberOfMessagesVisible', { 'Fn::GetAtt': [dlq, 'QueueName'] })).toEqual([
        expect.objectContaining({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' }),
      ]);
    }
    for (const fn of [builder, sweeper]) {
      expect(find('Errors', { Ref: fn })).toHaveLength(1);
      expect(find('Throttles', { Ref: fn })).toEqual([
        expect.objectContaining({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', Statistic: 'Sum' }),
      ]);
      const timeoutMs = template.toJSON().Resources[fn].Properties.Timeout * 1000;
      expect(find('Duration', { Ref: fn })).toEqual([
        expect.objectContaining({
          Threshold: Math.round(timeoutMs * DURATION_ALARM_SHARE),
          ComparisonOperator: 'GreaterThanThreshold',
          Statistic: 'Maximum',
        }),
      ]);
      expect(DURATION_ALARM_SHARE).toBeLessThan(1);
    }
    // No alarm per failed execution: each failed manifest sends one readable alert of its own (I7).
    expect(alarms.filter((a) => ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'].includes(a.MetricName))).toEqual([]);
    const [rate] = alarms.filter((a) => a.Metrics !== undefined);
    expect(rate).toMatchObject({ Threshold: FAILURE_RATE_THRESHOLD, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    const used = (rate.Metrics as { MetricStat?: { Metric: { MetricName: string; Dimensions: unknown } } }[]).flatMap((m) =>
      m.MetricStat ? [m.MetricStat.Metric] : [],
    );
    expect(used.map((m) => m.MetricName).sort()).toEqual(['ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut']);
    for (const m of used) expect(JSON.stringify(m.Dimensions)).toContain(JSON.stringify({ Ref: stateMachine }));
    expect(alarms.filter((a) => a.MetricName === 'OldestOpenManifestAgeSeconds')).toEqual([
      expect.objectContaining({
        Namespace: DEFAULT_CONFIG.metricsNamespace,
        Dimensions: [{ Name: 'service', Value: 'sweeper' }],
        Threshold: DEFAULT_CONFIG.maxWaitMinutes * 60 * 2,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'breaching',
      }),
    ]);
    expect(alarms.filter((a) => a.MetricName === 'OldestQueuedAgeSeconds')).toEqual([
      expect.objectContaining({
        AlarmName: 'IngestPipeline-OldestQueuedManifestAlarm',
        Namespace: DEFAULT_CONFIG.metricsNamespace,
        Dimensions: [{ Name: 'service', Value: 'sweeper' }],
        Statistic: 'Maximum',
        // Two of the Glue job's longest runs: a queued manifest has seen slots turn over twice by then.
        Threshold: 2 * DEFAULT_CONFIG.glue.timeoutMinutes * 60,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      }),
    ]);
    expect(alarms).toHaveLength(13);
  });

  test('the queued-manifest alarm says what to do: what runs and waits, stuck runs, the sweeper, the backlog, --now', () => {
    const alarm = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm'))
      .map((a) => a.Properties)
      .find((a) => a.MetricName === 'OldestQueuedAgeSeconds')!;
    expect(alarm.AlarmDescription).toContain('npx pipeline status --since 24h');
    expect(alarm.AlarmDescription).toContain('glue.maxConcurrentRuns');
    expect(alarm.AlarmDescription).toContain('npx pipeline replay <manifestId> --now');
    expect(alarm.AlarmDescription).toMatch(/stop them, the sweeper gives their slots back/);
    const custom = synthPipeline({ glue: { timeoutMinutes: 120 }, executionTimeoutMinutes: 1000 }).template;
    custom.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'OldestQueuedAgeSeconds', Threshold: 4 * 3600 });
  });

  test('every alarm says what to do, is named after the stack, and sends one message: on entering ALARM, never on OK or missing data', () => {
    const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    for (const alarm of alarms) {
      expect(alarm.AlarmName).toMatch(/^IngestPipeline-[A-Za-z]+Alarm[A-Za-z]*$/);
      expect(alarm.AlarmActions).toHaveLength(1);
      expect(alarm.OKActions).toBeUndefined();
      expect(alarm.InsufficientDataActions).toBeUndefined();
      // A description long enough to tell the reader what happened and where to act.
      expect(String(alarm.AlarmDescription).split(' ').length).toBeGreaterThanOrEqual(15);
      expect(alarm.AlarmDescription).toMatch(/npx pipeline|log group|console|quota/);
    }
    expect(new Set(alarms.map((a) => a.AlarmName)).size).toBe(alarms.length);
  });

  test('the oldest-manifest threshold follows maxWaitMinutes', () => {
    const custom = synthPipeline({ maxWaitMinutes: 5 }).template;
    custom.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'OldestOpenManifestAgeSeconds', Threshold: 600 });
  });
});

describe('dashboard', () => {
  test('shows files in, manifests sealed/succeeded/failed, DLQ depth, Glue duration and the oldest open manifest', () => {
    const [dashboard] = Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const metric of [
      'FilesAccepted',
      'ManifestsSealedFull',
      'ManifestsSealedTimeout',
      'ExecutionsSucceeded',
      'ExecutionsFailed',
      'ApproximateNumberOfMessagesVisible',
      'glue.driver.aggregate.elapsedTime',
      'OldestOpenManifestAgeSeconds',
    ]) {
      expect(body).toContain(`\\"${metric}\\"`);
    }
  });

  test('every metric of the contract (docs/architecture.md, Metrics) is on the dashboard', () => {
    const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'architecture.md'), 'utf8');
    const section = doc.split('## Metrics')[1].split('\n## ')[0];
    const names = [...section.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThanOrEqual(8);
    const [dashboard] = Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    // The canary's are on its own row, there when it is on (test/infra/canary.test.ts).
    for (const name of names.filter((n) => !n.startsWith('Canary'))) expect(body).toContain(`\\"${name}\\"`);
  });
});

test('the stack outputs exactly the keys the CLI reads', () => {
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([...OUTPUT_KEYS].sort());
  const { stateMachine, job } = ids();
  template.hasOutput('StateMachineArn', { Value: { Ref: stateMachine } });
  template.hasOutput('GlueJobName', { Value: { Ref: job } });
});
