/** `pipeline cost` as text: the bill beside the reference plan, the capacity, the inputs and the prices. */
import * as path from 'node:path';
import { CONVERT_MANIFEST_ASL_PATH } from '../../../contracts/convert-manifest-asl';
import { formatNumber as n, renderTable } from '../../format';
import { glueThroughput } from './inputs/benchmarks';
import type { StackInventory } from './inputs/template';
import { REFERENCE_PLAN, type CostReport, type Measured } from './model';
import { PRICES } from './prices';

const usd = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const factorText = (f: number) => (Number.isFinite(f) ? `${n(f, f < 1 ? 2 : f < 10 ? 1 : 0)}x` : 'no limit');

/** The Glue benchmark's figures as the model uses them. */
function measuredGlue(measured: Measured): string {
  const t = glueThroughput(measured.glue);
  return `${measured.glueSource}: ${t.coreSecondsPerGb.toFixed(0)} core-s a GB warm, +${t.coldJvmSeconds.toFixed(0)} s for a cold JVM, Parquet ${(t.parquetShare * 100).toFixed(1)}% of the NDJSON`;
}

/** The settings as `-c key=value` arguments. */
export function contextArguments(settings: readonly { key: string; value: number }[]): string {
  return settings.map((x) => `-c ${x.key}=${x.value}`).join(' ');
}

/**
 * The report as text: the bill beside the reference plan, the capacity, the inputs and the prices. `scale` is the
 * factor the load was multiplied by (`--scale`); `target` is the factor each part is checked against, of this load.
 */
export function renderCostReport(report: CostReport, inventory: StackInventory, measured: Measured, target: number, scale = 1): string {
  const { load, batching: b, glueRun: run } = report;
  const out: string[] = [];
  out.push(
    `Monthly bill model, month ${report.month} of operation${scale === 1 ? '' : `, at ${n(scale)}x the load (--scale ${scale})`}: ` +
      `${n(load.filesPerDay)} files a day of ${load.mbPerFile} MB, even arrival, ` +
      `${load.datasets} dataset${load.datasets === 1 ? '' : 's'}, batchSize ${load.batchSize}, maxWaitMinutes ${load.maxWaitMinutes}`,
  );
  out.push(
    `  ${n(b.filesPerManifest, 1)} files per manifest (sealed ${b.sealedBy === 'full' ? 'full' : `after ${load.maxWaitMinutes} min`}), ` +
      `${n(b.manifestsPerDay, 1)} manifests a day; a Glue run: ${run.workers} x ${inventory.glue.workerType}, ${n(run.seconds, 1)} s, ` +
      `${run.billedSeconds} s billed, $${run.usd[report.glueExecutionClass].toFixed(4)} ${report.glueExecutionClass}`,
  );
  out.push('');
  const reference = REFERENCE_PLAN.lines;
  const rows = report.lines.map((l) => [l.service, usd(l.usd), scale === 1 ? (reference[l.service] ?? '') : '', l.detail]);
  rows.push(['TOTAL', usd(report.monthlyUsd), scale === 1 ? REFERENCE_PLAN.totalUsd : '', '']);
  out.push(renderTable(['SERVICE', 'USD/MONTH', 'REFERENCE PLAN', 'HOW'], rows));
  out.push(
    scale === 1
      ? `(reference plan: ${REFERENCE_PLAN.load}; compare it with the default load only)`
      : `(the reference plan prices the default load only: no comparison at ${n(scale)}x)`,
    `Storage accumulates (raw data is kept): each further month adds about $${usd(report.storageGrowthUsdPerMonth)}; see --month.`,
  );
  out.push('');
  const claim = `${n(target * scale)}x of the base load${scale === 1 ? '' : ` = ${factorText(target)} of this one`}`;
  out.push(
    `Capacity: the load at which each part reaches its limit (the reference plan claims ${claim} = ${n(load.filesPerDay * target)} files a day)`,
  );
  out.push(
    renderTable(
      ['GROUP', 'PART', 'LIMIT', 'NEED NOW', 'USED', 'REACHED AT', 'FILES/DAY THEN', `HOLDS ${factorText(target)}`],
      report.capacity.map((p) => [
        p.group,
        p.part,
        p.limit,
        `${n(p.need, p.need < 10 ? 3 : 0)} ${p.unit}`,
        `${n(p.utilization * 100, 2)}%`,
        factorText(p.factor),
        Number.isFinite(p.filesPerDayAtLimit) ? n(p.filesPerDayAtLimit) : '-',
        p.factor >= target ? 'yes' : 'NO',
      ]),
    ),
  );
  out.push(
    `Headroom: ${factorText(report.headroom.factor)} over this load (${n(load.filesPerDay * report.headroom.factor)} files a day), ` +
      `limited by ${report.headroom.limitedBy}: the ${report.headroom.part}.`,
  );
  const plan = report.toTarget;
  if (plan.holds) out.push(`Every part holds ${factorText(target)} with these settings.`);
  else {
    out.push(`Not holding ${factorText(target)} with these settings, and what would:`);
    for (const p of report.capacity.filter((x) => x.factor < target)) out.push(`  - ${p.id} (${factorText(p.factor)}): ${p.remedy}`);
    out.push(
      plan.settings.length === 0
        ? `No setting raises them: these settings stay at ${factorText(report.headroom.factor)}.`
        : `${plan.headroom.factor >= target ? 'Settings that reach it' : 'Settings that raise what settings can'}: npx cdk deploy ${contextArguments(plan.settings)} ` +
            `(headroom ${factorText(plan.headroom.factor)}, limited by ${plan.headroom.limitedBy}; ` +
            `these settings: ${factorText(report.headroom.factor)}, limited by ${report.headroom.limitedBy}).`,
    );
    if (plan.quotaIncreases.length > 0)
      out.push(
        `Still short with ${plan.settings.length === 0 ? 'these settings' : 'them'} (a quota or the design must change, as above): ` +
          plan.quotaIncreases.map((q) => `${q.id} ${factorText(q.factor)}`).join(', ') +
          '.',
      );
  }
  out.push('Where each limit comes from:');
  for (const p of report.capacity) out.push(`  - ${p.id}: ${p.source}`);
  out.push('');
  const bench = measured.builder;
  out.push('Measured inputs:');
  out.push(
    `  builder benchmark ${measured.builderSource} (${bench.date}, ${bench.machine.cpus} x ${bench.machine.cpuModel}, load ${bench.machine.loadAverage1m}, ` +
      `${n(bench.settings.files)} files, ${bench.settings.datasets} datasets, ${bench.settings.concurrency} concurrent invocations, against the ${bench.machine.target}):`,
    `    ${bench.writeUnitsPerFile.withSweep.toFixed(2)} write units and ${bench.readUnitsPerFile.toFixed(2)} read units a file; OPEN# pointer read ${bench.pointerRead.meanMs.toFixed(1)} ms, ` +
      `commit ${bench.commitTransaction.meanMs.toFixed(1)} ms (means), ${(bench.conflictRate * 100).toFixed(1)}% of commits lost to a concurrent writer; ` +
      `${(bench.handlerSecondsPerFile * 1000).toFixed(0)} ms of handler time a file; a sweep ${bench.idleSweepSeconds.toFixed(2)} s idle, ${bench.sweepSeconds.toFixed(2)} s sealing ${bench.sweepSealedManifests}`,
    bench.contended === undefined
      ? `    no contended case (one dataset, several builders at once) in the file: the per-dataset limit is one pointer's latencies`
      : `    contended case: one dataset, ${bench.contended.builders} builders at once${bench.contended.shards === undefined ? '' : ` over ${bench.contended.shards} open manifests`}: ` +
          `${bench.contended.filesPerSecond} files/s, ${bench.contended.conflictsPerFile} conflicts and ${bench.contended.writeUnitsPerFile} write units a file`,
    `    (the emulator is slower than DynamoDB: rates and latencies from it make the builder's limits low, not high)`,
  );
  out.push(`  Glue job: ${measuredGlue(measured)}`);
  out.push(
    `  state machine: ${measured.successPath.transitions} transitions on the success path of ${path.relative(process.cwd(), CONVERT_MANIFEST_ASL_PATH) || CONVERT_MANIFEST_ASL_PATH} ` +
      `(${measured.successPath.states.join(' > ')})`,
  );
  out.push(
    `  stack, from ${inventory.source}: builder ${inventory.builder.memoryMb} MB ${inventory.builder.arch}, batches of ${inventory.builder.batchSize}, ` +
      `${inventory.builder.batchingWindowSeconds} s window, ${inventory.builder.maxConcurrency} at once; sweeper ${inventory.sweeper.memoryMb} MB every ${inventory.sweeper.everyMinutes} min; ` +
      `Glue ${inventory.glue.executionClass} ${inventory.glue.workerType} up to ${inventory.glue.maxWorkers} workers, ${inventory.glue.maxConcurrentRuns} runs at once; ` +
      `${inventory.alarms} alarms, ${inventory.dashboards} dashboard, ${inventory.kmsKeys} KMS keys, ${inventory.tables} tables`,
  );
  out.push(
    `Prices: ${PRICES.region}, on-demand, as of ${PRICES.asOf}; free tiers left out; a month is 30 days. Assumptions: docs/cost.md.`,
  );
  return out.join('\n');
}
