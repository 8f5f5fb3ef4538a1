import {
  BASE_STACK_NAME,
  ConfigError,
  DEFAULT_CONFIG,
  canaryAlarmMinutes,
  canaryLookbackMinutes,
  configFromContext,
  resolveConfig,
  stackName,
} from '../../contracts/config';

describe('size caps', () => {
  test('defaults: objects up to 1 GB, 2 GB decompressed per gzip file, lines up to 1 MB, 1,000 schema fields', () => {
    const config = resolveConfig();

    expect(config.maxObjectMb).toBe(1024);
    expect(config.glue.maxDecompressedMb).toBe(2048);
    expect(config.glue.maxLineKb).toBe(1024);
    expect(config.glue.maxSchemaFields).toBe(1000);
  });

  test('each is taken from overrides, as numbers or as the strings CDK context gives', () => {
    const config = resolveConfig({ maxObjectMb: '64', glue: { maxDecompressedMb: 512, maxLineKb: '16' } });

    expect(config.maxObjectMb).toBe(64);
    expect(config.glue.maxDecompressedMb).toBe(512);
    expect(config.glue.maxLineKb).toBe(16);
  });

  test.each([
    ['maxObjectMb', { maxObjectMb: 0 }],
    ['maxObjectMb', { maxObjectMb: 'big' }],
    ['maxObjectMb', { maxObjectMb: 5 * 1024 * 1024 + 1 }],
    ['glue.maxDecompressedMb', { glue: { maxDecompressedMb: 0 } }],
    ['glue.maxDecompressedMb', { glue: { maxDecompressedMb: 1.5 } }],
    ['glue.maxLineKb', { glue: { maxLineKb: -1 } }],
    ['glue.maxLineKb', { glue: { maxLineKb: 512 * 1024 + 1 } }],
    ['glue.maxSchemaFields', { glue: { maxSchemaFields: 0 } }],
    ['glue.maxSchemaFields', { glue: { maxSchemaFields: 100_001 } }],
  ])('%s refuses %j, naming the setting', (setting, overrides) => {
    expect(() => resolveConfig(overrides)).toThrow(ConfigError);
    expect(() => resolveConfig(overrides)).toThrow(`"${setting}"`);
  });

  test('CDK context reaches them: -c maxObjectMb=10 -c glue.maxLineKb=8', () => {
    const context: Record<string, unknown> = { maxObjectMb: '10', 'glue.maxLineKb': '8' };
    const config = configFromContext((key) => context[key]);

    expect(config.maxObjectMb).toBe(10);
    expect(config.glue.maxLineKb).toBe(8);
    expect(config.glue.maxDecompressedMb).toBe(DEFAULT_CONFIG.glue.maxDecompressedMb);
  });
});

describe('data retention settings', () => {
  test('quarantine expires after 90 days and old curated versions after 30 by default; both configurable and validated', () => {
    expect(resolveConfig()).toMatchObject({ quarantineExpirationDays: 90, curatedNoncurrentDays: 30 });
    expect(resolveConfig({ quarantineExpirationDays: '7', curatedNoncurrentDays: 1 })).toMatchObject({
      quarantineExpirationDays: 7,
      curatedNoncurrentDays: 1,
    });
    expect(() => resolveConfig({ quarantineExpirationDays: 0 })).toThrow('"quarantineExpirationDays"');
    expect(() => resolveConfig({ curatedNoncurrentDays: 'never' })).toThrow('"curatedNoncurrentDays"');
  });
});

describe('stage', () => {
  test('none by default: the stack and the metrics namespace keep their names', () => {
    const config = resolveConfig();

    expect(config.stage).toBeUndefined();
    expect(stackName(config)).toBe(BASE_STACK_NAME);
    expect(stackName(config)).toBe('IngestPipeline');
    expect(config.metricsNamespace).toBe('IngestPipeline');
  });

  test('a stage names the stack and the metrics namespace; an explicit namespace still wins', () => {
    const config = configFromContext((key) => ({ stage: 'dev' })[key as 'stage']);

    expect(stackName(config)).toBe('IngestPipeline-dev');
    expect(config.metricsNamespace).toBe('IngestPipeline-dev');
    expect(resolveConfig({ stage: 'dev', metricsNamespace: 'Mine' }).metricsNamespace).toBe('Mine');
  });

  test.each(['Dev', '1dev', 'dev_1', 'dev-', 'a'.repeat(21), 'd e v', 'dev/x'])(
    'refuses %j, which some resource name would not take',
    (stage) => {
      expect(() => resolveConfig({ stage })).toThrow('"stage"');
    },
  );

  test.each(['dev', 'prod', 'team-a', 'x1'])('accepts %j', (stage) => {
    expect(resolveConfig({ stage }).stage).toBe(stage);
  });
});

describe('maxShardsPerDataset', () => {
  test('defaults to 8, is read from the context, and is refused outside 1 to 64', () => {
    expect(resolveConfig().maxShardsPerDataset).toBe(8);
    expect(configFromContext((key) => (key === 'maxShardsPerDataset' ? '1' : undefined)).maxShardsPerDataset).toBe(1);
    for (const bad of [0, 65, 'many', 2.5]) {
      expect(() => resolveConfig({ maxShardsPerDataset: bad })).toThrow('"maxShardsPerDataset"');
    }
  });
});

describe('builderMaxConcurrency', () => {
  test('10 by default; from context; refused outside the 2 to 1000 the event source takes', () => {
    expect(resolveConfig().builderMaxConcurrency).toBe(10);
    expect(configFromContext((key) => (key === 'builderMaxConcurrency' ? '4' : undefined)).builderMaxConcurrency).toBe(4);
    for (const bad of [1, 1001, 'many', 2.5])
      expect(() => resolveConfig({ builderMaxConcurrency: bad })).toThrow('"builderMaxConcurrency"');
  });
});

describe('canary', () => {
  test('off by default; -c canary.everyMinutes=60 turns it on, as does a canary object in cdk.json', () => {
    expect(resolveConfig().canary.everyMinutes).toBeUndefined();
    expect(configFromContext(() => undefined).canary.everyMinutes).toBeUndefined();
    expect(configFromContext((key) => (key === 'canary.everyMinutes' ? '60' : undefined)).canary.everyMinutes).toBe(60);
    expect(configFromContext((key) => (key === 'canary' ? { everyMinutes: 15 } : undefined)).canary.everyMinutes).toBe(15);
    for (const off of ['', '0', 0, false, 'false'])
      expect(resolveConfig({ canary: { everyMinutes: off } }).canary.everyMinutes).toBeUndefined();
  });

  test('a multiple of the five-minute check from 5 to 1440 minutes, else refused with the setting named', () => {
    expect(resolveConfig({ canary: { everyMinutes: 5 } }).canary.everyMinutes).toBe(5);
    expect(resolveConfig({ canary: { everyMinutes: '1440' } }).canary.everyMinutes).toBe(1440);
    for (const bad of [7, 1445, -5, 2.5, 'hourly']) {
      expect(() => resolveConfig({ canary: { everyMinutes: bad } })).toThrow('"canary.everyMinutes"');
    }
  });

  test("the alarm's wait is maxWaitMinutes plus 15 minutes, plus FLEX's 20 minutes of waiting for capacity", () => {
    expect(canaryAlarmMinutes(resolveConfig())).toBe(15 + 15 + 20);
    expect(canaryAlarmMinutes(resolveConfig({ maxWaitMinutes: 5, glue: { executionClass: 'STANDARD' } }))).toBe(5 + 15);
  });

  test('a check looks back three alarm waits, and at least two uploads', () => {
    expect(canaryLookbackMinutes(resolveConfig({ canary: { everyMinutes: 60 } }))).toBe(150);
    expect(canaryLookbackMinutes(resolveConfig({ canary: { everyMinutes: 1440 } }))).toBe(2880);
  });
});

describe('network', () => {
  const existing = {
    network: 'private',
    vpcId: 'vpc-0123456789abcdef0',
    privateSubnetIds: 'subnet-0aaaaaaaaaaaaaaa1, subnet-0bbbbbbbbbbbbbbb2',
    privateRouteTableIds: ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0bbbbbbbbbbbbbbb2'],
    availabilityZones: 'us-east-1a,us-east-1b',
  };

  test('public by default, with no VPC settings', () => {
    const config = resolveConfig();
    expect(config.network).toBe('public');
    expect([config.vpcId, config.privateSubnetIds, config.privateRouteTableIds, config.availabilityZones]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  test('private alone means a new VPC; with vpcId, the existing one, its lists from comma-separated text or arrays', () => {
    const fresh = configFromContext((key) => (key === 'network' ? 'private' : undefined));
    expect(fresh.network).toBe('private');
    expect(fresh.vpcId).toBeUndefined();
    const context: Record<string, unknown> = existing;
    expect(configFromContext((key) => context[key])).toMatchObject({
      network: 'private',
      vpcId: 'vpc-0123456789abcdef0',
      privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
      privateRouteTableIds: ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0bbbbbbbbbbbbbbb2'],
      availabilityZones: ['us-east-1a', 'us-east-1b'],
    });
  });

  test.each([
    ['network', { network: 'vpc' }],
    ['vpcId', { vpcId: 'vpc-0123456789abcdef0' }],
    ['privateSubnetIds', { network: 'private', privateSubnetIds: 'subnet-0aaaaaaaaaaaaaaa1' }],
    ['vpcId', { ...existing, vpcId: 'my-vpc' }],
    ['privateSubnetIds', { ...existing, privateSubnetIds: undefined }],
    ['privateSubnetIds', { ...existing, privateSubnetIds: 'subnet-1,sg-2' }],
    ['privateRouteTableIds', { ...existing, privateRouteTableIds: 'rtb-0aaaaaaaaaaaaaaa1' }],
    ['availabilityZones', { ...existing, availabilityZones: undefined }],
    ['availabilityZones', { ...existing, availabilityZones: 'us-east-1a,1b' }],
  ])('%s refuses %j, naming the setting', (setting, overrides) => {
    expect(() => resolveConfig(overrides)).toThrow(ConfigError);
    expect(() => resolveConfig(overrides)).toThrow(`"${setting}"`);
  });
});
