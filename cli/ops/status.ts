/** What `pipeline status <manifestId>` shows: the record, its files and its executions with their histories. */
import { CliContext } from '../context';
import { executionArnOf } from '../../handlers/domain/manifest';
import type { FileFailureReason } from '../../contracts/glue-job';
import { STATE_TABLE, STATE_TABLE_KEY_ATTRIBUTES } from '../../contracts/table-schema';
import { describeExecution, ExecutionSummary } from './executions';
import type { ManifestFileItem, ManifestRecord } from '../../handlers/common/state-store';
import { getManifest, getManifestFiles, recordedExecutions } from './manifests';

/** One entry of a PARTIAL manifest's `failedFiles`. */
export interface FailedFile {
  readonly uri?: string;
  readonly key: string;
  readonly versionId?: string | null;
  /** One of the job's `FILE_FAILURE_REASONS` (contracts/glue-job.json), printed as the record holds it. */
  readonly reason: FileFailureReason;
  readonly message?: string;
}

/** A file of the manifest with what its latest run made of it, when the record says (SUCCEEDED or PARTIAL). */
export interface ManifestFileOutcome extends ManifestFileItem {
  readonly outcome?: 'converted' | 'failed';
  readonly reason?: FailedFile['reason'];
  readonly message?: string;
}

/** A manifest with everything known about it. */
export interface ManifestDetail {
  readonly manifest: ManifestRecord;
  readonly files: ManifestFileOutcome[];
  /** The record's `failedFiles`, read; absent unless the manifest is PARTIAL. */
  readonly failedFiles?: FailedFile[];
  /** Failed files the record names that are not among the manifest's `F#` items (should not happen). */
  readonly unmatchedFailures?: FailedFile[];
  /** Why `failedFiles` could not be read, when it could not. */
  readonly failedFilesProblem?: string;
  readonly executions: ExecutionSummary[];
}

/** Reads the record's `failedFiles` (a JSON text of the result file's list; a list is taken as it is). */
export function parseFailedFiles(value: unknown): { files: FailedFile[] } | { problem: string } {
  let list: unknown = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value);
    } catch {
      return { problem: 'failedFiles is not JSON' };
    }
  }
  if (!Array.isArray(list)) return { problem: 'failedFiles is not a list' };
  const files: FailedFile[] = [];
  for (const entry of list) {
    const e = entry as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e.key !== 'string') return { problem: 'an entry of failedFiles has no key' };
    files.push({
      uri: typeof e.uri === 'string' ? e.uri : undefined,
      key: e.key,
      versionId: typeof e.versionId === 'string' ? e.versionId : null,
      reason: typeof e.reason === 'string' ? e.reason : 'unknown',
      message: typeof e.message === 'string' ? e.message : undefined,
    });
  }
  return { files };
}

/**
 * What the latest run made of each file: for a SUCCEEDED manifest every file was converted; for a PARTIAL one,
 * the files `failedFiles` names (by key and pinned version) failed and the others were converted. Otherwise
 * (no outcome yet, or FAILED as a whole) nothing is said per file.
 */
export function fileOutcomes(
  record: ManifestRecord,
  files: readonly ManifestFileItem[],
): Pick<ManifestDetail, 'files' | 'failedFiles' | 'unmatchedFailures' | 'failedFilesProblem'> {
  if (record.status === 'SUCCEEDED') return { files: files.map((f) => ({ ...f, outcome: 'converted' as const })) };
  if (record.status !== 'PARTIAL') return { files: [...files] };
  const parsed = parseFailedFiles(record.failedFiles);
  if ('problem' in parsed) return { files: [...files], failedFilesProblem: parsed.problem };
  const failureOf = new Map<number, FailedFile>();
  const unmatched: FailedFile[] = [];
  for (const failure of parsed.files) {
    const sameKey = (f: ManifestFileItem, i: number) => !failureOf.has(i) && f.key === failure.key;
    // The pinned version tells two contents of one key apart; without one, the key is enough.
    let index = files.findIndex((f, i) => sameKey(f, i) && failure.versionId != null && f.versionId === failure.versionId);
    if (index < 0) index = files.findIndex((f, i) => sameKey(f, i) && (failure.versionId == null || f.versionId === undefined));
    if (index < 0) unmatched.push(failure);
    else failureOf.set(index, failure);
  }
  // The record lists the first failed files only (the outcome document's list; the result file has them all): past
  // that, a file it does not list may have failed too, and nothing is said of it.
  const listsEvery = typeof record.filesFailed !== 'number' || record.filesFailed <= parsed.files.length;
  return {
    files: files.map((f, i) => {
      const failure = failureOf.get(i);
      if (failure === undefined && !listsEvery) return { ...f };
      return failure === undefined
        ? { ...f, outcome: 'converted' as const }
        : { ...f, outcome: 'failed' as const, reason: failure.reason, message: failure.message };
    }),
    failedFiles: parsed.files,
    unmatchedFailures: unmatched.length > 0 ? unmatched : undefined,
  };
}

/** Attributes of the item that are the table's and its indexes' keys, or its expiry, not facts about the manifest. */
const KEY_ATTRIBUTES = new Set([...STATE_TABLE_KEY_ATTRIBUTES, STATE_TABLE.ttlAttribute]);

/** The record without its table and index keys. */
export function publicRecord(record: ManifestRecord): ManifestRecord {
  return Object.fromEntries(Object.entries(record).filter(([k]) => !KEY_ATTRIBUTES.has(k))) as ManifestRecord;
}

/**
 * The ARNs of a manifest's executions: those recorded, plus the ones its names imply (`<id>`, `<id>-r1` to
 * `<id>-r<replayCount>`) in case a crash left one started but not recorded. Implied ones that do not exist are
 * dropped later.
 */
export function executionArns(record: ManifestRecord, stateMachineArn: string): { arn: string; recorded: boolean }[] {
  const recorded = recordedExecutions(record);
  const implied = [record.manifestId];
  for (let n = 1; n <= Number(record.replayCount ?? 0); n += 1) implied.push(`${record.manifestId}-r${n}`);
  const out = recorded.map((arn) => ({ arn, recorded: true }));
  if (record.status !== 'OPEN') {
    for (const name of implied) {
      const arn = executionArnOf(stateMachineArn, name);
      if (!recorded.includes(arn)) out.push({ arn, recorded: false });
    }
  }
  return out;
}

/** Reads a manifest's record, files and executions. */
export async function manifestDetail(ctx: CliContext, manifestId: string): Promise<ManifestDetail> {
  const record = await getManifest(ctx, manifestId);
  const files = await getManifestFiles(ctx, record.manifestId);
  const executions: ExecutionSummary[] = [];
  for (const { arn, recorded } of executionArns(record, ctx.target.stateMachineArn)) {
    const summary = await describeExecution(ctx, arn);
    if (summary.status !== 'NOT_FOUND' || recorded) executions.push(summary);
  }
  executions.sort((a, b) => (a.startDate ?? '').localeCompare(b.startDate ?? ''));
  return { manifest: publicRecord(record), ...fileOutcomes(record, files), executions };
}
