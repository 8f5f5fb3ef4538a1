import {
  CANARY_VARIABLES,
  type CanaryHandlerSettings,
  loadCanarySettings,
  toCanaryEnvironment,
  type HandlerSettings,
  type LambdaSettings,
  loadSettings,
  SETTING_VARIABLES,
  SettingsError,
  toEnvironment,
} from '../../../contracts/lambda-environment';
import { MetricTally } from '../../../handlers/common/observability';
import { lambdaEnvironment } from '../../../local/lambda-host';
import type { LocalStack } from '../../../contracts/local-stack';
import { DEFAULT_CONFIG, resolveConfig } from '../../../contracts/config';
import { RecordingMetrics } from '../../helpers/pipeline-fixture';

const required = {
  STATE_TABLE: 'state',
  IDEMPOTENCY_TABLE: 'idem',
  STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:1:stateMachine:m',
  CURATED_BUCKET: 'curated',
};

describe('loadSettings', () => {
  test('defaults from contracts/config.ts', () => {
    const settings = loadSettings(required);
    expect(settings).toEqual({
      stateTable: 'state',
      idempotencyTable: 'idem',
      stateMachineArn: 'arn:aws:states:us-east-1:1:stateMachine:m',
      curatedBucket: 'curated',
      ingestBucket: undefined,
      alertSubjectPrefix: 'Ingest pipeline',
      ingestPrefix: DEFAULT_CONFIG.ingestPrefix,
      acceptedSuffixes: DEFAULT_CONFIG.acceptedSuffixes,
      batchSize: DEFAULT_CONFIG.batchSize,
      maxWaitMinutes: DEFAULT_CONFIG.maxWaitMinutes,
      idempotencyTtlSeconds: DEFAULT_CONFIG.idempotencyTtlDays * 86_400,
      alertTopicArn: undefined,
      region: 'us-east-1',
      maxConcurrentRuns: DEFAULT_CONFIG.glue.maxConcurrentRuns,
      maxObjectMb: DEFAULT_CONFIG.maxObjectMb,
      maxShardsPerDataset: DEFAULT_CONFIG.maxShardsPerDataset,
    });
  });

  test('the most write shards of a dataset come from MAX_SHARDS_PER_DATASET, and a bad one names the variable', () => {
    expect(loadSettings({ ...required, MAX_SHARDS_PER_DATASET: '1' }).maxShardsPerDataset).toBe(1);
    expect(() => loadSettings({ ...required, MAX_SHARDS_PER_DATASET: '0' })).toThrow(/MAX_SHARDS_PER_DATASET/);
    expect(() => loadSettings({ ...required, MAX_SHARDS_PER_DATASET: '65' })).toThrow(SettingsError);
  });

  test('the object size cap comes from MAX_OBJECT_MB, and a bad one names the variable', () => {
    expect(loadSettings({ ...required, MAX_OBJECT_MB: '64' }).maxObjectMb).toBe(64);
    expect(() => loadSettings({ ...required, MAX_OBJECT_MB: 'lots' })).toThrow(SettingsError);
    expect(() => loadSettings({ ...required, MAX_OBJECT_MB: '0' })).toThrow(/MAX_OBJECT_MB/);
  });

  test('the alerts topic and the region of console links', () => {
    const settings = loadSettings({ ...required, ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:1:alerts', AWS_REGION: 'eu-west-1' });
    expect(settings).toMatchObject({ alertTopicArn: 'arn:aws:sns:eu-west-1:1:alerts', region: 'eu-west-1' });
  });

  test('values from the environment', () => {
    const settings = loadSettings({
      ...required,
      INGEST_PREFIX: 'drop/',
      ACCEPTED_SUFFIXES: '.ndjson, .jsonl',
      BATCH_SIZE: '50',
      MAX_WAIT_MINUTES: '5',
      IDEMPOTENCY_TTL_SECONDS: '3600',
    });
    expect(settings).toMatchObject({
      ingestPrefix: 'drop/',
      acceptedSuffixes: ['.ndjson', '.jsonl'],
      batchSize: 50,
      maxWaitMinutes: 5,
      idempotencyTtlSeconds: 3600,
    });
  });

  test.each([
    [{ STATE_TABLE: '' }, 'STATE_TABLE'],
    [{ BATCH_SIZE: 'ten' }, 'BATCH_SIZE'],
    [{ BATCH_SIZE: '0' }, 'BATCH_SIZE'],
    [{ ACCEPTED_SUFFIXES: 'ndjson' }, 'ACCEPTED_SUFFIXES'],
    [{ INGEST_PREFIX: 'incoming' }, 'INGEST_PREFIX'],
    [{ IDEMPOTENCY_TTL_SECONDS: '5' }, 'IDEMPOTENCY_TTL_SECONDS'],
  ])('%j names the variable at fault', (override, variable) => {
    const load = () => loadSettings({ ...required, ...override });
    expect(load).toThrow(SettingsError);
    expect(load).toThrow(variable);
  });
});

describe('toEnvironment', () => {
  const settings: LambdaSettings = {
    stateTable: 'state',
    idempotencyTable: 'idem',
    stateMachineArn: 'arn:aws:states:eu-west-1:1:stateMachine:m',
    curatedBucket: 'curated',
    ingestBucket: 'ingest',
    alertTopicArn: 'arn:aws:sns:eu-west-1:1:alerts',
    ingestPrefix: 'drop/',
    acceptedSuffixes: ['.ndjson', '.jsonl.gz'],
    batchSize: 17,
    maxWaitMinutes: 3,
    maxConcurrentRuns: 2,
    idempotencyTtlSeconds: 7200,
    maxObjectMb: 64,
    maxShardsPerDataset: 3,
    alertSubjectPrefix: 'Ingest pipeline dev',
  };
  const powertools = { service: 'sweeper', metricsNamespace: 'Ns', logLevel: 'DEBUG' } as const;

  test('what it writes, loadSettings reads back, with the region Lambda sets', () => {
    const env = toEnvironment(settings, powertools);

    expect(loadSettings({ ...env, AWS_REGION: 'eu-west-1' })).toEqual({ ...settings, region: 'eu-west-1' });
  });

  test('absent optional settings are left out, and read back absent or as their defaults', () => {
    const { ingestBucket: _b, alertTopicArn: _a, maxObjectMb: _m, ...rest } = settings;
    const env = toEnvironment(rest, powertools);

    expect(Object.keys(env)).not.toEqual(expect.arrayContaining([SETTING_VARIABLES.ingestBucket]));
    const read: HandlerSettings = loadSettings(env);
    expect(read).toEqual({
      ...rest,
      ingestBucket: undefined,
      alertTopicArn: undefined,
      maxObjectMb: DEFAULT_CONFIG.maxObjectMb,
      region: 'us-east-1',
    });
  });

  test('it names every setting but the region, and what Powertools reads', () => {
    const env = toEnvironment(settings, powertools);

    expect(Object.keys(env).sort()).toEqual(
      [...Object.values(SETTING_VARIABLES), 'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_LOG_LEVEL'].sort(),
    );
    expect(env).toMatchObject({ POWERTOOLS_SERVICE_NAME: 'sweeper', POWERTOOLS_METRICS_NAMESPACE: 'Ns', POWERTOOLS_LOG_LEVEL: 'DEBUG' });
  });

  test("the local mode's Lambda host gives the handlers the local stack's resources, its wait in whole minutes", () => {
    const stack: LocalStack = {
      endpoint: 'http://127.0.0.1:4566',
      region: 'us-east-1',
      accessKeyId: 'LKIAEXAMPLE',
      secretAccessKey: 'secret',
      ingestBucket: 'ingest',
      curatedBucket: 'curated',
      ingestQueueUrl: 'q',
      ingestDlqUrl: 'dlq',
      stateTable: 'state',
      idempotencyTable: 'idem',
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:convert',
      glueJobName: 'job',
      glueDatabase: 'db',
      alertTopicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
      outboxDir: '/tmp/outbox',
      batchSize: 50,
      maxWaitSeconds: 61,
    };
    const config = resolveConfig();

    const read = loadSettings(lambdaEnvironment('manifest-builder', stack, config));

    expect(read).toEqual({
      stateTable: 'state',
      idempotencyTable: 'idem',
      stateMachineArn: stack.stateMachineArn,
      curatedBucket: 'curated',
      ingestBucket: 'ingest',
      alertTopicArn: stack.alertTopicArn,
      ingestPrefix: config.ingestPrefix,
      acceptedSuffixes: config.acceptedSuffixes,
      batchSize: 50,
      maxWaitMinutes: 2,
      maxConcurrentRuns: config.glue.maxConcurrentRuns,
      idempotencyTtlSeconds: config.idempotencyTtlDays * 86_400,
      maxObjectMb: config.maxObjectMb,
      maxShardsPerDataset: config.maxShardsPerDataset,
      region: 'us-east-1',
      alertSubjectPrefix: 'Ingest pipeline',
    });
  });
});

describe('MetricTally', () => {
  test('one datum per count metric per flush, samples kept apart, then empty', () => {
    const tally = new MetricTally();
    const sink = new RecordingMetrics();
    tally.count('FilesAccepted');
    tally.count('FilesAccepted', 2);
    tally.sample('SealToStartMs', 'Milliseconds', 12);
    tally.sample('SealToStartMs', 'Milliseconds', 30);

    tally.flush(sink);
    tally.flush(sink);

    expect(sink.values.get('FilesAccepted')).toEqual([3]);
    expect(sink.values.get('SealToStartMs')).toEqual([12, 30]);
    expect(sink.published).toBe(2);
  });
});

describe("the canary's environment", () => {
  const settings: CanaryHandlerSettings = {
    stateTable: 'state',
    ingestBucket: 'ingest',
    ingestPrefix: 'drop/',
    everySeconds: 3600,
    checkSeconds: 300,
    lookbackSeconds: 9000,
  };
  const powertools = { service: 'canary', metricsNamespace: 'Ns', logLevel: 'INFO' } as const;

  test('what it writes, loadCanarySettings reads back; it names every setting and what Powertools reads', () => {
    const env = toCanaryEnvironment(settings, powertools);

    expect(loadCanarySettings(env)).toEqual(settings);
    expect(Object.keys(env).sort()).toEqual(
      [...Object.values(CANARY_VARIABLES), 'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_LOG_LEVEL'].sort(),
    );
  });

  test('a missing or invalid variable is named', () => {
    const env = toCanaryEnvironment(settings, powertools);
    expect(() => loadCanarySettings({ ...env, STATE_TABLE: '' })).toThrow(SettingsError);
    expect(() => loadCanarySettings({ ...env, CANARY_EVERY_SECONDS: '90' })).toThrow('CANARY_EVERY_SECONDS');
    expect(() => loadCanarySettings({ ...env, CANARY_LOOKBACK_SECONDS: 'x' })).toThrow('CANARY_LOOKBACK_SECONDS');
    expect(() => loadCanarySettings({ ...env, INGEST_PREFIX: 'no-slash' })).toThrow('INGEST_PREFIX');
    expect(loadCanarySettings({ ...env, CANARY_CHECK_SECONDS: '' }).checkSeconds).toBe(300);
  });
});
