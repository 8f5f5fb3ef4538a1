/** Two stages of the pipeline in one account and region: `-c stage=<name>` deploys an independent copy. */
import { Template } from 'aws-cdk-lib/assertions';
import { resourcesOf, synthPipeline } from './synth';

/** Properties that give a resource its physical name (account- or region-wide), by CloudFormation type. */
const NAME_PROPERTIES: Record<string, string[]> = {
  'AWS::S3::Bucket': ['BucketName'],
  'AWS::DynamoDB::Table': ['TableName'],
  'AWS::SQS::Queue': ['QueueName'],
  'AWS::SNS::Topic': ['TopicName'],
  'AWS::Lambda::Function': ['FunctionName'],
  'AWS::IAM::Role': ['RoleName'],
  'AWS::Logs::LogGroup': ['LogGroupName'],
  'AWS::CloudWatch::Alarm': ['AlarmName'],
  'AWS::CloudWatch::Dashboard': ['DashboardName'],
  'AWS::StepFunctions::StateMachine': ['StateMachineName'],
  'AWS::Glue::Job': ['Name'],
  'AWS::Glue::SecurityConfiguration': ['Name'],
  'AWS::Glue::Database': ['DatabaseInput.Name'],
  'AWS::Events::Rule': ['Name'],
  'AWS::KMS::Alias': ['AliasName'],
};

/** A name as the stack will create it, or undefined when CloudFormation generates it from the stack name. */
function render(value: unknown, stackName: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if (v.Ref === 'AWS::StackName') return stackName;
  if (typeof v.Ref === 'string' && v.Ref.startsWith('AWS::')) return `{${v.Ref}}`;
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map((part) => render(part, stackName) ?? '?').join(v['Fn::Join'][0]);
  // A reference to another resource: that resource's own name is checked where it is declared.
  return `{ref:${JSON.stringify(v)}}`;
}

/** Every explicit physical name of a template's resources: type and name. */
function physicalNames(template: Template, stackName: string): Array<{ type: string; name: string }> {
  const names: Array<{ type: string; name: string }> = [];
  for (const [type, properties] of Object.entries(NAME_PROPERTIES)) {
    for (const resource of Object.values(resourcesOf(template, type))) {
      for (const property of properties) {
        const value = property.split('.').reduce<any>((obj, key) => obj?.[key], resource.Properties);
        const name = render(value, stackName);
        if (name !== undefined) names.push({ type, name });
      }
    }
  }
  return names;
}

describe('stages', () => {
  const dev = synthPipeline({ alertEmail: 'ops@example.com', stage: 'dev' });
  const prod = synthPipeline({ alertEmail: 'ops@example.com', stage: 'prod' });
  const none = synthPipeline({ alertEmail: 'ops@example.com' });

  test("each stage is its own stack; no stage keeps today's name", () => {
    expect(dev.stack.stackName).toBe('IngestPipeline-dev');
    expect(prod.stack.stackName).toBe('IngestPipeline-prod');
    expect(none.stack.stackName).toBe('IngestPipeline');
  });

  test('two stages and the unstaged stack share no physical name', () => {
    const named = [dev, prod, none].map((p) => physicalNames(p.template, p.stack.stackName));
    // Explicit names exist (alarms, Glue log groups, security configuration, database): the check has material.
    for (const names of named) {
      expect(names.filter((n) => n.type === 'AWS::CloudWatch::Alarm').length).toBeGreaterThanOrEqual(12);
      expect(names.filter((n) => n.type === 'AWS::Logs::LogGroup').length).toBe(4);
      expect(names.some((n) => n.type === 'AWS::Glue::SecurityConfiguration')).toBe(true);
      expect(names.some((n) => n.type === 'AWS::Glue::Database')).toBe(true);
    }
    for (let i = 0; i < named.length; i++) {
      for (let j = i + 1; j < named.length; j++) {
        const other = new Set(named[j].map((n) => `${n.type} ${n.name}`));
        expect(named[i].filter((n) => other.has(`${n.type} ${n.name}`))).toEqual([]);
      }
    }
  });

  test('resources without an explicit name get one from CloudFormation, which starts with the stack name', () => {
    // Buckets, tables, queues, functions, roles, the state machine and the dashboard: none sets a name.
    for (const type of [
      'AWS::S3::Bucket',
      'AWS::DynamoDB::Table',
      'AWS::SQS::Queue',
      'AWS::Lambda::Function',
      'AWS::StepFunctions::StateMachine',
      'AWS::CloudWatch::Dashboard',
    ]) {
      const explicit = physicalNames(dev.template, dev.stack.stackName).filter((n) => n.type === type);
      expect({ type, explicit }).toEqual({ type, explicit: [] });
    }
  });

  test('alarm names, the Glue log groups, the metrics namespace, the alert sender and the alert subjects carry the stage', () => {
    const names = physicalNames(dev.template, dev.stack.stackName);
    for (const alarm of names.filter((n) => n.type === 'AWS::CloudWatch::Alarm')) expect(alarm.name).toMatch(/^IngestPipeline-dev-/);
    for (const group of names.filter((n) => n.type === 'AWS::Logs::LogGroup'))
      expect(group.name).toMatch(/^(\/aws-glue\/jobs\/IngestPipeline-dev\/|\/aws\/vendedlogs\/states\/IngestPipeline-dev-)/);
    for (const fn of Object.values(resourcesOf(dev.template, 'AWS::Lambda::Function')).filter(
      (f) => f.Properties.Environment?.Variables?.POWERTOOLS_METRICS_NAMESPACE,
    )) {
      expect(fn.Properties.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE).toBe('IngestPipeline-dev');
    }
    const custom = Object.values(resourcesOf(dev.template, 'AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties.Namespace === 'IngestPipeline-dev',
    );
    expect(custom.length).toBeGreaterThanOrEqual(3); // the oldest-open-manifest and both name-conflict alarms
    dev.template.hasResourceProperties('AWS::SNS::Topic', { DisplayName: 'Ingest pipeline dev alerts' });
    none.template.hasResourceProperties('AWS::SNS::Topic', { DisplayName: 'Ingest pipeline alerts' });
    // The state machine's alerts (its definition's substitution) and the sweeper's (its environment).
    const machine = (t: typeof dev.template) => Object.values(resourcesOf(t, 'AWS::StepFunctions::StateMachine'))[0].Properties;
    expect(machine(dev.template).DefinitionSubstitutions.AlertSubjectPrefix).toBe('Ingest pipeline dev');
    expect(machine(none.template).DefinitionSubstitutions.AlertSubjectPrefix).toBe('Ingest pipeline');
    const prefixes = (t: typeof dev.template) =>
      Object.values(resourcesOf(t, 'AWS::Lambda::Function'))
        .map((f) => f.Properties.Environment?.Variables?.ALERT_SUBJECT_PREFIX)
        .filter((p) => p !== undefined);
    expect(new Set(prefixes(dev.template))).toEqual(new Set(['Ingest pipeline dev']));
    expect(new Set(prefixes(none.template))).toEqual(new Set(['Ingest pipeline']));
    expect(JSON.stringify(dev.template.toJSON().Resources)).toContain('IngestPipeline-dev');
  });

  test("one stage's alarms cannot publish to another stage's topic", () => {
    const sources = (p: typeof dev) =>
      JSON.stringify(Object.values(resourcesOf(p.template, 'AWS::SNS::TopicPolicy')).map((r) => r.Properties.PolicyDocument));
    expect(sources(dev)).toContain(':alarm:IngestPipeline-dev-');
    expect(sources(dev)).not.toContain(':alarm:IngestPipeline-prod-');
    expect(sources(none)).not.toMatch(/:alarm:IngestPipeline-(dev|prod)-/);
  });
});
