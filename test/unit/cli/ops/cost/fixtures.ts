/** Inputs of the cost model for its unit tests: an inventory, a builder benchmark, the Glue benchmark's fixture file. */
import * as path from 'node:path';
import type { BuilderBenchmark, ContendedBenchmark, GlueBenchmark } from '../../../../../cli/ops/cost/inputs/benchmarks';
import { readGlueBenchmark } from '../../../../../cli/ops/cost/inputs/benchmarks';
import type { AslMachine } from '../../../../../cli/ops/cost/inputs/state-machine';
import type { StackInventory } from '../../../../../cli/ops/cost/inputs/template';
import type { Measured } from '../../../../../cli/ops/cost/model';

export const load = { filesPerDay: 8000, mbPerFile: 3.5, datasets: 1, batchSize: 200, maxWaitMinutes: 15 };

export const inventory: StackInventory = {
  source: 'test',
  builder: {
    memoryMb: 512,
    arch: 'arm64',
    tracing: true,
    batchSize: 50,
    batchingWindowSeconds: 5,
    maxConcurrency: 10,
    maxShardsPerDataset: 1,
  },
  sweeper: { memoryMb: 1024, arch: 'arm64', tracing: false, everyMinutes: 1 },
  glue: { workerType: 'G.1X', maxWorkers: 10, executionClass: 'FLEX', maxConcurrentRuns: 5, continuousLogging: true },
  parquetTargetFileMb: 128,
  idempotencyTtlDays: 7,
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
  vpcEndpoints: { interface: 0, interfaceZones: 0, gateway: 0 },
};

export const bench: BuilderBenchmark = {
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

/** A contended case: one dataset, 4 builders at once over 2 open manifests. */
export const contended: ContendedBenchmark = {
  datasets: 1,
  builders: 4,
  shards: 2,
  filesPerSecond: 20,
  conflictsPerFile: 0.5,
  writeUnitsPerFile: 9,
};

/**
 * A file `make bench-glue` wrote (bench/results/glue-job.json's shape) with the figures of glue-scripts/README.md at
 * d9d6f77: 734 MB on 2 cores, 11.7 s steady, 9.9 s more for a cold JVM, 68 MB of Parquet, 693 of 724,599 lines
 * quarantined.
 */
export const GLUE_FIXTURE_PATH = path.join(__dirname, 'fixtures', 'glue-job.json');
export const glue: GlueBenchmark = readGlueBenchmark(GLUE_FIXTURE_PATH);

/** Core-seconds a GB and the cold JVM's seconds of {@link glue}, worked out by hand. */
export const GLUE_CORE_SECONDS_PER_GB = (11.7 * 2) / 0.734;
export const GLUE_COLD_JVM_SECONDS = 9.9;

export const measured = (transitions = 7): Measured => ({
  builder: bench,
  builderSource: 'test',
  glue,
  glueSource: 'test',
  successPath: { states: [], transitions, tasksByService: { dynamodb: 2, glue: 1, s3: 1 } },
});

/** A small state machine: a claim, a choice, a Glue task with a Catch, a Parallel of two branches, the end. */
export const FIXTURE_ASL: AslMachine = {
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
