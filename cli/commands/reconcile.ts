/** `pipeline reconcile`: the ingest bucket's object versions against the state table; what no notification brought is sent. */
import { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { formatTime, parseSince, renderTable } from '../format';
import { printable } from '../printable';
import { reconcile, ReconcileProgress, ReconcileResult } from '../ops/reconcile';
import { CliDeps, printJson, targetOptions, withExamples, withTargetOptions } from './shared';

interface ReconcileCommandOptions {
  dataset?: string;
  since?: string;
  dryRun?: boolean;
  json?: boolean;
}

/**
 * Progress on stderr once the listing is long (more than one page of 1,000 versions): a bar on a terminal, whose total
 * grows as pages come, else one line per page.
 */
function progressReporter(deps: CliDeps) {
  const { io } = deps;
  let bar: SingleBar | undefined;
  let shown = false;
  return {
    page: (p: ReconcileProgress) => {
      if (!p.more && !shown) return; // one page: no progress to show
      shown = true;
      const total = p.listed + (p.more ? 1000 : 0);
      if (!io.stderrIsTTY) {
        io.err(`compared ${p.listed} versions${p.more ? ', listing more' : ''}: ${p.missing} missing, ${p.sent} sent`);
        return;
      }
      if (bar === undefined) {
        bar = new SingleBar(
          { format: ' {bar} {value} versions compared{more} | {missing} missing, {sent} sent', hideCursor: true, stream: process.stderr },
          Presets.shades_classic,
        );
        bar.start(total, 0, { more: '', missing: 0, sent: 0 });
      }
      bar.setTotal(total);
      bar.update(p.listed, { more: p.more ? ' (listing more)' : '', missing: p.missing, sent: p.sent });
    },
    stop: () => bar?.stop(),
  };
}

function printReport(deps: CliDeps, result: ReconcileResult, dryRun: boolean): void {
  const { io } = deps;
  const names = Object.keys(result.datasets).sort();
  if (names.length === 0) {
    io.out(`No object versions to compare${result.comparedSince ? ` modified since ${formatTime(result.comparedSince)}` : ''}.`);
  } else {
    io.out(
      renderTable(
        ['DATASET', 'IN MANIFESTS', 'REJECTED', 'MISSING', 'SENT'],
        names.map((name) => {
          const c = result.datasets[name];
          return [name, String(c.inManifests), String(c.rejected), String(c.missing), String(c.sent)];
        }),
      ),
    );
  }
  const missing = names.reduce((n, name) => n + result.datasets[name].missing, 0);
  const sent = names.reduce((n, name) => n + result.datasets[name].sent, 0);
  const extra = [
    result.ignored > 0 ? `${result.ignored} zero-byte versions ignored (as the builder ignores them)` : '',
    result.notCompared > 0 ? `${result.notCompared} versions modified before ${formatTime(result.comparedSince)} not compared` : '',
  ].filter(Boolean);
  io.out(`\n${result.listed} object versions listed${extra.length > 0 ? `; ${extra.join('; ')}` : ''}.`);
  if (result.horizonNote) io.err(`note: ${result.horizonNote}`);
  if (missing === 0) {
    io.out('Nothing missing: every version is in a manifest or recorded as rejected.');
  } else if (dryRun) {
    io.out(`Dry run: ${missing} missing versions (${result.files.length} files), nothing sent. Run without --dry-run to send them:`);
    for (const f of result.files.slice(0, 20)) io.out(`  ${printable(f.key)}${f.versionId ? ` (version ${printable(f.versionId)})` : ''}`);
    if (result.files.length > 20) io.out(`  ... and ${result.files.length - 20} more (--json has the counts)`);
  } else {
    io.out(
      `Sent ${sent} notifications for ${missing} missing versions to the ingest queue; the manifest builder places them as it does ` +
        "S3's own. Follow them with: npx pipeline status --since 1h",
    );
  }
}

export function registerReconcileCommand(program: Command, deps: CliDeps): void {
  const cmd = program
    .command('reconcile')
    .description(
      'compare every object version under the ingest prefix with the state table and send what no notification brought ' +
        '(lost, expired in the DLQ, or uploaded before the stack existed) to the ingest queue as the S3 notification S3 ' +
        'would have sent; a second run finds nothing to send. A version whose content (eTag) is already in a manifest, ' +
        'under this version or another of the key, counts as in manifests and is not sent; versions with the same ' +
        'content are sent once; zero-byte objects are ignored, as the builder ignores them. File records expire after ' +
        '90 days: once the state table is older than that, versions modified before then are not compared',
    )
    .option('--dataset <name>', 'only this dataset (keys under incoming/<name>/)')
    .option('--since <time>', 'only versions modified since an age (30m, 24h, 7d, 2w) or an ISO date or time')
    .option('--dry-run', 'compare and print the counts, send nothing')
    .option('--json', 'print {"datasets": {"<name>": {"inManifests", "rejected", "missing", "sent"}}}')
    .action(async (opts: ReconcileCommandOptions, command: Command) => {
      const { io } = deps;
      const ctx = await deps.makeContext(targetOptions(command));
      const since = opts.since === undefined ? undefined : parseSince(opts.since, ctx.now());
      const reporter = progressReporter(deps);
      let result: ReconcileResult;
      try {
        result = await reconcile(ctx, { dataset: opts.dataset, since, dryRun: opts.dryRun === true, onPage: reporter.page });
      } finally {
        reporter.stop();
      }
      if (opts.json) printJson(io, { datasets: result.datasets });
      else printReport(deps, result, opts.dryRun === true);
    });
  withTargetOptions(cmd);
  withExamples(
    cmd,
    'npx pipeline reconcile --dry-run',
    'npx pipeline reconcile --dataset orders --since 7d',
    'npx pipeline reconcile --stack-name IngestPipeline --json',
  );
}
