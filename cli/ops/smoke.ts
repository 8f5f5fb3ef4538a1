/**
 * `pipeline smoke`: proves that a deployed stack (or the local mode) converts files end to end. It uploads a small
 * fixed set of files into a dataset of its own (`pipeline_smoke`, under a prefix of its own per run), seals their
 * manifest at once (`pipeline flush`'s code), waits for the outcome, and checks what docs/architecture.md promises:
 * the manifest SUCCEEDED; its counts add up (I5) and equal what was uploaded; the Parquet rows are in the run
 * directory the record names (`curated/<dataset>/ingest_date=<d>/manifest_id=<id>/run=<run>/`, counted from the
 * files' footers, not from the record); the quarantined line is in the recorded quarantine directory
 * (`quarantine/<dataset>/manifest_id=<id>/run=<run>/`) with its source file, line number and reason; the dataset's
 * catalog table has the expected columns and types, and the manifest's partition names the recorded output. Checks run in order
 * and the first that fails ends the run. Every check's `seconds` is the time since the smoke started.
 */
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { GetPartitionCommand, GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { FINAL_STATUSES, type ManifestStatus } from '../../contracts/table-schema';
import { PREFIXES } from '../../contracts/config';
import { clientSettings, type CliContext } from '../context';
import { readableCause, truncate } from '../format';
import { flushManifest } from './flush';
import type { ManifestRecord } from '../../handlers/common/state-store';
import { contentTagOfObject } from '../../handlers/common/content-identity';
import { keyIn, stateStoreOf } from './manifests';
import { parquetFooter } from './parquet-footer';

/** The smoke's own dataset: nothing else should upload into it. */
export const SMOKE_DATASET = 'pipeline_smoke';

/** The checks, in the order they run. */
export const SMOKE_CHECKS = ['uploaded', 'sealed', 'started', 'converted', 'counts', 'parquet', 'quarantine', 'queryable'] as const;
export type SmokeCheckName = (typeof SMOKE_CHECKS)[number];

/** One check's outcome. */
export interface SmokeCheck {
  readonly name: SmokeCheckName;
  readonly passed: boolean;
  /** Seconds since the smoke started, when the check ended. */
  readonly seconds: number;
  readonly detail: string;
}

/** What `pipeline smoke --json` prints. */
export interface SmokeReport {
  readonly passed: boolean;
  readonly checks: SmokeCheck[];
  /** Seconds from the start of the upload to the last check (the table queryable), or to the failed check. */
  readonly latencySeconds: number;
  readonly dataset: string;
  readonly runId: string;
  readonly manifestId?: string;
}

/** A file the smoke uploads. */
export interface SmokeFile {
  /** Its name under `incoming/<dataset>/<runId>/`. */
  readonly name: string;
  readonly body: Buffer;
  readonly contentType: string;
}

/** What the smoke uploads and what it expects of the pipeline. */
export interface SmokeFixture {
  readonly files: readonly SmokeFile[];
  readonly expected: {
    readonly linesIn: number;
    readonly rowsOut: number;
    readonly rowsQuarantined: number;
    readonly blankLines: number;
    /** The quarantined line: the file it is in, its number (from 1), its reason and its text. */
    readonly quarantined: { readonly file: string; readonly lineNumber: number; readonly reason: string; readonly line: string };
    /** Columns of the catalog table (Hive types), beside the partition keys `ingest_date` and `manifest_id`. */
    readonly columns: Readonly<Record<string, string>>;
  };
}

/**
 * The fixed files: `a.ndjson` (3 rows, a blank line, one truncated object: `invalid_json`) and `b.ndjson.gz` (2 rows,
 * gzip). Values carry the run id, so rows say which run wrote them; the types never change between runs, so the
 * dataset's table keeps one schema (I8).
 */
export function smokeFixture(runId: string): SmokeFixture {
  const row = (seq: number, ok: boolean) => JSON.stringify({ smoke_id: `${runId}-${seq}`, seq, ok, note: 'pipeline smoke' });
  const truncated = `{"smoke_id": "truncated", "seq": 4, "ok": tr`;
  const a = [row(1, true), row(2, false), '', truncated, row(3, true)].join('\n') + '\n';
  const b = [row(5, true), row(6, false)].join('\n') + '\n';
  return {
    files: [
      { name: 'a.ndjson', body: Buffer.from(a), contentType: 'application/x-ndjson' },
      // No Content-Encoding: the object is the gzip file itself, as a producer's .gz upload is.
      { name: 'b.ndjson.gz', body: gzipSync(b), contentType: 'application/gzip' },
    ],
    expected: {
      linesIn: 7,
      rowsOut: 5,
      rowsQuarantined: 1,
      blankLines: 1,
      quarantined: { file: 'a.ndjson', lineNumber: 4, reason: 'invalid_json', line: truncated },
      columns: {
        smoke_id: 'string',
        seq: 'bigint',
        ok: 'boolean',
        note: 'string',
        _source_file: 'string',
        _source_version: 'string',
        _ingested_at: 'timestamp',
      },
    },
  };
}

/** Options of {@link runSmoke}. */
export interface SmokeOptions {
  /** @default {@link SMOKE_DATASET} */
  readonly dataset?: string;
  /** @default a time stamp and random characters */
  readonly runId?: string;
  /** @default {@link smokeFixture} of the run id */
  readonly fixture?: SmokeFixture;
  /** Longest wait for the manifest to end, from the start. @default 30 minutes */
  readonly timeoutMs?: number;
  /** Time between two reads of the record. @default 2 s in the local mode, 5 s in the cloud */
  readonly pollMs?: number;
  /** Called with each check as it ends. */
  readonly onCheck?: (check: SmokeCheck) => void;
  /** Called during long waits, about every `progressEveryMs`. */
  readonly onProgress?: (message: string) => void;
  /** @default 15 s */
  readonly progressEveryMs?: number;
}

/** Ends the run at a failed check. */
class CheckFailed extends Error {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A run id: sortable by time, unique enough for concurrent runs. */
export function newRunId(now: Date): string {
  return `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

/** Runs the smoke against the context's target; never throws for a failed check (the report says it). */
export async function runSmoke(ctx: CliContext, options: SmokeOptions = {}): Promise<SmokeReport> {
  const dataset = options.dataset ?? SMOKE_DATASET;
  const runId = options.runId ?? newRunId(ctx.now());
  const fixture = options.fixture ?? smokeFixture(runId);
  const timeoutMs = options.timeoutMs ?? 30 * 60_000;
  const pollMs = options.pollMs ?? (ctx.target.mode === 'local' ? 2000 : 5000);
  const progressEveryMs = options.progressEveryMs ?? 15_000;
  const started = Date.now();
  const elapsed = () => Math.round((Date.now() - started) / 100) / 10;
  const checks: SmokeCheck[] = [];
  let current: SmokeCheckName = 'uploaded';
  let manifestId: string | undefined;

  const pass = (name: SmokeCheckName, detail: string) => {
    const check = { name, passed: true, seconds: elapsed(), detail };
    checks.push(check);
    options.onCheck?.(check);
    current = SMOKE_CHECKS[SMOKE_CHECKS.indexOf(name) + 1] ?? name;
  };
  const fail = (detail: string): never => {
    const check = { name: current, passed: false, seconds: elapsed(), detail };
    checks.push(check);
    options.onCheck?.(check);
    throw new CheckFailed(detail);
  };
  const deadlineLeft = () => timeoutMs - (Date.now() - started);

  const store = stateStoreOf(ctx);
  const glue = new GlueClient(clientSettings(ctx.target));
  const prefix = `${ctx.config.ingestPrefix}${dataset}/${runId}/`;
  const keyOf = (file: string) => `${prefix}${file}`;
  try {
    // uploaded
    const uploaded: { key: string; contentTag: string }[] = [];
    for (const file of fixture.files) {
      const out = await ctx.s3.send(
        new PutObjectCommand({ Bucket: ctx.target.ingestBucket, Key: keyOf(file.name), Body: file.body, ContentType: file.contentType }),
      );
      // The builder records the file under its content identity (the full-object checksum, else the eTag): read it
      // the way the builder does, so the lookup below finds the builder's record.
      const version = {
        bucket: ctx.target.ingestBucket,
        key: keyOf(file.name),
        eTag: (out.ETag ?? '').replace(/"/g, ''),
        versionId: out.VersionId,
      };
      uploaded.push({ key: version.key, contentTag: await contentTagOfObject(ctx.s3, version) });
    }
    const { expected } = fixture;
    pass('uploaded', `${fixture.files.length} files, ${expected.linesIn} lines, to s3://${ctx.target.ingestBucket}/${prefix}`);

    // sealed: every file in one open manifest (the builder's record of it), then that manifest sealed at once.
    const holders = await waitUntil(
      async () => {
        const ids = await Promise.all(
          uploaded.map(async (u) => (await store.getFile(ctx.target.ingestBucket, u.key, u.contentTag))?.manifestId),
        );
        const known = ids.filter((id): id is string => id !== undefined);
        return known.length === ids.length ? known : undefined;
      },
      Math.min(deadlineLeft(), 5 * 60_000),
      pollMs,
      (s) => options.onProgress?.(`waiting for the manifest builder to record the files: ${s} s`),
      progressEveryMs,
    );
    if (holders === undefined) {
      fail('the manifest builder recorded no manifest for the files (see its log, and npx pipeline dlq)');
    }
    const ids = [...new Set(holders)];
    if (ids.length > 1)
      fail(`the files went into ${ids.length} manifests (${ids.join(', ')}): one was sealed between the uploads; run again`);
    manifestId = ids[0];
    const flushed = await flushManifest(ctx, dataset, manifestId);
    const files = await store.listManifestFileItems(manifestId);
    const foreign = files.filter((f) => !f.key.startsWith(prefix));
    if (foreign.length > 0) {
      fail(
        `${manifestId} also holds ${foreign.length} file(s) of another upload (${foreign[0].key}): nothing else may write to ${dataset}`,
      );
    }
    const sealedRecord = await store.getManifest(manifestId);
    pass(
      'sealed',
      `${manifestId}, ${files.length} files, sealed ${flushed.outcome === 'sealed' ? 'at once (flush)' : `by the pipeline (${sealedRecord?.sealReason ?? 'sealed'})`}`,
    );

    // started: the execution is recorded (at once, unless it queued for a capacity slot).
    const id = manifestId;
    if ('queued' in flushed && flushed.queued) options.onProgress?.(`${id} queued: every capacity slot is held, it starts in turn`);
    const recorded = await waitUntil(
      async () => {
        const m = await store.getManifest(id);
        return m !== undefined && ((m.executions ?? []).length > 0 || m.status !== 'SEALED') ? m : undefined;
      },
      deadlineLeft(),
      pollMs,
      (s) => options.onProgress?.(`waiting for ${id} to start: SEALED for ${s} s`),
      progressEveryMs,
    );
    if (recorded === undefined) fail(`${id} not started within the timeout: npx pipeline status ${id}`);
    pass('started', `execution ${(recorded!.executions?.[0] ?? recorded!.executionArn ?? '').split(':').pop()}`);

    // converted
    let lastStatus: ManifestStatus = recorded!.status;
    const final = await waitUntil(
      async () => {
        const m = await store.getManifest(id);
        if (m !== undefined) lastStatus = m.status;
        return m !== undefined && (FINAL_STATUSES as readonly string[]).includes(m.status) ? m : undefined;
      },
      deadlineLeft(),
      pollMs,
      (s) => options.onProgress?.(`waiting for ${id} to be converted: ${lastStatus} for ${s} s`),
      progressEveryMs,
    );
    if (final === undefined) fail(`${id} still ${lastStatus} after ${Math.round(timeoutMs / 1000)} s: npx pipeline status ${id}`);
    const m = final!;
    if (m.status !== 'SUCCEEDED') {
      fail(
        `${id} ended ${m.status}: ${[m.error, truncate(readableCause(m.cause), 300)].filter(Boolean).join(': ') || 'no reason recorded'}`,
      );
    }
    pass('converted', `${id} SUCCEEDED${m.finishedAt ? ` at ${m.finishedAt}` : ''}`);

    // counts
    pass('counts', countsDetail(m, expected) ?? fail(countsProblem(m, expected)));

    // parquet
    // Where the record (and, below, the catalog) says the output is: the run's own directory under the manifest's
    // partition, never a listing of the partition, which also holds superseded runs until they are removed (I4).
    const manifestPrefix = `${PREFIXES.curated}${dataset}/ingest_date=${m.ingestDate}/manifest_id=${id}/`;
    const recordedOutput = keyIn(ctx.target.curatedBucket, m.outputLocation);
    const partitionPrefix =
      recordedOutput !== undefined && recordedOutput.startsWith(`${manifestPrefix}run=`)
        ? recordedOutput
        : fail(`${id}: the record names no output run directory under ${manifestPrefix} (outputLocation ${String(m.outputLocation)})`);
    const parquet = await readParquetFooters(ctx, partitionPrefix);
    const dataColumns = Object.keys(expected.columns);
    const missing = parquet.files.flatMap((f) => dataColumns.filter((c) => !f.columns.includes(c)).map((c) => `${f.key} lacks ${c}`));
    if (parquet.files.length === 0) fail(`no Parquet file under s3://${ctx.target.curatedBucket}/${partitionPrefix}`);
    if (parquet.rows !== expected.rowsOut) {
      fail(`${parquet.rows} rows in ${parquet.files.length} Parquet files under ${partitionPrefix}, expected ${expected.rowsOut}`);
    }
    if (missing.length > 0) fail(missing.join('; '));
    pass('parquet', `${parquet.rows} rows in ${parquet.files.length} file(s) under s3://${ctx.target.curatedBucket}/${partitionPrefix}`);

    // quarantine
    const recordedQuarantine = keyIn(ctx.target.curatedBucket, m.quarantineLocation);
    const quarantinePrefix =
      recordedQuarantine !== undefined && recordedQuarantine.startsWith(`${PREFIXES.quarantine}${dataset}/manifest_id=${id}/run=`)
        ? recordedQuarantine
        : fail(`${id}: the record names no quarantine run directory (quarantineLocation ${String(m.quarantineLocation)})`);
    const records = await readQuarantine(ctx, quarantinePrefix);
    const want = expected.quarantined;
    const sourceFile = `s3://${ctx.target.ingestBucket}/${keyOf(want.file)}`;
    const found = records.find((r) => r.source_file === sourceFile && r.line_number === want.lineNumber);
    if (records.length !== expected.rowsQuarantined) {
      fail(`${records.length} quarantined lines under ${quarantinePrefix}, expected ${expected.rowsQuarantined}`);
    }
    if (found === undefined) fail(`no quarantined line ${want.lineNumber} of ${sourceFile} under ${quarantinePrefix}`);
    if (found!.reason !== want.reason || found!.line !== want.line) {
      fail(`line ${want.lineNumber} of ${want.file} quarantined as ${String(found!.reason)}, expected ${want.reason} with its text`);
    }
    pass(
      'quarantine',
      `line ${want.lineNumber} of ${want.file} (${want.reason}) under s3://${ctx.target.curatedBucket}/${quarantinePrefix}`,
    );

    // queryable
    pass(
      'queryable',
      await checkCatalog(glue, ctx.target.glueDatabase, dataset, m, expected.columns, partitionPrefix).then(
        (r) => r.detail ?? fail(r.problem!),
      ),
    );
  } catch (err) {
    if (!(err instanceof CheckFailed)) {
      const e = err as Error;
      const check = { name: current, passed: false, seconds: elapsed(), detail: `${e.name}: ${e.message}` };
      checks.push(check);
      options.onCheck?.(check);
    }
  } finally {
    glue.destroy();
  }
  const passed = checks.length === SMOKE_CHECKS.length && checks.every((c) => c.passed);
  return { passed, checks, latencySeconds: checks.at(-1)?.seconds ?? elapsed(), dataset, runId, manifestId };
}

/**
 * Calls `probe` every `pollMs` until it gives a value, or `timeoutMs` has passed (then undefined); `onWaiting` with the
 * seconds waited, every `progressEveryMs`.
 */
async function waitUntil<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  pollMs: number,
  onWaiting: (seconds: number) => void,
  progressEveryMs: number,
): Promise<T | undefined> {
  const start = Date.now();
  let nextProgress = start + progressEveryMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    const now = Date.now();
    if (now - start >= timeoutMs) return undefined;
    if (now >= nextProgress) {
      onWaiting(Math.round((now - start) / 1000));
      nextProgress = now + progressEveryMs;
    }
    await sleep(Math.min(pollMs, Math.max(0, timeoutMs - (now - start))));
  }
}

type Counts = Pick<ManifestRecord, 'linesIn' | 'rowsOut' | 'rowsQuarantined' | 'blankLines'>;

/** The counts in one line when they add up and equal what was uploaded; undefined otherwise. */
function countsDetail(m: Counts, expected: SmokeFixture['expected']): string | undefined {
  if (countsProblem(m, expected) !== '') return undefined;
  return `${m.linesIn} lines = ${m.rowsOut} rows + ${m.rowsQuarantined} quarantined + ${m.blankLines} blank`;
}

/** Why the counts are wrong, or '' when they are right. */
function countsProblem(m: Counts, expected: SmokeFixture['expected']): string {
  const { linesIn, rowsOut, rowsQuarantined, blankLines } = m;
  const all = [linesIn, rowsOut, rowsQuarantined, blankLines];
  if (all.some((n) => typeof n !== 'number'))
    return `the record lacks counts: ${JSON.stringify({ linesIn, rowsOut, rowsQuarantined, blankLines })}`;
  if (linesIn !== rowsOut! + rowsQuarantined! + blankLines!) {
    return `linesIn ${linesIn} != rowsOut ${rowsOut} + rowsQuarantined ${rowsQuarantined} + blankLines ${blankLines} (I5)`;
  }
  const wrong = (['linesIn', 'rowsOut', 'rowsQuarantined', 'blankLines'] as const).filter((k) => m[k] !== expected[k]);
  if (wrong.length > 0)
    return `recorded ${wrong.map((k) => `${k} ${m[k]}`).join(', ')}; uploaded ${wrong.map((k) => `${k} ${expected[k]}`).join(', ')}`;
  return '';
}

/** Every key under a prefix of the curated bucket. */
async function listKeys(ctx: CliContext, prefix: string): Promise<{ key: string; size: number }[]> {
  const out: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await ctx.s3.send(
      new ListObjectsV2Command({ Bucket: ctx.target.curatedBucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key !== undefined) out.push({ key: o.Key, size: o.Size ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return out;
}

async function getBytes(ctx: CliContext, key: string): Promise<Uint8Array> {
  const out = await ctx.s3.send(new GetObjectCommand({ Bucket: ctx.target.curatedBucket, Key: key }));
  return out.Body!.transformToByteArray();
}

/** The smoke's own output is a few kilobytes; a larger file under its prefix is not its own, and is not read. */
const MAX_READ_BYTES = 16 * 1024 * 1024;

/**
 * The footers of the Parquet files under a prefix. Each file is read whole (not by ranges: the local mode's S3
 * returns a ranged read with the whole object's Content-MD5, which the SDK then refuses; local/emulator/README.md).
 */
async function readParquetFooters(ctx: CliContext, prefix: string) {
  const files: { key: string; rows: number; columns: string[] }[] = [];
  for (const { key, size } of await listKeys(ctx, prefix)) {
    if (!key.endsWith('.parquet')) continue;
    if (size > MAX_READ_BYTES) throw new Error(`${key} holds ${size} bytes: not the smoke's output`);
    const footer = parquetFooter(await getBytes(ctx, key));
    files.push({ key, rows: footer.numRows, columns: footer.columns });
  }
  return { files, rows: files.reduce((n, f) => n + f.rows, 0) };
}

/** The quarantine records under a prefix (NDJSON files written by Spark). */
async function readQuarantine(ctx: CliContext, prefix: string): Promise<Record<string, unknown>[]> {
  const records: Record<string, unknown>[] = [];
  for (const { key, size } of await listKeys(ctx, prefix)) {
    const name = key.slice(key.lastIndexOf('/') + 1);
    // Spark's markers (`_SUCCESS`) and empty parts hold no record.
    if (size === 0 || name.startsWith('_') || name.startsWith('.')) continue;
    if (size > MAX_READ_BYTES) throw new Error(`${key} holds ${size} bytes: not the smoke's output`);
    const text = Buffer.from(await getBytes(ctx, key)).toString('utf8');
    for (const line of text.split('\n')) if (line.trim() !== '') records.push(JSON.parse(line) as Record<string, unknown>);
  }
  return records;
}

/** The catalog table's columns and types, its partition keys, and the manifest's partition. */
async function checkCatalog(
  glue: GlueClient,
  database: string,
  table: string,
  m: ManifestRecord,
  columns: Readonly<Record<string, string>>,
  partitionPrefix: string,
): Promise<{ detail?: string; problem?: string }> {
  const got = (await glue.send(new GetTableCommand({ DatabaseName: database, Name: table }))).Table;
  const have = new Map((got?.StorageDescriptor?.Columns ?? []).map((c) => [c.Name, c.Type]));
  const wrong = Object.entries(columns).filter(([name, type]) => have.get(name) !== type);
  if (wrong.length > 0) {
    return {
      problem: `table ${database}.${table}: ${wrong.map(([n, t]) => `${n} is ${have.get(n) ?? 'missing'}, expected ${t}`).join('; ')}`,
    };
  }
  const keys = (got?.PartitionKeys ?? []).map((k) => k.Name);
  if (keys.join(',') !== 'ingest_date,manifest_id')
    return { problem: `table ${database}.${table} is partitioned by ${keys.join(', ') || 'nothing'}` };
  const partition = await glue
    .send(new GetPartitionCommand({ DatabaseName: database, TableName: table, PartitionValues: [m.ingestDate!, m.manifestId] }))
    .catch((err: Error) => {
      if (err.name === 'EntityNotFoundException') return undefined;
      throw err;
    });
  if (partition?.Partition === undefined) return { problem: `table ${database}.${table} has no partition ${m.ingestDate}/${m.manifestId}` };
  const location = partition.Partition.StorageDescriptor?.Location ?? '';
  if (!location.replace(/\/$/, '').endsWith(partitionPrefix.replace(/\/$/, ''))) {
    return { problem: `partition ${m.ingestDate}/${m.manifestId} points at ${location}, not the recorded output ${partitionPrefix}` };
  }
  return {
    detail: `table ${database}.${table}: ${Object.entries(columns)
      .map(([n, t]) => `${n} ${t}`)
      .join(', ')}; partition ${m.manifestId} registered`,
  };
}
