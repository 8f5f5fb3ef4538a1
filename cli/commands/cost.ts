/** `pipeline cost`: the monthly bill and the headroom of a load, beside the reference plan (docs/cost.md). */
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { canaryLookbackMinutes, resolveConfig } from '../../contracts/config';
import { canaryCost, renderCanaryCost } from '../ops/cost/canary';
import {
  BUILDER_BENCHMARK_PATH,
  GLUE_BENCHMARK_PATH,
  glueBenchmarkSource,
  readBuilderBenchmark,
  readGlueBenchmark,
} from '../ops/cost/inputs/benchmarks';
import { readSuccessPath } from '../ops/cost/inputs/state-machine';
import { synthesizeInventory } from '../ops/cost/inputs/template';
import { REFERENCE_PLAN, referenceLoad, shardingOf, type Measured } from '../ops/cost/model';
import { renderCostReport } from '../ops/cost/render';
import { costJson, costReport } from '../ops/cost/report';
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

/** A results file as the output names it: relative to the working directory. */
const shown = (file: string) => path.relative(process.cwd(), file) || file;

export function registerCostCommand(program: Command, deps: CliDeps): void {
  const defaults = resolveConfig({});
  const reference = referenceLoad(defaults);
  const cost = program
    .command('cost')
    .description(
      'print the monthly bill model of a load (every service of the stack, beside the reference plan) and the load at which each part reaches its limit; ' +
        "reads the benchmarks' figures (make bench-builder, make bench-glue), the ASL and the synthesized stack; needs no deployed stack",
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
    .option(
      '--canary-every-minutes <n>',
      'also print what the canary adds at this canary.everyMinutes (a multiple of 5): its checks, files, manifests and Glue runs',
      positiveInt('--canary-every-minutes'),
    )
    .option(
      '--scale <factor>',
      'multiply the load (files a day) by this factor: the bill at that scale, the headroom over it',
      positiveNumber('--scale'),
      1,
    )
    .option(
      '--target <factor>',
      'headroom each part is checked against, over the load before --scale',
      positiveNumber('--target'),
      REFERENCE_PLAN.headroomFactor,
    )
    .addOption(
      new Option('--network <mode>', 'the network mode to bill: private adds the VPC endpoints (-c network=private)')
        .choices(['public', 'private'])
        .default('public'),
    )
    .addOption(
      new Option('--benchmark <file>', "the builder benchmark's result file").default(
        BUILDER_BENCHMARK_PATH,
        'bench/results/manifest-builder.json',
      ),
    )
    .addOption(
      new Option('--glue-benchmark <file>', "the Glue benchmark's result file").default(GLUE_BENCHMARK_PATH, 'bench/results/glue-job.json'),
    )
    .option(
      '--json',
      'print one JSON object: filesPerDay, manifestsPerDay, monthlyUsd, services, headroom (factor, part, limitedBy), toTarget, capacity and the inputs',
    )
    .action(
      (opts: {
        filesPerDay: number;
        mbPerFile: number;
        datasets: number;
        batchSize: number;
        maxWaitMinutes: number;
        month: number;
        executionClass?: 'FLEX' | 'STANDARD';
        canaryEveryMinutes?: number;
        scale: number;
        network: 'public' | 'private';
        target: number;
        benchmark: string;
        glueBenchmark: string;
        json?: boolean;
      }) => {
        const config = resolveConfig({ batchSize: opts.batchSize, maxWaitMinutes: opts.maxWaitMinutes, network: opts.network });
        // Checked as the stack's setting is (a multiple of 5 from 5 to 1440).
        const withCanary = resolveConfig({ ...config, canary: { everyMinutes: opts.canaryEveryMinutes } });
        // The stack as it is now: if it does not synthesize, there is no inventory to bill (the error says why).
        // Synthesized without the canary: its function, schedule and alarms are in its own lines, below.
        const inventory = synthesizeInventory(config);
        const glue = readGlueBenchmark(opts.glueBenchmark);
        const measured: Measured = {
          builder: readBuilderBenchmark(opts.benchmark),
          builderSource: shown(opts.benchmark),
          glue,
          glueSource: glueBenchmarkSource(glue, shown(opts.glueBenchmark)),
          successPath: readSuccessPath(),
        };
        const load = {
          filesPerDay: opts.filesPerDay * opts.scale,
          mbPerFile: opts.mbPerFile,
          datasets: opts.datasets,
          batchSize: opts.batchSize,
          maxWaitMinutes: opts.maxWaitMinutes,
        };
        // The target is of the load before --scale: at --scale 600, 600x of the reference load is 1x of this one.
        const targetFactor = opts.target / opts.scale;
        const report = costReport({
          load,
          inventory,
          measured,
          month: opts.month,
          executionClass: opts.executionClass,
          targetFactor,
          sharding: shardingOf(inventory),
        });
        // The canary's own lines, beside the load's bill: it runs whatever the load (docs/cost.md, "The canary").
        const canary =
          withCanary.canary.everyMinutes === undefined
            ? undefined
            : canaryCost({
                everyMinutes: withCanary.canary.everyMinutes,
                maxWaitMinutes: config.maxWaitMinutes,
                lookbackMinutes: canaryLookbackMinutes(withCanary),
                inventory,
                measured,
                executionClass: opts.executionClass ?? inventory.glue.executionClass,
              });
        if (opts.json) {
          const json = costJson(report, inventory, measured, opts.scale);
          printJson(deps.io, canary === undefined ? json : { ...json, canary });
        } else {
          deps.io.out(renderCostReport(report, inventory, measured, targetFactor, opts.scale));
          if (canary !== undefined) deps.io.out(`\n${renderCanaryCost(canary)}`);
        }
      },
    );
  withExamples(
    cost,
    'npx pipeline cost',
    'npx pipeline cost --files-per-day 4800000 --datasets 3 --execution-class STANDARD',
    'npx pipeline cost --month 12 --json',
    'npx pipeline cost --scale 600',
    'npx pipeline cost --canary-every-minutes 60',
    'npx pipeline cost --network private',
  );
}
