/** What `pipeline status <manifestId>` shows: the record, its files and its executions with their histories. */
import { CliContext } from '../context';
import { executionArnOf } from '../../handlers/domain/manifest';
import { describeExecution, ExecutionSummary } from './executions';
import { getManifest, getManifestFiles, ManifestFile, ManifestRecord, recordedExecutions } from './manifests';

/** A manifest with everything known about it. */
export interface ManifestDetail {
  readonly manifest: ManifestRecord;
  readonly files: ManifestFile[];
  readonly executions: ExecutionSummary[];
}

/** Attributes of the item that are keys, not facts about the manifest. */
const KEY_ATTRIBUTES = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'pendingPk', 'pendingSk', 'expiresAt']);

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
  return { manifest: publicRecord(record), files, executions };
}
