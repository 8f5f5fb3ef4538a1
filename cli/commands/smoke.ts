/** `pipeline smoke`: upload a few fixed files, convert them at once, and check every promise the docs make about them. */
import { Command } from 'commander';
import { CliError } from '../errors';
import { runSmoke, SMOKE_DATASET, type SmokeCheck } from '../ops/smoke';
import { CliDeps, positiveInt, printJson, targetOptions, withExamples, withTargetOptions } from './shared';

interface SmokeCommandOptions {
  json?: boolean;
  timeoutSeconds: number;
}

/** One line of a check: its outcome, name, time since the start and what it saw. */
export function checkLine(c: SmokeCheck): string {
  return `${c.passed ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(10)} ${c.seconds.toFixed(1).padStart(7)} s  ${c.detail}`;
}

export function registerSmokeCommand(program: Command, deps: CliDeps): void {
  const cmd = program
    .command('smoke')
    .description(
      `prove the pipeline works end to end: upload a few fixed files into the dataset ${SMOKE_DATASET}, seal their manifest at once, ` +
        'wait for the conversion, and check its status, counts, Parquet, quarantined line and catalog table; exits 1 at the first failed check',
    )
    .option('--json', 'print {"passed", "checks": [{"name", "passed", "seconds", "detail"}], "latencySeconds"} on stdout')
    .option('--timeout-seconds <n>', 'longest wait for the conversion, from the start', positiveInt('--timeout-seconds'), 1800)
    .action(async (opts: SmokeCommandOptions, command: Command) => {
      const { io } = deps;
      const ctx = await deps.makeContext(targetOptions(command));
      const where = ctx.target.mode === 'local' ? 'the local mode' : `stack ${ctx.target.stackName}`;
      io.err(`smoke test of ${where}: dataset ${SMOKE_DATASET}`);
      const report = await runSmoke(ctx, {
        timeoutMs: opts.timeoutSeconds * 1000,
        // The checks go to stdout as they pass, unless stdout is for the JSON; the waits to stderr.
        onCheck: (c) => (opts.json ? io.err(checkLine(c)) : io.out(checkLine(c))),
        onProgress: (message) => io.err(`  ... ${message}`),
      });
      if (opts.json) printJson(io, report);
      else if (report.passed) io.out(`passed: upload to queryable in ${report.latencySeconds.toFixed(1)} s`);
      const failed = report.checks.find((c) => !c.passed);
      if (failed !== undefined) throw new CliError(`smoke check ${failed.name} failed: ${failed.detail}`);
    });
  withTargetOptions(cmd);
  withExamples(cmd, 'npx pipeline smoke --stack-name IngestPipeline', 'npx pipeline smoke --local --json');
}
