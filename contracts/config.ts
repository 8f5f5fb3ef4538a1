/**
 * The pipeline's typed settings: the one module read by the CDK stack, the handlers, the local mode and the CLI.
 * Part of the contracts layer: no CDK, no AWS SDK.
 *
 * Every setting has a default. In the cloud, each can be overridden with CDK context
 * (`npx cdk deploy -c alertEmail=ops@example.com -c batchSize=100`); the local mode passes overrides
 * directly to {@link resolveConfig}.
 */

/** Glue worker types that suit a Spark ETL job of this size. */
export type GlueWorkerType = 'G.1X' | 'G.2X' | 'G.4X' | 'G.8X';

/** FLEX runs on spare capacity (cheaper, may start later); STANDARD starts at once. */
export type GlueExecutionClass = 'FLEX' | 'STANDARD';

/**
 * Where the functions and the Glue job run: `public` (Lambda's and Glue's own networks, reaching AWS's public
 * endpoints over TLS) or `private` (subnets of a VPC with no route to the internet, reaching AWS only through VPC
 * endpoints). docs/security.md, "Private network".
 */
export type NetworkMode = 'public' | 'private';

/** Lambda and Powertools log levels. */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Settings of the Glue conversion job. */
export interface GlueSettings {
  /** Glue version; 5.1 is Spark 3.5.6, Python 3.11, Java 17. @default '5.1' */
  readonly version: string;
  /** Worker type. @default 'G.1X' */
  readonly workerType: GlueWorkerType;
  /** Upper bound of workers; Glue auto scaling uses fewer when the manifest is small. @default 10 */
  readonly maxWorkers: number;
  /** Execution class. @default 'FLEX' */
  readonly executionClass: GlueExecutionClass;
  /** Job run timeout in minutes. @default 60 */
  readonly timeoutMinutes: number;
  /**
   * Runs of the job allowed at once: the pipeline's capacity slots (a sealed manifest waits in the start queue while all
   * are held). 10 holds 600 times the reference load (docs/cost.md, `pipeline cost`); runs at once cost nothing more
   * (Glue bills each run's DPU-seconds), but the account's Glue quotas must allow them. @default 10
   */
  readonly maxConcurrentRuns: number;
  /** Target size of each Parquet output file, in MB. @default 128 */
  readonly targetFileMb: number;
  /**
   * Most bytes one gzip file may decompress to, in MB; a file beyond it fails as a file (its reason in the result)
   * without failing the others, so one crafted archive cannot exhaust a worker. @default 2048
   */
  readonly maxDecompressedMb: number;
  /** Longest line, in KB; a longer line is quarantined as `line_too_long` instead of parsed. @default 1024 */
  readonly maxLineKb: number;
  /**
   * Most leaf fields a dataset's schema may grow to from its data; the lines whose fields would pass it are
   * quarantined as `schema_limit`, so objects with ever-new keys cannot grow the catalog table past Glue's limits.
   * @default 1000
   */
  readonly maxSchemaFields: number;
}

/**
 * The canary (docs/architecture.md, "Canary"): a scheduled function that uploads a tiny file into its own dataset
 * ({@link CANARY_DATASET}) and measures how long the pipeline takes to convert it.
 */
export interface CanarySettings {
  /**
   * Minutes between two canary files, a multiple of {@link CANARY_CHECK_MINUTES} from 5 to 1440
   * (`-c canary.everyMinutes=60`); undefined or 0: no canary. @default undefined (off)
   */
  readonly everyMinutes?: number;
}

/** The pipeline's settings. */
export interface PipelineConfig {
  /** Most files in one manifest. @default 200 */
  readonly batchSize: number;
  /** A manifest is sealed when its oldest file has waited this long. @default 15 */
  readonly maxWaitMinutes: number;
  /** Key prefix under which producers upload; the next path segment is the dataset. @default 'incoming/' */
  readonly ingestPrefix: string;
  /** Key suffixes accepted as NDJSON input. @default ['.ndjson', '.jsonl', '.json', '.ndjson.gz', '.jsonl.gz', '.json.gz'] */
  readonly acceptedSuffixes: readonly string[];
  /** Address that receives alert emails; required by `cdk deploy`, optional for synth in tests. @default undefined */
  readonly alertEmail?: string;
  /** Glue job settings. */
  readonly glue: GlueSettings;
  /** Log level of the Lambdas and the state machine's log group detail. @default 'INFO' */
  readonly logLevel: LogLevel;
  /** Retention of CloudWatch log groups, in days. @default 30 */
  readonly logRetentionDays: number;
  /** Days before raw ingest objects move to Infrequent Access. @default 30 */
  readonly ingestTransitionDays: number;
  /**
   * Execution timeout of the conversion state machine, in minutes; at least {@link convertWorstCaseMinutes} of the
   * Glue settings, so that the state machine's own retries always end before the timeout does. @default 420
   */
  readonly executionTimeoutMinutes: number;
  /**
   * Most builder invocations the ingest queue's event source runs at once (its `ScalingConfig.MaximumConcurrency`,
   * 2 to 1000 per the Lambda API reference, ScalingConfig). It bounds the write rate on one dataset's `OPEN#` item
   * and leaves the rest of the account's Lambda concurrency to the sweeper: the account needs at least this plus one
   * concurrent execution (docs/deploy.md, "Lambda concurrency"). @default 10
   */
  readonly builderMaxConcurrency: number;
  /**
   * Most open manifests one dataset's files spread over at once (its write shards, `OPEN#<dataset>#<shard>`): a
   * dataset starts on one and the builder adds one each time a file's commit loses its shard's pointer to concurrent
   * writers three times, up to this; the sweeper narrows it again when in-use shards' manifests wait `maxWaitMinutes`
   * without filling. 1 turns sharding off. docs/architecture.md, "Sharded open manifests". @default 8
   */
  readonly maxShardsPerDataset: number;
  /** SQS receives before a notification moves to the DLQ. @default 5 */
  readonly maxReceiveCount: number;
  /** Days an idempotency record is kept. @default 7 */
  readonly idempotencyTtlDays: number;
  /** Metrics namespace of the Lambdas and the dashboard. @default 'IngestPipeline', or `IngestPipeline-<stage>` with a stage */
  readonly metricsNamespace: string;
  /**
   * Name of an independent copy of the pipeline in the same account and region (`-c stage=dev`): the stack name,
   * the names of its resources, the metrics namespace, the alarm names and the alert sender carry it. Lower-case
   * letters, digits and `-`, starting with a letter, at most 20 characters. @default undefined (today's names)
   */
  readonly stage?: string;
  /** Largest object accepted, in MB; a larger one is recorded as `REJECTED#` with code `too-large`. @default 1024 */
  readonly maxObjectMb: number;
  /** Days a quarantined line file is kept before it expires. @default 90 */
  readonly quarantineExpirationDays: number;
  /** Days a replaced or deleted object of the curated bucket (a schema, a manifest, Parquet) stays recoverable. @default 30 */
  readonly curatedNoncurrentDays: number;
  /** The canary: off unless `canary.everyMinutes` is set. */
  readonly canary: CanarySettings;
  /**
   * `private` deploys the functions and the Glue job into private subnets with VPC endpoints and no route to the
   * internet: a new VPC of two Availability Zones, or the existing one named by {@link vpcId}. @default 'public'
   */
  readonly network: NetworkMode;
  /**
   * An existing VPC for `network=private` (`-c vpcId=vpc-...`), given with its subnets, their route tables and their
   * Availability Zones, so the stack synthesizes without looking the VPC up in an account. @default undefined (a new VPC)
   */
  readonly vpcId?: string;
  /** The existing VPC's private subnets the functions and the job run in (`-c privateSubnetIds=subnet-a,subnet-b`). @default undefined */
  readonly privateSubnetIds?: readonly string[];
  /** The route table of each of {@link privateSubnetIds}, in the same order: the gateway endpoints' routes go there. @default undefined */
  readonly privateRouteTableIds?: readonly string[];
  /** The Availability Zone of each of {@link privateSubnetIds}, in the same order. @default undefined */
  readonly availabilityZones?: readonly string[];
}

/** Where the prefixes of derived objects live; fixed names shared by the builder, the Glue job and the CLI. */
export const PREFIXES = {
  /** Manifest files written by the builder: `manifests/<dataset>/<manifestId>.json`. */
  manifests: 'manifests/',
  /** The Glue job's result file sits beside its manifest: `manifests/<dataset>/<manifestId>.result.json`. */
  /** Parquet output: `curated/<dataset>/ingest_date=YYYY-MM-DD/manifest_id=<id>/`. */
  curated: 'curated/',
  /** Bad lines: `quarantine/<dataset>/manifest_id=<id>/`. */
  quarantine: 'quarantine/',
  /** Optional pinned schemas of datasets, uploaded by their owners: `schemas/<dataset>.ddl` (or `.json`). */
  schemas: 'schemas/',
  /** The Glue job's copies of pinned object versions overwritten since the seal: `staging/<dataset>/<id>/`, removed after each run. */
  staging: 'staging/',
} as const;

/** The highest `maxShardsPerDataset` accepted. */
export const MAX_SHARDS_PER_DATASET = 64;

/** The defaults of every setting. */
export const DEFAULT_CONFIG: PipelineConfig = {
  batchSize: 200,
  maxWaitMinutes: 15,
  ingestPrefix: 'incoming/',
  acceptedSuffixes: ['.ndjson', '.jsonl', '.json', '.ndjson.gz', '.jsonl.gz', '.json.gz'],
  alertEmail: undefined,
  glue: {
    version: '5.1',
    workerType: 'G.1X',
    maxWorkers: 10,
    executionClass: 'FLEX',
    timeoutMinutes: 60,
    maxConcurrentRuns: 10,
    targetFileMb: 128,
    maxDecompressedMb: 2048,
    maxLineKb: 1024,
    maxSchemaFields: 1000,
  },
  logLevel: 'INFO',
  logRetentionDays: 30,
  ingestTransitionDays: 30,
  executionTimeoutMinutes: 420,
  builderMaxConcurrency: 10,
  maxShardsPerDataset: 8,
  maxReceiveCount: 5,
  idempotencyTtlDays: 7,
  metricsNamespace: 'IngestPipeline',
  stage: undefined,
  maxObjectMb: 1024,
  quarantineExpirationDays: 90,
  curatedNoncurrentDays: 30,
  canary: { everyMinutes: undefined },
  network: 'public',
  vpcId: undefined,
  privateSubnetIds: undefined,
  privateRouteTableIds: undefined,
  availabilityZones: undefined,
};

/** The canary's own dataset: its files are the only ones there, so they are never taken for a producer's. */
export const CANARY_DATASET = 'pipeline_canary';

/**
 * Minutes between two checks of the canary (its schedule, aligned on the clock: :00, :05, ...). Each check publishes
 * the pending age, so the alarm sees a datum every five minutes whatever `everyMinutes` is, and a canary that stops
 * is seen as missing data within {@link CANARY_ALARM_PERIOD_MINUTES}.
 */
export const CANARY_CHECK_MINUTES = 5;

/** Period of the canary alarm: three checks, so one failed check is not missing data. */
export const CANARY_ALARM_PERIOD_MINUTES = 15;

/**
 * What a canary file may take beyond `maxWaitMinutes` before the alarm fires: the sweeper's lag (up to a minute),
 * the execution's start, Glue's start-up and the run of one tiny file (a few minutes), one retry of a Glue service
 * error, in `baseMinutes`; plus, for a FLEX job, the longest wait for capacity ({@link CONVERT_RETRIES}'s
 * `flexWaitSeconds`, 20 minutes, from the AWS Glue Developer Guide).
 */
export const CANARY_MARGIN = { baseMinutes: 15 } as const;

/** Minutes a canary file may stay unconverted before the canary alarm fires: `maxWaitMinutes` plus the margin. */
export function canaryAlarmMinutes(config: Pick<PipelineConfig, 'maxWaitMinutes' | 'glue'>): number {
  const flexWait = config.glue.executionClass === 'FLEX' ? CONVERT_RETRIES.flexWaitSeconds / 60 : 0;
  return config.maxWaitMinutes + CANARY_MARGIN.baseMinutes + flexWait;
}

/**
 * How far back each check looks at the canary's files: three times the alarm's wait (a file converted later than
 * that gives no freshness datum, but the pending age has alarmed long before) and at least two uploads.
 */
export function canaryLookbackMinutes(config: Pick<PipelineConfig, 'maxWaitMinutes' | 'glue' | 'canary'>): number {
  return Math.max(3 * canaryAlarmMinutes(config), 2 * (config.canary.everyMinutes ?? CANARY_CHECK_MINUTES));
}

/** The start of every alert's subject: `Ingest pipeline`, or `Ingest pipeline <stage>` with a stage. */
export function alertSubjectPrefix(stage: string | undefined): string {
  return stage === undefined ? 'Ingest pipeline' : `Ingest pipeline ${stage}`;
}

/**
 * Longest subject SNS publishes: "Subjects must be UTF-8 text with no line breaks or control characters, and less
 * than 100 characters long" (Amazon SNS API Reference, Publish, `Subject`); a longer one makes Publish fail.
 */
export const SNS_SUBJECT_MAX_CHARS = 99;

/**
 * What an alert's subject says after the prefix. No manifest id nor dataset: the state machine builds its subject
 * with the ASL's intrinsic functions, which cannot shorten a value, and a stage of 20 characters with a dataset of
 * 40 already passes SNS's limit; the id opens the message instead.
 */
export const ALERT_SUBJECTS = { failed: 'manifest failed', partial: 'manifest partly converted' } as const;

/** An alert's subject, `<prefix>: <what>`, cut to what SNS accepts (one line, {@link SNS_SUBJECT_MAX_CHARS}). */
export function alertSubject(prefix: string, what: keyof typeof ALERT_SUBJECTS): string {
  const subject = `${prefix}: ${ALERT_SUBJECTS[what]}`.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return subject.length <= SNS_SUBJECT_MAX_CHARS ? subject : `${subject.slice(0, SNS_SUBJECT_MAX_CHARS - 1)}…`;
}

/** Name of the stack without a stage; a stage's stack is `IngestPipeline-<stage>`. */
export const BASE_STACK_NAME = 'IngestPipeline';

/** The stack `cdk deploy` creates for these settings; the CLI reaches it with `--stack-name`. */
export function stackName(config: Pick<PipelineConfig, 'stage'>): string {
  return config.stage === undefined ? BASE_STACK_NAME : `${BASE_STACK_NAME}-${config.stage}`;
}

/**
 * The waits of the state machine's Convert state and its retry loop (state-machines/convert-manifest.asl.json;
 * an infra test holds them equal): what {@link convertWorstCaseMinutes} adds up.
 */
export const CONVERT_RETRIES = {
  /** Retry of Glue's service errors (concurrency, throttling, internal), on every entry into Convert. */
  serviceErrors: { intervalSeconds: 30, backoffRate: 2, maxAttempts: 8, maxDelaySeconds: 600 },
  /** Runs of the job after a failed run that was not [NotRetryable], and the wait before the first (doubling). */
  failedRuns: { retries: 2, firstWaitSeconds: 60 },
  /** Allowance for every other state: the DynamoDB and S3 tasks with their retries, the alert. */
  otherStatesSeconds: 600,
  /**
   * Longest a FLEX run waits for capacity before it starts, on top of its run time: "The run will be in WAITING
   * state for a maximum of 20 minutes (timeout controlled by the service)" (AWS Glue Developer Guide, "AWS Glue job
   * run statuses", https://docs.aws.amazon.com/glue/latest/dg/job-run-statuses.html). The job's timeout bounds
   * its run time ("The job run time exceeded its specified timeout value", same page), so the wait comes on top; a
   * STANDARD run of this job does not wait (it does not opt into job run queuing).
   */
  flexWaitSeconds: 20 * 60,
} as const;

/**
 * The longest a Convert can take before the state machine records its outcome, in whole minutes: every run of the
 * job up to the Glue timeout, each preceded by the longest wait of the service-error retries and, for a FLEX job,
 * by the longest wait for capacity, plus the waits between runs and the other states. An execution timeout below it
 * would end executions the state machine itself was still retrying, leaving the outcome to the sweeper.
 */
export function convertWorstCaseMinutes(glue: Pick<GlueSettings, 'timeoutMinutes' | 'executionClass'>): number {
  const { serviceErrors, failedRuns, otherStatesSeconds, flexWaitSeconds } = CONVERT_RETRIES;
  const capacityWait = glue.executionClass === 'FLEX' ? flexWaitSeconds : 0;
  let serviceWaits = 0;
  for (let i = 0; i < serviceErrors.maxAttempts; i++) {
    serviceWaits += Math.min(serviceErrors.intervalSeconds * serviceErrors.backoffRate ** i, serviceErrors.maxDelaySeconds);
  }
  const runs = 1 + failedRuns.retries;
  let runWaits = 0;
  for (let i = 0; i < failedRuns.retries; i++) runWaits += failedRuns.firstWaitSeconds * 2 ** i;
  const seconds = runs * (glue.timeoutMinutes * 60 + capacityWait + serviceWaits) + runWaits + otherStatesSeconds;
  return Math.ceil(seconds / 60);
}

/** A setting with a value the pipeline cannot run with. */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    reason: string,
  ) {
    super(`Invalid setting "${setting}": ${reason}`);
    this.name = 'ConfigError';
  }
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A stage name: it ends up in stack, bucket, alarm and log group names, so only what all of them accept. */
const STAGE = /^[a-z][a-z0-9-]{0,19}$/;

/** Overrides as they come from CDK context or the local mode: any subset, possibly as strings. */
export type ConfigOverrides = { [K in keyof PipelineConfig]?: unknown } & {
  glue?: { [K in keyof GlueSettings]?: unknown };
  canary?: { [K in keyof CanarySettings]?: unknown };
};

/** A setting given as text: CDK context passes strings, numbers or booleans; an object or array is refused. */
function text(setting: string, value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ConfigError(setting, `expected a string, got ${JSON.stringify(value)}`);
}

function int(setting: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(setting, `expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function oneOf<T extends string>(setting: string, value: unknown, fallback: T, allowed: readonly T[]): T {
  if (value === undefined || value === null || value === '') return fallback;
  if (!allowed.includes(value as T)) {
    throw new ConfigError(setting, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

function suffixes(value: unknown, fallback: readonly string[]): readonly string[] {
  if (value === undefined || value === null || value === '') return fallback;
  const list: unknown[] = Array.isArray(value) ? value : text('acceptedSuffixes', value).split(',');
  const clean = list.map((s) => text('acceptedSuffixes', s).trim()).filter((s) => s.length > 0);
  if (clean.length === 0 || clean.some((s) => !s.startsWith('.'))) {
    throw new ConfigError('acceptedSuffixes', `expected suffixes starting with ".", got ${JSON.stringify(value)}`);
  }
  return clean;
}

/** The canary's period: off when absent, empty or 0; else a multiple of the check period from 5 to 1440 minutes. */
function canaryEvery(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '' || value === 0 || value === '0' || value === false || value === 'false') {
    return undefined;
  }
  const n = int('canary.everyMinutes', value, 0, CANARY_CHECK_MINUTES, 1440);
  if (n % CANARY_CHECK_MINUTES !== 0) {
    throw new ConfigError('canary.everyMinutes', `expected a multiple of ${CANARY_CHECK_MINUTES} (the canary's check period), got ${n}`);
  }
  return n;
}

/** A list of ids given as an array (cdk.json) or comma-separated text (`-c`), each matching `pattern`. */
function ids(setting: string, value: unknown, pattern: RegExp, what: string): readonly string[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const list: unknown[] = Array.isArray(value) ? value : text(setting, value).split(',');
  const clean = list.map((s) => text(setting, s).trim()).filter((s) => s.length > 0);
  if (clean.length === 0 || clean.some((s) => !pattern.test(s))) {
    throw new ConfigError(setting, `expected ${what}, comma-separated, got ${JSON.stringify(value)}`);
  }
  return clean;
}

/** The network settings: the mode and, for an existing VPC, its subnets with their route tables and zones. */
function networkSettings(
  overrides: ConfigOverrides,
): Pick<PipelineConfig, 'network' | 'vpcId' | 'privateSubnetIds' | 'privateRouteTableIds' | 'availabilityZones'> {
  const network = oneOf('network', overrides.network, DEFAULT_CONFIG.network, ['public', 'private']);
  const vpcId =
    overrides.vpcId === undefined || overrides.vpcId === null || overrides.vpcId === '' ? undefined : text('vpcId', overrides.vpcId);
  if (vpcId !== undefined && !/^vpc-[0-9a-f]{8,17}$/.test(vpcId)) {
    throw new ConfigError('vpcId', `expected a VPC id (vpc-0123456789abcdef0), got ${JSON.stringify(vpcId)}`);
  }
  const privateSubnetIds = ids('privateSubnetIds', overrides.privateSubnetIds, /^subnet-[0-9a-f]{8,17}$/, 'subnet ids (subnet-...)');
  const privateRouteTableIds = ids(
    'privateRouteTableIds',
    overrides.privateRouteTableIds,
    /^rtb-[0-9a-f]{8,17}$/,
    'route table ids (rtb-...)',
  );
  const availabilityZones = ids(
    'availabilityZones',
    overrides.availabilityZones,
    /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/,
    'Availability Zone names (us-east-1a)',
  );
  const given = { vpcId, privateSubnetIds, privateRouteTableIds, availabilityZones };
  if (network === 'public') {
    const stray = Object.entries(given).find(([, v]) => v !== undefined);
    if (stray !== undefined) throw new ConfigError(stray[0], 'only used with network=private (`-c network=private`)');
    return { network };
  }
  if (vpcId === undefined) {
    const stray = Object.entries(given).find(([, v]) => v !== undefined);
    if (stray !== undefined) throw new ConfigError(stray[0], 'describes an existing VPC: give vpcId too, or none of them for a new VPC');
    return { network };
  }
  if (privateSubnetIds === undefined) throw new ConfigError('privateSubnetIds', `required with vpcId: the subnets of ${vpcId} to run in`);
  for (const [setting, list] of [
    ['privateRouteTableIds', privateRouteTableIds],
    ['availabilityZones', availabilityZones],
  ] as const) {
    if (list?.length !== privateSubnetIds.length) {
      throw new ConfigError(
        setting,
        `required with vpcId: one for each of the ${privateSubnetIds.length} privateSubnetIds, in their order`,
      );
    }
  }
  return { network, vpcId, privateSubnetIds, privateRouteTableIds, availabilityZones };
}

/** Merges overrides into the defaults and validates every value. */
export function resolveConfig(overrides: ConfigOverrides = {}): PipelineConfig {
  const d = DEFAULT_CONFIG;
  const g = overrides.glue ?? {};
  const ingestPrefix = overrides.ingestPrefix === undefined ? d.ingestPrefix : text('ingestPrefix', overrides.ingestPrefix);
  if (!/^[A-Za-z0-9_\-./]+\/$/.test(ingestPrefix) || ingestPrefix.startsWith('/')) {
    throw new ConfigError('ingestPrefix', `expected a key prefix ending with "/", got ${JSON.stringify(ingestPrefix)}`);
  }
  const alertEmail =
    overrides.alertEmail === undefined || overrides.alertEmail === '' ? undefined : text('alertEmail', overrides.alertEmail);
  if (alertEmail !== undefined && !EMAIL.test(alertEmail)) {
    throw new ConfigError('alertEmail', `"${alertEmail}" is not an email address`);
  }
  const stage =
    overrides.stage === undefined || overrides.stage === null || overrides.stage === '' ? undefined : text('stage', overrides.stage);
  if (stage !== undefined && (!STAGE.test(stage) || stage.endsWith('-'))) {
    throw new ConfigError(
      'stage',
      `expected lower-case letters, digits and "-", starting with a letter, at most 20 characters, got ${JSON.stringify(stage)}`,
    );
  }
  const config: PipelineConfig = {
    batchSize: int('batchSize', overrides.batchSize, d.batchSize, 1, 10000),
    maxWaitMinutes: int('maxWaitMinutes', overrides.maxWaitMinutes, d.maxWaitMinutes, 1, 24 * 60),
    ingestPrefix,
    acceptedSuffixes: suffixes(overrides.acceptedSuffixes, d.acceptedSuffixes),
    alertEmail,
    glue: {
      version: g.version === undefined ? d.glue.version : text('glue.version', g.version),
      workerType: oneOf('glue.workerType', g.workerType, d.glue.workerType, ['G.1X', 'G.2X', 'G.4X', 'G.8X']),
      maxWorkers: int('glue.maxWorkers', g.maxWorkers, d.glue.maxWorkers, 2, 1000),
      executionClass: oneOf('glue.executionClass', g.executionClass, d.glue.executionClass, ['FLEX', 'STANDARD']),
      timeoutMinutes: int('glue.timeoutMinutes', g.timeoutMinutes, d.glue.timeoutMinutes, 1, 2880),
      maxConcurrentRuns: int('glue.maxConcurrentRuns', g.maxConcurrentRuns, d.glue.maxConcurrentRuns, 1, 1000),
      targetFileMb: int('glue.targetFileMb', g.targetFileMb, d.glue.targetFileMb, 1, 2048),
      maxDecompressedMb: int('glue.maxDecompressedMb', g.maxDecompressedMb, d.glue.maxDecompressedMb, 1, 1024 * 1024),
      // Spark holds a line in one string: beyond 512 MB a line cannot be read at all.
      maxLineKb: int('glue.maxLineKb', g.maxLineKb, d.glue.maxLineKb, 1, 512 * 1024),
      maxSchemaFields: int('glue.maxSchemaFields', g.maxSchemaFields, d.glue.maxSchemaFields, 1, 100_000),
    },
    logLevel: oneOf('logLevel', overrides.logLevel, d.logLevel, ['DEBUG', 'INFO', 'WARN', 'ERROR']),
    logRetentionDays: int('logRetentionDays', overrides.logRetentionDays, d.logRetentionDays, 1, 3653),
    ingestTransitionDays: int('ingestTransitionDays', overrides.ingestTransitionDays, d.ingestTransitionDays, 30, 3650),
    executionTimeoutMinutes: int('executionTimeoutMinutes', overrides.executionTimeoutMinutes, d.executionTimeoutMinutes, 5, 7 * 1440),
    // Lambda API reference, ScalingConfig: MaximumConcurrency takes 2 to 1000.
    builderMaxConcurrency: int('builderMaxConcurrency', overrides.builderMaxConcurrency, d.builderMaxConcurrency, 2, 1000),
    maxShardsPerDataset: int('maxShardsPerDataset', overrides.maxShardsPerDataset, d.maxShardsPerDataset, 1, MAX_SHARDS_PER_DATASET),
    maxReceiveCount: int('maxReceiveCount', overrides.maxReceiveCount, d.maxReceiveCount, 1, 1000),
    idempotencyTtlDays: int('idempotencyTtlDays', overrides.idempotencyTtlDays, d.idempotencyTtlDays, 1, 365),
    metricsNamespace:
      overrides.metricsNamespace === undefined || overrides.metricsNamespace === ''
        ? stage === undefined
          ? d.metricsNamespace
          : `${d.metricsNamespace}-${stage}`
        : text('metricsNamespace', overrides.metricsNamespace),
    stage,
    // S3 caps one object at 5 TB (5,242,880 MB).
    maxObjectMb: int('maxObjectMb', overrides.maxObjectMb, d.maxObjectMb, 1, 5 * 1024 * 1024),
    quarantineExpirationDays: int('quarantineExpirationDays', overrides.quarantineExpirationDays, d.quarantineExpirationDays, 1, 3650),
    curatedNoncurrentDays: int('curatedNoncurrentDays', overrides.curatedNoncurrentDays, d.curatedNoncurrentDays, 1, 3650),
    canary: { everyMinutes: canaryEvery(overrides.canary?.everyMinutes) },
    ...networkSettings(overrides),
  };
  const worstCase = convertWorstCaseMinutes(config.glue);
  if (config.executionTimeoutMinutes < worstCase) {
    throw new ConfigError(
      'executionTimeoutMinutes',
      `${config.executionTimeoutMinutes} minutes is shorter than the Convert state's worst case of ${worstCase} minutes ` +
        `(${1 + CONVERT_RETRIES.failedRuns.retries} runs of glue.timeoutMinutes = ${config.glue.timeoutMinutes} with their retry waits` +
        `${config.glue.executionClass === 'FLEX' ? `, each after up to ${CONVERT_RETRIES.flexWaitSeconds / 60} minutes waiting for FLEX capacity` : ''}): ` +
        `raise executionTimeoutMinutes to at least ${worstCase} or lower glue.timeoutMinutes`,
    );
  }
  return config;
}

/**
 * Reads overrides from CDK context: flat keys (`batchSize`), `glue.<name>` keys (`-c glue.maxWorkers=20`) and
 * `canary.<name>` keys (`-c canary.everyMinutes=60`).
 */
export function configFromContext(tryGetContext: (key: string) => unknown): PipelineConfig {
  const flat: Record<string, unknown> = {};
  for (const key of Object.keys(DEFAULT_CONFIG) as (keyof PipelineConfig)[]) {
    if (key !== 'glue' && key !== 'canary') flat[key] = tryGetContext(key);
  }
  const canaryCtx = (tryGetContext('canary') ?? {}) as Record<string, unknown>;
  const canary = { everyMinutes: tryGetContext('canary.everyMinutes') ?? canaryCtx.everyMinutes };
  const glue: Record<string, unknown> = {};
  const glueCtx = (tryGetContext('glue') ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(DEFAULT_CONFIG.glue)) {
    glue[key] = tryGetContext(`glue.${key}`) ?? glueCtx[key];
  }
  return resolveConfig({ ...flat, glue, canary });
}

/** Ensures the settings that only a deployment needs are present; `cdk deploy` calls this, `cdk synth` in tests does not. */
export function requireDeploySettings(config: PipelineConfig): void {
  if (config.alertEmail === undefined) {
    throw new ConfigError('alertEmail', 'required to deploy: pass it with `npx cdk deploy -c alertEmail=you@example.com`');
  }
}
