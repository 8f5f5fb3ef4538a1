/** `pipeline cost` as text: the bill beside the reference plan, the capacity, the inputs and the prices. */
import * as path from 'node:path';
import { CONVERT_MANIFEST_ASL_PATH } from '../../../contracts/convert-manifest-asl';
import { formatNumber as n, renderTable } from '../../format';
import { glueThroughput } from './inputs/benchmarks';
import type { StackInventory } from './inputs/template';
import { REFERENCE_PLAN, type CostReport, type Measured } from './model';
import { PRICES } from './prices';

const usd = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const factorText = (f: number) => (Number.isFinite(f) ? `${n(f, f < 10 ? 1 : 0)}x` : 'no limit');

/** The Glue benchmark's figures as the model uses them. */
function measuredGlue(measured: Measured): string {
  const t = glueThroughput(measured.glue);
  return `${measured.glueSource}: ${t.coreSecondsPerGb.toFixed(0)} core-s a GB warm, +${t.coldJvmSeconds.toFixed(0)} s for a cold JVM, Parquet ${(t.parquetShare * 100).toFixed(1)}% of the NDJSON`;
}

/** The report as text: the bill beside the reference plan, the capacity, the inputs and the prices. */
export function renderCostReport(report: CostReport, inventory: StackInventory, measured: Measured, target: number): string {
  const { load, batching: b, glueRun: run } = report;
  const out: string[] = [];
  out.push(
    `Monthly bill model, month ${report.month} of operation: ${n(load.filesPerDay)} files a day of ${load.mbPerFile} MB, even arrival, ` +
      `${load.datasets} dataset${load.datasets === 1 ? '' : 's'}, batchSize ${load.batchSize}, maxWaitMinutes ${load.maxWaitMinutes}`,
  );
  out.push(
    `  ${n(b.filesPerManifest, 1)} files per manifest (sealed ${b.sealedBy === 'full' ? 'full' : `after ${load.maxWaitMinutes} min`}), ` +
      `${n(b.manifestsPerDay, 1)} manifests a day; a Glue run: ${run.workers} x ${inventory.glue.workerType}, ${n(run.seconds, 1)} s, ` +
      `${run.billedSeconds} s billed, $${run.usd[report.glueExecutionClass].toFixed(4)} ${report.glueExecutionClass}`,
  );
  out.push('');
  const reference = REFERENCE_PLAN.lines;
  const rows = report.lines.map((l) => [l.service, usd(l.usd), reference[l.service] ?? '', l.detail]);
  rows.push(['TOTAL', usd(report.monthlyUsd), REFERENCE_PLAN.totalUsd, '']);
  out.push(renderTable(['SERVICE', 'USD/MONTH', 'REFERENCE PLAN', 'HOW'], rows));
  out.push(
    `(reference plan: ${REFERENCE_PLAN.load}; compare it with the default load only)`,
    `Storage accumulates (raw data is kept): each further month adds about $${usd(report.storageGrowthUsdPerMonth)}; see --month.`,
  );
  out.push('');
  out.push(
    `Capacity: the load at which each part reaches its limit (the reference plan claims ${target}x = ${n(load.filesPerDay * target)} files a day)`,
  );
  out.push(
    renderTable(
      ['PART', 'LIMIT', 'USED NOW', 'REACHED AT', 'FILES/DAY THEN', `HOLDS ${target}x`],
      report.capacity.map((p) => [
        p.part,
        p.limit,
        `${n(p.utilization * 100, 2)}%`,
        factorText(p.factor),
        Number.isFinite(p.filesPerDayAtLimit) ? n(p.filesPerDayAtLimit) : '-',
        p.factor >= target ? 'yes' : 'NO',
      ]),
    ),
  );
  out.push(
    `Headroom: ${factorText(report.headroom.factor)} over this load (${n(load.filesPerDay * report.headroom.factor)} files a day); the first limit is the ${report.headroom.part}.`,
  );
  const short = report.capacity.filter((p) => p.factor < target);
  if (short.length === 0) out.push(`Every part holds ${target}x.`);
  else {
    out.push(`Not holding ${target}x, and what would:`);
    for (const p of short) out.push(`  - ${p.part} (${factorText(p.factor)}): ${p.remedy}`);
  }
  out.push('');
  const bench = measured.builder;
  out.push('Measured inputs:');
  out.push(
    `  builder benchmark ${measured.builderSource} (${bench.date}, ${bench.machine.cpus} x ${bench.machine.cpuModel}, load ${bench.machine.loadAverage1m}, ` +
      `${n(bench.settings.files)} files, ${bench.settings.datasets} datasets, ${bench.settings.concurrency} concurrent invocations, against the ${bench.machine.target}):`,
    `    ${bench.writeUnitsPerFile.withSweep.toFixed(2)} write units and ${bench.readUnitsPerFile.toFixed(2)} read units a file; OPEN# pointer read ${bench.pointerRead.meanMs.toFixed(1)} ms, ` +
      `commit ${bench.commitTransaction.meanMs.toFixed(1)} ms (means), ${(bench.conflictRate * 100).toFixed(1)}% of commits lost to a concurrent writer; ` +
      `${(bench.handlerSecondsPerFile * 1000).toFixed(0)} ms of handler time a file; a sweep ${bench.idleSweepSeconds.toFixed(2)} s idle, ${bench.sweepSeconds.toFixed(2)} s sealing ${bench.sweepSealedManifests}`,
    `    (the emulator is slower than DynamoDB: latencies from it make the pointer and builder limits low, not high)`,
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
