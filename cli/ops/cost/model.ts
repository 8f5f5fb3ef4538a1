/**
 * The model's shared parts: the load, how its files group into manifests, one Glue run of a manifest, and the types
 * of the inputs and of the report. The bill (./bill.ts) and the capacity (./capacity.ts) are built from these.
 */
import { DEFAULT_CONFIG, MAX_SHARDS_PER_DATASET, type PipelineConfig } from '../../../contracts/config';
import type { BuilderBenchmark, GlueBenchmark } from './inputs/benchmarks';
import { glueThroughput } from './inputs/benchmarks';
import type { SuccessPath } from './inputs/state-machine';
import type { StackInventory } from './inputs/template';
import { ASSUMPTIONS, GLUE_MIN_WORKERS, GLUE_WORKERS, PRICES, SECONDS_PER_DAY } from './prices';

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

/** The load scaled by `factor` (files a day only: the same datasets, file size and settings). */
export function scaled(load: Load, factor: number): Load {
  return { ...load, filesPerDay: load.filesPerDay * factor };
}

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

/**
 * A Glue run of a manifest of `manifestMb` in `files` files: Spark packs the files into tasks of 128 MB (each file
 * counted with 4 MB of open cost); auto scaling gives one driver and as many executors as the tasks fill (at least
 * 2 workers, at most `maxWorkers`); the run lasts the worker start, the cold JVM and the measured core-seconds
 * spread over the cores the tasks use; every worker is billed for the run, with Glue's 1-minute minimum.
 */
export function glueRun(files: number, manifestMb: number, glue: StackInventory['glue'], measured: GlueBenchmark): GlueRun {
  const worker = GLUE_WORKERS[glue.workerType];
  if (worker === undefined) throw new Error(`unknown Glue worker type ${glue.workerType}`);
  const { coreSecondsPerGb, coldJvmSeconds } = glueThroughput(measured);
  const tasks = Math.max(1, Math.ceil((manifestMb + files * ASSUMPTIONS.sparkFileOpenCostMb) / ASSUMPTIONS.sparkPartitionMb));
  const executors = Math.ceil(tasks / worker.vcpu);
  const workers = Math.min(glue.maxWorkers, Math.max(GLUE_MIN_WORKERS, 1 + executors));
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

/** Files an invocation of the builder gets: the first notification opens the batching window, the window fills it. */
export function filesPerBuilderInvocation(filesPerSecond: number, inventory: StackInventory): number {
  return Math.min(inventory.builder.batchSize, 1 + filesPerSecond * inventory.builder.batchingWindowSeconds);
}

/** The measured figures the model uses, each named in its output by the file it came from. */
export interface Measured {
  readonly builder: BuilderBenchmark;
  readonly builderSource: string;
  readonly glue: GlueBenchmark;
  readonly glueSource: string;
  readonly successPath: SuccessPath;
}

/** One line of the bill: its monthly USD and how it follows. */
export interface BillLine {
  readonly service: string;
  readonly usd: number;
  readonly detail: string;
}

/** The groups the capacity's parts belong to, in the order printed. */
export type CapacityGroup = 'builder per dataset' | 'builder overall' | 'Lambda' | 'Glue' | 'DynamoDB' | 'SQS' | 'Step Functions' | 'S3';

/** A setting that raises a part's capacity: its key as `-c <key>=<value>` takes it. */
export interface Setting {
  readonly key: string;
  readonly value: number;
}

/** One part of the pipeline with a limit. */
export interface CapacityPart {
  /** A stable name of the part (`headroom.limitedBy` is one of these). */
  readonly id: string;
  readonly group: CapacityGroup;
  readonly part: string;
  /** The limit, in the part's own unit, and how it follows. */
  readonly limit: string;
  /** Where the limit's figures come from: a results file, a setting, an AWS quota's page. */
  readonly source: string;
  /** The limit and the need at the given load, in `unit`. */
  readonly capacity: number;
  readonly need: number;
  readonly unit: string;
  /** Use of the limit at the given load (need / capacity), 0..1 and beyond. */
  readonly utilization: number;
  /**
   * The load factor at which the need reaches the capacity: capacity / need where the need grows with the files
   * (most parts); found by bisection where it does not (Glue: manifests fill up and runs lengthen).
   */
  readonly factor: number;
  readonly filesPerDayAtLimit: number;
  /** What would raise it, when it does not hold the target factor. */
  readonly remedy: string;
  /** The setting that holds the target, where a setting can (absent where only a quota increase can). */
  readonly setting?: Setting;
}

/** The headroom of a load: the lowest factor of its parts, and the part it is. */
export interface Headroom {
  readonly factor: number;
  readonly part: string;
  /** The `id` of the part that limits first. */
  readonly limitedBy: string;
}

/** Settings that reach the target where the defaults do not, and the headroom with them. */
export interface TargetPlan {
  readonly target: number;
  /** Whether the settings as given hold the target. */
  readonly holds: boolean;
  /** The settings to pass (`-c key=value`), none when the settings as given hold the target. */
  readonly settings: readonly Setting[];
  /** The headroom with those settings. */
  readonly headroom: Headroom;
  /** Parts that still fall short with those settings: only a quota increase (or a faster part) raises them. */
  readonly quotaIncreases: readonly { readonly id: string; readonly part: string; readonly factor: number; readonly remedy: string }[];
}

/** How many open manifests a dataset's files spread over, and the setting that says so. */
export interface Sharding {
  readonly perDataset: number;
  /** The setting's default: what the builder benchmark ran with, unless its file says otherwise. */
  readonly defaultPerDataset: number;
  /** The config key (`-c <key>=<n>`), absent while the number is fixed by the code. */
  readonly setting?: string;
  /** The highest value the setting takes. */
  readonly settingMax?: number;
}

/** One open manifest per dataset: the design before the open manifests were spread. */
export const ONE_OPEN_MANIFEST: Sharding = { perDataset: 1, defaultPerDataset: 1 };

/** The open manifests of the stack: the builder's `maxShardsPerDataset` (the dataset widens up to it under contention). */
export function shardingOf(inventory: StackInventory): Sharding {
  return {
    perDataset: inventory.builder.maxShardsPerDataset,
    defaultPerDataset: DEFAULT_CONFIG.maxShardsPerDataset,
    setting: 'maxShardsPerDataset',
    settingMax: MAX_SHARDS_PER_DATASET,
  };
}

/** The bill of one month. */
export interface MonthlyBill {
  readonly load: Load;
  readonly month: number;
  readonly batching: Batching;
  readonly glueRun: GlueRun;
  readonly glueExecutionClass: 'FLEX' | 'STANDARD';
  readonly lines: readonly BillLine[];
  readonly monthlyUsd: number;
  /** What storage adds each further month once the lifecycle is in steady state. */
  readonly storageGrowthUsdPerMonth: number;
}

/** The whole model for one load: the bill, the load at which each part reaches its limit, the settings for the target. */
export interface CostReport extends MonthlyBill {
  readonly capacity: readonly CapacityPart[];
  readonly headroom: Headroom;
  readonly toTarget: TargetPlan;
}

export interface ModelInput {
  readonly load: Load;
  readonly inventory: StackInventory;
  readonly measured: Measured;
  /** Month of operation whose bill is computed (storage accumulates). @default 1 */
  readonly month?: number;
  /** Glue execution class priced; @default the stack's. */
  readonly executionClass?: 'FLEX' | 'STANDARD';
  /** The headroom the capacity section checks each part against. @default REFERENCE_PLAN.headroomFactor */
  readonly targetFactor?: number;
  /** Open manifests per dataset. @default one, fixed */
  readonly sharding?: Sharding;
}
