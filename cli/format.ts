/** Plain-text rendering of the CLI's output: tables, sizes, durations, times. */
import { UsageError } from './errors';
import { printable } from './printable';

/** Renders rows as a left-aligned table with a header line; empty cells print as `-`, control characters escaped. */
export function renderTable(headers: readonly string[], rows: readonly (readonly (string | number | undefined)[])[]): string {
  const cells = rows.map((r) => headers.map((_, i) => (r[i] === undefined || r[i] === '' ? '-' : printable(String(r[i])))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r: readonly string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [line(headers), ...cells.map(line)].join('\n');
}

/** A number with thousands separators and exactly `digits` decimals (`12,345.6`). */
export function formatNumber(x: number, digits = 0): string {
  return x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A byte count in binary units (`3.5 MiB`). */
export function formatBytes(bytes: number | undefined): string | undefined {
  if (bytes === undefined || !Number.isFinite(bytes)) return undefined;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A duration in milliseconds as `1h02m`, `3m05s` or `12.3s`. */
export function formatDuration(ms: number | undefined): string | undefined {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return undefined;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** An ISO time shortened for a table (`2026-11-23 10:05:00Z`). */
export function formatTime(iso: string | Date | undefined): string | undefined {
  if (iso === undefined) return undefined;
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(d.getTime())) return typeof iso === 'string' ? iso : undefined;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** Shortens a text for one table cell or line, control characters escaped; the full text stays in `--json`. */
export function truncate(text: string | undefined, max: number): string | undefined {
  if (text === undefined) return undefined;
  const flat = printable(text.replace(/\s+/g, ' ').trim());
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

const RELATIVE = /^(\d+)\s*(m|h|d|w)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Parses `--since`: a relative age (`30m`, `24h`, `7d`, `2w`) or an ISO date or time (UTC unless it says). */
export function parseSince(value: string, now: Date): Date {
  const rel = RELATIVE.exec(value.trim());
  if (rel) return new Date(now.getTime() - Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS]);
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const iso = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
    const d = new Date(iso);
    if (!Number.isNaN(d.getTime())) {
      if (d.getTime() > now.getTime()) throw new UsageError(`--since ${value} is in the future`);
      return d;
    }
  }
  throw new UsageError(`--since "${value}" is neither an age (30m, 24h, 7d, 2w) nor an ISO date (2026-11-23 or 2026-11-23T10:00:00Z)`);
}

/** The UTC days (`YYYY-MM-DD`) from `since` to `now`, oldest first. */
export function daysBetween(since: Date, now: Date): string[] {
  const days: string[] = [];
  const cursor = new Date(Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), since.getUTCDate()));
  while (cursor.getTime() <= now.getTime()) {
    days.push(cursor.toISOString().slice(0, 10));
    cursor.setUTCDate(cursor.getUTCDate() + 1);
  }
  return days;
}

/**
 * The readable part of a Step Functions error cause. A failed `glue:startJobRun.sync` gives the whole job run as
 * JSON, with the reason in `ErrorMessage`; a Lambda error gives `errorMessage`. Other causes are kept as they are.
 */
export function readableCause(cause: string | undefined): string | undefined {
  if (cause === undefined || !cause.trimStart().startsWith('{')) return cause;
  try {
    const parsed = JSON.parse(cause) as Record<string, unknown>;
    if (typeof parsed.ErrorMessage === 'string') {
      // The run's id is left out: it is long, and the JSON output keeps the whole cause.
      return `Glue job run ${typeof parsed.JobRunState === 'string' ? parsed.JobRunState : 'failed'}: ${parsed.ErrorMessage}`;
    }
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // Not JSON after all: show it as it is.
  }
  return cause;
}
