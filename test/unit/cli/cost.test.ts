import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { METRIC } from '../../../handlers/common/observability';
import {
  AslMachine,
  BuilderBenchmark,
  EMITTED_METRICS,
  Measured,
  StackInventory,
  batching,
  capacity,
  costJson,
  costReport,
  factorAtLimit,
  filesPerBuilderInvocation,
  glueRun,
  inventoryFromTemplate,
  monthlyBill,
  rateMinutes,
  readBuilderBenchmark,
  readSuccessPath,
  successPath,
} from '../../../cli/ops/cost';

const load = { filesPerDay: 8000, mbPerFile: 3.5, datasets: 1, batchSize: 200, maxWaitMinutes: 15 };

const inventory: StackInventory = {
  source: 'test',
  builder: { memoryMb: 512, arch: 'arm64', tracing: true, batchSize: 50, batchingWindowSeconds: 5, maxConcurrency: 10 },
  sweeper: { memoryMb: 1024, arch: 'arm64', tracing: false, everyMinutes: 1 },
  glue: { workerType: 'G.1X', maxWorkers: 10, executionClass: 'FLEX', maxConcurrentRuns: 5, continuousLogging: true },
  stateMachine: { logLevel: 'ALL', tracing: true },
  alarms: 3,
  alarmMetrics: 5,
  dashboards: 1,
  kmsKeys: 2,
  tables: 2,
  pitrTables: 2,
  stateTableGsis: 3,
  logRetentionDays: 30,
  ingestTransitionDays: 30,
  accessLogRetentionDays: 365,
};

const bench: BuilderBenchmark = {
  date: '2026-01-01T00:00:00.000Z',
  machine: { cpus: 2, cpuModel: 'test', loadAverage1m: 0, target: 'test' },
  settings: { files: 1000, datasets: 1, batchSize: 200, concurrency: 4 },
  filesPerSecond: 40,
  handlerSecondsPerFile: 0.1,
  writeUnitsPerFile: { withSweep: 8 },
  readUnitsPerFile: 2,
  commitTransaction: { meanMs: 15, perFile: 1.25 },
  pointerRead: { meanMs: 10 },
  conflictRate: 0.2,
  sweepSeconds: 2,
  sweepSealedManifests: 1,
  idleSweepSeconds: 0.5,
  storedBytesPerFile: { 'FILE#': 300, 'MANIFEST# F#': 200, 'MANIFEST# META': 5, idempotency: 160 },
};

/** A small state machine: a claim, a choice, a Glue task with a Catch, a Parallel of two branches, the end. */
const FIXTURE_ASL: AslMachine = {
  StartAt: 'Claim',
  States: {
    Claim: {
      Type: 'Task',
      Resource: 'arn:aws:states:::dynamodb:updateItem',
      Next: 'Ready',
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Failed' }],
    },
    Ready: { Type: 'Choice', Choices: [{ Variable: '$.ok', BooleanEquals: true, Next: 'Convert' }], Default: 'Failed' },
    Convert: {
      Type: 'Task',
      Resource: 'arn:aws:states:::glue:startJobRun.sync',
      Next: 'Both',
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Failed' }],
    },
    Both: {
      Type: 'Parallel',
      Branches: [
        { StartAt: 'Read', States: { Read: { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:s3:getObject', End: true } } },
        { StartAt: 'Note', States: { Note: { Type: 'Pass', Next: 'Noted' }, Noted: { Type: 'Succeed' } } },
      ],
      Next: 'Record',
    },
    Record: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:updateItem', Next: 'Done' },
    Done: { Type: 'Succeed' },
    Failed: { Type: 'Fail' },
  },
};

const measured = (transitions = 7): Measured => ({
  builder: bench,
  builderSource: 'test',
  successPath: { states: [], transitions, tasksByService: { dynamodb: 2, glue: 1, s3: 1 } },
});

describe('batching: manifests from the arrival rate and the wait', () => {
  it('at the reference load, a manifest holds the files of 15 minutes: 8000 / 86400 * 900 = 83.3, so 96 a day', () => {
    const b = batching(load);

    expect(b.filesPerManifest).toBeCloseTo(83.333, 3);
    expect(b.manifestsPerDay).toBeCloseTo(96, 9);
    expect(b.sealedBy).toBe('timeout');
  });

  it('spreads the files over the datasets: two datasets, each manifest half as full, twice as many', () => {
    const b = batching({ ...load, datasets: 2 });

    expect(b.filesPerManifest).toBeCloseTo(41.667, 3);
    expect(b.manifestsPerDay).toBeCloseTo(192, 9);
  });

  it('seals full manifests once batchSize files arrive within the wait: 4.8 M a day is 24,000 manifests of 200', () => {
    const b = batching({ ...load, filesPerDay: 4_800_000 });

    expect(b.filesPerManifest).toBe(200);
    expect(b.manifestsPerDay).toBe(24_000);
    expect(b.sealedBy).toBe('full');
  });

  it('never makes a manifest of less than one file', () => {
    const b = batching({ ...load, filesPerDay: 10 });

    expect(b.filesPerManifest).toBe(1);
    expect(b.manifestsPerDay).toBe(10);
  });

  it('a shorter wait makes smaller, more manifests: 5 minutes gives 27.8 files, 288 a day', () => {
    const b = batching({ ...load, maxWaitMinutes: 5 });

    expect(b.filesPerManifest).toBeCloseTo(27.778, 3);
    expect(b.manifestsPerDay).toBeCloseTo(288, 9);
  });
});

describe('glueRun', () => {
  const coreSecondsPerGb = (11.7 * 2) / 0.734; // glue-scripts/README.md: 734 MB in 11.7 s warm on 2 cores
  const coldJvm = 9.9; // the first manifest's cold run minus its warm run

  it('bills the 1-minute minimum for a run shorter than a minute: 83 files of 3.5 MB on 3 G.1X workers', () => {
    const run = glueRun(83.333, 291.667, inventory.glue);

    // (291.7 MB + 83.3 files x 4 MB open cost) / 128 MB = 4.9 -> 5 tasks -> 2 executors of 4 cores + the driver.
    expect(run.tasks).toBe(5);
    expect(run.workers).toBe(3);
    expect(run.seconds).toBeCloseTo(10 + coldJvm + (coreSecondsPerGb * 0.291667) / 5, 2);
    expect(run.seconds).toBeLessThan(60);
    expect(run.billedSeconds).toBe(60);
    expect(run.dpuHours).toBeCloseTo((3 * 60) / 3600, 9);
    expect(run.usd.FLEX).toBeCloseTo(0.05 * 0.29, 9);
    expect(run.usd.STANDARD).toBeCloseTo(0.05 * 0.44, 9);
  });

  it('bills the seconds of a longer run, on at most maxWorkers workers', () => {
    const run = glueRun(10, 100_000, inventory.glue);

    // (100000 + 40) / 128 = 781.6 -> 782 tasks, 196 executors wanted, 10 workers allowed: 9 executors x 4 = 36 cores.
    const seconds = 10 + coldJvm + (coreSecondsPerGb * 100) / 36;
    expect(run.workers).toBe(10);
    expect(run.seconds).toBeCloseTo(seconds, 6);
    expect(run.billedSeconds).toBe(Math.ceil(seconds));
    expect(run.billedSeconds).toBeGreaterThan(60);
    expect(run.usd.FLEX).toBeCloseTo(((10 * Math.ceil(seconds)) / 3600) * 0.29, 9);
  });

  it('counts a G.2X worker as 2 DPU and 8 cores', () => {
    const run = glueRun(83.333, 291.667, { ...inventory.glue, workerType: 'G.2X' });

    expect(run.workers).toBe(2);
    expect(run.dpus).toBe(4);
  });
});

describe('successPath', () => {
  it("walks Next and Choice edges to the Succeed state, never a Catch, and adds a Parallel's branches", () => {
    const p = successPath(FIXTURE_ASL);

    expect(p.states).toEqual(['Claim', 'Ready', 'Convert', 'Both', 'Record', 'Done']);
    // 6 states, plus the branches: Read (1) and Note, Noted (2).
    expect(p.transitions).toBe(9);
    expect(p.tasksByService).toEqual({ dynamodb: 2, glue: 1, s3: 1 });
  });

  it('refuses a machine with no way to success', () => {
    expect(() => successPath({ StartAt: 'A', States: { A: { Type: 'Fail' } } })).toThrow(/no path/);
  });

  it('reads the ASL file each time: a state added on the path is one more transition', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asl-'));
    try {
      const file = path.join(dir, 'machine.asl.json');
      fs.writeFileSync(file, JSON.stringify(FIXTURE_ASL));
      const before = readSuccessPath(file).transitions;
      const longer = JSON.parse(JSON.stringify(FIXTURE_ASL)) as { States: Record<string, unknown> & { Record: { Next: string } } };
      longer.States.Record.Next = 'Pause';
      longer.States.Pause = { Type: 'Wait', Seconds: 1, Next: 'Done' };
      fs.writeFileSync(file, JSON.stringify(longer));

      expect(readSuccessPath(file).transitions).toBe(before + 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds a success path in the conversion state machine, through its Glue task', () => {
    const p = readSuccessPath();

    expect(p.states.some((s) => /Convert/.test(s))).toBe(true);
    expect(p.tasksByService.glue).toBe(1);
  });
});

describe('monthlyBill', () => {
  it('prices Step Functions as executions x success-path transitions: 2,880 x 7 x $0.025 / 1000', () => {
    const bill = monthlyBill({ load, inventory, measured: measured(7) });

    expect(bill.lines.find((l) => l.service === 'Step Functions')!.usd).toBeCloseTo(2880 * 7 * 0.000025, 9);
  });

  it('prices Glue per run: 2,880 runs of 3 DPU for the 60-s minimum, FLEX or STANDARD', () => {
    const flex = monthlyBill({ load, inventory, measured: measured() });
    const standard = monthlyBill({ load, inventory, measured: measured(), executionClass: 'STANDARD' });

    expect(flex.lines.find((l) => l.service === 'Glue')!.usd).toBeCloseTo(2880 * 0.05 * 0.29, 6);
    expect(standard.lines.find((l) => l.service === 'Glue')!.usd).toBeCloseTo(2880 * 0.05 * 0.44, 6);
  });

  it('gives the builder 1 + rate x window files an invocation: 1 + 8000/86400 x 5 = 1.46', () => {
    expect(filesPerBuilderInvocation(8000 / 86400, inventory)).toBeCloseTo(1.463, 3);
    expect(filesPerBuilderInvocation(1000, inventory)).toBe(50);
  });

  it('prices Lambda from invocations and GB-seconds, the sweeper every minute included', () => {
    const bill = monthlyBill({ load, inventory, measured: measured() });
    const perInvocation = 1 + (8000 / 86400) * 5;
    const builderInvocations = 240_000 / perInvocation;
    const builderGbS = builderInvocations * (0.02 + perInvocation * 0.1) * 0.5;
    // 43,200 idle sweeps of 0.5 s, plus 2,880 manifests sealed by timeout at (2 - 0.5) s each, at 1 GB.
    const sweeperGbS = 43_200 * 0.5 + 2880 * 1.5;
    const expected = ((builderInvocations + 43_200) / 1e6) * 0.2 + (builderGbS + sweeperGbS) * 0.0000133334;

    expect(bill.lines.find((l) => l.service === 'Lambda')!.usd).toBeCloseTo(expected, 9);
  });

  it('prices DynamoDB writes from the measured units per file and the META writes a manifest adds', () => {
    const bill = monthlyBill({ load, inventory, measured: measured() });
    const line = bill.lines.find((l) => l.service === 'DynamoDB')!;
    // META: 3 writes by the handlers and 2 by the state machine, each in 2 GSIs; the benchmark saw the handlers' 3.
    expect(line.detail).toContain('+ 12/manifest');
    expect(line.detail).toContain(`${((240_000 * 8 + 2880 * 12) / 1e6).toFixed(2)} M`);
  });

  it('holds raw data in Standard for its first 30 days, then in IA: storage grows month after month', () => {
    const m1 = monthlyBill({ load, inventory, measured: measured(), month: 1 });
    const m2 = monthlyBill({ load, inventory, measured: measured(), month: 2 });
    const m12 = monthlyBill({ load, inventory, measured: measured(), month: 12 });
    const storage = (b: typeof m1) => b.lines.find((l) => l.service === 'S3 storage')!.usd;
    // Month 1: 28 GB a day, 14 GB on average per day elapsed: 840 GB / 2 on average, at Standard.
    const rawMonth1 = ((28 * 30) / 2) * 0.023;

    expect(storage(m1)).toBeGreaterThan(rawMonth1);
    expect(storage(m1)).toBeLessThan(rawMonth1 * 1.2);
    expect(storage(m2)).toBeGreaterThan(storage(m1));
    expect(storage(m12)).toBeGreaterThan(storage(m2));
    // No transition to IA before day 30; a full month of them after.
    expect(m1.lines.find((l) => l.service === 'S3 requests')!.detail).toContain(' 0 lifecycle transitions');
    expect(m2.lines.find((l) => l.service === 'S3 requests')!.detail).toContain('240,000 lifecycle transitions');
  });
});

describe('capacity', () => {
  it("limits a dataset's OPEN# pointer at (1 - conflicts) / (read + commit): 0.8 / 25 ms = 32 files/s", () => {
    // 86,400 files a day on one dataset is 1 file/s: the pointer holds 32x.
    const { parts } = capacity({ load: { ...load, filesPerDay: 86_400 }, inventory, measured: measured() });
    const pointer = parts.find((p) => p.part.startsWith('OPEN# pointer'))!;

    expect(pointer.factor).toBeCloseTo(32, 3);
    expect(pointer.utilization).toBeCloseTo(1 / 32, 9);
  });

  it('holds more per dataset with more datasets: three datasets, three times the files', () => {
    const one = capacity({ load, inventory, measured: measured() }).parts.find((p) => p.part.startsWith('OPEN#'))!;
    const three = capacity({ load: { ...load, datasets: 3 }, inventory, measured: measured() }).parts.find((p) =>
      p.part.startsWith('OPEN#'),
    )!;

    expect(three.factor).toBeCloseTo(3 * one.factor, 6);
  });

  it('names the first part to reach its limit as the headroom, and a remedy for each part short of the target', () => {
    const { parts, headroom } = capacity({ load, inventory, measured: measured(), targetFactor: 600 });
    const lowest = Math.min(...parts.map((p) => p.factor));

    expect(headroom.factor).toBe(lowest);
    expect(parts.find((p) => p.factor === lowest)!.part).toBe(headroom.part);
    for (const p of parts) expect(p.remedy === '').toBe(p.factor >= 600);
  });

  it('finds where an increasing utilization reaches 1', () => {
    expect(factorAtLimit((f) => f / 250)).toBeCloseTo(250, 6);
    expect(factorAtLimit(() => 0)).toBe(Infinity);
  });
});

describe('costJson', () => {
  it('has filesPerDay, manifestsPerDay, monthlyUsd, services summing to it and the headroom with its part', () => {
    const report = costReport({ load, inventory, measured: measured() });
    const json = costJson(report, inventory, measured()) as any;

    expect(json.filesPerDay).toBe(8000);
    expect(json.manifestsPerDay).toBeCloseTo(96, 6);
    expect(typeof json.monthlyUsd).toBe('number');
    const sum = Object.values(json.services as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(json.monthlyUsd, 9);
    expect(Object.keys(json.services)).toEqual(
      expect.arrayContaining([
        'Glue',
        'Step Functions',
        'Lambda',
        'DynamoDB',
        'SQS',
        'S3 requests',
        'S3 storage',
        'CloudWatch Logs',
        'KMS',
        'SNS',
      ]),
    );
    expect(json.headroom).toEqual({ factor: report.headroom.factor, part: report.headroom.part });
    expect(JSON.parse(JSON.stringify(json)).services).toEqual(json.services);
  });
});

describe('the inventory and the measured inputs', () => {
  it('reads memory, the event source, the schedule, the Glue job and alarm metrics from a template', () => {
    const template = {
      Resources: {
        Builder: {
          Type: 'AWS::Lambda::Function',
          Properties: { MemorySize: 768, Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } },
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
            DefaultArguments: {},
          },
        },
        A1: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'Errors' } },
        A2: { Type: 'AWS::CloudWatch::Alarm', Properties: { Metrics: [{ Expression: 'a+b' }, { MetricStat: {} }, { MetricStat: {} }] } },
        D: { Type: 'AWS::CloudWatch::Dashboard', Properties: {} },
        K: { Type: 'AWS::KMS::Key', Properties: {} },
      },
    };
    const inv = inventoryFromTemplate(template, 'fixture');

    expect(inv.builder).toEqual({
      memoryMb: 768,
      arch: 'arm64',
      tracing: true,
      batchSize: 25,
      batchingWindowSeconds: 3,
      maxConcurrency: 7,
    });
    expect(inv.sweeper).toEqual({ memoryMb: 256, arch: 'x86_64', tracing: false, everyMinutes: 5 });
    expect(inv.glue).toEqual({ workerType: 'G.2X', maxWorkers: 4, executionClass: 'FLEX', maxConcurrentRuns: 3, continuousLogging: false });
    expect(inv.alarms).toBe(2);
    expect(inv.alarmMetrics).toBe(3);
    expect(inv.dashboards).toBe(1);
    expect(inv.kmsKeys).toBe(1);
  });

  it('reads rate expressions in minutes', () => {
    expect(rateMinutes('rate(1 minute)')).toBe(1);
    expect(rateMinutes('rate(2 hours)')).toBe(120);
    expect(() => rateMinutes('cron(0 * * * ? *)')).toThrow(/unsupported/);
  });

  it('counts every metric the handlers emit', () => {
    const counted = new Set(EMITTED_METRICS.map((m) => m.name));
    for (const name of Object.values(METRIC)) expect(counted).toContain(name);
  });

  it('refuses a benchmark file without the figures, and says how to make it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
    try {
      const file = path.join(dir, 'manifest-builder.json');
      fs.writeFileSync(file, JSON.stringify({ ...bench, conflictRate: undefined }));
      expect(() => readBuilderBenchmark(file)).toThrow(/conflictRate.*make bench-builder/);
      expect(() => readBuilderBenchmark(path.join(dir, 'missing.json'))).toThrow(/make bench-builder/);
      fs.writeFileSync(file, JSON.stringify(bench));
      expect(readBuilderBenchmark(file).conflictRate).toBe(0.2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
