/**
 * The Lambdas' settings, read from the environment the stack sets (docs/architecture.md, "Lambda environment"),
 * with the defaults and validation of pipeline/config.ts.
 */
import { ConfigError, DEFAULT_CONFIG, resolveConfig } from '../../pipeline/config';
import { SettingsError } from './errors';

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
  /** Region of the console links in alerts (`AWS_REGION`, set by Lambda). @default 'us-east-1' */
  readonly region: string;
  /** Executions started at once at most (`MAX_CONCURRENT_RUNS`): the Glue job's `maxConcurrentRuns`. @default DEFAULT_CONFIG.glue.maxConcurrentRuns */
  readonly maxConcurrentRuns: number;
  /** Lifetime of idempotency records. @default DEFAULT_CONFIG.idempotencyTtlDays in seconds (`IDEMPOTENCY_TTL_SECONDS`) */
  readonly idempotencyTtlSeconds: number;
  /** Largest object the builder accepts, in MB (`MAX_OBJECT_MB`). @default DEFAULT_CONFIG.maxObjectMb */
  readonly maxObjectMb?: number;
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new SettingsError(name, 'is required');
  return value.trim();
}

/** Reads and validates the settings; throws {@link SettingsError} naming the variable at fault. */
export function loadSettings(env: Env = process.env): HandlerSettings {
  let config;
  try {
    config = resolveConfig({
      ingestPrefix: env.INGEST_PREFIX || undefined,
      acceptedSuffixes: env.ACCEPTED_SUFFIXES,
      batchSize: env.BATCH_SIZE,
      maxWaitMinutes: env.MAX_WAIT_MINUTES,
      glue: { maxConcurrentRuns: env.MAX_CONCURRENT_RUNS },
      maxObjectMb: env.MAX_OBJECT_MB,
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      const variable = { ingestPrefix: 'INGEST_PREFIX', acceptedSuffixes: 'ACCEPTED_SUFFIXES', batchSize: 'BATCH_SIZE', maxWaitMinutes: 'MAX_WAIT_MINUTES', 'glue.maxConcurrentRuns': 'MAX_CONCURRENT_RUNS', maxObjectMb: 'MAX_OBJECT_MB' }[err.setting] ?? err.setting;
      throw new SettingsError(variable, err.message);
    }
    throw err;
  }
  const ttlText = env.IDEMPOTENCY_TTL_SECONDS;
  const ttl = ttlText === undefined || ttlText === '' ? DEFAULT_CONFIG.idempotencyTtlDays * 86_400 : Number(ttlText);
  if (!Number.isInteger(ttl) || ttl < 60) throw new SettingsError('IDEMPOTENCY_TTL_SECONDS', `expected an integer of at least 60, got ${JSON.stringify(ttlText)}`);
  return {
    stateTable: required(env, 'STATE_TABLE'),
    idempotencyTable: required(env, 'IDEMPOTENCY_TABLE'),
    stateMachineArn: required(env, 'STATE_MACHINE_ARN'),
    curatedBucket: required(env, 'CURATED_BUCKET'),
    ingestBucket: env.INGEST_BUCKET?.trim() || undefined,
    ingestPrefix: config.ingestPrefix,
    acceptedSuffixes: config.acceptedSuffixes,
    batchSize: config.batchSize,
    maxWaitMinutes: config.maxWaitMinutes,
    idempotencyTtlSeconds: ttl,
    maxConcurrentRuns: config.glue.maxConcurrentRuns,
    maxObjectMb: config.maxObjectMb,
    alertTopicArn: env.ALERT_TOPIC_ARN?.trim() || undefined,
    region: env.AWS_REGION?.trim() || 'us-east-1',
  };
}
