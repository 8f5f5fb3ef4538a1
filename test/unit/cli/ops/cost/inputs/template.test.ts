import { resolveConfig } from '../../../../../../contracts/config';
import { inventoryFromTemplate, rateMinutes, synthesizeInventory } from '../../../../../../cli/ops/cost/inputs/template';

describe('inventoryFromTemplate', () => {
  const template = {
    Resources: {
      Builder: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          MemorySize: 768,
          Architectures: ['arm64'],
          TracingConfig: { Mode: 'Active' },
          Environment: { Variables: { IDEMPOTENCY_TTL_SECONDS: '172800', MAX_SHARDS_PER_DATASET: '4' } },
        },
      },
      Sweeper: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 256 } },
      Esm: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          FunctionName: { Ref: 'Builder' },
          BatchSize: 25,
          MaximumBatchingWindowInSeconds: 3,
          ScalingConfig: { MaximumConcurrency: 7 },
        },
      },
      Rule: {
        Type: 'AWS::Events::Rule',
        Properties: { ScheduleExpression: 'rate(5 minutes)', Targets: [{ Arn: { 'Fn::GetAtt': ['Sweeper', 'Arn'] } }] },
      },
      Job: {
        Type: 'AWS::Glue::Job',
        Properties: {
          WorkerType: 'G.2X',
          NumberOfWorkers: 4,
          ExecutionClass: 'FLEX',
          ExecutionProperty: { MaxConcurrentRuns: 3 },
          DefaultArguments: { '--target_file_mb': '64' },
        },
      },
      A1: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'Errors' } },
      A2: { Type: 'AWS::CloudWatch::Alarm', Properties: { Metrics: [{ Expression: 'a+b' }, { MetricStat: {} }, { MetricStat: {} }] } },
      D: { Type: 'AWS::CloudWatch::Dashboard', Properties: {} },
      K: { Type: 'AWS::KMS::Key', Properties: {} },
    },
  };

  it('reads memory, the event source, the schedule, the Glue job and alarm metrics from a template', () => {
    const inv = inventoryFromTemplate(template, 'fixture');

    expect(inv.builder).toEqual({
      memoryMb: 768,
      arch: 'arm64',
      tracing: true,
      batchSize: 25,
      batchingWindowSeconds: 3,
      maxConcurrency: 7,
      maxShardsPerDataset: 4,
    });
    expect(inv.sweeper).toEqual({ memoryMb: 256, arch: 'x86_64', tracing: false, everyMinutes: 5 });
    expect(inv.glue).toEqual({ workerType: 'G.2X', maxWorkers: 4, executionClass: 'FLEX', maxConcurrentRuns: 3, continuousLogging: false });
    expect(inv.alarms).toBe(2);
    expect(inv.alarmMetrics).toBe(3);
    expect(inv.dashboards).toBe(1);
    expect(inv.kmsKeys).toBe(1);
  });

  it("reads the job's Parquet target and the builder's idempotency TTL, the config's defaults where the template is silent", () => {
    const inv = inventoryFromTemplate(template, 'fixture');
    expect(inv.parquetTargetFileMb).toBe(64);
    expect(inv.idempotencyTtlDays).toBe(2);

    const silent = JSON.parse(JSON.stringify(template)) as typeof template;
    silent.Resources.Job.Properties.DefaultArguments = {} as typeof silent.Resources.Job.Properties.DefaultArguments;
    silent.Resources.Builder.Properties.Environment = { Variables: {} } as typeof silent.Resources.Builder.Properties.Environment;
    const defaults = resolveConfig({});
    expect(inventoryFromTemplate(silent, 'fixture')).toMatchObject({
      parquetTargetFileMb: defaults.glue.targetFileMb,
      idempotencyTtlDays: defaults.idempotencyTtlDays,
      builder: { maxShardsPerDataset: defaults.maxShardsPerDataset },
    });
  });

  it('refuses a template without the builder, the sweeper or the job', () => {
    const without = (id: keyof typeof template.Resources) =>
      ({ Resources: Object.fromEntries(Object.entries(template.Resources).filter(([k]) => k !== id)) }) as typeof template;

    expect(() => inventoryFromTemplate(without('Esm'), 'fixture')).toThrow(/event source mapping/);
    expect(() => inventoryFromTemplate(without('Rule'), 'fixture')).toThrow(/scheduled rule/);
    expect(() => inventoryFromTemplate(without('Job'), 'fixture')).toThrow(/Glue job/);
  });

  it('reads rate expressions in minutes', () => {
    expect(rateMinutes('rate(1 minute)')).toBe(1);
    expect(rateMinutes('rate(2 hours)')).toBe(120);
    expect(() => rateMinutes('cron(0 * * * ? *)')).toThrow(/unsupported/);
  });
});

describe('synthesizeInventory', () => {
  it("takes the stack's own figures: the builder's event source and memory, the job's target, the config's settings", () => {
    const config = resolveConfig({ glue: { maxConcurrentRuns: 4, targetFileMb: 96 }, idempotencyTtlDays: 3, maxShardsPerDataset: 5 });
    const inv = synthesizeInventory(config);

    expect(inv.builder.batchSize).toBeGreaterThan(0);
    expect(inv.builder.maxConcurrency).toBeGreaterThan(0);
    expect(inv.glue).toMatchObject({ workerType: config.glue.workerType, maxConcurrentRuns: 4, continuousLogging: true });
    expect(inv.parquetTargetFileMb).toBe(96);
    expect(inv.idempotencyTtlDays).toBe(3);
    expect(inv.builder.maxShardsPerDataset).toBe(5);
    expect(inv.sweeper.everyMinutes).toBe(1);
  });

  it('counts the VPC endpoints: none in the public network; in the private one, 8 interface endpoints in 2 zones each and 2 gateways', () => {
    expect(synthesizeInventory(resolveConfig()).vpcEndpoints).toEqual({ interface: 0, interfaceZones: 0, gateway: 0 });
    expect(synthesizeInventory(resolveConfig({ network: 'private' })).vpcEndpoints).toEqual({
      interface: 8,
      interfaceZones: 16,
      gateway: 2,
    });
  });
});
