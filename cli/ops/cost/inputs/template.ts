/**
 * The stack's inventory: what the synthesized CloudFormation template holds, as far as the bill is concerned
 * (Lambda memory, the builder's event source, the sweeper's schedule, the Glue job, alarms, dashboards, keys,
 * tables, buckets, log groups).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CONFIG, type PipelineConfig } from '../../../../contracts/config';
import { SETTING_VARIABLES } from '../../../../contracts/lambda-environment';

const REPO_ROOT = path.join(__dirname, '..', '..', '..', '..');

/** What the deployed stack is made of, as far as the bill is concerned. */
export interface StackInventory {
  /** Where the figures come from. */
  readonly source: string;
  readonly builder: {
    readonly memoryMb: number;
    readonly arch: 'arm64' | 'x86_64';
    readonly tracing: boolean;
    readonly batchSize: number;
    readonly batchingWindowSeconds: number;
    readonly maxConcurrency: number;
    /** Most open manifests (write shards) of one dataset: its `MAX_SHARDS_PER_DATASET`. */
    readonly maxShardsPerDataset: number;
  };
  readonly sweeper: {
    readonly memoryMb: number;
    readonly arch: 'arm64' | 'x86_64';
    readonly tracing: boolean;
    readonly everyMinutes: number;
  };
  readonly glue: {
    readonly workerType: string;
    readonly maxWorkers: number;
    readonly executionClass: 'FLEX' | 'STANDARD';
    readonly maxConcurrentRuns: number;
    readonly continuousLogging: boolean;
  };
  /** The job's target size of a Parquet file (`--target_file_mb`), MB. */
  readonly parquetTargetFileMb: number;
  /** Days the builder keeps an idempotency record (its `IDEMPOTENCY_TTL_SECONDS`). */
  readonly idempotencyTtlDays: number;
  readonly stateMachine: { readonly logLevel: string; readonly tracing: boolean };
  readonly alarms: number;
  /** Metrics the alarms read (a math expression's metrics each count). */
  readonly alarmMetrics: number;
  readonly dashboards: number;
  /** Customer managed KMS keys. */
  readonly kmsKeys: number;
  readonly tables: number;
  readonly pitrTables: number;
  /** GSIs of the state table (ALL projection: MANIFEST META items are stored again in each). */
  readonly stateTableGsis: number;
  readonly logRetentionDays: number;
  readonly ingestTransitionDays: number;
  readonly accessLogRetentionDays: number;
  /** VPC endpoints of `network=private` (none in the public default): interface endpoints, and the zones they are in summed. */
  readonly vpcEndpoints: { readonly interface: number; readonly interfaceZones: number; readonly gateway: number };
}

/**
 * A synthesized CloudFormation template, as far as it is read: resources with a type and properties. The CDK writes
 * the properties by the resource specification, so they are typed by type below; every one of them is optional,
 * and a value may be an intrinsic function (`{ Ref }`, `{ Fn::GetAtt }`).
 */
export interface Template {
  readonly Resources: Readonly<Record<string, { readonly Type: string; readonly Properties?: unknown }>>;
}

/** A reference to another resource of the template. */
type Reference = string | { readonly Ref?: string; readonly 'Fn::GetAtt'?: readonly [string, string] };

/** The properties read, by resource type (names and shapes of the CloudFormation resource specification). */
interface PropertiesByType {
  'AWS::Lambda::Function': {
    readonly MemorySize?: number;
    readonly Architectures?: readonly string[];
    readonly TracingConfig?: { readonly Mode?: string };
    readonly Environment?: { readonly Variables?: Readonly<Record<string, unknown>> };
  };
  'AWS::Lambda::EventSourceMapping': {
    readonly FunctionName?: Reference;
    readonly BatchSize?: number;
    readonly MaximumBatchingWindowInSeconds?: number;
    readonly ScalingConfig?: { readonly MaximumConcurrency?: number };
  };
  'AWS::Events::Rule': { readonly ScheduleExpression?: string; readonly Targets?: readonly { readonly Arn?: Reference }[] };
  'AWS::Glue::Job': {
    readonly WorkerType?: string;
    readonly NumberOfWorkers?: number;
    readonly ExecutionClass?: string;
    readonly ExecutionProperty?: { readonly MaxConcurrentRuns?: number };
    readonly DefaultArguments?: Readonly<Record<string, unknown>>;
  };
  'AWS::StepFunctions::StateMachine': {
    readonly LoggingConfiguration?: { readonly Level?: string };
    readonly TracingConfiguration?: { readonly Enabled?: boolean };
  };
  'AWS::CloudWatch::Alarm': { readonly Metrics?: readonly { readonly MetricStat?: unknown }[] };
  'AWS::CloudWatch::Dashboard': object;
  'AWS::KMS::Key': object;
  'AWS::DynamoDB::Table': {
    readonly PointInTimeRecoverySpecification?: { readonly PointInTimeRecoveryEnabled?: boolean };
    readonly GlobalSecondaryIndexes?: readonly unknown[];
  };
  'AWS::S3::Bucket': {
    readonly VersioningConfiguration?: { readonly Status?: string };
    readonly LifecycleConfiguration?: {
      readonly Rules?: readonly {
        readonly ExpirationInDays?: number;
        readonly Transitions?: readonly { readonly StorageClass?: string; readonly TransitionInDays?: number }[];
      }[];
    };
  };
  'AWS::Logs::LogGroup': { readonly RetentionInDays?: number };
  'AWS::EC2::VPCEndpoint': { readonly VpcEndpointType?: string; readonly SubnetIds?: readonly unknown[] };
}

/** The resources of one type, with their ids and properties. */
function resourcesOf<T extends keyof PropertiesByType>(
  template: Template,
  type: T,
): { readonly id: string; readonly properties: PropertiesByType[T] }[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => {
      // What the CDK wrote for this type (every property optional, so a resource without properties reads as none).
      const properties: PropertiesByType[T] = r.Properties ?? {};
      return { id, properties };
    });
}

/** The logical id a reference names. */
function referencedId(value: Reference | undefined): string | undefined {
  if (typeof value === 'string') return value;
  return value?.Ref ?? value?.['Fn::GetAtt']?.[0];
}

/** Minutes of an EventBridge `rate(...)` expression. */
export function rateMinutes(expression: string): number {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (m === null) throw new Error(`unsupported schedule "${expression}"`);
  const n = Number(m[1]);
  return m[2].startsWith('minute') ? n : m[2].startsWith('hour') ? n * 60 : n * 1440;
}

/** A number the template gives (maybe as a string, as Glue's arguments are), or the default where it gives none. */
function numberOr(value: unknown, fallback: number): number {
  return value === undefined || value === null || value === '' ? fallback : Number(value);
}

/** The inventory of a synthesized CloudFormation template. */
export function inventoryFromTemplate(template: Template, source: string): StackInventory {
  const functions = resourcesOf(template, 'AWS::Lambda::Function');
  const fn = (id: string | undefined) => {
    const p = functions.find((f) => f.id === id)?.properties;
    if (p === undefined) throw new Error(`no Lambda function ${id} in the template`);
    return {
      properties: p,
      figures: {
        memoryMb: numberOr(p.MemorySize, 128),
        arch: p.Architectures?.[0] === 'arm64' ? ('arm64' as const) : ('x86_64' as const),
        tracing: p.TracingConfig?.Mode === 'Active',
      },
    };
  };
  const [esm] = resourcesOf(template, 'AWS::Lambda::EventSourceMapping').map((r) => r.properties);
  if (esm === undefined) throw new Error('no event source mapping (the builder) in the template');
  const schedule = resourcesOf(template, 'AWS::Events::Rule')
    .map((r) => r.properties)
    .find((p) => typeof p.ScheduleExpression === 'string');
  if (schedule?.ScheduleExpression === undefined) throw new Error('no scheduled rule (the sweeper) in the template');
  const [job] = resourcesOf(template, 'AWS::Glue::Job').map((r) => r.properties);
  if (job === undefined) throw new Error('no Glue job in the template');
  const [machine] = resourcesOf(template, 'AWS::StepFunctions::StateMachine').map((r) => r.properties);
  const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').map((r) => r.properties);
  const tables = resourcesOf(template, 'AWS::DynamoDB::Table').map((r) => r.properties);
  const buckets = resourcesOf(template, 'AWS::S3::Bucket').map((r) => r.properties);
  const ingest = buckets.find((b) => b.VersioningConfiguration?.Status === 'Enabled');
  const ia = (ingest?.LifecycleConfiguration?.Rules ?? [])
    .flatMap((r) => r.Transitions ?? [])
    .find((t) => t.StorageClass === 'STANDARD_IA');
  const expirations = buckets
    .flatMap((b) => (b.LifecycleConfiguration?.Rules ?? []).map((r) => r.ExpirationInDays))
    .filter((d): d is number => typeof d === 'number');
  const retention = resourcesOf(template, 'AWS::Logs::LogGroup').map((r) => numberOr(r.properties.RetentionInDays, 3653));
  const endpoints = resourcesOf(template, 'AWS::EC2::VPCEndpoint').map((r) => r.properties);
  const interfaceEndpoints = endpoints.filter((e) => e.VpcEndpointType === 'Interface');
  const builder = fn(referencedId(esm.FunctionName));
  const idempotencyTtlSeconds = builder.properties.Environment?.Variables?.[SETTING_VARIABLES.idempotencyTtlSeconds];
  return {
    source,
    builder: {
      ...builder.figures,
      batchSize: numberOr(esm.BatchSize, 10),
      batchingWindowSeconds: numberOr(esm.MaximumBatchingWindowInSeconds, 0),
      maxConcurrency: numberOr(esm.ScalingConfig?.MaximumConcurrency, 1000),
      maxShardsPerDataset: numberOr(
        builder.properties.Environment?.Variables?.[SETTING_VARIABLES.maxShardsPerDataset],
        DEFAULT_CONFIG.maxShardsPerDataset,
      ),
    },
    sweeper: { ...fn(referencedId(schedule.Targets?.[0]?.Arn)).figures, everyMinutes: rateMinutes(schedule.ScheduleExpression) },
    glue: {
      workerType: String(job.WorkerType),
      maxWorkers: Number(job.NumberOfWorkers),
      executionClass: job.ExecutionClass === 'FLEX' ? 'FLEX' : 'STANDARD',
      maxConcurrentRuns: numberOr(job.ExecutionProperty?.MaxConcurrentRuns, 1),
      continuousLogging: job.DefaultArguments?.['--enable-continuous-cloudwatch-log'] === 'true',
    },
    // Where the template does not say, what the job and the handlers do by default.
    parquetTargetFileMb: numberOr(job.DefaultArguments?.['--target_file_mb'], DEFAULT_CONFIG.glue.targetFileMb),
    idempotencyTtlDays: numberOr(idempotencyTtlSeconds, DEFAULT_CONFIG.idempotencyTtlDays * 86_400) / 86_400,
    stateMachine: {
      logLevel: String(machine?.LoggingConfiguration?.Level ?? 'OFF'),
      tracing: machine?.TracingConfiguration?.Enabled === true,
    },
    alarms: alarms.length,
    alarmMetrics: alarms.reduce(
      (sum, a) => sum + (a.Metrics === undefined ? 1 : a.Metrics.filter((m) => m.MetricStat !== undefined).length),
      0,
    ),
    dashboards: resourcesOf(template, 'AWS::CloudWatch::Dashboard').length,
    kmsKeys: resourcesOf(template, 'AWS::KMS::Key').length,
    tables: tables.length,
    pitrTables: tables.filter((t) => t.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled === true).length,
    stateTableGsis: Math.max(0, ...tables.map((t) => (t.GlobalSecondaryIndexes ?? []).length)),
    logRetentionDays: Math.max(1, ...retention),
    ingestTransitionDays: numberOr(ia?.TransitionInDays, Infinity),
    accessLogRetentionDays: Math.max(0, ...expirations),
    vpcEndpoints: {
      interface: interfaceEndpoints.length,
      // An endpoint has a network interface in each subnet it is given, one subnet per zone.
      interfaceZones: interfaceEndpoints.reduce((sum, e) => sum + (e.SubnetIds ?? []).length, 0),
      gateway: endpoints.length - interfaceEndpoints.length,
    },
  };
}

/**
 * The inventory of the stack for these settings: the stack is synthesized (without bundling, as the infra tests do)
 * and its template read. Loaded lazily: the CDK is only needed here.
 */
export function synthesizeInventory(config: PipelineConfig): StackInventory {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { App } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  const { PipelineStack } = require('../../../../pipeline/pipeline-stack') as typeof import('../../../../pipeline/pipeline-stack');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const app = new App({ context: { ...(cdkJson.context ?? {}), 'aws:cdk:bundling-stacks': [] } });
  const stack = new PipelineStack(app, 'CostModel', { config });
  const template = app.synth().getStackByName(stack.stackName).template as Template;
  return inventoryFromTemplate(template, 'the synthesized stack (pipeline/pipeline-stack.ts)');
}
