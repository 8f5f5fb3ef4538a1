/**
 * The load at which each part of the pipeline reaches a limit, the first one (the headroom), and the settings that
 * reach a target where the given ones do not. Each part has a capacity and a need at the load, in its own unit; its
 * headroom is the load factor at which the need reaches the capacity. Every capacity comes from a benchmark's
 * results file, from the stack's settings, or from an AWS quota cited in ./prices.ts: none is typed in here.
 */
import { formatNumber as n } from '../../format';
import {
  batching,
  filesPerBuilderInvocation,
  glueRun,
  ONE_OPEN_MANIFEST,
  REFERENCE_PLAN,
  scaled,
  type CapacityGroup,
  type CapacityPart,
  type Headroom,
  type ModelInput,
  type Setting,
  type TargetPlan,
} from './model';
import { ASSUMPTIONS, LIMITS, SECONDS_PER_DAY } from './prices';

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

/** One part as the model defines it: its capacity, and its need as a function of the load's factor. */
interface PartDefinition {
  readonly id: string;
  readonly group: CapacityGroup;
  readonly part: string;
  readonly limit: string;
  readonly source: string;
  readonly unit: string;
  readonly capacity: number;
  readonly need: (factor: number) => number;
  /** The need is proportional to the files: the headroom is capacity / need, exactly. */
  readonly proportional: boolean;
  /** What would raise it, given the factor it holds. */
  readonly remedy: (factor: number) => string;
  /** The setting that holds `target`, given the factor it holds; undefined where no setting can. */
  readonly setting?: (factor: number, target: number) => Setting | undefined;
}

/** The setting keys the model knows how to apply to its input. */
export const SETTING_KEYS = { builderConcurrency: 'builderMaxConcurrency', glueRuns: 'glue.maxConcurrentRuns' } as const;

/** The input with a setting applied, as the stack would have it deployed with `-c key=value`. */
export function withSetting(input: ModelInput, setting: Setting): ModelInput {
  const { inventory } = input;
  if (setting.key === SETTING_KEYS.builderConcurrency)
    return { ...input, inventory: { ...inventory, builder: { ...inventory.builder, maxConcurrency: setting.value } } };
  if (setting.key === SETTING_KEYS.glueRuns)
    return { ...input, inventory: { ...inventory, glue: { ...inventory.glue, maxConcurrentRuns: setting.value } } };
  const sharding = input.sharding ?? ONE_OPEN_MANIFEST;
  if (sharding.setting !== undefined && setting.key === sharding.setting)
    return { ...input, sharding: { ...sharding, perDataset: setting.value } };
  throw new Error(`the cost model cannot apply the setting ${setting.key}`);
}

/** The parts of the pipeline with a limit, at this load and these settings. */
function definitions(input: ModelInput): PartDefinition[] {
  const { load, inventory, measured } = input;
  const bench = measured.builder;
  const contended = bench.contended;
  const sharding = input.sharding ?? ONE_OPEN_MANIFEST;
  const shards = sharding.perDataset;
  const filesPerSecond = (f: number) => (load.filesPerDay * f) / SECONDS_PER_DAY;
  const perDataset = (f: number) => batching(scaled(load, f)).filesPerSecondPerDataset;
  const parts: PartDefinition[] = [];

  // One dataset's files go through its open manifests: each file reads a pointer and commits a compare-and-set on it.
  // With the benchmark's contended case (one dataset, several builders at once), the rate it measured; without it,
  // one pointer's cycle from the multi-dataset run: (1 - conflict rate) / (read + commit latency). Either way, each
  // further open manifest of the dataset is one more pointer.
  const shardSetting = (factor: number, goal: number): Setting | undefined => {
    const value = Math.ceil((shards * goal) / factor);
    return sharding.setting === undefined || value > (sharding.settingMax ?? Infinity) ? undefined : { key: sharding.setting, value };
  };
  const spread = (needed: number) =>
    sharding.setting === undefined
      ? `spread a dataset over ${needed} open manifests or more (the code has one per dataset)`
      : `-c ${sharding.setting}=${needed} open manifests per dataset`;
  if (contended?.singleShard !== undefined) {
    const single = contended.singleShard;
    // A run of several builders on one pointer measures what one pointer takes under contention; each open manifest
    // of the dataset is one more such pointer. (The sharded run's own rate is bounded by its builders on the
    // emulator, not by its pointers: it is printed beside, and the builders are their own part.)
    const rate = single.filesPerSecond * shards;
    parts.push({
      id: 'builder-per-dataset',
      group: 'builder per dataset',
      part: `open manifests of a dataset (${shards} per dataset)`,
      limit:
        `${n(rate, 1)} files/s: ${shards} x ${n(single.filesPerSecond, 2)} files/s measured on one open manifest with ${single.builders} builders at once ` +
        `(${n(single.conflictsPerFile, 2)} conflicts a file; over ${contended.widestShards ?? contended.shards ?? '?'} open manifests the run took ` +
        `${n(contended.filesPerSecond, 1)} files/s, ${n(contended.conflictsPerFile, 3)} conflicts a file)`,
      source: `${measured.builderSource}, contended case on one open manifest`,
      unit: 'files/s',
      capacity: rate,
      need: perDataset,
      proportional: true,
      remedy: (factor) => spread(Math.ceil((shards * target(input)) / factor)),
      setting: shardSetting,
    });
  } else if (contended !== undefined) {
    // The open manifests the run used: the most at once where the file says, else those at its end, else the default.
    const benchShards = contended.widestShards ?? contended.shards ?? sharding.defaultPerDataset;
    const rate = (contended.filesPerSecond * shards) / benchShards;
    parts.push({
      id: 'builder-per-dataset',
      group: 'builder per dataset',
      part: `open manifests of a dataset (${shards} per dataset)`,
      limit:
        `${n(rate, 1)} files/s: ${n(contended.filesPerSecond, 1)} files/s measured on one dataset with ${contended.builders} builders at once ` +
        `over ${benchShards} open manifest${benchShards === 1 ? '' : 's'} (${n(contended.conflictsPerFile, 3)} conflicts a file)` +
        (shards === benchShards ? '' : `, x ${shards}/${benchShards}`),
      source: `${measured.builderSource}, contended case`,
      unit: 'files/s',
      capacity: rate,
      need: perDataset,
      proportional: true,
      remedy: (factor) => spread(Math.ceil((shards * target(input)) / factor)),
      setting: shardSetting,
    });
  } else {
    const cycleSeconds = (bench.pointerRead.meanMs + bench.commitTransaction.meanMs) / 1000;
    const perPointer = (1 - bench.conflictRate) / cycleSeconds;
    parts.push({
      id: 'builder-per-dataset',
      group: 'builder per dataset',
      part: `open manifests of a dataset (${shards} per dataset)`,
      limit:
        `${n(perPointer * shards, 1)} files/s: ${shards} x (1 - ${n(bench.conflictRate * 100, 1)}% conflicts) / ` +
        `(${n(bench.pointerRead.meanMs, 1)} ms read + ${n(bench.commitTransaction.meanMs, 1)} ms commit)`,
      source: `${measured.builderSource} (no contended case in the file: one pointer's latencies in the ${bench.settings.datasets}-dataset run)`,
      unit: 'files/s',
      capacity: perPointer * shards,
      need: perDataset,
      proportional: true,
      remedy: (factor) => spread(Math.ceil((shards * target(input)) / factor)),
      setting: shardSetting,
    });
  }

  // The builder Lambda: the event source's maximum concurrency, each invocation placing its files one by one. The
  // setting goes up to 1,000 (contracts/config.ts) and leaves one execution of the account's quota to the sweeper.
  const maxConcurrency = inventory.builder.maxConcurrency;
  const builderRate = maxConcurrency / bench.handlerSecondsPerFile;
  const builderCeiling = Math.min(1000, LIMITS.lambdaConcurrentExecutions - 1);
  parts.push({
    id: 'builder-overall',
    group: 'builder overall',
    part: `builder invocations at once (builderMaxConcurrency = ${maxConcurrency})`,
    limit: `${n(builderRate, 1)} files/s: ${maxConcurrency} invocations / ${n(bench.handlerSecondsPerFile * 1000)} ms a file`,
    source: `the stack's event source (builderMaxConcurrency); handler time from ${measured.builderSource}`,
    unit: 'files/s',
    capacity: builderRate,
    need: filesPerSecond,
    proportional: true,
    remedy: (factor) => `-c ${SETTING_KEYS.builderConcurrency}=${Math.ceil((maxConcurrency * target(input)) / factor)}`,
    setting: (factor, t) => {
      const value = Math.ceil((maxConcurrency * t) / factor);
      return value <= builderCeiling ? { key: SETTING_KEYS.builderConcurrency, value } : undefined;
    },
  });

  // The account's Lambda concurrency: the builder's invocations in use at this rate, and the sweeper's share of time.
  const sweeperDuty = bench.idleSweepSeconds / (60 * inventory.sweeper.everyMinutes);
  parts.push({
    id: 'lambda-concurrency',
    group: 'Lambda',
    part: `account concurrent executions (${n(LIMITS.lambdaConcurrentExecutions)})`,
    limit: `${n(LIMITS.lambdaConcurrentExecutions)} executions: files/s x ${n(bench.handlerSecondsPerFile * 1000)} ms + the sweeper's ${n(sweeperDuty, 3)}`,
    source: 'Lambda quotas, Concurrent executions (https://docs.aws.amazon.com/lambda/latest/dg/limits.html)',
    unit: 'executions',
    capacity: LIMITS.lambdaConcurrentExecutions,
    need: (f) => filesPerSecond(f) * bench.handlerSecondsPerFile + sweeperDuty,
    proportional: false,
    remedy: () => 'ask for a higher Lambda Concurrent executions quota',
  });

  // Glue: concurrent runs of the job, each holding its slot for the run; the DPUs of the runs at once.
  const glue = inventory.glue;
  const executionClass = input.executionClass ?? glue.executionClass;
  const runsAtOnce = (f: number) => {
    const l = scaled(load, f);
    const bt = batching(l);
    const run = glueRun(bt.filesPerManifest, bt.filesPerManifest * l.mbPerFile, glue, measured.glue);
    return { runs: (bt.manifestsPerDay / SECONDS_PER_DAY) * run.seconds, run };
  };
  const now = runsAtOnce(1);
  const runCeiling = Math.min(1000, LIMITS.glueConcurrentRunsPerJob);
  parts.push({
    id: 'glue-concurrent-runs',
    group: 'Glue',
    part: `Glue concurrent runs (glue.maxConcurrentRuns = ${glue.maxConcurrentRuns})`,
    limit: `${glue.maxConcurrentRuns} runs at once, each of ${n(now.run.seconds, 0)} s at this load (${now.run.workers} workers)`,
    source: `the stack's Glue job (glue.maxConcurrentRuns); run time from ${measured.glueSource}`,
    unit: 'runs at once',
    capacity: glue.maxConcurrentRuns,
    need: (f) => runsAtOnce(f).runs,
    proportional: false,
    remedy: () => `-c ${SETTING_KEYS.glueRuns}=${Math.ceil(runsAtOnce(target(input)).runs)}, the account's Glue quotas allowing`,
    setting: (_factor, t) => {
      const value = Math.max(glue.maxConcurrentRuns, Math.ceil(runsAtOnce(t).runs));
      return value <= runCeiling ? { key: SETTING_KEYS.glueRuns, value } : undefined;
    },
  });
  const flex = executionClass === 'FLEX';
  const dpuQuota = flex ? LIMITS.glueFlexDpusPerAccount : LIMITS.glueDpusPerAccount;
  parts.push({
    id: 'glue-dpus',
    group: 'Glue',
    part: `Glue DPUs of the account (${flex ? 'FLEX, spare capacity' : 'task DPUs'}: ${n(dpuQuota)})`,
    limit: `${n(dpuQuota)} DPUs: runs at once x ${now.run.dpus} DPU at this load`,
    source: `AWS Glue endpoints and quotas, ${flex ? 'L-096DBB95' : 'L-08F3B322'} (https://docs.aws.amazon.com/general/latest/gr/glue.html)`,
    unit: 'DPUs',
    capacity: dpuQuota,
    need: (f) => {
      const { runs, run } = runsAtOnce(f);
      return runs * run.dpus;
    },
    proportional: false,
    remedy: () =>
      flex
        ? 'ask for a higher Glue quota L-096DBB95, or -c glue.executionClass=STANDARD (quota L-08F3B322)'
        : 'ask for a higher Glue quota L-08F3B322',
  });

  // DynamoDB: the table's writes, and the partition of each open-manifest pointer (every commit writes it: a
  // transactional write of a small item is 2 units, and a commit that lost the pointer is charged too).
  const unitsPerFile = Math.max(bench.writeUnitsPerFile.withSweep, contended?.writeUnitsPerFile ?? 0);
  parts.push({
    id: 'dynamodb-table',
    group: 'DynamoDB',
    part: `DynamoDB table writes (${n(LIMITS.dynamoTableWritesPerSecond)} units/s)`,
    limit: `${n(LIMITS.dynamoTableWritesPerSecond)} write units/s: ${n(unitsPerFile, 2)} a file (${contended !== undefined && unitsPerFile === contended.writeUnitsPerFile ? 'contended case' : 'with the sweep'})`,
    source:
      'Quotas in Amazon DynamoDB, table-level write throughput (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html)',
    unit: 'write units/s',
    capacity: LIMITS.dynamoTableWritesPerSecond,
    need: (f) => filesPerSecond(f) * unitsPerFile,
    proportional: true,
    remedy: () => 'ask for a higher table throughput quota',
  });
  const commitsPerFile = contended !== undefined ? 1 + contended.conflictsPerFile : bench.commitTransaction.perFile;
  const pointerUnitsPerFile = 2 * commitsPerFile;
  parts.push({
    id: 'dynamodb-pointer-partition',
    group: 'DynamoDB',
    part: `DynamoDB partition of an open-manifest pointer (${n(LIMITS.dynamoItemWritesPerSecond)} units/s each)`,
    limit: `${n(shards * LIMITS.dynamoItemWritesPerSecond)} write units/s per dataset: ${shards} pointer${shards === 1 ? '' : 's'}, ${n(pointerUnitsPerFile, 2)} units a file (${n(commitsPerFile, 3)} commits)`,
    source:
      'Quotas in Amazon DynamoDB, per-partition throughput (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html)',
    unit: 'write units/s',
    capacity: shards * LIMITS.dynamoItemWritesPerSecond,
    need: (f) => perDataset(f) * pointerUnitsPerFile,
    proportional: true,
    remedy: (factor) => spread(Math.ceil((shards * target(input)) / factor)),
    setting: shardSetting,
  });

  // SQS: messages in flight, from the poller's receive (the batching window) to the invocation's delete.
  const inFlight = (f: number) => {
    const rate = filesPerSecond(f);
    const files = filesPerBuilderInvocation(rate, inventory);
    const invocationSeconds = ASSUMPTIONS.builderInvocationOverheadMs / 1000 + files * bench.handlerSecondsPerFile;
    return rate * (inventory.builder.batchingWindowSeconds + invocationSeconds);
  };
  parts.push({
    id: 'sqs-in-flight',
    group: 'SQS',
    part: `SQS messages in flight (${n(LIMITS.sqsInFlightMessages)})`,
    limit: `${n(LIMITS.sqsInFlightMessages)} messages: files/s x (${inventory.builder.batchingWindowSeconds} s window + the invocation)`,
    source:
      'Amazon SQS standard queue quotas (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html)',
    unit: 'messages',
    capacity: LIMITS.sqsInFlightMessages,
    need: inFlight,
    proportional: false,
    remedy: () => 'ask for a higher in-flight quota (a support request)',
  });

  // Step Functions: StartExecution, the sweeper's ListExecutions, state transitions.
  const sfnSource = 'Step Functions service quotas (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html)';
  const startsPerSecond = (f: number) => batching(scaled(load, f)).manifestsPerDay / SECONDS_PER_DAY;
  parts.push({
    id: 'sfn-start-execution',
    group: 'Step Functions',
    part: `Step Functions StartExecution (${LIMITS.sfnStartExecutionPerSecond}/s)`,
    limit: `${LIMITS.sfnStartExecutionPerSecond} starts/s, one a manifest`,
    source: sfnSource,
    unit: 'starts/s',
    capacity: LIMITS.sfnStartExecutionPerSecond,
    need: startsPerSecond,
    proportional: false,
    remedy: () => 'ask for a higher StartExecution quota',
  });
  // Starts take a slot in the state table (docs/architecture.md, "Capacity slots and the start queue"): only the
  // sweeper lists running executions, once a sweep (a page of up to 1,000, more than glue.maxConcurrentRuns allows).
  parts.push({
    id: 'sfn-list-executions',
    group: 'Step Functions',
    part: `Step Functions ListExecutions, once a sweep (${LIMITS.sfnListExecutionsPerSecond}/s)`,
    limit: `${LIMITS.sfnListExecutionsPerSecond} calls/s: one a sweep, whatever the load`,
    source: sfnSource,
    unit: 'calls/s',
    capacity: LIMITS.sfnListExecutionsPerSecond,
    need: () => 1 / (60 * inventory.sweeper.everyMinutes),
    proportional: false,
    remedy: () => 'none needed: the calls do not grow with the load',
  });
  parts.push({
    id: 'sfn-transitions',
    group: 'Step Functions',
    part: `Step Functions state transitions (${n(LIMITS.sfnTransitionsPerSecond)}/s)`,
    limit: `${n(LIMITS.sfnTransitionsPerSecond)} transitions/s: ${measured.successPath.transitions} an execution`,
    source: sfnSource,
    unit: 'transitions/s',
    capacity: LIMITS.sfnTransitionsPerSecond,
    need: (f) => startsPerSecond(f) * measured.successPath.transitions,
    proportional: false,
    remedy: () => 'ask for a higher state transition quota',
  });

  // S3: the uploads of a dataset share its prefix.
  parts.push({
    id: 's3-prefix-puts',
    group: 'S3',
    part: `S3 PUTs per dataset prefix (${n(LIMITS.s3PutsPerPrefixPerSecond)}/s)`,
    limit: `${n(LIMITS.s3PutsPerPrefixPerSecond)} PUTs/s`,
    source: 'Amazon S3 performance guidelines (https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html)',
    unit: 'PUTs/s',
    capacity: LIMITS.s3PutsPerPrefixPerSecond,
    need: perDataset,
    proportional: true,
    remedy: () => 'spread uploads over more prefixes (a date or hash segment under the dataset)',
  });
  return parts;
}

/** The target factor of an input. */
function target(input: ModelInput): number {
  return input.targetFactor ?? REFERENCE_PLAN.headroomFactor;
}

/** The lowest factor of the parts, and its part. */
function headroomOf(parts: readonly CapacityPart[]): Headroom {
  const first = parts.reduce((a, p) => (p.factor < a.factor ? p : a));
  return { factor: first.factor, part: first.part, limitedBy: first.id };
}

/** The load at which each part reaches its limit, and the first one. */
export function capacity(input: ModelInput): { parts: CapacityPart[]; headroom: Headroom } {
  const goal = target(input);
  const parts = definitions(input).map((d): CapacityPart => {
    const need = d.need(1);
    const factor = d.proportional ? (need > 0 ? d.capacity / need : Infinity) : factorAtLimit((f) => d.need(f) / d.capacity);
    const setting = factor < goal ? d.setting?.(factor, goal) : undefined;
    return {
      id: d.id,
      group: d.group,
      part: d.part,
      limit: d.limit,
      source: d.source,
      capacity: d.capacity,
      need,
      unit: d.unit,
      utilization: need / d.capacity,
      factor,
      filesPerDayAtLimit: input.load.filesPerDay * factor,
      remedy: factor >= goal ? '' : d.remedy(factor),
      ...(setting === undefined ? {} : { setting }),
    };
  });
  return { parts, headroom: headroomOf(parts) };
}

/**
 * The settings that reach the target where the given ones do not: each part short of it that a setting raises gets
 * the value that holds the target, until no setting helps further; what still falls short needs a quota increase.
 */
export function planForTarget(input: ModelInput): TargetPlan {
  const goal = target(input);
  const given = capacity(input);
  const settings = new Map<string, number>();
  let current = input;
  let result = given;
  // Each round applies the settings of the parts still short; a setting only grows, so this ends.
  for (let round = 0; round < 10; round++) {
    const raise = result.parts.flatMap((p) => (p.setting !== undefined && p.factor < goal ? [p.setting] : []));
    const fresh = raise.filter((s) => (settings.get(s.key) ?? -Infinity) < s.value);
    if (fresh.length === 0) break;
    for (const s of fresh) {
      settings.set(s.key, s.value);
      current = withSetting(current, s);
    }
    result = capacity(current);
  }
  return {
    target: goal,
    holds: given.headroom.factor >= goal,
    settings: [...settings].map(([key, value]) => ({ key, value })),
    headroom: result.headroom,
    quotaIncreases: result.parts
      .filter((p) => p.factor < goal)
      .map((p) => ({ id: p.id, part: p.part, factor: p.factor, remedy: p.remedy })),
  };
}
