/** `pipeline status`: manifests by day, or one manifest with its files and executions. */
import { Command } from 'commander';
import { formatBytes, formatDuration, formatTime, parseSince, readableCause, renderTable, truncate } from '../format';
import { printable } from '../printable';
import type { ManifestRecord } from '../../handlers/common/state-store';
import { MANIFEST_STATUSES } from '../../contracts/table-schema';
import { listManifests, parseStatus } from '../ops/manifests';
import { ExecutionSummary, StateStep } from '../ops/executions';
import { FailedFile, ManifestDetail, manifestDetail, ManifestFileOutcome, publicRecord } from '../ops/status';
import { CliDeps, withTargetOptions, CliIo, positiveInt, printJson, targetOptions, withExamples } from './shared';

function duration(m: ManifestRecord, now: Date): string | undefined {
  if (m.startedAt === undefined) return undefined;
  const end = m.finishedAt !== undefined ? Date.parse(m.finishedAt) : now.getTime();
  const text = formatDuration(end - Date.parse(m.startedAt));
  return text !== undefined && m.finishedAt === undefined && m.status === 'RUNNING' ? `${text}…` : text;
}

function count(value: unknown): number | undefined {
  return value === undefined || value === null || !Number.isFinite(Number(value)) ? undefined : Number(value);
}

/** The manifests table: one row per manifest; FILES of a PARTIAL one says how many could not be read. */
export function manifestsTable(manifests: readonly ManifestRecord[], now: Date): string {
  return renderTable(
    ['MANIFEST', 'DATASET', 'FILES', 'STATUS', 'SEALED', 'DURATION', 'ROWS', 'QUARANTINED', 'REPLAYS'],
    manifests.map((m) => [
      m.manifestId,
      m.dataset,
      m.status === 'PARTIAL' && count(m.filesFailed) !== undefined ? `${m.fileCount ?? '?'} (${count(m.filesFailed)} failed)` : m.fileCount,
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
  if (s.failure)
    parts.push(`${printable(s.failure.error ?? 'error')}: ${truncate(readableCause(s.failure.cause), 240) ?? 'no cause given'}`);
  const span = s.enteredAt
    ? formatDuration((s.exitedAt ? Date.parse(s.exitedAt) : Date.parse(s.enteredAt)) - Date.parse(s.enteredAt))
    : undefined;
  return `${s.name} [${s.type}]${span && s.exitedAt ? ` ${span}` : ''}: ${parts.join('; ')}`;
}

function printExecution(io: CliIo, e: ExecutionSummary): void {
  const ran = e.startDate && e.stopDate ? formatDuration(Date.parse(e.stopDate) - Date.parse(e.startDate)) : undefined;
  io.out(
    `  ${e.name}  ${e.status}  started ${formatTime(e.startDate) ?? '-'}${e.stopDate ? `  stopped ${formatTime(e.stopDate)} (${ran})` : ''}`,
  );
  if (e.redriveCount) io.out(`    redriven ${e.redriveCount}x`);
  if (e.error) io.out(`    error: ${printable(e.error)}: ${truncate(readableCause(e.cause), 200) ?? 'no cause given'}`);
  if (e.consoleUrl) io.out(`    console: ${e.consoleUrl}`);
  for (const s of e.steps) io.out(`    ${stepLine(s)}`);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

function failureText(f: Pick<FailedFile, 'reason' | 'message'>, max: number): string {
  return `failed (${printable(String(f.reason))})${f.message ? `: ${truncate(f.message, max)}` : ''}`;
}

function outcomeText(f: ManifestFileOutcome): string | undefined {
  if (f.outcome === 'failed') return failureText({ reason: f.reason ?? 'unknown', message: f.message }, 120);
  return f.outcome;
}

/** Every file a PARTIAL manifest could not read, whatever `--files` says, and how to convert them. */
function printFailedFiles(io: CliIo, d: ManifestDetail): void {
  const id = d.manifest.manifestId;
  io.out('');
  if (d.failedFiles === undefined) {
    io.out(
      `Failed files: cannot tell which (${d.failedFilesProblem ?? 'the record does not list them'}); the manifest file lists every file`,
    );
    return;
  }
  const total = count(d.manifest.filesFailed);
  // The record holds the first few (the outcome document's list); the result file lists every one.
  io.out(
    total !== undefined && total > d.failedFiles.length
      ? `Failed files (${d.failedFiles.length} of ${total}; every one: manifests/${d.manifest.dataset}/${id}.result.json in the curated bucket)`
      : `Failed files (${d.failedFiles.length})`,
  );
  const unmatched = new Set(d.unmatchedFailures ?? []);
  for (const f of d.failedFiles) {
    const version = f.versionId ? ` (version ${printable(f.versionId)})` : '';
    io.out(`  ${printable(f.key)}${version}: ${failureText(f, 300)}${unmatched.has(f) ? " [not among the manifest's files]" : ''}`);
  }
  io.out(`  The other files were converted. Replay to read every file again at its pinned version: npx pipeline replay ${id}`);
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
    ['manifest file', m.manifestUri !== undefined ? printable(m.manifestUri) : undefined],
    [
      'files read',
      count(m.filesRead) !== undefined || count(m.filesFailed) !== undefined
        ? `${count(m.filesRead) ?? '?'} read, ${count(m.filesFailed) ?? '?'} could not be read`
        : undefined,
    ],
    [
      'lines',
      m.linesIn !== undefined
        ? `${m.linesIn} in = ${m.rowsOut ?? '?'} rows + ${m.rowsQuarantined ?? '?'} quarantined + ${m.blankLines ?? 0} blank`
        : undefined,
    ],
    ['output', m.outputFiles !== undefined ? `${m.outputFiles} Parquet files (${formatBytes(m.outputBytes) ?? '?'})` : undefined],
    // A replay that failed: the record keeps the output in place and its status (I4); the failure is the last run's.
    [
      'last run',
      m.lastRunStatus !== undefined && m.lastRunStatus !== m.status
        ? `${printable(String(m.lastRunStatus))} (the output in place, its status and counts are unchanged)`
        : undefined,
    ],
    [
      'error',
      m.error
        ? `${printable(m.error)}${m.failedState ? ` in ${printable(m.failedState)}` : ''}: ${truncate(readableCause(m.cause), 300) ?? 'no cause given'}`
        : undefined,
    ],
    ['replays', m.replayCount !== undefined ? String(m.replayCount) : undefined],
  ];
  io.out(`Manifest ${m.manifestId}`);
  for (const [label, value] of rows) if (value !== undefined) io.out(`  ${label.padEnd(14)}${value}`);
  if (m.status === 'PARTIAL') printFailedFiles(io, d);
  io.out('');
  io.out(`Files (${d.files.length})`);
  const shown = d.files.slice(0, maxFiles);
  if (shown.length > 0) {
    const withOutcome = shown.some((f) => f.outcome !== undefined);
    // Two contents of one key are two files: their pinned versions tell them apart.
    const withVersion = new Set(d.files.map((f) => f.key)).size < d.files.length;
    const headers = ['KEY', ...(withVersion ? ['VERSION'] : []), 'SIZE', ...(withOutcome ? ['OUTCOME'] : [])];
    const row = (f: ManifestFileOutcome) => [
      f.key,
      ...(withVersion ? [f.versionId] : []),
      formatBytes(f.size),
      ...(withOutcome ? [outcomeText(f)] : []),
    ];
    io.out(indent(renderTable(headers, shown.map(row))));
  }
  if (d.files.length > shown.length) io.out(`  ... and ${d.files.length - shown.length} more (--files ${d.files.length} or --json)`);
  io.out('');
  io.out(`Executions (${d.executions.length})`);
  for (const e of d.executions) printExecution(io, e);
}

export function registerStatusCommand(program: Command, deps: CliDeps): void {
  const cmd = program
    .command('status')
    .description(
      'list manifests opened since a time, or show one manifest with its files (and, once converted, what became of each) and executions',
    )
    .argument('[manifestId]', "a manifest id (or a replay's execution name) to show in detail")
    .option('--dataset <name>', 'only this dataset')
    .option('--state <status>', `only manifests in this status: ${MANIFEST_STATUSES.join(', ')} (PARTIAL: some files could not be read)`)
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
        // In the order a manifest moves through them; an unknown status last.
        const rank = (st: string) => {
          const i = (MANIFEST_STATUSES as readonly string[]).indexOf(st);
          return i < 0 ? MANIFEST_STATUSES.length : i;
        };
        const counts = [...byStatus.entries()]
          .sort(([a], [b]) => rank(a) - rank(b))
          .map(([st, n]) => `${n} ${printable(st)}`)
          .join(', ');
        io.out(`\n${manifests.length} manifests opened since ${formatTime(since)}${filters ? ` (${filters})` : ''}: ${counts}`);
        const toReplay = (byStatus.get('FAILED') ?? 0) + (byStatus.get('PARTIAL') ?? 0);
        if (toReplay > 0) {
          io.out(
            `${toReplay} FAILED or PARTIAL (PARTIAL: some files could not be read; npx pipeline status <manifestId> names them): ` +
              `replay with npx pipeline replay --failed --since ${opts.since}${opts.dataset ? ` --dataset ${opts.dataset}` : ''}`,
          );
        }
      },
    );
  withTargetOptions(cmd);
  withExamples(
    cmd,
    'npx pipeline status --since 24h --state FAILED',
    'npx pipeline status --state PARTIAL',
    'npx pipeline status orders-20261123-000042',
    'npx pipeline status --dataset orders --json',
  );
}
