/**
 * `make demo`: the whole pipeline on this machine, on sample data, with one unreadable file and its replay.
 *
 * Starts the local mode, uploads sample NDJSON of two datasets (with bad and blank lines), deletes for good the
 * version of one uploaded file after it was written into its manifest (as a producer with that right might), so
 * that manifest converts its other files and ends PARTIAL, waits for every manifest, shows the alert email,
 * uploads the same bytes again (a duplicate: not placed again), replays the manifest, prints a summary and checks
 * that every line is accounted for. Exits 0 only if every manifest ended SUCCEEDED and the counts reconcile.
 *
 * Usage: npx tsx local/demo.ts [--keep] [--port 4566] [--batch-size 50] [--max-wait-seconds 60]
 *        [--retry-interval-scale 0.2]
 */
import './quiet-warnings';
import * as path from 'node:path';
import { GetTableVersionsCommand, GlueClient } from '@aws-sdk/client-glue';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import * as cliProgress from 'cli-progress';
import { clientSettings, createContext, type CliContext } from '../cli/context';
import { renderTable } from '../cli/format';
import { listManifests, recordedExecutions } from '../cli/ops/manifests';
import type { ManifestRecord } from '../handlers/common/state-store';
import { replayManifest } from '../cli/ops/replay';
import { targetFromLocalStack } from '../cli/target';
import { PREFIXES } from '../contracts/config';
import { DEFAULT_STATE_DIR, localPaths, type LocalStack } from '../contracts/local-stack';
import { readCuratedParquet } from './parquet-reader';
import { parseArgs } from './process-utils';
import { isRunning, startLocal, stopLocal } from './runtime';
import {
  alertEmailsFor,
  deleteVersion,
  type Scene,
  uploadFiles,
  uploadIntoManifest,
  waitForConvertedFiles,
  waitForExecution,
} from './scenario';
import { generateDataset, totals, type SampleFile } from './sample-data';

const DATASETS = [
  // From the 61st file on, each dataset's records carry a newer field: in the default manifests of 50 files, a later
  // manifest than the one that recorded the schema adds it.
  { dataset: 'orders', files: 120, seed: 11, keyColumn: 'order_id', newFieldFrom: 60 },
  { dataset: 'clicks', files: 80, seed: 23, keyColumn: 'click_id', newFieldFrom: 60 },
] as const;

/** One reconciliation check: what was compared and whether it held. */
interface Check {
  readonly what: string;
  readonly ok: boolean;
  readonly detail: string;
}

const say = (line = '') => process.stdout.write(`${line}\n`);
const heading = (title: string) => say(`\n== ${title}`);

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const keep = args.keep === 'true';
  const port = Number(args.port ?? 4566);
  const batchSize = Number(args['batch-size'] ?? 50);
  const maxWaitSeconds = Number(args['max-wait-seconds'] ?? 60);
  // The ASL's Retry waits are written for the cloud (a minute, then two); the emulator shortens them for the demo.
  const retryIntervalScale = Number(args['retry-interval-scale'] ?? 0.2);
  const stateDir = DEFAULT_STATE_DIR;
  const startedAt = new Date();

  if (isRunning(stateDir)) {
    say('The local mode is already running. The demo starts its own fresh one: stop it first with');
    say('  npx pipeline local stop');
    return 1;
  }

  heading('Starting the local mode');
  const stack = await startLocal({
    stateDir,
    port,
    batchSize,
    maxWaitSeconds,
    retryIntervalScale,
    onProgress: (message) => say(`  ${message}...`),
  });
  say(`  running at ${stack.endpoint}: manifests of ${batchSize} files, sealed after ${maxWaitSeconds} s`);
  say(`  Step Functions Retry waits scaled by ${retryIntervalScale} (the ASL itself is the one deployed)`);

  let ok: boolean;
  try {
    ok = await runDemo(stack, startedAt);
  } finally {
    if (keep) {
      say('\nThe local mode keeps running (--keep). Stop it with: npx pipeline local stop');
    } else {
      heading('Stopping the local mode');
      await stopLocal({ stateDir });
      say('  stopped (logs and alert emails stay in .local/)');
    }
  }
  say(`\n${ok ? 'DEMO PASSED' : 'DEMO FAILED'} in ${Math.round((Date.now() - startedAt.getTime()) / 1000)} s`);
  return ok ? 0 : 1;
}

async function runDemo(stack: LocalStack, startedAt: Date): Promise<boolean> {
  const target = targetFromLocalStack(stack, localPaths(DEFAULT_STATE_DIR).stackFile);
  const ctx = createContext(target);
  const scene: Scene = { stack, ctx };

  heading('Generating sample data');
  const byDataset = DATASETS.map((d) => ({
    ...d,
    sample: generateDataset({ dataset: d.dataset, files: d.files, seed: d.seed, newFieldFrom: d.newFieldFrom }),
  }));
  const all = byDataset.flatMap((d) => d.sample);
  for (const d of byDataset) {
    const t = totals(d.sample);
    say(`  ${d.dataset}: ${t.files} files, ${t.goodLines} good lines, ${t.badLines} bad lines, ${t.blankLines} blank lines`);
  }

  // One file is uploaded first and its version deleted once it is in its manifest: the Glue job then cannot read it.
  heading('Uploading');
  const victim = byDataset[1].sample[0];
  const { versionId: deletedVersion, manifestId: failingManifest } = await uploadAndDeleteVersion(scene, victim);
  say(
    `  ${victim.key} is in manifest ${failingManifest}; the producer then deleted that version (${deletedVersion.slice(0, 8)}...) for good`,
  );
  say('  so that manifest will convert its other files and end PARTIAL: the pipeline itself never deletes ingest objects (I6)');

  const rest = interleave(byDataset.map((d) => d.sample.filter((f) => f !== victim)));
  await uploadAll(scene, rest);

  heading('Waiting for every manifest to be sealed and converted');
  say('  (each conversion is a Spark job on this machine; a file that cannot be read fails as a file, not as its manifest)');
  const firstPass = await waitForManifests(scene, startedAt, all.length);
  if (firstPass === undefined) return false;

  const failed = firstPass.filter((m) => m.status !== 'SUCCEEDED');
  say(
    `  ${firstPass.length} manifests: ${firstPass.length - failed.length} SUCCEEDED, ${failed.map((m) => `${m.manifestId} ${m.status}`).join(', ') || 'none other'}`,
  );
  if (failed.length !== 1 || failed[0].manifestId !== failingManifest || failed[0].status !== 'PARTIAL') {
    say(
      `  expected exactly one PARTIAL manifest, ${failingManifest}; got: ${failed.map((m) => `${m.manifestId} ${m.status}`).join(', ') || 'none'}`,
    );
    return false;
  }
  say(
    `  ${failingManifest}: ${String(failed[0].filesRead)} files converted, ${String(failed[0].filesFailed)} not: ${String(failed[0].failedFiles)}`,
  );

  heading(`The alert email (from ${path.relative(process.cwd(), stack.outboxDir) || stack.outboxDir}/)`);
  const email = await waitForEmail(stack.outboxDir, failingManifest);
  if (email === undefined) {
    say(`  no alert email mentions ${failingManifest}`);
    return false;
  }
  say(indent(email.text.trim(), '  | '));

  heading('Restoring the file and replaying the manifest');
  // The same bytes again: a new version with the same eTag, so the builder counts it as a duplicate and places it
  // nowhere; the replay reads that version in place of the deleted one, since it is the same content.
  await ctx.s3.send(new PutObjectCommand({ Bucket: stack.ingestBucket, Key: victim.key, Body: victim.body }));
  say(`  uploaded ${victim.key} again with the same bytes (a duplicate: no new manifest)`);
  const replay = await replayManifest(ctx, failingManifest);
  say(`  started ${replay.executionName}: same input as the original execution (from ${replay.inputFrom})`);
  const replayStatus = await waitForReplay(scene, replay.executionArn);
  say(`  ${replay.executionName}: ${replayStatus}`);

  const manifests = await listManifests(ctx, { since: new Date(startedAt.getTime() - 60_000) });
  const executionStatus = new Map<string, string>();
  for (const m of manifests) {
    for (const arn of recordedExecutions(m)) {
      const d = await ctx.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
      executionStatus.set(arn, `${d.name} ${d.status}`);
    }
  }

  heading('Summary');
  const sorted = [...manifests].sort((a, b) => a.manifestId.localeCompare(b.manifestId));
  say(
    renderTable(
      ['manifest', 'files', 'sealed', 'executions', 'status', 'lines in', 'rows', 'quarantined', 'blank'],
      sorted.map((m) => [
        m.manifestId,
        m.fileCount,
        m.sealReason,
        recordedExecutions(m)
          .map((arn) => executionStatus.get(arn) ?? arn)
          .join(', '),
        m.status,
        m.linesIn,
        m.rowsOut,
        m.rowsQuarantined,
        m.blankLines,
      ]),
    ),
  );
  heading('One table per dataset: the schema as the manifests recorded it');
  say("  (from its 61st file on, each dataset's records carry a field the earlier ones lack: the table gains it, older");
  say('   partitions simply lack it; a value of another type would be quarantined as type_mismatch)');
  for (const line of await schemaEvolution(ctx, stack, sorted)) say(line);

  say('\nParquet:');
  for (const m of sorted)
    say(`  s3://${stack.curatedBucket}/${PREFIXES.curated}${m.dataset}/ingest_date=${m.ingestDate}/manifest_id=${m.manifestId}/`);
  say(`Quarantined lines: s3://${stack.curatedBucket}/${PREFIXES.quarantine}<dataset>/manifest_id=<id>/`);

  heading('Reconciliation');
  const checks = await reconcile(stack, sorted, byDataset);
  for (const c of checks) say(`  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.what}: ${c.detail}`);

  heading('Look further');
  const aws = `aws --endpoint-url ${stack.endpoint} --region ${stack.region}`;
  say('  (run the demo with --keep to leave the local mode running for these)');
  say('  npx pipeline status                          # manifests of the last 7 days, with status and counts');
  say(`  npx pipeline status ${failingManifest}   # its files, executions, retries and the failure`);
  say('  npx pipeline replay <manifestId>             # convert a manifest again');
  say('  npx pipeline dlq                             # notifications the manifest builder gave up on');
  say(`  ${aws} s3 ls --recursive s3://${stack.curatedBucket}/${PREFIXES.curated}`);
  say(`  ${aws} stepfunctions list-executions --state-machine-arn ${stack.stateMachineArn}`);
  say('  (the aws commands sign with the instance key in .local/stack.json: export AWS_ACCESS_KEY_ID and');
  say('   AWS_SECRET_ACCESS_KEY from its accessKeyId and secretAccessKey first, as the README shows)');
  say('  logs: .local/logs/ (emulator, Glue runs, manifest-builder, sweeper); alert emails: .local/outbox/');

  return checks.every((c) => c.ok);
}

/** The columns the Glue job adds to every row. */
const JOB_COLUMNS = new Set(['_source_file', '_source_version', '_ingested_at']);

/**
 * Per dataset: the catalog table's columns, and its history: each version of the table names the manifest whose
 * run changed the recorded schema (the table parameter `pipeline.schemaChangedBy`) and the columns it added.
 */
async function schemaEvolution(ctx: CliContext, stack: LocalStack, manifests: readonly ManifestRecord[]): Promise<string[]> {
  const glue = new GlueClient(clientSettings(ctx.target));
  const lines: string[] = [];
  for (const dataset of [...new Set(manifests.map((m) => m.dataset))].sort()) {
    const { TableVersions = [] } = await glue.send(new GetTableVersionsCommand({ DatabaseName: stack.glueDatabase, TableName: dataset }));
    const versions = [...TableVersions].sort((a, b) => Number(a.VersionId) - Number(b.VersionId));
    const columnsOf = (v: (typeof versions)[number]) => (v.Table?.StorageDescriptor?.Columns ?? []).map((c) => `${c.Name} ${c.Type}`);
    const latest = versions.at(-1);
    if (latest === undefined) continue;
    lines.push(`  ${stack.glueDatabase}.${dataset}: ${columnsOf(latest).join(', ')}`);
    let before: string[] = [];
    for (const v of versions) {
      const now = columnsOf(v);
      const added = now.filter((c) => !before.includes(c) && !JOB_COLUMNS.has(c.split(' ')[0]));
      const by = v.Table?.Parameters?.['pipeline.schemaChangedBy'] ?? '?';
      lines.push(
        `    version ${v.VersionId}, by ${by}: ${before.length === 0 ? 'created with' : 'added'} ${added.map((c) => c.split(' ')[0]).join(', ')}`,
      );
      before = now;
    }
  }
  return lines;
}

/** Uploads one file, waits until the manifest builder wrote it into its manifest, then deletes that version for good. */
async function uploadAndDeleteVersion(scene: Scene, file: SampleFile): Promise<{ versionId: string; manifestId: string }> {
  const placed = await uploadIntoManifest(scene, file);
  await deleteVersion(scene, file.key, placed.versionId);
  return placed;
}

async function uploadAll(scene: Scene, files: readonly SampleFile[]): Promise<void> {
  const bar = new cliProgress.SingleBar(
    { format: '  uploading  [{bar}] {value}/{total} files', hideCursor: true, noTTYOutput: true, notTTYSchedule: 5000 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(files.length, 0);
  await uploadFiles(scene, files, 8, () => bar.increment());
  bar.stop();
}

async function waitForManifests(
  scene: Scene,
  since: Date,
  totalFiles: number,
  timeoutMs = 20 * 60_000,
): Promise<ManifestRecord[] | undefined> {
  const bar = new cliProgress.SingleBar(
    {
      format: '  converting [{bar}] {value}/{total} files in finished manifests | {states} | {elapsed}s',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 10000,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(totalFiles, 0, { states: '', elapsed: 0 });
  try {
    return await waitForConvertedFiles(scene, since, totalFiles, timeoutMs, (p) =>
      bar.update(p.filesDone, { states: p.states, elapsed: Math.round((Date.now() - started) / 1000) }),
    );
  } catch {
    say(`  not every manifest finished within ${timeoutMs / 60_000} minutes: see .local/logs/`);
    return undefined;
  } finally {
    bar.stop();
  }
}

async function waitForReplay(scene: Scene, executionArn: string, timeoutMs = 10 * 60_000): Promise<string> {
  const started = Date.now();
  const tick = () => {
    const elapsed = Math.round((Date.now() - started) / 1000);
    if (process.stdout.isTTY) process.stdout.write(`\r  waiting for the replay: ${elapsed}s`);
    else if (elapsed % 10 < 2) say(`  waiting for the replay: ${elapsed}s`);
  };
  try {
    const d = await waitForExecution(scene, executionArn, timeoutMs, tick);
    if (process.stdout.isTTY) process.stdout.write('\n');
    return d.status ?? 'UNKNOWN';
  } catch {
    return 'RUNNING (timed out waiting)';
  }
}

async function waitForEmail(outboxDir: string, manifestId: string): Promise<{ file: string; text: string } | undefined> {
  const emails = await alertEmailsFor(outboxDir, manifestId, 30_000).catch(() => undefined);
  return emails?.at(-1);
}

/** Compares what the pipeline recorded, and what the Parquet holds, with the sample data generated. */
async function reconcile(
  stack: LocalStack,
  manifests: readonly ManifestRecord[],
  byDataset: readonly { dataset: string; keyColumn: string; sample: SampleFile[] }[],
): Promise<Check[]> {
  const checks: Check[] = [];
  const notSucceeded = manifests.filter((m) => m.status !== 'SUCCEEDED');
  checks.push({
    what: 'every manifest SUCCEEDED',
    ok: manifests.length > 0 && notSucceeded.length === 0,
    detail:
      notSucceeded.length === 0
        ? `${manifests.length} of ${manifests.length}`
        : `not: ${notSucceeded.map((m) => `${m.manifestId} ${m.status}`).join(', ')}`,
  });
  const unbalanced = manifests.filter((m) => Number(m.linesIn) !== Number(m.rowsOut) + Number(m.rowsQuarantined) + Number(m.blankLines));
  checks.push({
    what: 'each manifest: lines in = rows + quarantined + blank (I5)',
    ok: unbalanced.length === 0,
    detail: unbalanced.length === 0 ? 'all balance' : `not: ${unbalanced.map((m) => m.manifestId).join(', ')}`,
  });
  for (const d of byDataset) {
    const expected = totals(d.sample);
    const mine = manifests.filter((m) => m.dataset === d.dataset);
    const sum = (pick: (m: ManifestRecord) => unknown) => mine.reduce((n, m) => n + Number(pick(m) ?? 0), 0);
    const files = sum((m) => m.fileCount);
    checks.push({
      what: `${d.dataset}: files in manifests = files uploaded (I1)`,
      ok: files === expected.files,
      detail: `${files} = ${expected.files}`,
    });
    const rows = sum((m) => m.rowsOut);
    checks.push({
      what: `${d.dataset}: rows written = good lines generated`,
      ok: rows === expected.goodLines,
      detail: `${rows} = ${expected.goodLines}`,
    });
    const quarantined = sum((m) => m.rowsQuarantined);
    checks.push({
      what: `${d.dataset}: lines quarantined = bad lines generated`,
      ok: quarantined === expected.badLines,
      detail: `${quarantined} = ${expected.badLines}`,
    });
    const blank = sum((m) => m.blankLines);
    checks.push({
      what: `${d.dataset}: blank lines counted = blank lines generated`,
      ok: blank === expected.blankLines,
      detail: `${blank} = ${expected.blankLines}`,
    });
    const parquet = await readCuratedParquet(stack, d.dataset, d.keyColumn);
    checks.push({
      what: `${d.dataset}: Parquet rows read back = good lines, no row twice`,
      ok: parquet.rows === expected.goodLines && parquet.distinctKeys === expected.goodLines,
      detail: `${parquet.rows} rows (${parquet.distinctKeys ?? '?'} distinct ${d.keyColumn}) in ${parquet.files} files = ${expected.goodLines}`,
    });
  }
  return checks;
}

/** Round-robin over lists, so both datasets arrive at the same time as producers would send them. */
function interleave<T>(lists: readonly (readonly T[])[]): T[] {
  const out: T[] = [];
  const longest = Math.max(...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++) for (const l of lists) if (i < l.length) out.push(l[i]);
  return out;
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((l) => `${prefix}${l}`)
    .join('\n');
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
