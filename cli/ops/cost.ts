/**
 * The monthly bill and the headroom of the pipeline for a given load (`pipeline cost`; docs/cost.md holds the
 * model's assumptions). Pure arithmetic over four inputs, each named in the output:
 *
 * - the load (files a day, MB a file, datasets, batchSize and maxWaitMinutes);
 * - the stack's inventory: what the synthesized stack holds (Lambda memory, the builder's event source, the sweeper's
 *   schedule, the Glue job, alarms, dashboards, keys, tables), read from the CloudFormation template;
 * - measured figures: the builder benchmark's result file (DynamoDB units per file, the `OPEN#` pointer's read and
 *   commit latency, the conflict rate), the Glue benchmark's throughput, and the state machine's success path
 *   walked in its ASL file;
 * - prices of one region at one date ({@link PRICES}).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PipelineConfig } from '../../pipeline/config';
import { METRIC } from '../../handlers/common/observability';

const REPO_ROOT = path.join(__dirname, '..', '..');

/** Where `make bench-builder` writes its figures, which the model reads. */
export const BUILDER_BENCHMARK_PATH = path.join(REPO_ROOT, 'bench', 'results', 'manifest-builder.json');
/** The conversion state machine's definition, walked for its success path. */
export const ASL_PATH = path.join(REPO_ROOT, 'state-machines', 'convert-manifest.asl.json');

export const DAYS_PER_MONTH = 30;
const SECONDS_PER_DAY = 86_400;
const MB = 1e6;
const GB = 1e9;

/**
 * On-demand prices of us-east-1, USD, as published on the services' pricing pages (checked 2025-06). Free tiers are
 * left out: an account running other workloads has used them up.
 */
export const PRICES = {
  region: 'us-east-1',
  asOf: '2025-06',
  glueDpuHour: { STANDARD: 0.44, FLEX: 0.29 },
  /** Glue bills per second with a 1-minute minimum (Glue 2.0 and later). */
  glueMinimumBilledSeconds: 60,
  glueCatalogPerMillionRequests: 1.0,
  glueCatalogPer100kObjectMonth: 1.0,
  stepFunctionsPerThousandTransitions: 0.025,
  lambdaPerMillionRequests: 0.2,
  lambdaGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
  dynamoPerMillionWrites: 0.625,
  dynamoPerMillionReads: 0.125,
  dynamoGbMonth: 0.25,
  dynamoPitrGbMonth: 0.2,
  sqsPerMillionRequests: 0.4,
  s3StandardGbMonth: 0.023,
  s3InfrequentGbMonth: 0.0125,
  s3PutPerThousand: 0.005,
  s3GetPerThousand: 0.0004,
  s3TransitionPerThousand: 0.01,
  logsIngestGb: 0.5,
  logsStoreGbMonth: 0.03,
  metricMonth: 0.3,
  alarmMetricMonth: 0.1,
  dashboardMonth: 3.0,
  kmsKeyMonth: 1.0,
  kmsPer10kRequests: 0.03,
  snsPerMillionPublishes: 0.5,
  snsPer100kEmails: 2.0,
  xrayPerMillionTraces: 5.0,
} as const;

/**
 * Service limits the capacity section compares the load with (default quotas of us-east-1; most can be raised).
 */
export const LIMITS = {
  /** Write units a second on one item (one partition key): the `OPEN#` pointer's ceiling whatever the latency. */
  dynamoItemWritesPerSecond: 1000,
  /** On-demand table throughput quota (write request units a second). */
  dynamoTableWritesPerSecond: 40_000,
  /** StartExecution token bucket refill, Standard workflows. */
  sfnStartExecutionPerSecond: 300,
  /** State transitions refill, Standard workflows. */
  sfnTransitionsPerSecond: 5000,
  /** ListExecutions refill: the builder and the sweeper list running executions before each start (backlog check). */
  sfnListExecutionsPerSecond: 5,
  /** PUTs a second per prefix; each dataset uploads under its own prefix. */
  s3PutsPerPrefixPerSecond: 3500,
} as const;

/**
 * The Glue job's throughput as `make bench-glue` measured it (glue-scripts/README.md, "Figures": 734 MB, 200 files,
 * 2 local cores, schema recorded): the steady state in 11.7 s warm; a cold JVM, as every Glue run starts, adds the
 * 9.9 s the first manifest took more cold (22.4 s) than warm (12.5 s). Parquet (zstd) 68 MB; 693 of 724,599 lines
 * quarantined.
 */
export const GLUE_MEASURED = {
  source: 'glue-scripts/README.md (make bench-glue: 734 MB, 200 files, 2 cores, schema recorded)',
  batchMb: 734,
  localCores: 2,
  warmSeconds: 11.7,
  coldSeconds: 11.7 + 9.9,
  parquetMb: 68,
  quarantinedLineShare: 693 / 724_599,
} as const;

/** Assumptions the model cannot measure here (docs/cost.md says why each is what it is). */
export const ASSUMPTIONS = {
  /** Seconds from a Glue run's start to its script's first line (worker start), billed. */
  glueStartSeconds: 10,
  /** Spark's partition size and per-file open cost: files are packed into tasks of this many MB. */
  sparkPartitionMb: 128,
  sparkFileOpenCostMb: 4,
  /** Requests of one Glue run besides reading files: manifest, schema probe, committer listings, result, catalog. */
  glueS3GetsPerRun: 10,
  glueS3GetsPerFile: 2,
  glueS3PutsPerRun: 12,
  glueCatalogRequestsPerRun: 10,
  glueLogBytesPerRun: 500_000,
  glueKmsRequestsPerRun: 10,
  /** Bytes of each Lambda invocation's log: platform start/report lines and the EMF metrics line. */
  lambdaLogBytesPerInvocation: 1_500,
  /** Per invocation overhead of the builder beyond its files (batch processor, metrics flush), ms. */
  builderInvocationOverheadMs: 20,
  /** Step Functions log events (level ALL, no data): one per state entered and exited, plus start and end. */
  sfnLogBytesPerEvent: 350,
  /** DynamoDB's per-item storage overhead. */
  dynamoItemOverheadBytes: 100,
  /** Units of one write of a MANIFEST META item (under 1 KB, plus the GSIs it is in). */
  metaItemWriteUnits: 1,
  /** META writes by the builder and the sweeper per manifest: open, seal, the execution recorded. */
  metaWritesByHandlers: 3,
  /** GSIs a META item is in at each write (byDay, plus pending or running). */
  gsisPerMetaWrite: 2,
  /** Queries of one sweep (pending, running, open pointers), each eventually consistent and under 4 KB. */
  sweepReadUnits: 1.5,
  /** Lambda's SQS pollers (five, long polling 20 s) keep receiving while the queue is empty. */
  sqsPollers: 5,
  sqsLongPollSeconds: 20,
  /** Server access log record of one request to the ingest or curated bucket. */
  accessLogBytesPerRequest: 350,
  /** Manifest file bytes per file listed, and the result file. */
  manifestBytesPerFile: 350,
  resultFileBytes: 2_000,
  /** Share of manifests that fail or end partial, each one alert email. */
  alertShare: 0.01,
  /** Alarm state changes a month, each one email. */
  alarmMessagesPerMonth: 10,
  /** KMS requests of DynamoDB's table keys (AWS-managed), per table per hour. */
  dynamoKmsRequestsPerTableHour: 12,
  /** X-Ray's default sampling: the first request each second, then 5%. */
  xrayReservoirPerSecond: 1,
  xrayRate: 0.05,
} as const;

// ---------------------------------------------------------------------------------------------------------------
// The load and the measured inputs

/** The load the bill is for. */
export interface Load {
  readonly filesPerDay: number;
  readonly mbPerFile: number;
  readonly datasets: number;
  readonly batchSize: number;
  readonly maxWaitMinutes: number;
}

/** The reference load of the design: 8,000 files a day of 3.5 MB, even arrival, one dataset. */
export function referenceLoad(config: Pick<PipelineConfig, 'batchSize' | 'maxWaitMinutes'>): Load {
  return { filesPerDay: 8000, mbPerFile: 3.5, datasets: 1, batchSize: config.batchSize, maxWaitMinutes: config.maxWaitMinutes };
}

/** The reference plan's monthly figures for the reference load, by line, for the side-by-side. */
export const REFERENCE_PLAN = {
  load: '8,000 files a day of 3.5 MB, one dataset',
  totalUsd: 270,
  lines: { Glue: 220, DynamoDB: 10, Lambda: 5, 'S3 storage': 20, 'S3 requests': 5, 'Step Functions': 1, 'CloudWatch Logs': 5 } as Record<
    string,
    number
  >,
  headroomFactor: 600,
} as const;

/** What the model reads from the builder benchmark's result file (bench/manifest-builder.ts writes it). */
export interface BuilderBenchmark {
  readonly date: string;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly loadAverage1m: number; readonly target: string };
  readonly settings: { readonly files: number; readonly datasets: number; readonly batchSize: number; readonly concurrency: number };
  readonly filesPerSecond: number;
  readonly handlerSecondsPerFile: number;
  readonly writeUnitsPerFile: { readonly withSweep: number };
  readonly readUnitsPerFile: number;
  readonly commitTransaction: { readonly meanMs: number; readonly perFile: number };
  readonly pointerRead: { readonly meanMs: number };
  readonly conflictRate: number;
  /** A sweep that sealed and started `sweepSealedManifests` manifests, and one with nothing to do. */
  readonly sweepSeconds: number;
  readonly sweepSealedManifests: number;
  readonly idleSweepSeconds: number;
  readonly storedBytesPerFile: Readonly<Record<string, number>>;
}

/** Reads and checks the builder benchmark's result file; the error says how to make it. */
export function readBuilderBenchmark(file = BUILDER_BENCHMARK_PATH): BuilderBenchmark {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the builder benchmark's figures from ${file} (${(err as Error).message}): run \`make bench-builder\``, {
      cause: err,
    });
  }
  // The value at a dotted path of the parsed file, or undefined where the file lacks it.
  const at = (dotted: string): unknown =>
    dotted
      .split('.')
      .reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), data);
  const bad = [
    'handlerSecondsPerFile',
    'writeUnitsPerFile.withSweep',
    'readUnitsPerFile',
    'commitTransaction.meanMs',
    'commitTransaction.perFile',
    'pointerRead.meanMs',
    'conflictRate',
    'sweepSeconds',
    'sweepSealedManifests',
    'idleSweepSeconds',
  ].filter((k) => {
    const v = at(k);
    return typeof v !== 'number' || !Number.isFinite(v) || v < 0;
  });
  const stored = at('storedBytesPerFile');
  if (bad.length > 0 || typeof stored !== 'object' || stored === null) {
    throw new Error(`${file} lacks ${bad.join(', ') || 'storedBytesPerFile'}: run \`make bench-builder\` again`);
  }
  return data as BuilderBenchmark;
}

// ---------------------------------------------------------------------------------------------------------------
// The state machine's success path

/** The states an execution that converts its manifest passes through, in order, and what its tasks call. */
export interface SuccessPath {
  readonly states: readonly string[];
  /** State transitions Step Functions bills for one such execution (one per state entered). */
  readonly transitions: number;
  /** Task states on the path, by service integration (`dynamodb`, `glue`, `s3`, `sns`, ...). */
  readonly tasksByService: Readonly<Record<string, number>>;
}

export interface AslState {
  readonly Type: string;
  /** Catch, Retry, parameters and the rest: not walked. */
  readonly [field: string]: unknown;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Default?: string;
  readonly Choices?: readonly { readonly Next?: string; readonly [field: string]: unknown }[];
  readonly Resource?: string;
  readonly Branches?: readonly AslMachine[];
  readonly ItemProcessor?: AslMachine;
  readonly Iterator?: AslMachine;
}

export interface AslMachine {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
}

/** The service of a Task's resource: `arn:aws:states:::dynamodb:updateItem` -> dynamodb, `...:aws-sdk:s3:getObject` -> s3. */
function serviceOf(resource: string | undefined): string {
  const parts = (resource ?? '').split(':::')[1]?.split(':') ?? [];
  return (parts[0] === 'aws-sdk' ? parts[1] : parts[0]) || 'other';
}

/**
 * The success path of a state machine: the shortest walk from `StartAt` to a `Succeed` state (or a state with
 * `End`) along `Next`, `Choices` and `Default`, never through a `Catch` nor a retry; a Parallel state adds its
 * branches' success paths, a Map its item processor's once (one item).
 */
export function successPath(asl: AslMachine): SuccessPath {
  const previous = new Map<string, string | null>([[asl.StartAt, null]]);
  const queue = [asl.StartAt];
  let end: string | undefined;
  while (queue.length > 0 && end === undefined) {
    const name = queue.shift()!;
    const state = asl.States[name];
    if (state === undefined) throw new Error(`the ASL names a state "${name}" it does not define`);
    if (state.Type === 'Succeed' || (state.End === true && state.Type !== 'Fail')) {
      end = name;
      break;
    }
    const next = [state.Next, ...(state.Choices ?? []).map((c) => c.Next), state.Default].filter((n): n is string => typeof n === 'string');
    for (const n of next) {
      if (!previous.has(n)) {
        previous.set(n, name);
        queue.push(n);
      }
    }
  }
  if (end === undefined) throw new Error('the ASL has no path from StartAt to a Succeed state');
  const states: string[] = [];
  for (let at: string | null = end; at !== null; at = previous.get(at) ?? null) states.unshift(at);
  let transitions = 0;
  const tasksByService: Record<string, number> = {};
  const add = (sub: SuccessPath) => {
    transitions += sub.transitions;
    for (const [service, n] of Object.entries(sub.tasksByService)) tasksByService[service] = (tasksByService[service] ?? 0) + n;
  };
  for (const name of states) {
    const state = asl.States[name];
    transitions += 1;
    if (state.Type === 'Task') tasksByService[serviceOf(state.Resource)] = (tasksByService[serviceOf(state.Resource)] ?? 0) + 1;
    if (state.Type === 'Parallel') for (const branch of state.Branches ?? []) add(successPath(branch));
    const processor = state.ItemProcessor ?? state.Iterator;
    if (state.Type === 'Map' && processor !== undefined) add(successPath(processor));
  }
  return { states, transitions, tasksByService };
}

/** The success path of the conversion state machine, read from its ASL file now. */
export function readSuccessPath(file = ASL_PATH): SuccessPath {
  return successPath(JSON.parse(fs.readFileSync(file, 'utf8')) as AslMachine);
}

// ---------------------------------------------------------------------------------------------------------------
// The stack's inventory

/** What the deployed stack is made of, as far as the bill is concerned. */
export interface StackInventory {
  /** Where the figures come from: the synthesized template, or the fallback written here. */
  readonly source: string;
  readonly builder: {
    readonly memoryMb: number;
    readonly arch: 'arm64' | 'x86_64';
    readonly tracing: boolean;
    readonly batchSize: number;
    readonly batchingWindowSeconds: number;
    readonly maxConcurrency: number;
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
}

/** DPUs and vCPUs of one worker of each Glue worker type. */
export const GLUE_WORKERS: Readonly<Record<string, { dpu: number; vcpu: number }>> = {
  'G.1X': { dpu: 1, vcpu: 4 },
  'G.2X': { dpu: 2, vcpu: 8 },
  'G.4X': { dpu: 4, vcpu: 16 },
  'G.8X': { dpu: 8, vcpu: 32 },
};

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access,
   @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return --
   the inventory walks a synthesized CloudFormation template, untyped JSON whose every property is optional */
type Resources = Record<string, { Type: string; Properties?: any }>;

function refId(value: any): string | undefined {
  if (typeof value?.Ref === 'string') return value.Ref;
  if (Array.isArray(value?.['Fn::GetAtt'])) return value['Fn::GetAtt'][0];
  return undefined;
}

/** Minutes of an EventBridge `rate(...)` expression. */
export function rateMinutes(expression: string): number {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (m === null) throw new Error(`unsupported schedule "${expression}"`);
  const n = Number(m[1]);
  return m[2].startsWith('minute') ? n : m[2].startsWith('hour') ? n * 60 : n * 1440;
}

/** The inventory of a synthesized CloudFormation template. */
export function inventoryFromTemplate(template: { Resources: Resources }, source: string): StackInventory {
  const entries = Object.entries(template.Resources);
  const ofType = (type: string) => entries.filter(([, r]) => r.Type === type);
  const fn = (id: string | undefined): Pick<StackInventory['builder'], 'memoryMb' | 'arch' | 'tracing'> => {
    const p = entries.find(([k, r]) => k === id && r.Type === 'AWS::Lambda::Function')?.[1].Properties;
    if (p === undefined) throw new Error(`no Lambda function ${id} in the template`);
    return {
      memoryMb: Number(p.MemorySize ?? 128),
      arch: p.Architectures?.[0] === 'arm64' ? 'arm64' : 'x86_64',
      tracing: p.TracingConfig?.Mode === 'Active',
    };
  };
  const [esm] = ofType('AWS::Lambda::EventSourceMapping').map(([, r]) => r.Properties);
  if (esm === undefined) throw new Error('no event source mapping (the builder) in the template');
  const schedule = ofType('AWS::Events::Rule')
    .map(([, r]) => r.Properties)
    .find((p) => typeof p?.ScheduleExpression === 'string');
  if (schedule === undefined) throw new Error('no scheduled rule (the sweeper) in the template');
  const [job] = ofType('AWS::Glue::Job').map(([, r]) => r.Properties);
  if (job === undefined) throw new Error('no Glue job in the template');
  const [machine] = ofType('AWS::StepFunctions::StateMachine').map(([, r]) => r.Properties);
  const alarms = ofType('AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
  const tables = ofType('AWS::DynamoDB::Table').map(([, r]) => r.Properties);
  const buckets = ofType('AWS::S3::Bucket').map(([, r]) => r.Properties);
  const ingest = buckets.find((b) => b?.VersioningConfiguration?.Status === 'Enabled');
  const transitions = (ingest?.LifecycleConfiguration?.Rules ?? []).flatMap((r: any) => r.Transitions ?? []);
  const ia = transitions.find((t: any) => t.StorageClass === 'STANDARD_IA');
  const expirations = buckets
    .flatMap((b) => (b?.LifecycleConfiguration?.Rules ?? []).map((r: any) => r.ExpirationInDays))
    .filter((d: unknown) => typeof d === 'number');
  const retention = ofType('AWS::Logs::LogGroup').map(([, r]) => Number(r.Properties?.RetentionInDays ?? 3653));
  return {
    source,
    builder: {
      ...fn(refId(esm.FunctionName) ?? esm.FunctionName),
      batchSize: Number(esm.BatchSize ?? 10),
      batchingWindowSeconds: Number(esm.MaximumBatchingWindowInSeconds ?? 0),
      maxConcurrency: Number(esm.ScalingConfig?.MaximumConcurrency ?? 1000),
    },
    sweeper: { ...fn(refId(schedule.Targets?.[0]?.Arn)), everyMinutes: rateMinutes(schedule.ScheduleExpression) },
    glue: {
      workerType: String(job.WorkerType),
      maxWorkers: Number(job.NumberOfWorkers),
      executionClass: job.ExecutionClass === 'FLEX' ? 'FLEX' : 'STANDARD',
      maxConcurrentRuns: Number(job.ExecutionProperty?.MaxConcurrentRuns ?? 1),
      continuousLogging: job.DefaultArguments?.['--enable-continuous-cloudwatch-log'] === 'true',
    },
    stateMachine: {
      logLevel: String(machine?.LoggingConfiguration?.Level ?? 'OFF'),
      tracing: machine?.TracingConfiguration?.Enabled === true,
    },
    alarms: alarms.length,
    alarmMetrics: alarms.reduce(
      (sum, a) => sum + (Array.isArray(a?.Metrics) ? a.Metrics.filter((m: any) => m.MetricStat !== undefined).length : 1),
      0,
    ),
    dashboards: ofType('AWS::CloudWatch::Dashboard').length,
    kmsKeys: ofType('AWS::KMS::Key').length,
    tables: tables.length,
    pitrTables: tables.filter((t) => t?.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled === true).length,
    stateTableGsis: Math.max(0, ...tables.map((t) => (t?.GlobalSecondaryIndexes ?? []).length)),
    logRetentionDays: Math.max(1, ...retention),
    ingestTransitionDays: Number(ia?.TransitionInDays ?? Infinity),
    accessLogRetentionDays: Math.max(0, ...expirations),
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access,
   @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return */

/**
 * The inventory of the stack for these settings: the stack is synthesized (without bundling, as the infra tests do)
 * and its template read. Loaded lazily: the CDK is only needed here.
 */
export function synthesizeInventory(config: PipelineConfig): StackInventory {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { App } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  const { PipelineStack } = require('../../pipeline/pipeline-stack') as typeof import('../../pipeline/pipeline-stack');
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const app = new App({ context: { ...(cdkJson.context ?? {}), 'aws:cdk:bundling-stacks': [] } });
  const stack = new PipelineStack(app, 'CostModel', { config });
  const template = app.synth().getStackByName(stack.stackName).template as { Resources: Resources };
  return inventoryFromTemplate(template, 'the synthesized stack (pipeline/pipeline-stack.ts)');
}

/**
 * The inventory as written here when the stack cannot be synthesized (a checkout in the middle of a change): the
 * constructs' values at the time of writing, with the config's.
 */
export function fallbackInventory(config: PipelineConfig): StackInventory {
  return {
    source: 'the fallback inventory of cli/ops/cost.ts (the stack did not synthesize)',
    builder: { memoryMb: 512, arch: 'arm64', tracing: true, batchSize: 50, batchingWindowSeconds: 5, maxConcurrency: 10 },
    sweeper: { memoryMb: 512, arch: 'arm64', tracing: true, everyMinutes: 1 },
    glue: {
      workerType: config.glue.workerType,
      maxWorkers: config.glue.maxWorkers,
      executionClass: config.glue.executionClass,
      maxConcurrentRuns: config.glue.maxConcurrentRuns,
      continuousLogging: true,
    },
    stateMachine: { logLevel: 'ALL', tracing: true },
    alarms: 8,
    alarmMetrics: 10,
    dashboards: 1,
    kmsKeys: 2,
    tables: 2,
    pitrTables: 2,
    stateTableGsis: 3,
    logRetentionDays: config.logRetentionDays,
    ingestTransitionDays: config.ingestTransitionDays,
    accessLogRetentionDays: 365,
  };
}

/**
 * The custom metrics the Lambdas emit (name and `service` dimension: one billed metric each), per
 * docs/architecture.md "Metrics"; a unit test holds every name of METRIC to appear here.
 */
export const EMITTED_METRICS: readonly { readonly name: string; readonly services: readonly string[] }[] = [
  { name: METRIC.filesAccepted, services: ['manifest-builder'] },
  { name: METRIC.duplicatesSkipped, services: ['manifest-builder'] },
  { name: METRIC.filesRejected, services: ['manifest-builder'] },
  { name: METRIC.filesSkipped, services: ['manifest-builder'] },
  { name: METRIC.manifestsSealedFull, services: ['manifest-builder', 'sweeper'] },
  { name: METRIC.manifestsSealedTimeout, services: ['sweeper'] },
  { name: METRIC.sealToStartMs, services: ['manifest-builder', 'sweeper'] },
  { name: METRIC.oldestOpenManifestAgeSeconds, services: ['sweeper'] },
  { name: METRIC.executionNameConflicts, services: ['manifest-builder', 'sweeper'] },
  { name: METRIC.endedExecutionsRecorded, services: ['sweeper'] },
  { name: METRIC.manifestsQueued, services: ['sweeper'] },
];

// ---------------------------------------------------------------------------------------------------------------
// The model

/** How the files of a day group into manifests. */
export interface Batching {
  /** Files a second per dataset. */
  readonly filesPerSecondPerDataset: number;
  readonly filesPerManifest: number;
  readonly manifestsPerDay: number;
  /** Why manifests are sealed at this load. */
  readonly sealedBy: 'full' | 'timeout';
}

/**
 * Manifests from the arrival rate and the wait: with even arrival, a dataset's manifest holds the files that arrive
 * while its oldest file waits `maxWaitMinutes`, or `batchSize` files if they come sooner (the sweep's lag of up to a
 * minute is left out: it makes manifests slightly larger and fewer).
 */
export function batching(load: Load): Batching {
  const perDataset = load.filesPerDay / SECONDS_PER_DAY / load.datasets;
  const waited = perDataset * load.maxWaitMinutes * 60;
  const filesPerManifest = Math.max(1, Math.min(load.batchSize, waited));
  return {
    filesPerSecondPerDataset: perDataset,
    filesPerManifest,
    manifestsPerDay: load.filesPerDay / filesPerManifest,
    sealedBy: waited >= load.batchSize ? 'full' : 'timeout',
  };
}

/** One Glue run of a manifest. */
export interface GlueRun {
  readonly tasks: number;
  readonly workers: number;
  readonly dpus: number;
  readonly seconds: number;
  readonly billedSeconds: number;
  readonly dpuHours: number;
  readonly usd: { readonly FLEX: number; readonly STANDARD: number };
}

/** Spark core-seconds per GB of the job, warm, and the cold JVM's extra seconds, from {@link GLUE_MEASURED}. */
export function glueThroughput(): { coreSecondsPerGb: number; coldJvmSeconds: number } {
  const g = GLUE_MEASURED;
  return { coreSecondsPerGb: (g.warmSeconds * g.localCores) / (g.batchMb / 1000), coldJvmSeconds: g.coldSeconds - g.warmSeconds };
}

/**
 * A Glue run of a manifest of `manifestMb` in `files` files: Spark packs the files into tasks of 128 MB (each file
 * counted with 4 MB of open cost); auto scaling gives one driver and as many executors as the tasks fill (at least
 * 2 workers, at most `maxWorkers`); the run lasts the worker start, the cold JVM and the measured core-seconds
 * spread over the cores the tasks use; every worker is billed for the run, with Glue's 1-minute minimum.
 */
export function glueRun(files: number, manifestMb: number, glue: StackInventory['glue']): GlueRun {
  const worker = GLUE_WORKERS[glue.workerType];
  if (worker === undefined) throw new Error(`unknown Glue worker type ${glue.workerType}`);
  const { coreSecondsPerGb, coldJvmSeconds } = glueThroughput();
  const tasks = Math.max(1, Math.ceil((manifestMb + files * ASSUMPTIONS.sparkFileOpenCostMb) / ASSUMPTIONS.sparkPartitionMb));
  const executors = Math.ceil(tasks / worker.vcpu);
  const workers = Math.min(glue.maxWorkers, Math.max(2, 1 + executors));
  const cores = Math.min(tasks, Math.max(1, workers - 1) * worker.vcpu);
  const seconds = ASSUMPTIONS.glueStartSeconds + coldJvmSeconds + (coreSecondsPerGb * manifestMb) / 1000 / cores;
  const billedSeconds = Math.max(PRICES.glueMinimumBilledSeconds, Math.ceil(seconds));
  const dpus = workers * worker.dpu;
  const dpuHours = (dpus * billedSeconds) / 3600;
  return {
    tasks,
    workers,
    dpus,
    seconds,
    billedSeconds,
    dpuHours,
    usd: { FLEX: dpuHours * PRICES.glueDpuHour.FLEX, STANDARD: dpuHours * PRICES.glueDpuHour.STANDARD },
  };
}

/** The measured figures the model uses, named in its output. */
export interface Measured {
  readonly builder: BuilderBenchmark;
  readonly builderSource: string;
  readonly successPath: SuccessPath;
}

/** One line of the bill: its monthly USD and how it follows. */
export interface BillLine {
  readonly service: string;
  readonly usd: number;
  readonly detail: string;
}

/** One part of the pipeline with a limit. */
export interface CapacityPart {
  readonly part: string;
  /** The limit, in the part's own unit. */
  readonly limit: string;
  /** Use of the limit at the given load, 0..1 and beyond. */
  readonly utilization: number;
  /** The load factor at which it reaches its limit. */
  readonly factor: number;
  readonly filesPerDayAtLimit: number;
  /** What would raise it, when it does not hold the target factor. */
  readonly remedy: string;
}

/** The whole model for one load. */
export interface CostReport {
  readonly load: Load;
  readonly month: number;
  readonly batching: Batching;
  readonly glueRun: GlueRun;
  readonly glueExecutionClass: 'FLEX' | 'STANDARD';
  readonly lines: readonly BillLine[];
  readonly monthlyUsd: number;
  /** What storage adds each further month once the lifecycle is in steady state. */
  readonly storageGrowthUsdPerMonth: number;
  readonly capacity: readonly CapacityPart[];
  readonly headroom: { readonly factor: number; readonly part: string };
}

export interface ModelInput {
  readonly load: Load;
  readonly inventory: StackInventory;
  readonly measured: Measured;
  /** Month of operation whose bill is computed (storage accumulates). @default 1 */
  readonly month?: number;
  /** Glue execution class priced; @default the stack's. */
  readonly executionClass?: 'FLEX' | 'STANDARD';
  /** The headroom the capacity section checks each part against. @default 600 */
  readonly targetFactor?: number;
}

const perMonth = (perDay: number) => perDay * DAYS_PER_MONTH;

/** Average of f(day) over the days of month `month` (day 1 = the first day of operation), f at each day's end. */
function averageOverMonth(month: number, f: (day: number) => number): number {
  let sum = 0;
  for (let d = (month - 1) * DAYS_PER_MONTH + 1; d <= month * DAYS_PER_MONTH; d++) sum += f(d - 0.5);
  return sum / DAYS_PER_MONTH;
}

/** X-Ray traces a day for invocations at `perSecond`: the reservoir, then the sampling rate. */
function tracesPerDay(perSecond: number): number {
  const sampled =
    Math.min(perSecond, ASSUMPTIONS.xrayReservoirPerSecond) +
    ASSUMPTIONS.xrayRate * Math.max(0, perSecond - ASSUMPTIONS.xrayReservoirPerSecond);
  return sampled * SECONDS_PER_DAY;
}

/** Files an invocation of the builder gets: the first notification opens the batching window, the window fills it. */
export function filesPerBuilderInvocation(filesPerSecond: number, inventory: StackInventory): number {
  return Math.min(inventory.builder.batchSize, 1 + filesPerSecond * inventory.builder.batchingWindowSeconds);
}

/** The bill of one month at this load. */
export function monthlyBill(input: ModelInput): Omit<CostReport, 'capacity' | 'headroom'> {
  const { load, inventory, measured } = input;
  const month = input.month ?? 1;
  const cls = input.executionClass ?? inventory.glue.executionClass;
  const b = batching(load);
  const run = glueRun(b.filesPerManifest, b.filesPerManifest * load.mbPerFile, inventory.glue);
  const runsPerMonth = perMonth(b.manifestsPerDay);
  const filesPerMonth = perMonth(load.filesPerDay);
  const filesPerSecond = load.filesPerDay / SECONDS_PER_DAY;
  const path = measured.successPath;
  const bench = measured.builder;
  const lines: BillLine[] = [];
  const line = (service: string, usd: number, detail: string) => lines.push({ service, usd, detail });
  const n = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

  // Glue: one run per manifest.
  line(
    'Glue',
    runsPerMonth * run.usd[cls],
    `${n(runsPerMonth)} runs x ${run.workers} ${inventory.glue.workerType} (${run.dpus} DPU) x ${run.billedSeconds} s billed ` +
      `(${n(run.seconds, 1)} s, 1-min minimum) at $${PRICES.glueDpuHour[cls]}/DPU-h ${cls}; ` +
      `${cls === 'FLEX' ? 'STANDARD' : 'FLEX'} would be $${n(runsPerMonth * run.usd[cls === 'FLEX' ? 'STANDARD' : 'FLEX'], 2)}`,
  );
  const catalogObjects = load.datasets + b.manifestsPerDay * DAYS_PER_MONTH * (month - 0.5);
  const catalogRequests = runsPerMonth * ASSUMPTIONS.glueCatalogRequestsPerRun;
  line(
    'Glue Data Catalog',
    (catalogRequests / 1e6) * PRICES.glueCatalogPerMillionRequests + (catalogObjects / 1e5) * PRICES.glueCatalogPer100kObjectMonth,
    `${n(catalogRequests)} requests; ${n(catalogObjects)} objects on average (a table per dataset, a partition per manifest)`,
  );

  // Step Functions: the success path's transitions per execution.
  const transitions = runsPerMonth * path.transitions;
  line(
    'Step Functions',
    (transitions / 1000) * PRICES.stepFunctionsPerThousandTransitions,
    `${n(runsPerMonth)} executions x ${path.transitions} transitions (success path of the ASL)`,
  );

  // Lambda: the builder per batch of notifications, the sweeper on its schedule.
  const perInvocation = filesPerBuilderInvocation(filesPerSecond, inventory);
  const builderInvocations = filesPerMonth / perInvocation;
  const builderSeconds = ASSUMPTIONS.builderInvocationOverheadMs / 1000 + perInvocation * bench.handlerSecondsPerFile;
  const sweeperInvocations = (DAYS_PER_MONTH * 1440) / inventory.sweeper.everyMinutes;
  // Every sweep queries; the ones that seal a manifest (by timeout) also seal, write and start it.
  const sealSeconds = Math.max(0, bench.sweepSeconds - bench.idleSweepSeconds) / Math.max(1, bench.sweepSealedManifests);
  const sweeperSeconds = sweeperInvocations * bench.idleSweepSeconds + (b.sealedBy === 'timeout' ? runsPerMonth : 0) * sealSeconds;
  const gbSeconds = {
    builder: builderInvocations * builderSeconds * (inventory.builder.memoryMb / 1024),
    sweeper: sweeperSeconds * (inventory.sweeper.memoryMb / 1024),
  };
  const lambdaUsd =
    ((builderInvocations + sweeperInvocations) / 1e6) * PRICES.lambdaPerMillionRequests +
    gbSeconds.builder * PRICES.lambdaGbSecond[inventory.builder.arch] +
    gbSeconds.sweeper * PRICES.lambdaGbSecond[inventory.sweeper.arch];
  line(
    'Lambda',
    lambdaUsd,
    `builder ${n(builderInvocations)} invocations (${n(perInvocation, 2)} files each) x ${n(builderSeconds * 1000)} ms x ${inventory.builder.memoryMb} MB; ` +
      `sweeper ${n(sweeperInvocations)} (every ${inventory.sweeper.everyMinutes} min) x ${n(bench.idleSweepSeconds * 1000)} ms` +
      `${b.sealedBy === 'timeout' ? ` + ${n(sealSeconds * 1000)} ms a manifest sealed` : ''} x ${inventory.sweeper.memoryMb} MB; ${n(gbSeconds.builder + gbSeconds.sweeper)} GB-s`,
  );

  // DynamoDB: measured units per file, plus the MANIFEST META writes the benchmark does not see.
  const metaWrites = ASSUMPTIONS.metaWritesByHandlers + (path.tasksByService.dynamodb ?? 0);
  const metaUnitsPerManifest =
    metaWrites * ASSUMPTIONS.metaItemWriteUnits * (1 + ASSUMPTIONS.gsisPerMetaWrite) -
    ASSUMPTIONS.metaWritesByHandlers * ASSUMPTIONS.metaItemWriteUnits;
  const writeUnits = filesPerMonth * bench.writeUnitsPerFile.withSweep + runsPerMonth * metaUnitsPerManifest;
  const readUnits = filesPerMonth * bench.readUnitsPerFile + sweeperInvocations * ASSUMPTIONS.sweepReadUnits;
  const stored = bench.storedBytesPerFile;
  const overhead = ASSUMPTIONS.dynamoItemOverheadBytes;
  const kept = (kind: string) => (stored[kind] ?? 0) + (stored[kind] !== undefined ? overhead : 0);
  const bytesAtDay = (day: number) =>
    load.filesPerDay *
    (day * (kept('MANIFEST# F#') + kept('MANIFEST# META') * (1 + inventory.stateTableGsis)) +
      Math.min(day, 90) * kept('FILE#') +
      Math.min(day, 7) * kept('idempotency'));
  const tableGb = averageOverMonth(month, bytesAtDay) / GB;
  const dynamoUsd =
    (writeUnits / 1e6) * PRICES.dynamoPerMillionWrites +
    (readUnits / 1e6) * PRICES.dynamoPerMillionReads +
    tableGb * (PRICES.dynamoGbMonth + (inventory.pitrTables > 0 ? PRICES.dynamoPitrGbMonth : 0));
  line(
    'DynamoDB',
    dynamoUsd,
    `${n(bench.writeUnitsPerFile.withSweep, 2)} write units/file (measured) + ${n(metaUnitsPerManifest)}/manifest (META and its GSIs) = ${n(writeUnits / 1e6, 2)} M; ` +
      `${n(readUnits / 1e6, 2)} M read units; ${n(tableGb, 2)} GB stored with PITR`,
  );

  // SQS: S3's sends, the pollers' receives (empty ones included), the deletes.
  const pollsPerMonth = ASSUMPTIONS.sqsPollers * ((DAYS_PER_MONTH * SECONDS_PER_DAY) / ASSUMPTIONS.sqsLongPollSeconds);
  const sqsRequests = filesPerMonth + pollsPerMonth + 2 * builderInvocations;
  line(
    'SQS',
    (sqsRequests / 1e6) * PRICES.sqsPerMillionRequests,
    `${n(filesPerMonth)} sends + ${n(pollsPerMonth)} long polls + ${n(2 * builderInvocations)} receives and deletes`,
  );

  // S3 requests.
  const parquetFilesPerRun = Math.max(
    1,
    Math.ceil((b.filesPerManifest * load.mbPerFile * (GLUE_MEASURED.parquetMb / GLUE_MEASURED.batchMb)) / 32),
  );
  const puts = filesPerMonth + runsPerMonth * (1 + ASSUMPTIONS.glueS3PutsPerRun + parquetFilesPerRun);
  const gets =
    filesPerMonth * ASSUMPTIONS.glueS3GetsPerFile + runsPerMonth * (ASSUMPTIONS.glueS3GetsPerRun + (path.tasksByService.s3 ?? 0));
  const transitionsToIa = month * DAYS_PER_MONTH > inventory.ingestTransitionDays ? filesPerMonth : 0;
  line(
    'S3 requests',
    (puts / 1000) * PRICES.s3PutPerThousand +
      (gets / 1000) * PRICES.s3GetPerThousand +
      (transitionsToIa / 1000) * PRICES.s3TransitionPerThousand,
    `${n(puts)} PUT/LIST (uploads, manifests, Parquet, committer), ${n(gets)} GET, ${n(transitionsToIa)} lifecycle transitions to IA`,
  );

  // S3 storage: raw kept (Standard, then IA), Parquet, quarantine, manifests, access logs.
  const rawGbPerDay = (load.filesPerDay * load.mbPerFile * MB) / GB;
  const parquetGbPerDay = rawGbPerDay * (GLUE_MEASURED.parquetMb / GLUE_MEASURED.batchMb);
  const quarantineGbPerDay = rawGbPerDay * GLUE_MEASURED.quarantinedLineShare * 1.5;
  const manifestGbPerDay = (load.filesPerDay * ASSUMPTIONS.manifestBytesPerFile + b.manifestsPerDay * ASSUMPTIONS.resultFileBytes) / GB;
  const accessLogGbPerDay = (((puts + gets) / DAYS_PER_MONTH) * ASSUMPTIONS.accessLogBytesPerRequest) / GB;
  const t = inventory.ingestTransitionDays;
  const storageAt = (m: number) =>
    averageOverMonth(
      m,
      (day) =>
        rawGbPerDay * Math.min(day, t) * PRICES.s3StandardGbMonth +
        rawGbPerDay * Math.max(0, day - t) * PRICES.s3InfrequentGbMonth +
        (parquetGbPerDay + quarantineGbPerDay + manifestGbPerDay) * day * PRICES.s3StandardGbMonth +
        accessLogGbPerDay * Math.min(day, inventory.accessLogRetentionDays || day) * PRICES.s3StandardGbMonth,
    );
  const storageUsd = storageAt(month);
  line(
    'S3 storage',
    storageUsd,
    `raw ${n(rawGbPerDay * DAYS_PER_MONTH)} GB a month kept (Standard ${Number.isFinite(t) ? `${t} days, then IA` : 'always'}), ` +
      `Parquet ${n(parquetGbPerDay * DAYS_PER_MONTH, 1)} GB, quarantine ${n(quarantineGbPerDay * DAYS_PER_MONTH, 2)} GB, manifests and access logs ${n((manifestGbPerDay + accessLogGbPerDay) * DAYS_PER_MONTH, 2)} GB; average held in month ${month}`,
  );

  // CloudWatch Logs: the Lambdas, the state machine, Glue's continuous logging.
  const lambdaLogGb = ((builderInvocations + sweeperInvocations) * ASSUMPTIONS.lambdaLogBytesPerInvocation) / GB;
  const sfnLogGb =
    inventory.stateMachine.logLevel === 'ALL' ? (runsPerMonth * (2 * path.transitions + 2) * ASSUMPTIONS.sfnLogBytesPerEvent) / GB : 0;
  const glueLogGb = inventory.glue.continuousLogging ? (runsPerMonth * ASSUMPTIONS.glueLogBytesPerRun) / GB : 0;
  const logGb = lambdaLogGb + sfnLogGb + glueLogGb;
  const logStoredGb = logGb * Math.min(month, inventory.logRetentionDays / DAYS_PER_MONTH);
  line(
    'CloudWatch Logs',
    logGb * PRICES.logsIngestGb + logStoredGb * PRICES.logsStoreGbMonth,
    `${n(logGb, 2)} GB ingested (Lambda ${n(lambdaLogGb, 2)}, state machine ${n(sfnLogGb, 2)}, Glue ${n(glueLogGb, 2)}), ${n(logStoredGb, 2)} GB held (${inventory.logRetentionDays}-day retention)`,
  );

  // CloudWatch metrics, alarms, dashboards.
  const customMetrics = EMITTED_METRICS.reduce((sum, m) => sum + m.services.length, 0);
  line(
    'CloudWatch metrics, alarms, dashboard',
    customMetrics * PRICES.metricMonth + inventory.alarmMetrics * PRICES.alarmMetricMonth + inventory.dashboards * PRICES.dashboardMonth,
    `${customMetrics} custom metrics (EMF, upper bound: each counted every hour), ${inventory.alarms} alarms reading ${inventory.alarmMetrics} metrics, ${inventory.dashboards} dashboard`,
  );

  // KMS: the customer managed keys and their requests.
  const kmsRequests =
    runsPerMonth * ASSUMPTIONS.glueKmsRequestsPerRun + inventory.tables * ASSUMPTIONS.dynamoKmsRequestsPerTableHour * 24 * DAYS_PER_MONTH;
  line(
    'KMS',
    inventory.kmsKeys * PRICES.kmsKeyMonth + (kmsRequests / 1e4) * PRICES.kmsPer10kRequests,
    `${inventory.kmsKeys} keys (Glue logs, alerts topic), ${n(kmsRequests)} requests`,
  );

  // SNS: one email per failed or partial manifest, and the alarms'.
  const messages = runsPerMonth * ASSUMPTIONS.alertShare + ASSUMPTIONS.alarmMessagesPerMonth;
  line(
    'SNS',
    (messages / 1e6) * PRICES.snsPerMillionPublishes + (messages / 1e5) * PRICES.snsPer100kEmails,
    `${n(messages)} alert emails (${ASSUMPTIONS.alertShare * 100}% of manifests fail or end partial, ${ASSUMPTIONS.alarmMessagesPerMonth} alarm changes)`,
  );

  // X-Ray: active tracing of both Lambdas and the state machine.
  const traces =
    DAYS_PER_MONTH *
    ((inventory.builder.tracing ? tracesPerDay(builderInvocations / (DAYS_PER_MONTH * SECONDS_PER_DAY)) : 0) +
      (inventory.sweeper.tracing ? tracesPerDay(sweeperInvocations / (DAYS_PER_MONTH * SECONDS_PER_DAY)) : 0) +
      (inventory.stateMachine.tracing ? tracesPerDay(runsPerMonth / (DAYS_PER_MONTH * SECONDS_PER_DAY)) : 0));
  line('X-Ray', (traces / 1e6) * PRICES.xrayPerMillionTraces, `${n(traces)} traces (default sampling: 1 a second, then 5%)`);
  line('EventBridge', 0, `the sweeper's schedule: scheduled rules are free`);

  const monthlyUsd = lines.reduce((sum, l) => sum + l.usd, 0);
  return {
    load,
    month,
    batching: b,
    glueRun: run,
    glueExecutionClass: cls,
    lines,
    monthlyUsd,
    storageGrowthUsdPerMonth: storageAt(month + 1) - storageUsd,
  };
}

/** The load scaled by `factor` (files a day only: the same datasets, file size and settings). */
function scaled(load: Load, factor: number): Load {
  return { ...load, filesPerDay: load.filesPerDay * factor };
}

/** The factor at which `utilization(factor)` (increasing) reaches 1, by bisection on a log scale. */
export function factorAtLimit(utilization: (factor: number) => number): number {
  let lo = 1e-6;
  let hi = 1e9;
  if (utilization(hi) < 1) return Infinity;
  if (utilization(lo) >= 1) return lo;
  for (let i = 0; i < 200; i++) {
    const mid = Math.sqrt(lo * hi);
    if (utilization(mid) >= 1) hi = mid;
    else lo = mid;
  }
  return Math.sqrt(lo * hi);
}

/**
 * The load at which each part reaches a limit, and the first one. Each part is a utilization of the scaled load
 * (1 = at its limit); the OPEN# pointer's limit comes from the benchmark's latencies and conflict rate.
 */
export function capacity(input: ModelInput): { parts: CapacityPart[]; headroom: { factor: number; part: string } } {
  const { load, inventory, measured } = input;
  const target = input.targetFactor ?? 600;
  const bench = measured.builder;
  const n = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const parts: CapacityPart[] = [];
  const add = (part: string, limit: string, utilization: (f: number) => number, remedy: (factor: number) => string) => {
    const factor = factorAtLimit(utilization);
    parts.push({
      part,
      limit,
      utilization: utilization(1),
      factor,
      filesPerDayAtLimit: load.filesPerDay * factor,
      remedy: factor >= target ? '' : remedy(factor),
    });
  };

  // One dataset's OPEN# pointer: every file is a read of the pointer and a compare-and-set commit on it, one after
  // the other; a share of commits (the conflict rate) lose to a concurrent writer and place nothing.
  const cycleSeconds = (bench.pointerRead.meanMs + bench.commitTransaction.meanMs) / 1000;
  const byLatency = (1 - bench.conflictRate) / cycleSeconds;
  const byItemWrites = (LIMITS.dynamoItemWritesPerSecond * (1 - bench.conflictRate)) / 2;
  const pointerRate = Math.min(byLatency, byItemWrites);
  add(
    `OPEN# pointer of a dataset (files/s per dataset)`,
    `${n(pointerRate, 1)} files/s: (1 - ${n(bench.conflictRate * 100, 1)}% conflicts) / (${n(bench.pointerRead.meanMs, 1)} ms read + ${n(bench.commitTransaction.meanMs, 1)} ms commit)`,
    (f) => batching(scaled(load, f)).filesPerSecondPerDataset / pointerRate,
    (factor) =>
      `shard the pointer: ${Math.ceil(target / factor)} OPEN#<dataset>#<shard> pointers per dataset, each with its own manifests (or more datasets)`,
  );

  // The builder Lambda: the event source's maximum concurrency, each invocation placing its files one by one.
  const builderRate = inventory.builder.maxConcurrency / bench.handlerSecondsPerFile;
  add(
    `builder Lambda concurrency (${inventory.builder.maxConcurrency} at once)`,
    `${n(builderRate, 1)} files/s: ${inventory.builder.maxConcurrency} invocations / ${n(bench.handlerSecondsPerFile * 1000)} ms a file`,
    (f) => (load.filesPerDay * f) / SECONDS_PER_DAY / builderRate,
    (factor) =>
      `raise BUILDER_MAX_CONCURRENCY to ${Math.ceil((inventory.builder.maxConcurrency * target) / factor)} (account concurrency allowing), with pointers that take it`,
  );

  // Glue: concurrent runs of the job, each holding its slot for the run.
  const runsAtOnce = (f: number) => {
    const l = scaled(load, f);
    const bt = batching(l);
    const run = glueRun(bt.filesPerManifest, bt.filesPerManifest * l.mbPerFile, inventory.glue);
    return { runs: (bt.manifestsPerDay / SECONDS_PER_DAY) * run.seconds, run };
  };
  add(
    `Glue concurrent runs (glue.maxConcurrentRuns = ${inventory.glue.maxConcurrentRuns})`,
    `${inventory.glue.maxConcurrentRuns} runs of ${n(runsAtOnce(1).run.seconds, 0)} s each (full manifests: ${n(glueRun(load.batchSize, load.batchSize * load.mbPerFile, inventory.glue).seconds)} s, ${glueRun(load.batchSize, load.batchSize * load.mbPerFile, inventory.glue).dpus} DPU)`,
    (f) => runsAtOnce(f).runs / inventory.glue.maxConcurrentRuns,
    (factor) => {
      const needed = Math.ceil(runsAtOnce(target).runs);
      return `raise glue.maxConcurrentRuns to ${needed} (${needed * runsAtOnce(target).run.dpus} DPUs at once at ${target}x; the account's Glue quotas must allow it); factor now ${n(factor, 0)}x`;
    },
  );

  // Step Functions: StartExecution, the backlog check's ListExecutions, state transitions.
  const startsPerSecond = (f: number) => batching(scaled(load, f)).manifestsPerDay / SECONDS_PER_DAY;
  add(
    `Step Functions StartExecution (${LIMITS.sfnStartExecutionPerSecond}/s)`,
    `${LIMITS.sfnStartExecutionPerSecond} starts/s`,
    (f) => startsPerSecond(f) / LIMITS.sfnStartExecutionPerSecond,
    () => 'ask for a higher StartExecution quota',
  );
  add(
    `Step Functions ListExecutions before each start (${LIMITS.sfnListExecutionsPerSecond}/s)`,
    `${LIMITS.sfnListExecutionsPerSecond} calls/s`,
    (f) => (startsPerSecond(f) + 1 / (60 * inventory.sweeper.everyMinutes)) / LIMITS.sfnListExecutionsPerSecond,
    () => 'count running executions in the state table instead of listing them',
  );
  add(
    `Step Functions state transitions (${LIMITS.sfnTransitionsPerSecond}/s)`,
    `${LIMITS.sfnTransitionsPerSecond} transitions/s`,
    (f) => (startsPerSecond(f) * measured.successPath.transitions) / LIMITS.sfnTransitionsPerSecond,
    () => 'ask for a higher state transition quota',
  );

  // DynamoDB table and S3 prefixes.
  add(
    `DynamoDB table writes (${n(LIMITS.dynamoTableWritesPerSecond)} units/s)`,
    `${n(LIMITS.dynamoTableWritesPerSecond)} write units/s`,
    (f) => (((load.filesPerDay * f) / SECONDS_PER_DAY) * bench.writeUnitsPerFile.withSweep) / LIMITS.dynamoTableWritesPerSecond,
    () => 'ask for a higher table throughput quota',
  );
  add(
    `S3 PUTs per dataset prefix (${n(LIMITS.s3PutsPerPrefixPerSecond)}/s)`,
    `${n(LIMITS.s3PutsPerPrefixPerSecond)} PUTs/s`,
    (f) => batching(scaled(load, f)).filesPerSecondPerDataset / LIMITS.s3PutsPerPrefixPerSecond,
    () => 'spread uploads over more prefixes (a date or hash segment under the dataset)',
  );

  const first = parts.reduce((a, p) => (p.factor < a.factor ? p : a));
  return { parts, headroom: { factor: first.factor, part: first.part } };
}

/** The bill and the capacity of one load. */
export function costReport(input: ModelInput): CostReport {
  const bill = monthlyBill(input);
  const { parts, headroom } = capacity(input);
  return { ...bill, capacity: parts, headroom };
}

/** `--json`: the load, the batching, each service's monthly USD (summing to the total), the headroom and the inputs. */
export function costJson(report: CostReport, inventory: StackInventory, measured: Measured): Record<string, unknown> {
  const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
  const services: Record<string, number> = {};
  for (const l of report.lines) services[l.service] = l.usd;
  return {
    filesPerDay: report.load.filesPerDay,
    mbPerFile: report.load.mbPerFile,
    datasets: report.load.datasets,
    batchSize: report.load.batchSize,
    maxWaitMinutes: report.load.maxWaitMinutes,
    month: report.month,
    filesPerManifest: round(report.batching.filesPerManifest, 2),
    manifestsPerDay: round(report.batching.manifestsPerDay, 2),
    sealedBy: report.batching.sealedBy,
    glueRun: { ...report.glueRun, executionClass: report.glueExecutionClass },
    monthlyUsd: report.monthlyUsd,
    services,
    storageGrowthUsdPerMonth: report.storageGrowthUsdPerMonth,
    headroom: { factor: report.headroom.factor, part: report.headroom.part },
    capacity: report.capacity,
    referencePlan: REFERENCE_PLAN,
    measured: {
      builderBenchmark: measured.builderSource,
      date: measured.builder.date,
      machine: measured.builder.machine,
      writeUnitsPerFile: measured.builder.writeUnitsPerFile.withSweep,
      readUnitsPerFile: measured.builder.readUnitsPerFile,
      commitMs: measured.builder.commitTransaction.meanMs,
      pointerReadMs: measured.builder.pointerRead.meanMs,
      conflictRate: measured.builder.conflictRate,
      handlerSecondsPerFile: measured.builder.handlerSecondsPerFile,
      sweepSeconds: measured.builder.sweepSeconds,
      idleSweepSeconds: measured.builder.idleSweepSeconds,
      glue: { ...GLUE_MEASURED, ...glueThroughput() },
      successPath: measured.successPath,
    },
    inventory,
    prices: PRICES,
    limits: LIMITS,
    assumptions: ASSUMPTIONS,
  };
}
