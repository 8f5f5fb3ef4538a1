/**
 * The load at which each part of the pipeline reaches a limit, and the first one (the headroom). Each part is a
 * utilization of the load scaled by a factor (1 = at its limit); the factor where it reaches 1 is found by bisection.
 */
import { formatNumber as n } from '../../format';
import { batching, glueRun, REFERENCE_PLAN, scaled, type CapacityPart, type ModelInput } from './model';
import { LIMITS, SECONDS_PER_DAY } from './prices';

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

/**
 * The load at which each part reaches a limit, and the first one. The OPEN# pointer's limit comes from the builder
 * benchmark's latencies and conflict rate, Glue's from the Glue benchmark's run time.
 */
export function capacity(input: ModelInput): { parts: CapacityPart[]; headroom: { factor: number; part: string } } {
  const { load, inventory, measured } = input;
  const target = input.targetFactor ?? REFERENCE_PLAN.headroomFactor;
  const bench = measured.builder;
  const parts: CapacityPart[] = [];
  const add = (part: string, limit: string, utilization: (f: number) => number, remedy: (factor: number) => string) => {
    const factor = factorAtLimit(utilization);
    parts.push({
      part,
      limit,
      utilization: utilization(1),
      factor,
      filesPerDayAtLimit: load.filesPerDay * factor,
      remedy: factor >= target ? '' : remedy(factor),
    });
  };

  // One dataset's OPEN# pointer: every file is a read of the pointer and a compare-and-set commit on it, one after
  // the other; a share of commits (the conflict rate) lose to a concurrent writer and place nothing.
  const cycleSeconds = (bench.pointerRead.meanMs + bench.commitTransaction.meanMs) / 1000;
  const byLatency = (1 - bench.conflictRate) / cycleSeconds;
  const byItemWrites = (LIMITS.dynamoItemWritesPerSecond * (1 - bench.conflictRate)) / 2;
  const pointerRate = Math.min(byLatency, byItemWrites);
  add(
    `OPEN# pointer of a dataset (files/s per dataset)`,
    `${n(pointerRate, 1)} files/s: (1 - ${n(bench.conflictRate * 100, 1)}% conflicts) / (${n(bench.pointerRead.meanMs, 1)} ms read + ${n(bench.commitTransaction.meanMs, 1)} ms commit)`,
    (f) => batching(scaled(load, f)).filesPerSecondPerDataset / pointerRate,
    (factor) =>
      `shard the pointer: ${Math.ceil(target / factor)} OPEN#<dataset>#<shard> pointers per dataset, each with its own manifests (or more datasets)`,
  );

  // The builder Lambda: the event source's maximum concurrency, each invocation placing its files one by one.
  const builderRate = inventory.builder.maxConcurrency / bench.handlerSecondsPerFile;
  add(
    `builder Lambda concurrency (${inventory.builder.maxConcurrency} at once)`,
    `${n(builderRate, 1)} files/s: ${inventory.builder.maxConcurrency} invocations / ${n(bench.handlerSecondsPerFile * 1000)} ms a file`,
    (f) => (load.filesPerDay * f) / SECONDS_PER_DAY / builderRate,
    (factor) =>
      `raise builderMaxConcurrency to ${Math.ceil((inventory.builder.maxConcurrency * target) / factor)} (account concurrency allowing), with pointers that take it`,
  );

  // Glue: concurrent runs of the job, each holding its slot for the run.
  const runOf = (files: number, mb: number) => glueRun(files, mb, inventory.glue, measured.glue);
  const runsAtOnce = (f: number) => {
    const l = scaled(load, f);
    const bt = batching(l);
    const run = runOf(bt.filesPerManifest, bt.filesPerManifest * l.mbPerFile);
    return { runs: (bt.manifestsPerDay / SECONDS_PER_DAY) * run.seconds, run };
  };
  const fullRun = runOf(load.batchSize, load.batchSize * load.mbPerFile);
  add(
    `Glue concurrent runs (glue.maxConcurrentRuns = ${inventory.glue.maxConcurrentRuns})`,
    `${inventory.glue.maxConcurrentRuns} runs of ${n(runsAtOnce(1).run.seconds, 0)} s each (full manifests: ${n(fullRun.seconds)} s, ${fullRun.dpus} DPU)`,
    (f) => runsAtOnce(f).runs / inventory.glue.maxConcurrentRuns,
    (factor) => {
      const needed = Math.ceil(runsAtOnce(target).runs);
      return `raise glue.maxConcurrentRuns to ${needed} (${needed * runsAtOnce(target).run.dpus} DPUs at once at ${target}x; the account's Glue quotas must allow it); factor now ${n(factor, 0)}x`;
    },
  );

  // Step Functions: StartExecution, the backlog check's ListExecutions, state transitions.
  const startsPerSecond = (f: number) => batching(scaled(load, f)).manifestsPerDay / SECONDS_PER_DAY;
  add(
    `Step Functions StartExecution (${LIMITS.sfnStartExecutionPerSecond}/s)`,
    `${LIMITS.sfnStartExecutionPerSecond} starts/s`,
    (f) => startsPerSecond(f) / LIMITS.sfnStartExecutionPerSecond,
    () => 'ask for a higher StartExecution quota',
  );
  add(
    `Step Functions ListExecutions before each start (${LIMITS.sfnListExecutionsPerSecond}/s)`,
    `${LIMITS.sfnListExecutionsPerSecond} calls/s`,
    (f) => (startsPerSecond(f) + 1 / (60 * inventory.sweeper.everyMinutes)) / LIMITS.sfnListExecutionsPerSecond,
    () => 'count running executions in the state table instead of listing them',
  );
  add(
    `Step Functions state transitions (${LIMITS.sfnTransitionsPerSecond}/s)`,
    `${LIMITS.sfnTransitionsPerSecond} transitions/s`,
    (f) => (startsPerSecond(f) * measured.successPath.transitions) / LIMITS.sfnTransitionsPerSecond,
    () => 'ask for a higher state transition quota',
  );

  // DynamoDB table and S3 prefixes.
  add(
    `DynamoDB table writes (${n(LIMITS.dynamoTableWritesPerSecond)} units/s)`,
    `${n(LIMITS.dynamoTableWritesPerSecond)} write units/s`,
    (f) => (((load.filesPerDay * f) / SECONDS_PER_DAY) * bench.writeUnitsPerFile.withSweep) / LIMITS.dynamoTableWritesPerSecond,
    () => 'ask for a higher table throughput quota',
  );
  add(
    `S3 PUTs per dataset prefix (${n(LIMITS.s3PutsPerPrefixPerSecond)}/s)`,
    `${n(LIMITS.s3PutsPerPrefixPerSecond)} PUTs/s`,
    (f) => batching(scaled(load, f)).filesPerSecondPerDataset / LIMITS.s3PutsPerPrefixPerSecond,
    () => 'spread uploads over more prefixes (a date or hash segment under the dataset)',
  );

  const first = parts.reduce((a, p) => (p.factor < a.factor ? p : a));
  return { parts, headroom: { factor: first.factor, part: first.part } };
}
