/**
 * The Lambdas' environment (docs/architecture.md, "Lambda environment"): the one place that names its variables.
 * The stack and the local mode write it with {@link toEnvironment}; the handlers read it with {@link loadSettings},
 * with the defaults and validation of contracts/config.ts. No CDK, no AWS SDK.
 */
import { CANARY_CHECK_MINUTES, ConfigError, DEFAULT_CONFIG, alertSubjectPrefix, resolveConfig } from './config';

/** Everything the manifest builder and the sweeper need to know. */
export interface HandlerSettings {
  /** State table name (`STATE_TABLE`). */
  readonly stateTable: string;
  /** Powertools idempotency table name (`IDEMPOTENCY_TABLE`). */
  readonly idempotencyTable: string;
  /** Conversion state machine (`STATE_MACHINE_ARN`). */
  readonly stateMachineArn: string;
  /** The ingest bucket (`INGEST_BUCKET`): records of any other bucket are skipped. Undefined: any bucket. */
  readonly ingestBucket?: string;
  /** Bucket that receives manifest files (`CURATED_BUCKET`). */
  readonly curatedBucket: string;
  /** @default DEFAULT_CONFIG.ingestPrefix (`INGEST_PREFIX`) */
  readonly ingestPrefix: string;
  /** @default DEFAULT_CONFIG.acceptedSuffixes (`ACCEPTED_SUFFIXES`, comma-separated) */
  readonly acceptedSuffixes: readonly string[];
  /** Most files in one manifest. @default DEFAULT_CONFIG.batchSize (`BATCH_SIZE`) */
  readonly batchSize: number;
  /** @default DEFAULT_CONFIG.maxWaitMinutes (`MAX_WAIT_MINUTES`) */
  readonly maxWaitMinutes: number;
  /** Alerts topic (`ALERT_TOPIC_ARN`): where the sweeper announces executions that ended without recording an outcome. */
  readonly alertTopicArn?: string;
  /** Start of the alerts' subject, naming the stage (`ALERT_SUBJECT_PREFIX`). @default 'Ingest pipeline' */
  readonly alertSubjectPrefix: string;
  /** Region of the console links in alerts (`AWS_REGION`, set by Lambda). @default 'us-east-1' */
  readonly region: string;
  /** Executions started at once at most (`MAX_CONCURRENT_RUNS`): the Glue job's `maxConcurrentRuns`. @default DEFAULT_CONFIG.glue.maxConcurrentRuns */
  readonly maxConcurrentRuns: number;
  /** Lifetime of idempotency records. @default DEFAULT_CONFIG.idempotencyTtlDays in seconds (`IDEMPOTENCY_TTL_SECONDS`) */
  readonly idempotencyTtlSeconds: number;
  /** Largest object the builder accepts, in MB (`MAX_OBJECT_MB`). @default DEFAULT_CONFIG.maxObjectMb */
  readonly maxObjectMb?: number;
  /** Most write shards (open manifests at once) of one dataset (`MAX_SHARDS_PER_DATASET`). @default DEFAULT_CONFIG.maxShardsPerDataset */
  readonly maxShardsPerDataset?: number;
}

/** The variable of each setting the stack sets (`region` is Lambda's own `AWS_REGION`, which no one else sets). */
export const SETTING_VARIABLES = {
  stateTable: 'STATE_TABLE',
  idempotencyTable: 'IDEMPOTENCY_TABLE',
  stateMachineArn: 'STATE_MACHINE_ARN',
  curatedBucket: 'CURATED_BUCKET',
  ingestBucket: 'INGEST_BUCKET',
  alertTopicArn: 'ALERT_TOPIC_ARN',
  alertSubjectPrefix: 'ALERT_SUBJECT_PREFIX',
  ingestPrefix: 'INGEST_PREFIX',
  acceptedSuffixes: 'ACCEPTED_SUFFIXES',
  batchSize: 'BATCH_SIZE',
  maxWaitMinutes: 'MAX_WAIT_MINUTES',
  maxConcurrentRuns: 'MAX_CONCURRENT_RUNS',
  idempotencyTtlSeconds: 'IDEMPOTENCY_TTL_SECONDS',
  maxObjectMb: 'MAX_OBJECT_MB',
  maxShardsPerDataset: 'MAX_SHARDS_PER_DATASET',
} as const satisfies Record<Exclude<keyof HandlerSettings, 'region'>, string>;

/** The Lambdas of the pipeline, by their `POWERTOOLS_SERVICE_NAME` (the canary only when it is on). */
export type LambdaService = 'manifest-builder' | 'sweeper' | 'canary';

/** What Powertools reads: the emitting service and where its metrics and logs go. */
export interface PowertoolsSettings {
  /** `POWERTOOLS_SERVICE_NAME`: the metrics' `service` dimension. */
  readonly service: LambdaService;
  /** `POWERTOOLS_METRICS_NAMESPACE`: the config's `metricsNamespace`. */
  readonly metricsNamespace: string;
  /** `POWERTOOLS_LOG_LEVEL`: the config's `logLevel`. */
  readonly logLevel: string;
}

/** The settings as the stack and the local mode give them: all but the region, which Lambda sets. */
export type LambdaSettings = Omit<HandlerSettings, 'region'>;

/**
 * The environment that gives a handler `settings` (and Powertools its service), the inverse of
 * {@link loadSettings}: `loadSettings(toEnvironment(s, p))` is `s` with the region of `AWS_REGION`. Optional
 * settings that are absent are left out.
 */
export function toEnvironment(settings: LambdaSettings, powertools: PowertoolsSettings): Record<string, string> {
  const v = SETTING_VARIABLES;
  const environment: Record<string, string> = {
    POWERTOOLS_SERVICE_NAME: powertools.service,
    POWERTOOLS_METRICS_NAMESPACE: powertools.metricsNamespace,
    POWERTOOLS_LOG_LEVEL: powertools.logLevel,
    [v.stateTable]: settings.stateTable,
    [v.idempotencyTable]: settings.idempotencyTable,
    [v.stateMachineArn]: settings.stateMachineArn,
    [v.curatedBucket]: settings.curatedBucket,
  };
  if (settings.ingestBucket !== undefined) environment[v.ingestBucket] = settings.ingestBucket;
  if (settings.alertTopicArn !== undefined) environment[v.alertTopicArn] = settings.alertTopicArn;
  environment[v.alertSubjectPrefix] = settings.alertSubjectPrefix;
  Object.assign(environment, {
    [v.ingestPrefix]: settings.ingestPrefix,
    [v.acceptedSuffixes]: settings.acceptedSuffixes.join(','),
    [v.batchSize]: String(settings.batchSize),
    [v.maxWaitMinutes]: String(settings.maxWaitMinutes),
    [v.maxConcurrentRuns]: String(settings.maxConcurrentRuns),
    [v.idempotencyTtlSeconds]: String(settings.idempotencyTtlSeconds),
  });
  if (settings.maxObjectMb !== undefined) environment[v.maxObjectMb] = String(settings.maxObjectMb);
  if (settings.maxShardsPerDataset !== undefined) environment[v.maxShardsPerDataset] = String(settings.maxShardsPerDataset);
  return environment;
}

/** A required environment variable is missing or invalid. */
export class SettingsError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`Environment variable ${variable}: ${reason}`);
    this.name = 'SettingsError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new SettingsError(name, 'is required');
  return value.trim();
}

/** Reads and validates the settings; throws {@link SettingsError} naming the variable at fault. */
export function loadSettings(env: Env = process.env): HandlerSettings {
  const v = SETTING_VARIABLES;
  let config;
  try {
    config = resolveConfig({
      ingestPrefix: env[v.ingestPrefix] || undefined,
      acceptedSuffixes: env[v.acceptedSuffixes],
      batchSize: env[v.batchSize],
      maxWaitMinutes: env[v.maxWaitMinutes],
      glue: { maxConcurrentRuns: env[v.maxConcurrentRuns] },
      maxObjectMb: env[v.maxObjectMb],
      maxShardsPerDataset: env[v.maxShardsPerDataset],
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      const variable = ({ ...v, 'glue.maxConcurrentRuns': v.maxConcurrentRuns } as Record<string, string>)[err.setting] ?? err.setting;
      throw new SettingsError(variable, err.message);
    }
    throw err;
  }
  const ttlText = env[v.idempotencyTtlSeconds];
  const ttl = ttlText === undefined || ttlText === '' ? DEFAULT_CONFIG.idempotencyTtlDays * 86_400 : Number(ttlText);
  if (!Number.isInteger(ttl) || ttl < 60)
    throw new SettingsError(v.idempotencyTtlSeconds, `expected an integer of at least 60, got ${JSON.stringify(ttlText)}`);
  return {
    stateTable: required(env, v.stateTable),
    idempotencyTable: required(env, v.idempotencyTable),
    stateMachineArn: required(env, v.stateMachineArn),
    curatedBucket: required(env, v.curatedBucket),
    ingestBucket: env[v.ingestBucket]?.trim() || undefined,
    ingestPrefix: config.ingestPrefix,
    acceptedSuffixes: config.acceptedSuffixes,
    batchSize: config.batchSize,
    maxWaitMinutes: config.maxWaitMinutes,
    idempotencyTtlSeconds: ttl,
    maxConcurrentRuns: config.glue.maxConcurrentRuns,
    maxObjectMb: config.maxObjectMb,
    maxShardsPerDataset: config.maxShardsPerDataset,
    alertTopicArn: env[v.alertTopicArn]?.trim() || undefined,
    alertSubjectPrefix: env[v.alertSubjectPrefix]?.trim() || alertSubjectPrefix(undefined),
    region: env.AWS_REGION?.trim() || 'us-east-1',
  };
}

/** Everything the canary needs to know: its own, smaller environment (it starts nothing and writes no state). */
export interface CanaryHandlerSettings {
  /** State table name (`STATE_TABLE`): read only, for the canary files' records. */
  readonly stateTable: string;
  /** The ingest bucket (`INGEST_BUCKET`), where the canary uploads. */
  readonly ingestBucket: string;
  /** @default DEFAULT_CONFIG.ingestPrefix (`INGEST_PREFIX`) */
  readonly ingestPrefix: string;
  /** Seconds between two canary files (`CANARY_EVERY_SECONDS`): `canary.everyMinutes` in seconds; a multiple of `checkSeconds`. */
  readonly everySeconds: number;
  /** Seconds between two checks, the schedule's period (`CANARY_CHECK_SECONDS`). @default CANARY_CHECK_MINUTES in seconds */
  readonly checkSeconds: number;
  /** How far back a check looks at the canary's files (`CANARY_LOOKBACK_SECONDS`). */
  readonly lookbackSeconds: number;
}

/** The variable of each canary setting. */
export const CANARY_VARIABLES = {
  stateTable: 'STATE_TABLE',
  ingestBucket: 'INGEST_BUCKET',
  ingestPrefix: 'INGEST_PREFIX',
  everySeconds: 'CANARY_EVERY_SECONDS',
  checkSeconds: 'CANARY_CHECK_SECONDS',
  lookbackSeconds: 'CANARY_LOOKBACK_SECONDS',
} as const satisfies Record<keyof CanaryHandlerSettings, string>;

/** The canary's environment, the inverse of {@link loadCanarySettings}. */
export function toCanaryEnvironment(settings: CanaryHandlerSettings, powertools: PowertoolsSettings): Record<string, string> {
  const v = CANARY_VARIABLES;
  return {
    POWERTOOLS_SERVICE_NAME: powertools.service,
    POWERTOOLS_METRICS_NAMESPACE: powertools.metricsNamespace,
    POWERTOOLS_LOG_LEVEL: powertools.logLevel,
    [v.stateTable]: settings.stateTable,
    [v.ingestBucket]: settings.ingestBucket,
    [v.ingestPrefix]: settings.ingestPrefix,
    [v.everySeconds]: String(settings.everySeconds),
    [v.checkSeconds]: String(settings.checkSeconds),
    [v.lookbackSeconds]: String(settings.lookbackSeconds),
  };
}

function positiveInt(env: Env, name: string, fallback?: number): number {
  const text = env[name]?.trim();
  if ((text === undefined || text === '') && fallback !== undefined) return fallback;
  const n = Number(text);
  if (text === undefined || text === '' || !Number.isInteger(n) || n < 1) {
    throw new SettingsError(name, `expected a positive integer, got ${JSON.stringify(env[name])}`);
  }
  return n;
}

/** Reads and validates the canary's settings; throws {@link SettingsError} naming the variable at fault. */
export function loadCanarySettings(env: Env = process.env): CanaryHandlerSettings {
  const v = CANARY_VARIABLES;
  const ingestPrefix = env[v.ingestPrefix]?.trim() || DEFAULT_CONFIG.ingestPrefix;
  try {
    resolveConfig({ ingestPrefix });
  } catch (err) {
    if (err instanceof ConfigError) throw new SettingsError(v.ingestPrefix, err.message);
    throw err;
  }
  const checkSeconds = positiveInt(env, v.checkSeconds, CANARY_CHECK_MINUTES * 60);
  const everySeconds = positiveInt(env, v.everySeconds);
  if (everySeconds % checkSeconds !== 0) {
    throw new SettingsError(v.everySeconds, `expected a multiple of ${v.checkSeconds} (${checkSeconds}), got ${everySeconds}`);
  }
  return {
    stateTable: required(env, v.stateTable),
    ingestBucket: required(env, v.ingestBucket),
    ingestPrefix,
    everySeconds,
    checkSeconds,
    lookbackSeconds: positiveInt(env, v.lookbackSeconds),
  };
}
