/**
 * Every AWS call a component of the pipeline made during an end-to-end run, checked against that component's
 * policies in the synthesized stack by an IAM policy evaluation library (@cloud-copilot/iam-simulate).
 *
 * The local mode gives the manifest builder, the sweeper, the canary, the state machine and the Glue job each a key of
 * its own; the emulator records every call made with one as IAM authorizes it (`<stateDir>/iam-calls.jsonl`, written
 * by local/emulator/call_log.py). Here each component is mapped to its role in the template (the builder's, the
 * sweeper's and the canary's function roles, the state machine's role, the Glue job's role), the role's policies are
 * resolved for the local mode (its account, region and resource names in place of the intrinsic functions), and each
 * recorded call is evaluated; so is each call a service makes with the component's role on its behalf, taken from
 * the template and AWS's documentation ({@link onBehalfCalls}). A call the policies do not allow is a problem, named by its
 * component, action and resource.
 *
 * The resource's own policy in the template is evaluated with the role's: bucket policies, key policies (a KMS key
 * is usable only as far as its key policy lets IAM policies grant it), topic and queue policies; each call is made
 * over TLS (`aws:SecureTransport`), as the SDKs make them in the cloud.
 *
 * Not covered: the calls of the operator CLI and the tests (the instance's own key); condition keys other than the
 * ones the pipeline's policies test (`dynamodb:LeadingKeys`, `s3:prefix`, `cloudwatch:namespace`,
 * `aws:SecureTransport`); organization policies (SCPs, RCPs) and permission boundaries, which the stack has none of.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { LOCAL_COMPONENTS, type LocalComponent, type LocalStack } from '../../../contracts/local-stack';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../../../local/layout';
import { logicalIdAt, REPO_ROOT, synthPipeline } from '../../infra/synth';

/** The file the emulator records the components' calls in, under the state directory. */
export const CALLS_FILE = 'iam-calls.jsonl';

/** One call as IAM authorizes it: who made it, the action, the resource, the condition keys the policies test. */
export interface IamCall {
  readonly component: LocalComponent;
  readonly action: string;
  readonly resource?: string;
  readonly context?: Record<string, string | string[]>;
  /** Why the emulator could not tell the call's action or resource: such a call is reported, never passed. */
  readonly unmapped?: string;
  /** For a call a service makes with the component's role: the AWS documentation that says it does. */
  readonly onBehalf?: string;
}

type Json = unknown;
interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, any>;
}
interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: Record<string, Json>[];
}

/** The calls the emulator recorded in a state directory (none when no component called). */
export function readCalls(stateDir: string): IamCall[] {
  const file = path.join(stateDir, CALLS_FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as IamCall);
}

/** Where each component's role is named in the template: the construct that runs with it. */
const COMPONENT_CONSTRUCTS: Record<LocalComponent, { path: string; roleProperty: string }> = {
  'manifest-builder': { path: 'ManifestBuilder/Builder', roleProperty: 'Role' },
  sweeper: { path: 'Sweeper/Function', roleProperty: 'Role' },
  canary: { path: 'Canary/Function', roleProperty: 'Role' },
  'state-machine': { path: 'ConversionWorkflow/StateMachine', roleProperty: 'RoleArn' },
  'glue-job': { path: 'ConversionWorkflow/Job', roleProperty: 'Role' },
};

const last = (text: string, separator: string) => text.slice(text.lastIndexOf(separator) + 1);

/** The stack's resources the local mode has, by construct path, with their local names. */
const CONSTRUCTS_OF_LOCAL_RESOURCES: Record<string, (stack: LocalStack) => string> = {
  'Storage/Ingest': (stack) => stack.ingestBucket,
  'Storage/Curated': (stack) => stack.curatedBucket,
  'StateTables/StateTable': (stack) => stack.stateTable,
  'StateTables/IdempotencyTable': (stack) => stack.idempotencyTable,
  'ManifestBuilder/IngestQueue/Queue': (stack) => last(stack.ingestQueueUrl, '/'),
  'ManifestBuilder/IngestQueue/DeadLetterQueue': (stack) => last(stack.ingestDlqUrl, '/'),
  'ConversionWorkflow/StateMachine': (stack) => last(stack.stateMachineArn, ':'),
  'ConversionWorkflow/Job': (stack) => stack.glueJobName,
  'ConversionWorkflow/Database': (stack) => stack.glueDatabase,
  'Alerting/Topic': (stack) => last(stack.alertTopicArn, ':'),
};

/** The local names of the stack's resources the local mode has, by construct path. */
function localNames(stack: LocalStack): Record<string, string> {
  return Object.fromEntries(Object.entries(CONSTRUCTS_OF_LOCAL_RESOURCES).map(([constructPath, name]) => [constructPath, name(stack)]));
}

/** The property holding a resource's physical name, by type (`Ref` of most types, or part of their ARN). */
const NAME_PROPERTIES: Record<string, (props: Record<string, any>) => Json> = {
  'AWS::S3::Bucket': (p) => p.BucketName,
  'AWS::DynamoDB::Table': (p) => p.TableName,
  'AWS::SQS::Queue': (p) => p.QueueName,
  'AWS::SNS::Topic': (p) => p.TopicName,
  'AWS::StepFunctions::StateMachine': (p) => p.StateMachineName,
  'AWS::Glue::Job': (p) => p.Name,
  'AWS::Glue::Database': (p) => p.DatabaseInput?.Name,
  'AWS::Glue::SecurityConfiguration': (p) => p.Name,
  'AWS::Logs::LogGroup': (p) => p.LogGroupName,
  'AWS::IAM::Role': (p) => p.RoleName,
  'AWS::Lambda::Function': (p) => p.FunctionName,
  'AWS::Events::Rule': (p) => p.Name,
  'AWS::CloudWatch::Alarm': (p) => p.AlarmName,
};

/**
 * Resolves CloudFormation's intrinsic functions of the template for the local mode: pseudo parameters are its
 * account and region, each resource's `Ref` and attributes are built from its local name (the emulator's, for the
 * resources the local mode has; else its name property; else its logical id).
 */
export class LocalResolver {
  private readonly names = new Map<string, string>();

  constructor(
    private readonly resources: Record<string, CfnResource>,
    localByLogicalId: Record<string, string>,
    private readonly stackName: string,
    private readonly endpoint: string,
  ) {
    for (const [id, name] of Object.entries(localByLogicalId)) this.names.set(id, name);
  }

  /** `value` with every intrinsic function replaced by its local value. */
  resolve(value: Json): Json {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, Json>);
    if (entries.length === 1) {
      const [fn, arg] = entries[0];
      switch (fn) {
        case 'Ref':
          return this.ref(arg as string);
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split(/\.(.*)/s);
          return this.attribute(id, attr);
        }
        case 'Fn::Join': {
          const [separator, parts] = arg as [string, Json[]];
          return (this.resolve(parts) as Json[]).map(String).join(separator);
        }
        case 'Fn::Sub':
          return this.sub(arg as string | [string, Record<string, Json>]);
        case 'Fn::Select': {
          const [index, list] = arg as [Json, Json];
          return (this.resolve(list) as Json[])[Number(this.resolve(index))];
        }
        case 'Fn::Split': {
          const [separator, text] = arg as [string, Json];
          return String(this.resolve(text)).split(separator);
        }
        default:
          if (fn.startsWith('Fn::') || fn === 'Condition') throw new Error(`the IAM check cannot resolve ${fn}`);
      }
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, this.resolve(item)]));
  }

  /** The local name of a resource of the template. */
  nameOf(logicalId: string): string {
    const known = this.names.get(logicalId);
    if (known !== undefined) return known;
    const resource = this.resourceOf(logicalId);
    const property = NAME_PROPERTIES[resource.Type]?.(resource.Properties ?? {});
    const name = property === undefined ? logicalId : String(this.resolve(property));
    this.names.set(logicalId, name);
    return name;
  }

  private resourceOf(logicalId: string): CfnResource {
    const resource = this.resources[logicalId];
    if (resource === undefined) throw new Error(`the template has no resource ${logicalId}`);
    return resource;
  }

  private ref(id: string): Json {
    switch (id) {
      case 'AWS::Region':
        return LOCAL_REGION;
      case 'AWS::AccountId':
        return LOCAL_ACCOUNT;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.stackName;
    }
    const { Type } = this.resourceOf(id);
    const name = this.nameOf(id);
    switch (Type) {
      case 'AWS::SQS::Queue':
        return `${this.endpoint}/${LOCAL_ACCOUNT}/${name}`;
      case 'AWS::SNS::Topic':
      case 'AWS::StepFunctions::StateMachine':
        return this.attribute(id, 'Arn');
      default:
        return name;
    }
  }

  private attribute(id: string, attr: string): string {
    const { Type } = this.resourceOf(id);
    const name = this.nameOf(id);
    const arns: Record<string, string> = {
      'AWS::S3::Bucket': `arn:aws:s3:::${name}`,
      'AWS::DynamoDB::Table': `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${name}`,
      'AWS::SQS::Queue': `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name}`,
      'AWS::SNS::Topic': `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name}`,
      'AWS::StepFunctions::StateMachine': `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`,
      'AWS::KMS::Key': `arn:aws:kms:${LOCAL_REGION}:${LOCAL_ACCOUNT}:key/${name}`,
      'AWS::Logs::LogGroup': `arn:aws:logs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:log-group:${name}:*`,
      'AWS::IAM::Role': `arn:aws:iam::${LOCAL_ACCOUNT}:role/${name}`,
      'AWS::Lambda::Function': `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${name}`,
      'AWS::Events::Rule': `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:rule/${name}`,
      'AWS::CloudWatch::Alarm': `arn:aws:cloudwatch:${LOCAL_REGION}:${LOCAL_ACCOUNT}:alarm:${name}`,
    };
    if (attr === 'Arn' || attr === 'TopicArn') {
      // Another type's ARN is only ever compared with, in a condition of a resource policy (`aws:SourceArn`): one
      // that names the resource is enough.
      return arns[Type] ?? `arn:aws:${Type.split('::')[1].toLowerCase()}:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${id}`;
    }
    if (['Name', 'QueueName', 'TopicName', 'KeyId', 'RoleId'].includes(attr)) return name;
    if (attr === 'QueueUrl') return `${this.endpoint}/${LOCAL_ACCOUNT}/${name}`;
    throw new Error(`the IAM check cannot resolve ${id}.${attr} (${Type})`);
  }

  private sub(arg: string | [string, Record<string, Json>]): string {
    const [text, variables] = typeof arg === 'string' ? [arg, {}] : arg;
    return text.replace(/\$\{(!?)([^}]+)\}/g, (_match, literal: string, name: string) => {
      if (literal) return `\${${name}}`;
      if (name in variables) return String(this.resolve(variables[name]));
      if (name.includes('.') && !name.startsWith('AWS::')) {
        const [id, attr] = name.split(/\.(.*)/s);
        return this.attribute(id, attr);
      }
      return String(this.ref(name));
    });
  }
}

/** What the check needs of the synthesized stack for one local mode instance. */
export interface IamModel {
  readonly resolver: LocalResolver;
  readonly resources: Record<string, CfnResource>;
  /** Each component's role: its local ARN and its policies, resolved. */
  readonly roles: Record<LocalComponent, { arn: string; policies: PolicyDocument[] }>;
  /** Each component's resource in the template (the function, the state machine, the job), by logical id. */
  readonly componentIds: Record<LocalComponent, string>;
  /**
   * The resource policies of the template, resolved, by the local ARN of the resource they guard: bucket policies
   * (by bucket ARN), key policies, topic and queue policies.
   */
  readonly resourcePolicies: Map<string, PolicyDocument>;
}

/** A template as JSON: its resources by logical id. */
export interface TemplateJson {
  readonly Resources: Record<string, CfnResource>;
}

/** What the check needs of the synthesized stack: its template, the logical ids of the constructs it names, its name. */
export interface SynthesizedFacts {
  readonly template: TemplateJson;
  /** Logical id by construct path (`Storage/Ingest`), for the constructs the check names. */
  readonly logicalIds: Record<string, string>;
  readonly stackName: string;
}

/** The logical id of a component's role in the template. */
function roleIdOf(facts: SynthesizedFacts, resources: Record<string, CfnResource>, component: LocalComponent): string {
  const { path: constructPath, roleProperty } = COMPONENT_CONSTRUCTS[component];
  const roleRef = resources[facts.logicalIds[constructPath]].Properties?.[roleProperty] as { 'Fn::GetAtt'?: [string, string] } | undefined;
  const roleId = roleRef?.['Fn::GetAtt']?.[0];
  if (roleId === undefined || resources[roleId]?.Type !== 'AWS::IAM::Role') {
    throw new Error(`${constructPath} names no role of the template by Fn::GetAtt: ${JSON.stringify(roleRef)}`);
  }
  return roleId;
}

/**
 * The resolved policies of each component's role in the synthesized template (or in `template`, a changed copy of
 * it), for a local mode instance.
 */
export function iamModel(facts: SynthesizedFacts, stack: LocalStack, template?: TemplateJson): IamModel {
  const resources = (template ?? facts.template).Resources;
  const byLogicalId = Object.fromEntries(
    Object.entries(localNames(stack)).map(([constructPath, name]) => [facts.logicalIds[constructPath], name]),
  );
  const resolver = new LocalResolver(resources, byLogicalId, facts.stackName, stack.endpoint);
  const componentIds = {} as Record<LocalComponent, string>;
  const roles = {} as IamModel['roles'];
  for (const component of LOCAL_COMPONENTS) {
    componentIds[component] = facts.logicalIds[COMPONENT_CONSTRUCTS[component].path];
    const roleId = roleIdOf(facts, resources, component);
    roles[component] = {
      arn: resolver.resolve({ 'Fn::GetAtt': [roleId, 'Arn'] }) as string,
      policies: rolePolicies(resources, roleId, resolver),
    };
  }
  return { resolver, resources, roles, componentIds, resourcePolicies: resourcePoliciesOf(resources, resolver) };
}

/** The template's resource policies, resolved, by the local ARN of the resource each guards. */
function resourcePoliciesOf(resources: Record<string, CfnResource>, resolver: LocalResolver): Map<string, PolicyDocument> {
  const out = new Map<string, PolicyDocument>();
  const document = (value: Json) => resolver.resolve(value) as PolicyDocument;
  const arnOfRef = (type: string, ref: Json): string | undefined => {
    const id = (ref as { Ref?: string })?.Ref;
    return id !== undefined && resources[id]?.Type === type ? (resolver.resolve({ 'Fn::GetAtt': [id, 'Arn'] }) as string) : undefined;
  };
  for (const [id, resource] of Object.entries(resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::KMS::Key' && props.KeyPolicy !== undefined) {
      out.set(resolver.resolve({ 'Fn::GetAtt': [id, 'Arn'] }) as string, document(props.KeyPolicy));
    } else if (resource.Type === 'AWS::S3::BucketPolicy') {
      out.set(`arn:aws:s3:::${resolver.resolve(props.Bucket) as string}`, document(props.PolicyDocument));
    } else if (resource.Type === 'AWS::SNS::TopicPolicy') {
      for (const topic of props.Topics ?? []) out.set(resolver.resolve(topic) as string, document(props.PolicyDocument));
    } else if (resource.Type === 'AWS::SQS::QueuePolicy') {
      for (const queue of props.Queues ?? []) {
        const arn = arnOfRef('AWS::SQS::Queue', queue);
        if (arn === undefined) throw new Error(`the IAM check cannot tell the queue of ${id}: ${JSON.stringify(queue)}`);
        out.set(arn, document(props.PolicyDocument));
      }
    }
  }
  return out;
}

/** The resource policy that guards `resource` (an object's is its bucket's), if the template has one. */
function resourcePolicyFor(model: IamModel, resource: string): PolicyDocument | undefined {
  const bucket = /^(arn:aws:s3:::[^/]+)/.exec(resource)?.[1];
  return model.resourcePolicies.get(bucket ?? resource);
}

/**
 * A copy of the synthesized template in which `action` is taken out of every statement of the component's role's
 * policies that lists it (a statement left with no action goes): what the check sees when a needed permission is
 * removed from a policy.
 */
export function templateWithout(facts: SynthesizedFacts, component: LocalComponent, action: string): TemplateJson {
  const template = structuredClone(facts.template);
  const roleId = roleIdOf(facts, template.Resources, component);
  const documents = [
    ...((template.Resources[roleId].Properties?.Policies ?? []) as { PolicyDocument: PolicyDocument }[]).map((p) => p.PolicyDocument),
    ...Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles ?? []).includes(`{"Ref":"${roleId}"}`))
      .map((r) => r.Properties!.PolicyDocument as PolicyDocument),
  ];
  let removed = 0;
  for (const document of documents) {
    const kept = [];
    for (const statement of document.Statement) {
      if (statement.Action === undefined) {
        kept.push(statement);
        continue;
      }
      const actions = ([] as string[]).concat(statement.Action as string | string[]);
      const left = actions.filter((a) => a !== action);
      removed += actions.length - left.length;
      if (left.length > 0) kept.push({ ...statement, Action: left.length === 1 ? left[0] : left });
    }
    (document as { Statement: Record<string, Json>[] }).Statement = kept;
  }
  if (removed === 0) throw new Error(`no policy of the ${component}'s role lists ${action}`);
  return template;
}

/** Every policy attached to a role in the template, resolved: its inline policies and the AWS::IAM::Policy resources. */
function rolePolicies(resources: Record<string, CfnResource>, roleId: string, resolver: LocalResolver): PolicyDocument[] {
  const role = resources[roleId].Properties ?? {};
  if ((role.ManagedPolicyArns ?? []).length > 0) {
    // AWS managed policies are not in the template; none of the pipeline's roles has one.
    throw new Error(`role ${roleId} has managed policies the IAM check cannot read: ${JSON.stringify(role.ManagedPolicyArns)}`);
  }
  const inline = ((role.Policies ?? []) as { PolicyDocument: Json }[]).map((p) => p.PolicyDocument);
  const attached = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles ?? []).includes(`{"Ref":"${roleId}"}`))
    .map((r) => r.Properties!.PolicyDocument as Json);
  return [...inline, ...attached].map((document) => resolver.resolve(document) as PolicyDocument);
}

// AWS's documentation of what a service does with a component's role on its behalf.
const DOCS = {
  sfnGlueSync:
    'https://docs.aws.amazon.com/step-functions/latest/dg/connect-glue.html ("IAM policies for calling AWS Glue", Run a Job (.sync))',
  sfnLogs: 'https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html ("IAM permissions for CloudWatch Logs")',
  sfnXray: 'https://docs.aws.amazon.com/step-functions/latest/dg/concepts-xray-tracing.html (execution role permissions for X-Ray)',
  snsKms:
    'https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html (publishers to an encrypted topic need kms:GenerateDataKey* and kms:Decrypt)',
  lambdaSqs: 'https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html ("Execution role permissions" of an SQS event source mapping)',
  lambdaLogs:
    'https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html (the execution role writes the function log group)',
  lambdaXray: 'https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html (execution role permissions with active tracing)',
  lambdaDlq:
    'https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html (a dead-letter queue takes sqs:SendMessage)',
  glueScript:
    'https://docs.aws.amazon.com/glue/latest/dg/create-an-iam-role.html (the job role reads the script and the extra files from S3)',
  glueLogs: 'https://docs.aws.amazon.com/glue/latest/dg/monitor-continuous-logging.html (Glue 5 writes <custom prefix>/output and /error)',
  glueMetrics:
    'https://docs.aws.amazon.com/glue/latest/dg/monitoring-awsglue-with-cloudwatch-metrics.html (job metrics in the Glue namespace)',
} as const;

/** `s3://bucket/key` as the object's ARN. */
function s3ObjectArn(uri: string): string {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (match === null) throw new Error(`not an s3:// object URI: ${uri}`);
  return `arn:aws:s3:::${match[1]}/${match[2]}`;
}

/**
 * The calls AWS services make with a component's role on its behalf, which the emulator does not make: from the
 * template's settings of the component (logging, tracing, its queue, its script) and from the recorded calls that
 * imply them (a `.sync` Glue run, a publish to an encrypted topic). Each names the documentation it follows.
 */
export function onBehalfCalls(model: IamModel, recorded: readonly IamCall[]): IamCall[] {
  const { resources, resolver, componentIds } = model;
  const out: IamCall[] = [];
  const add = (component: LocalComponent, actions: string[], resource: string, onBehalf: string, context?: IamCall['context']) => {
    for (const action of actions) out.push({ component, action, resource, onBehalf, ...(context ? { context } : {}) });
  };
  const props = (id: string) => resources[id].Properties ?? {};

  for (const component of ['manifest-builder', 'sweeper', 'canary'] as const) {
    const fn = props(componentIds[component]);
    if (fn.LoggingConfig?.LogGroup !== undefined) {
      const group = resolver.resolve(fn.LoggingConfig.LogGroup) as string;
      const stream = `arn:aws:logs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:log-group:${group}:log-stream:local`;
      add(component, ['logs:CreateLogStream', 'logs:PutLogEvents'], stream, DOCS.lambdaLogs);
    }
    if (fn.TracingConfig?.Mode === 'Active') add(component, ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], '*', DOCS.lambdaXray);
    if (fn.DeadLetterConfig?.TargetArn !== undefined) {
      add(component, ['sqs:SendMessage'], resolver.resolve(fn.DeadLetterConfig.TargetArn) as string, DOCS.lambdaDlq);
    }
    for (const mapping of Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping')) {
      if (JSON.stringify(mapping.Properties?.FunctionName) !== JSON.stringify({ Ref: componentIds[component] })) continue;
      const queue = resolver.resolve(mapping.Properties!.EventSourceArn) as string;
      add(component, ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], queue, DOCS.lambdaSqs);
    }
  }

  const machine = props(componentIds['state-machine']);
  if (machine.LoggingConfiguration !== undefined) {
    const delivery = [
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
    ];
    add('state-machine', delivery, '*', DOCS.sfnLogs);
  }
  if (machine.TracingConfiguration?.Enabled === true) {
    add(
      'state-machine',
      ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
      '*',
      DOCS.sfnXray,
    );
  }

  const job = props(componentIds['glue-job']);
  const jobArgs = (resolver.resolve(job.DefaultArguments ?? {}) as Record<string, string>) ?? {};
  const jobFiles = [
    resolver.resolve(job.Command?.ScriptLocation) as string,
    ...(jobArgs['--extra-py-files'] ?? '').split(','),
    ...(jobArgs['--extra-jars'] ?? '').split(','),
  ].filter((uri) => uri?.startsWith('s3://'));
  for (const uri of jobFiles) add('glue-job', ['s3:GetObject'], s3ObjectArn(uri), DOCS.glueScript);
  const prefix = jobArgs['--custom-logGroup-prefix'];
  if (prefix !== undefined) {
    for (const group of [`${prefix}/output`, `${prefix}/error`]) {
      const stream = `arn:aws:logs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:log-group:${group}:log-stream:jr_0`;
      add('glue-job', ['logs:CreateLogStream', 'logs:PutLogEvents'], stream, DOCS.glueLogs);
    }
  }
  if (jobArgs['--enable-metrics'] !== undefined) {
    add('glue-job', ['cloudwatch:PutMetricData'], '*', DOCS.glueMetrics, { 'cloudwatch:namespace': 'Glue' });
  }

  for (const call of recorded) {
    if (call.component === 'state-machine' && call.action === 'glue:StartJobRun' && call.resource !== undefined) {
      // The ASL runs its job with `glue:startJobRun.sync`: Step Functions polls and may stop the run.
      add('state-machine', ['glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun'], call.resource, DOCS.sfnGlueSync);
    }
    if (call.action === 'sns:Publish' && call.resource !== undefined) {
      const key = topicKeyArn(model, call.resource);
      if (key !== undefined) add(call.component, ['kms:GenerateDataKey', 'kms:Decrypt'], key, DOCS.snsKms);
    }
  }
  return out;
}

/** The ARN of the KMS key that encrypts the template's topic whose local ARN is `topicArn`. */
function topicKeyArn(model: IamModel, topicArn: string): string | undefined {
  for (const [id, resource] of Object.entries(model.resources)) {
    if (resource.Type !== 'AWS::SNS::Topic' || model.resolver.resolve({ Ref: id }) !== topicArn) continue;
    const keyRef = resource.Properties?.KmsMasterKeyId as Json;
    if (keyRef === undefined) return undefined;
    const key = model.resolver.resolve(keyRef) as string;
    return key.startsWith('arn:') ? key : `arn:aws:kms:${LOCAL_REGION}:${LOCAL_ACCOUNT}:key/${key}`;
  }
  return undefined;
}

/** One call the policies do not allow, or could not be evaluated. */
export interface IamDenial {
  readonly call: IamCall;
  readonly reason: string;
}

/** Each distinct call once, whatever the order of its keys. */
function distinct(calls: readonly IamCall[]): IamCall[] {
  const seen = new Map<string, IamCall>();
  for (const call of calls) {
    const key = JSON.stringify([call.component, call.action, call.resource, call.context ?? {}, call.unmapped ?? '']);
    if (!seen.has(key)) seen.set(key, call);
  }
  return [...seen.values()];
}

/** Evaluates each call with its component's role's policies; returns those not allowed. */
export async function deniedCalls(model: IamModel, calls: readonly IamCall[]): Promise<IamDenial[]> {
  const denials: IamDenial[] = [];
  for (const call of distinct(calls)) {
    if (call.unmapped !== undefined || call.resource === undefined) {
      denials.push({ call, reason: `the emulator could not tell what IAM authorizes: ${call.unmapped ?? 'no resource'}` });
      continue;
    }
    const role = model.roles[call.component];
    if (role === undefined) {
      denials.push({ call, reason: `no role for component ${call.component}` });
      continue;
    }
    const result = await runSimulation(
      {
        identityPolicies: role.policies.map((policy, i) => ({ name: `${call.component}-${i}`, policy })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: resourcePolicyFor(model, call.resource),
        request: {
          principal: role.arn,
          action: call.action,
          resource: { resource: call.resource, accountId: LOCAL_ACCOUNT },
          // In the cloud every SDK call goes over TLS: the stack's policies deny any other (`enforceSSL`).
          contextVariables: { 'aws:SecureTransport': 'true', ...(call.context ?? {}) },
        },
      },
      {},
    );
    if (result.resultType === 'error') {
      denials.push({ call, reason: `the evaluation refused the request: ${JSON.stringify(result.errors)}` });
      continue;
    }
    const results = result.resultType === 'single' ? [result.result] : result.results;
    // A condition key the library drops as not applying to the action would make a condition on it pass or fail
    // for the wrong reason: the mapping is wrong, so the call is reported.
    const ignored = [...new Set(results.flatMap((r) => r.ignoredContextKeys ?? []))];
    if (ignored.length > 0) {
      denials.push({ call, reason: `condition keys not applicable to ${call.action}: ${ignored.join(', ')}` });
    } else if (result.overallResult !== 'Allowed') {
      denials.push({ call, reason: result.overallResult });
    }
  }
  return denials;
}

/** A denial as one line of a test failure: component, action, resource, context and why. */
export function describeDenial({ call, reason }: IamDenial): string {
  const context = call.context ? ` ${JSON.stringify(call.context)}` : '';
  const source = call.onBehalf ? ` (on its behalf: ${call.onBehalf})` : '';
  return `${call.component}: ${call.action} on ${call.resource ?? '?'}${context}: ${reason}${source}`;
}

/** The sources whose change can change the stack's policies: the CDK app, its contracts and settings, the ASL. */
const TEMPLATE_SOURCES = ['pipeline', 'contracts', 'state-machines', 'cdk.json', 'package-lock.json', 'test/infra/synth.ts'];

/** A digest of the template's sources (their paths and contents), naming the cached template. */
function sourcesDigest(): string {
  const hash = createHash('sha256');
  const visit = (relative: string): void => {
    const absolute = path.join(REPO_ROOT, relative);
    if (statSync(absolute).isDirectory()) {
      for (const entry of readdirSync(absolute).sort()) visit(path.join(relative, entry));
    } else {
      hash.update(`${relative}\0`).update(readFileSync(absolute)).update('\0');
    }
  };
  for (const source of TEMPLATE_SOURCES) visit(source);
  hash.update(readFileSync(__filename));
  return hash.digest('hex').slice(0, 32);
}

let synthesized: SynthesizedFacts | undefined;

/**
 * The stack as `cdk synth` builds it with the default settings and the canary on. Synthesizing takes seconds, so the facts the check
 * needs are kept in the temporary folder under a digest of the sources that make the stack's policies (the CDK app,
 * the contracts, the ASL, cdk.json, the locked CDK version): the end-to-end test files synthesize it once between
 * them, and again whenever one of those sources changes. Asset keys in a kept template may be older than the
 * assets, which is harmless: the check compares the template's policies with the template's own job settings.
 */
export function pipelineForIamCheck(): SynthesizedFacts {
  if (synthesized !== undefined) return synthesized;
  const cacheFile = path.join(os.tmpdir(), `pipeline-iam-template-${sourcesDigest()}.json`);
  if (existsSync(cacheFile)) {
    synthesized = JSON.parse(readFileSync(cacheFile, 'utf8')) as SynthesizedFacts;
    return synthesized;
  }
  // The canary on, so that its function and role are in the template; nothing else of the stack changes with it.
  const pipeline = synthPipeline({ alertEmail: 'ops@example.com', canary: { everyMinutes: 60 } });
  const paths = [...Object.values(COMPONENT_CONSTRUCTS).map((c) => c.path), ...Object.keys(CONSTRUCTS_OF_LOCAL_RESOURCES)];
  synthesized = {
    template: pipeline.template.toJSON() as TemplateJson,
    logicalIds: Object.fromEntries(paths.map((constructPath) => [constructPath, logicalIdAt(pipeline.stack, constructPath)])),
    stackName: pipeline.stack.stackName,
  };
  const aside = `${cacheFile}.${process.pid}.tmp`;
  writeFileSync(aside, JSON.stringify(synthesized), { mode: 0o600 });
  renameSync(aside, cacheFile);
  return synthesized;
}

/**
 * The check the end-to-end tests run when they stop their local mode: every call recorded in `stateDir` and every
 * call made on the components' behalf, evaluated with the synthesized stack's policies. Returns one line per
 * call not allowed (empty when all are).
 */
export async function iamProblems(stateDir: string, stack: LocalStack): Promise<string[]> {
  const recorded = readCalls(stateDir);
  const model = iamModel(pipelineForIamCheck(), stack);
  const denials = await deniedCalls(model, [...recorded, ...onBehalfCalls(model, recorded)]);
  return denials.map(describeDenial);
}
