/** `pipeline cost`: the monthly bill and the headroom of a load, beside the reference plan (docs/cost.md). */
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { resolveConfig } from '../../contracts/config';
import { renderTable } from '../format';
import {
  ASL_PATH,
  BUILDER_BENCHMARK_PATH,
  CostReport,
  GLUE_MEASURED,
  Measured,
  PRICES,
  REFERENCE_PLAN,
  StackInventory,
  costJson,
  costReport,
  fallbackInventory,
  glueThroughput,
  readBuilderBenchmark,
  readSuccessPath,
  referenceLoad,
  synthesizeInventory,
} from '../ops/cost';
import { CliDeps, positiveInt, printJson, withExamples } from './shared';

/** Parses a positive number option (decimals allowed). */
function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${name} takes a positive number, got "${value}"`);
    return n;
  };
}

const usd = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const num = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const factorText = (f: number) => (Number.isFinite(f) ? `${num(f, f < 10 ? 1 : 0)}x` : 'no limit');

/** The report as text: the bill beside the reference plan, the capacity, the inputs and the prices. */
export function renderCostReport(report: CostReport, inventory: StackInventory, measured: Measured, target: number): string {
  const { load, batching: b, glueRun: run } = report;
  const out: string[] = [];
  out.push(
    `Monthly bill model, month ${report.month} of operation: ${num(load.filesPerDay)} files a day of ${load.mbPerFile} MB, even arrival, ` +
      `${load.datasets} dataset${load.datasets === 1 ? '' : 's'}, batchSize ${load.batchSize}, maxWaitMinutes ${load.maxWaitMinutes}`,
  );
  out.push(
    `  ${num(b.filesPerManifest, 1)} files per manifest (sealed ${b.sealedBy === 'full' ? 'full' : `after ${load.maxWaitMinutes} min`}), ` +
      `${num(b.manifestsPerDay, 1)} manifests a day; a Glue run: ${run.workers} x ${inventory.glue.workerType}, ${num(run.seconds, 1)} s, ` +
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
    `Capacity: the load at which each part reaches its limit (the reference plan claims ${target}x = ${num(load.filesPerDay * target)} files a day)`,
  );
  out.push(
    renderTable(
      ['PART', 'LIMIT', 'USED NOW', 'REACHED AT', 'FILES/DAY THEN', `HOLDS ${target}x`],
      report.capacity.map((p) => [
        p.part,
        p.limit,
        `${num(p.utilization * 100, 2)}%`,
        factorText(p.factor),
        Number.isFinite(p.filesPerDayAtLimit) ? num(p.filesPerDayAtLimit) : '-',
        p.factor >= target ? 'yes' : 'NO',
      ]),
    ),
  );
  out.push(
    `Headroom: ${factorText(report.headroom.factor)} over this load (${num(load.filesPerDay * report.headroom.factor)} files a day); the first limit is the ${report.headroom.part}.`,
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
      `${num(bench.settings.files)} files, ${bench.settings.datasets} datasets, ${bench.settings.concurrency} concurrent invocations, against the ${bench.machine.target}):`,
    `    ${bench.writeUnitsPerFile.withSweep.toFixed(2)} write units and ${bench.readUnitsPerFile.toFixed(2)} read units a file; OPEN# pointer read ${bench.pointerRead.meanMs.toFixed(1)} ms, ` +
      `commit ${bench.commitTransaction.meanMs.toFixed(1)} ms (means), ${(bench.conflictRate * 100).toFixed(1)}% of commits lost to a concurrent writer; ` +
      `${(bench.handlerSecondsPerFile * 1000).toFixed(0)} ms of handler time a file; a sweep ${bench.idleSweepSeconds.toFixed(2)} s idle, ${bench.sweepSeconds.toFixed(2)} s sealing ${bench.sweepSealedManifests}`,
    `    (the emulator is slower than DynamoDB: latencies from it make the pointer and builder limits low, not high)`,
  );
  out.push(`  Glue job: ${measuredGlue()}`);
  out.push(
    `  state machine: ${measured.successPath.transitions} transitions on the success path of ${path.relative(process.cwd(), ASL_PATH) || ASL_PATH} ` +
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

function measuredGlue(): string {
  const t = glueThroughput();
  return `${GLUE_MEASURED.source}: ${t.coreSecondsPerGb.toFixed(0)} core-s a GB warm, +${t.coldJvmSeconds.toFixed(0)} s for a cold JVM, Parquet ${((GLUE_MEASURED.parquetMb / GLUE_MEASURED.batchMb) * 100).toFixed(1)}% of the NDJSON`;
}

export function registerCostCommand(program: Command, deps: CliDeps): void {
  const defaults = resolveConfig({});
  const reference = referenceLoad(defaults);
  const cost = program
    .command('cost')
    .description(
      'print the monthly bill model of a load (every service of the stack, beside the reference plan) and the load at which each part reaches its limit; ' +
        "reads the builder benchmark's figures (make bench-builder), the ASL and the synthesized stack; needs no deployed stack",
    )
    .option('--files-per-day <n>', 'files uploaded a day, evenly', positiveNumber('--files-per-day'), reference.filesPerDay)
    .option('--mb-per-file <mb>', 'average file size in MB (10^6 bytes)', positiveNumber('--mb-per-file'), reference.mbPerFile)
    .option('--datasets <n>', 'datasets the files spread over evenly', positiveInt('--datasets'), reference.datasets)
    .option('--batch-size <n>', "most files in a manifest (the config's)", positiveInt('--batch-size'), defaults.batchSize)
    .option(
      '--max-wait-minutes <n>',
      "seal a manifest once its oldest file waited this long (the config's)",
      positiveInt('--max-wait-minutes'),
      defaults.maxWaitMinutes,
    )
    .option('--month <n>', 'month of operation to bill: storage accumulates, raw data moves to IA after 30 days', positiveInt('--month'), 1)
    .addOption(
      new Option('--execution-class <class>', "Glue execution class to price (default: the stack's)").choices(['FLEX', 'STANDARD']),
    )
    .option('--target <factor>', 'headroom each part is checked against', positiveNumber('--target'), REFERENCE_PLAN.headroomFactor)
    .addOption(
      new Option('--benchmark <file>', "the builder benchmark's result file").default(
        BUILDER_BENCHMARK_PATH,
        'bench/results/manifest-builder.json',
      ),
    )
    .option('--json', 'print one JSON object: filesPerDay, manifestsPerDay, monthlyUsd, services, headroom, capacity and the inputs')
    .action(
      (opts: {
        filesPerDay: number;
        mbPerFile: number;
        datasets: number;
        batchSize: number;
        maxWaitMinutes: number;
        month: number;
        executionClass?: 'FLEX' | 'STANDARD';
        target: number;
        benchmark: string;
        json?: boolean;
      }) => {
        const config = resolveConfig({ batchSize: opts.batchSize, maxWaitMinutes: opts.maxWaitMinutes });
        let inventory: StackInventory;
        try {
          inventory = synthesizeInventory(config);
        } catch (err) {
          deps.io.err(
            `warning: the stack did not synthesize (${(err as Error).message.split('\n')[0]}); using the inventory written in cli/ops/cost.ts`,
          );
          inventory = fallbackInventory(config);
        }
        const measured: Measured = {
          builder: readBuilderBenchmark(opts.benchmark),
          builderSource: path.relative(process.cwd(), opts.benchmark) || opts.benchmark,
          successPath: readSuccessPath(),
        };
        const load = {
          filesPerDay: opts.filesPerDay,
          mbPerFile: opts.mbPerFile,
          datasets: opts.datasets,
          batchSize: opts.batchSize,
          maxWaitMinutes: opts.maxWaitMinutes,
        };
        const report = costReport({
          load,
          inventory,
          measured,
          month: opts.month,
          executionClass: opts.executionClass,
          targetFactor: opts.target,
        });
        if (opts.json) printJson(deps.io, costJson(report, inventory, measured));
        else deps.io.out(renderCostReport(report, inventory, measured, opts.target));
      },
    );
  withExamples(
    cost,
    'npx pipeline cost',
    'npx pipeline cost --files-per-day 4800000 --datasets 3 --execution-class STANDARD',
    'npx pipeline cost --month 12 --json',
  );
}
