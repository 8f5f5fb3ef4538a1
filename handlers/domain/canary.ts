/**
 * The canary's decisions, without I/O (docs/architecture.md, "Canary"): when a check uploads, where its file goes,
 * which files a check looks at, and what it measures from what it found.
 */
import { CANARY_DATASET } from '../../contracts/config';

/** Longest a final record may take to become readable after its `finishedAt` (one UpdateItem, with its retries). */
export const SETTLE_SECONDS = 60;

/**
 * The instant a check stands for: the schedule's tick nearest to the event's `time`, else to `now`. Ticks are
 * multiples of `checkSeconds` since the epoch, as the schedule's cron is (:00, :05, ...). "The minimum precision for
 * a schedule is one minute": a scheduled rule runs within its minute, not on its 0th second (Amazon EventBridge User
 * Guide, scheduled rules), so the nearest tick is the scheduled one; a late delivery of the same event keeps it.
 */
export function checkTimeOf(eventTime: string | undefined, now: Date, checkSeconds: number): Date {
  const parsed = eventTime === undefined ? NaN : Date.parse(eventTime);
  const at = Number.isNaN(parsed) ? now.getTime() : parsed;
  const step = checkSeconds * 1000;
  return new Date(Math.round(at / step) * step);
}

/** True when the check at `checkTime` uploads a file: its tick is a multiple of `everySeconds` since the epoch. */
export function isUploadTick(checkTime: Date, everySeconds: number): boolean {
  return Math.round(checkTime.getTime() / 1000) % everySeconds === 0;
}

/** `YYYY-MM-DD` of an instant, in UTC. */
function isoDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** The key prefix of the canary's files of one UTC day: `<ingestPrefix>pipeline_canary/<YYYY-MM-DD>/`. */
export function canaryDayPrefix(ingestPrefix: string, day: Date): string {
  return `${ingestPrefix}${CANARY_DATASET}/${isoDay(day)}/`;
}

/**
 * The key of the file uploaded at tick `tick`: `<ingestPrefix>pipeline_canary/<YYYY-MM-DD>/canary-<YYYYMMDDTHHMMSS>Z.ndjson`.
 * One key per tick, and the same bytes for it ({@link canaryBody}): a check retried after its upload uploads an
 * identical content, which the builder counts as a duplicate (I7), never as a second file.
 */
export function canaryKey(ingestPrefix: string, tick: Date): string {
  const stamp = tick
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
  return `${canaryDayPrefix(ingestPrefix, tick)}canary-${stamp}.ndjson`;
}

/** The tick a canary key was uploaded at, or undefined for a key that is not a canary file's. */
export function tickOfKey(key: string): Date | undefined {
  const m = /\/canary-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.ndjson$/.exec(key);
  if (m === null) return undefined;
  const at = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** The canary file's one line: it says it is the canary's, and which tick wrote it. */
export function canaryBody(tick: Date): string {
  return `${JSON.stringify({ canary: true, tick: tick.toISOString() })}\n`;
}

/** The day prefixes a check lists: every UTC day from `checkTime - lookbackSeconds` to `checkTime`. */
export function dayPrefixesToList(ingestPrefix: string, checkTime: Date, lookbackSeconds: number): string[] {
  const prefixes: string[] = [];
  const last = isoDay(checkTime);
  for (let at = new Date(checkTime.getTime() - lookbackSeconds * 1000); ; at = new Date(at.getTime() + 86_400_000)) {
    prefixes.push(canaryDayPrefix(ingestPrefix, at));
    if (isoDay(at) >= last) break;
  }
  return [...new Set(prefixes)];
}

/** What a check found about one canary file. */
export interface CanaryFile {
  readonly key: string;
  /** When S3 stored it (`LastModified`). */
  readonly uploadedAt: Date;
  /** When its manifest ended SUCCEEDED (`finishedAt`); undefined while it is not converted. */
  readonly convertedAt?: Date;
}

/** What a check publishes. */
export interface CanaryAssessment {
  /** Seconds from upload to converted, one per file whose conversion this check is the first to see. */
  readonly freshnessSeconds: number[];
  /**
   * Age of the oldest file not converted that was uploaded after the newest converted one (0 when none): a file
   * stuck behind a later file that did convert says nothing about the pipeline now (its manifest's own alert told).
   */
  readonly pendingAgeSeconds: number;
  /** The files counted in the pending age. */
  readonly pending: string[];
}

/**
 * The check's measures. Freshness counts each converted file once: the check at tick T takes the files whose
 * `finishedAt` falls in `[T - checkSeconds - settle, T - settle)`, windows that tile the time line from one tick to
 * the next, the settle ({@link SETTLE_SECONDS}, or the check period when shorter) leaving a record written late
 * to the next check.
 */
export function assess(files: readonly CanaryFile[], checkTime: Date, now: Date, checkSeconds: number): CanaryAssessment {
  const settle = Math.min(SETTLE_SECONDS, checkSeconds) * 1000;
  const windowEnd = checkTime.getTime() - settle;
  const windowStart = windowEnd - checkSeconds * 1000;
  const freshnessSeconds = files
    .filter((f) => f.convertedAt !== undefined && f.convertedAt.getTime() >= windowStart && f.convertedAt.getTime() < windowEnd)
    .map((f) => Math.max(0, (f.convertedAt!.getTime() - f.uploadedAt.getTime()) / 1000));
  const newestConverted = files.reduce((max, f) => (f.convertedAt !== undefined ? Math.max(max, f.uploadedAt.getTime()) : max), -Infinity);
  const pendingFiles = files.filter((f) => f.convertedAt === undefined && f.uploadedAt.getTime() > newestConverted);
  const oldest = pendingFiles.reduce((min, f) => Math.min(min, f.uploadedAt.getTime()), Infinity);
  return {
    freshnessSeconds,
    pendingAgeSeconds: pendingFiles.length === 0 ? 0 : Math.max(0, Math.round((now.getTime() - oldest) / 1000)),
    pending: pendingFiles.map((f) => f.key),
  };
}
