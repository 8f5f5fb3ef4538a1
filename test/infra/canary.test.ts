/**
 * The canary in the synthesized stack: absent by default; with `canary.everyMinutes`, a Lambda every five minutes with
 * its own environment, a role that touches only the canary's files and reads only FILE# and MANIFEST# items, the
 * alarm with its threshold and missing data breaching, the dashboard row, and no unacknowledged cdk-nag finding.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CANARY_DATASET, canaryAlarmMinutes, canaryLookbackMinutes } from '../../contracts/config';
import { SynthesizedPipeline, logicalIdAt, resourcesOf, synthPipeline } from './synth';

let on: SynthesizedPipeline;
let template: Template;
beforeAll(() => {
  on = synthPipeline({ alertEmail: 'ops@example.com', canary: { everyMinutes: 60 } });
  template = on.template;
});

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

function canaryStatements(): Statement[] {
  const fn = template.toJSON().Resources[logicalIdAt(on.stack, 'Canary/Function')].Properties;
  const roleId = fn.Role['Fn::GetAtt'][0];
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

test('off by default: no canary function, schedule, alarm or dashboard row', () => {
  const off = synthPipeline({ alertEmail: 'ops@example.com' }).template;
  const functions = Object.values(resourcesOf(off, 'AWS::Lambda::Function'));
  expect(functions.filter((f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'canary')).toEqual([]);
  expect(Object.values(resourcesOf(off, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmName)).not.toContain(
    'IngestPipeline-CanaryAlarm',
  );
  expect(JSON.stringify(off.toJSON())).not.toContain('Canary');
});

test('on: a Lambda checked every five minutes on the clock, told only what the canary needs', () => {
  const fn = template.toJSON().Resources[logicalIdAt(on.stack, 'Canary/Function')].Properties;
  expect(fn.Environment.Variables).toEqual({
    POWERTOOLS_SERVICE_NAME: 'canary',
    POWERTOOLS_METRICS_NAMESPACE: 'IngestPipeline',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    STATE_TABLE: { Ref: logicalIdAt(on.stack, 'StateTables/StateTable') },
    INGEST_BUCKET: { Ref: logicalIdAt(on.stack, 'Storage/Ingest') },
    INGEST_PREFIX: 'incoming/',
    CANARY_EVERY_SECONDS: '3600',
    CANARY_CHECK_SECONDS: '300',
    CANARY_LOOKBACK_SECONDS: String(canaryLookbackMinutes(on.config) * 60),
    NODE_OPTIONS: '--enable-source-maps',
  });
  expect(fn.TracingConfig).toEqual({ Mode: 'Active' });
  template.hasResourceProperties('AWS::Events::Rule', {
    ScheduleExpression: 'cron(0/5 * * * ? *)',
    Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalIdAt(on.stack, 'Canary/Function'), 'Arn'] } })],
  });
  // A failed check is not retried (a retry would count a freshness twice).
  template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
    FunctionName: { Ref: logicalIdAt(on.stack, 'Canary/Function') },
    MaximumRetryAttempts: 0,
  });
});

test("its role puts and reads only the canary dataset's files, lists only their prefix, and reads FILE# and MANIFEST# items", () => {
  const ingest = logicalIdAt(on.stack, 'Storage/Ingest');
  const table = logicalIdAt(on.stack, 'StateTables/StateTable');
  const statements = canaryStatements().filter((s) => !['OwnLogGroup'].includes(s.Sid ?? ''));
  const bySid = Object.fromEntries(statements.filter((s) => s.Sid !== undefined).map((s) => [s.Sid, s]));

  expect(bySid.CanaryFiles).toMatchObject({
    Effect: 'Allow',
    Action: ['s3:GetObject', 's3:PutObject'],
    Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [ingest, 'Arn'] }, `/incoming/${CANARY_DATASET}/*`]] },
  });
  expect(bySid.ListCanaryFiles).toMatchObject({
    Action: 's3:ListBucket',
    Resource: { 'Fn::GetAtt': [ingest, 'Arn'] },
    Condition: { StringLike: { 's3:prefix': [`incoming/${CANARY_DATASET}/*`] } },
  });
  expect(bySid.ReadCanaryRecords).toMatchObject({
    Action: 'dynamodb:GetItem',
    Resource: { 'Fn::GetAtt': [table, 'Arn'] },
    Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['FILE#*', 'MANIFEST#*'] } },
  });
  // Nothing else on S3, DynamoDB, Step Functions or SNS.
  const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
  expect(actions.filter((a) => /^(s3|dynamodb|states|sns|kms):/.test(a)).sort()).toEqual(
    ['dynamodb:GetItem', 's3:GetObject', 's3:ListBucket', 's3:PutObject'].sort(),
  );
});

test('the alarm: pending age over maxWaitMinutes plus the margin, three checks a period, missing data breaching, what to do', () => {
  template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    AlarmName: 'IngestPipeline-CanaryAlarm',
    MetricName: 'CanaryPendingAgeSeconds',
    Namespace: 'IngestPipeline',
    Dimensions: [{ Name: 'service', Value: 'canary' }],
    Statistic: 'Maximum',
    Period: 900,
    Threshold: canaryAlarmMinutes(on.config) * 60,
    ComparisonOperator: 'GreaterThanThreshold',
    EvaluationPeriods: 1,
    TreatMissingData: 'breaching',
    AlarmActions: [{ Ref: Match.stringLikeRegexp('AlertingTopic') }],
    AlarmDescription: Match.stringLikeRegexp('pipeline status --dataset pipeline_canary'),
  });
  template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'IngestPipeline-CanaryErrorsAlarm' });
  // The topic admits the canary's alarms by ARN.
  const policies = JSON.stringify(resourcesOf(template, 'AWS::SNS::TopicPolicy'));
  expect(policies).toContain(':IngestPipeline-CanaryAlarm');
});

test('the STANDARD class lowers the threshold by the FLEX wait', () => {
  const standard = synthPipeline({ canary: { everyMinutes: 30 }, glue: { executionClass: 'STANDARD' }, maxWaitMinutes: 10 });
  standard.template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'IngestPipeline-CanaryAlarm', Threshold: (10 + 15) * 60 });
});

test('the dashboard shows the freshness and the pending age with the alarm line', () => {
  const body = JSON.stringify(Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody);
  expect(body).toContain('CanaryFreshnessSeconds');
  expect(body).toContain('CanaryPendingAgeSeconds');
  expect(body).toContain(`"value\\":${canaryAlarmMinutes(on.config) * 60}`);
});

test('cdk-nag: no finding left unacknowledged with the canary on', () => {
  const report = new AwsSolutionsChecks(on.app, { verbose: true }).validateScope(on.stack);
  const findings = report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
  expect(findings).toEqual([]);
});
