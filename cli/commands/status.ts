/** `pipeline status`: manifests by day, or one manifest with its files and executions. */
import { Command } from 'commander';
import { formatBytes, formatDuration, formatTime, parseSince, readableCause, renderTable, truncate } from '../format';
import { listManifests, ManifestRecord, parseStatus } from '../ops/manifests';
import { ExecutionSummary, StateStep } from '../ops/executions';
import { ManifestDetail, manifestDetail, publicRecord } from '../ops/status';
import { CliDeps, withTargetOptions, CliIo, positiveInt, printJson, targetOptions, withExamples } from './shared';

function duration(m: ManifestRecord, now: Date): string | undefined {
  if (m.startedAt === undefined) return undefined;
  const end = m.finishedAt !== undefined ? Date.parse(m.finishedAt) : now.getTime();
  const text = formatDuration(end - Date.parse(m.startedAt));
  return text !== undefined && m.finishedAt === undefined && m.status === 'RUNNING' ? `${text}…` : text;
}

/** The manifests table: one row per manifest. */
export function manifestsTable(manifests: readonly ManifestRecord[], now: Date): string {
  return renderTable(
    ['MANIFEST', 'DATASET', 'FILES', 'STATUS', 'SEALED', 'DURATION', 'ROWS', 'QUARANTINED', 'REPLAYS'],
    manifests.map((m) => [
      m.manifestId,
      m.dataset,
      m.fileCount,
      m.status,
      formatTime(m.sealedAt),
      duration(m, now),
      m.rowsOut,
      m.rowsQuarantined,
      m.replayCount,
    ]),
  );
}

function stepLine(s: StateStep): string {
  const parts: string[] = [s.outcome];
  if (s.retries.length > 0) {
    const errors = [...new Set(s.retries.map((r) => r.error ?? '?'))].join(', ');
    parts.push(`retried ${s.retries.length}x (${errors})`);
  }
  if (s.failure) parts.push(`${s.failure.error ?? 'error'}: ${truncate(readableCause(s.failure.cause), 240) ?? 'no cause given'}`);
  const span = s.enteredAt ? formatDuration((s.exitedAt ? Date.parse(s.exitedAt) : Date.parse(s.enteredAt)) - Date.parse(s.enteredAt)) : undefined;
  return `${s.name} [${s.type}]${span && s.exitedAt ? ` ${span}` : ''}: ${parts.join('; ')}`;
}

function printExecution(io: CliIo, e: ExecutionSummary): void {
  const ran = e.startDate && e.stopDate ? formatDuration(Date.parse(e.stopDate) - Date.parse(e.startDate)) : undefined;
  io.out(`  ${e.name}  ${e.status}  started ${formatTime(e.startDate) ?? '-'}${e.stopDate ? `  stopped ${formatTime(e.stopDate)} (${ran})` : ''}`);
  if (e.redriveCount) io.out(`    redriven ${e.redriveCount}x`);
  if (e.error) io.out(`    error: ${e.error}: ${truncate(readableCause(e.cause), 200) ?? 'no cause given'}`);
  if (e.consoleUrl) io.out(`    console: ${e.consoleUrl}`);
  for (const s of e.steps) io.out(`    ${stepLine(s)}`);
}

function printDetail(io: CliIo, d: ManifestDetail, maxFiles: number): void {
  const m = d.manifest;
  const rows: [string, string | undefined][] = [
    ['status', m.status],
    ['dataset', m.dataset],
    ['opened', formatTime(m.openedAt)],
    ['sealed', m.sealedAt ? `${formatTime(m.sealedAt)}${m.sealReason ? ` (${m.sealReason})` : ''}` : undefined],
    ['started', formatTime(m.startedAt)],
    ['finished', formatTime(m.finishedAt)],
    ['files', m.fileCount !== undefined ? `${m.fileCount} (${formatBytes(m.totalBytes) ?? '?'})` : undefined],
    ['manifest file', m.manifestUri],
    [
      'lines',
      m.linesIn !== undefined
        ? `${m.linesIn} in = ${m.rowsOut ?? '?'} rows + ${m.rowsQuarantined ?? '?'} quarantined + ${m.blankLines ?? 0} blank`
        : undefined,
    ],
    ['output', m.outputFiles !== undefined ? `${m.outputFiles} Parquet files (${formatBytes(m.outputBytes) ?? '?'})` : undefined],
    ['error', m.error ? `${m.error}${m.failedState ? ` in ${m.failedState}` : ''}: ${truncate(readableCause(m.cause), 300) ?? 'no cause given'}` : undefined],
    ['replays', m.replayCount !== undefined ? String(m.replayCount) : undefined],
  ];
  io.out(`Manifest ${m.manifestId}`);
  for (const [label, value] of rows) if (value !== undefined) io.out(`  ${label.padEnd(14)}${value}`);
  io.out('');
  io.out(`Files (${d.files.length})`);
  const shown = d.files.slice(0, maxFiles);
  if (shown.length > 0) {
    io.out(
      renderTable(['KEY', 'SIZE'], shown.map((f) => [f.key, formatBytes(f.size)]))
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
  }
  if (d.files.length > shown.length) io.out(`  ... and ${d.files.length - shown.length} more (--files ${d.files.length} or --json)`);
  io.out('');
  io.out(`Executions (${d.executions.length})`);
  for (const e of d.executions) printExecution(io, e);
}

export function registerStatusCommand(program: Command, deps: CliDeps): void {
  const cmd = program
    .command('status')
    .description('list manifests opened since a time, or show one manifest with its files and executions')
    .argument('[manifestId]', 'a manifest id (or a replay\'s execution name) to show in detail')
    .option('--dataset <name>', 'only this dataset')
    .option('--state <status>', 'only manifests in this status: OPEN, SEALED, RUNNING, SUCCEEDED, FAILED')
    .option('--since <time>', 'opened since an age (30m, 24h, 7d) or an ISO date or time', '7d')
    .option('--files <n>', 'files listed for one manifest', positiveInt('--files'), 50)
    .option('--json', 'print the data as JSON')
    .action(
      async (
        manifestId: string | undefined,
        opts: { dataset?: string; state?: string; since: string; files: number; json?: boolean },
        command: Command,
      ) => {
        const { io } = deps;
        const status = opts.state !== undefined ? parseStatus(opts.state) : undefined;
        const ctx = await deps.makeContext(targetOptions(command));
        const now = ctx.now();
        if (manifestId !== undefined) {
          const detail = await manifestDetail(ctx, manifestId);
          if (opts.json) printJson(io, detail);
          else printDetail(io, detail, opts.files);
          return;
        }
        const since = parseSince(opts.since, now);
        const manifests = await listManifests(ctx, { since, dataset: opts.dataset, status });
        if (opts.json) {
          printJson(io, { since: since.toISOString(), manifests: manifests.map(publicRecord) });
          return;
        }
        const filters = [opts.dataset ? `dataset ${opts.dataset}` : '', status ? `status ${status}` : ''].filter(Boolean).join(', ');
        if (manifests.length === 0) {
          io.out(`No manifests opened since ${formatTime(since)}${filters ? ` (${filters})` : ''}.`);
          return;
        }
        io.out(manifestsTable(manifests, now));
        const byStatus = new Map<string, number>();
        for (const m of manifests) byStatus.set(m.status, (byStatus.get(m.status) ?? 0) + 1);
        const counts = [...byStatus.entries()].map(([s, n]) => `${n} ${s}`).join(', ');
        io.out(`\n${manifests.length} manifests opened since ${formatTime(since)}${filters ? ` (${filters})` : ''}: ${counts}`);
      },
    );
  withTargetOptions(cmd);
  withExamples(
    cmd,
    'npx pipeline status --since 24h --state FAILED',
    'npx pipeline status orders-20261123-000042',
    'npx pipeline status --dataset orders --json',
  );
}
