/**
 * The data of the console's pages, read through the CLI's operations (cli/ops/): the same manifest records,
 * executions and DLQs `pipeline status` and `pipeline dlq` read, plus what only a page shows (the state machine's
 * definition, the states' input and output, the Glue runs and their logs, the outcome document, a preview of the
 * Parquet and of the quarantined lines, the alert). Nothing here writes: every call is a read. It is one concern
 * (the pages' reads) kept in one module, so no page reads AWS by itself; hence its length.
 */
import { existsSync, openSync, readdirSync, readFileSync, readSync, closeSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DescribeStateMachineCommand, DescribeStateMachineForExecutionCommand, HistoryEvent } from '@aws-sdk/client-sfn';
import { GetJobRunCommand, GetTableCommand, GetTableVersionsCommand, GlueClient } from '@aws-sdk/client-glue';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { localPaths } from '../../contracts/local-stack';
import { MANIFEST_STATUSES, type ManifestStatus } from '../../contracts/table-schema';
import { CliContext, clientSettings } from '../context';
import { dlqDepths } from '../ops/dlq';
import { ExecutionSummary, readHistory } from '../ops/executions';
import { listManifests, outputPrefixes } from '../ops/manifests';
import type { ManifestRecord } from '../../handlers/common/state-store';
import { ManifestDetail, manifestDetail, publicRecord } from '../ops/status';
import { awsLinks } from './aws-links';

/** What the console reads with: the CLI's context, a Glue client, and how to read Parquet. */
export interface ConsoleSources {
  readonly ctx: CliContext;
  readonly glue: GlueClient;
  /** CloudWatch Logs, for the Glue runs' logs of a deployed stack; undefined in the local mode (the runner's files). */
  readonly logs?: CloudWatchLogsClient;
  /** Reads the first rows of a Parquet object; injected so the page models are tested without a Parquet reader. */
  readonly parquetRows: (read: RangeReader, size: number, limit: number) => Promise<{ columns: string[]; rows: Record<string, unknown>[] }>;
}

/** Reads bytes `[start, end)` of one object. */
export type RangeReader = (start: number, end: number) => Promise<Uint8Array>;

/** Makes the sources of a context: a Glue client with the same endpoint and key, and hyparquet as the reader. */
export function consoleSources(ctx: CliContext): ConsoleSources {
  const { forcePathStyle: _ignored, ...common } = clientSettings(ctx.target) as ReturnType<typeof clientSettings> & {
    forcePathStyle?: boolean;
  };
  const logs = ctx.target.mode === 'cloud' ? new CloudWatchLogsClient(common) : undefined;
  return { ctx, glue: new GlueClient(common), logs, parquetRows: hyparquetRows };
}

/**
 * Reads Parquet with hyparquet (an ES module, loaded on first use; pure JavaScript) and hyparquet-compressors for
 * the codecs beyond Snappy (the Glue job writes ZSTD).
 */
async function hyparquetRows(read: RangeReader, size: number, limit: number) {
  const { parquetMetadataAsync, parquetReadObjects, parquetSchema } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  const file = {
    byteLength: size,
    slice: async (start: number, end?: number) => {
      const bytes = await read(start, end ?? size);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
  const metadata = await parquetMetadataAsync(file);
  const columns = parquetSchema(metadata).children.map((c) => c.element.name);
  const rows = await parquetReadObjects({ file, metadata, compressors, rowStart: 0, rowEnd: Math.min(limit, Number(metadata.num_rows)) });
  return { columns, rows };
}

/** A link to the AWS console (cloud mode only). */
export interface AwsLink {
  readonly label: string;
  readonly url: string;
}

// ---------------------------------------------------------------------------------------------------- overview

/** The overview: manifests by status and by dataset over a window, what is queued and running, DLQs, alerts. */
export interface OverviewModel {
  readonly mode: 'local' | 'cloud';
  readonly since: string;
  readonly total: number;
  readonly byStatus: { status: string; count: number }[];
  readonly datasets: { dataset: string; manifests: number; files: number; byStatus: Record<string, number> }[];
  readonly queued: ManifestRecord[];
  readonly running: ManifestRecord[];
  readonly dlqs: { queue: string; visible: number; inFlight: number; link?: string }[];
  readonly alerts: AlertSummary[];
}

/** An alert: a local outbox email, or (cloud) a manifest that ended FAILED or PARTIAL and so sent one. */
export interface AlertSummary {
  readonly at?: string;
  readonly subject: string;
  readonly manifestId?: string;
}

export async function overviewModel(src: ConsoleSources, since: Date): Promise<OverviewModel> {
  const { ctx } = src;
  const manifests = await listManifests(ctx, { since });
  const byStatus = MANIFEST_STATUSES.map((status) => ({ status, count: manifests.filter((m) => m.status === status).length }));
  const datasets = new Map<string, { dataset: string; manifests: number; files: number; byStatus: Record<string, number> }>();
  for (const m of manifests) {
    const d = datasets.get(m.dataset) ?? { dataset: m.dataset, manifests: 0, files: 0, byStatus: {} };
    d.manifests += 1;
    d.files += Number(m.fileCount ?? 0);
    d.byStatus[m.status] = (d.byStatus[m.status] ?? 0) + 1;
    datasets.set(m.dataset, d);
  }
  const cloud = ctx.target.mode === 'cloud';
  const dlqs = (await dlqDepths(ctx)).map((q) => ({
    queue: q.queue,
    visible: q.visible,
    inFlight: q.inFlight,
    link: cloud ? awsLinks.queue(ctx.target.region, q.queueUrl) : undefined,
  }));
  const ids = new Set(manifests.map((m) => m.manifestId));
  const alerts =
    ctx.target.mode === 'local'
      ? outboxAlerts(ctx)
          .slice(-10)
          .reverse()
          .map((e) => ({ at: e.date, subject: e.subject, manifestId: [...ids].find((id) => e.subject.includes(id)) }))
      : manifests
          .filter((m) => m.status === 'FAILED' || m.status === 'PARTIAL')
          .sort((a, b) => (b.finishedAt ?? '').localeCompare(a.finishedAt ?? ''))
          .slice(0, 10)
          .map((m) => ({ at: m.finishedAt, subject: `${m.manifestId} ended ${m.status}`, manifestId: m.manifestId }));
  return {
    mode: ctx.target.mode,
    since: since.toISOString(),
    total: manifests.length,
    byStatus,
    datasets: [...datasets.values()].sort((a, b) => a.dataset.localeCompare(b.dataset)),
    queued: manifests.filter((m) => m.status === 'SEALED').map(publicRecord),
    running: manifests.filter((m) => m.status === 'RUNNING').map(publicRecord),
    dlqs,
    alerts,
  };
}

// --------------------------------------------------------------------------------------------------- manifests

export interface ManifestsFilter {
  readonly since: Date;
  readonly dataset?: string;
  readonly status?: ManifestStatus;
}

/** The manifests table: newest first. */
export async function manifestsModel(src: ConsoleSources, filter: ManifestsFilter): Promise<ManifestRecord[]> {
  const list = await listManifests(src.ctx, filter);
  return list.map(publicRecord).reverse();
}

// ---------------------------------------------------------------------------------------------------- manifest

/** One event of an execution's history, with the state it belongs to and its data (shortened). */
export interface EventView {
  readonly id: number;
  readonly type: string;
  readonly at?: string;
  readonly state?: string;
  /** The state's input (entered) or output (exited, a task's result), or an error's cause. */
  readonly data?: string;
  readonly dataTruncated?: boolean;
}

/** A Glue job run of the manifest. */
export interface GlueRunView {
  readonly runId: string;
  readonly state?: string;
  readonly startedOn?: string;
  readonly completedOn?: string;
  readonly executionSeconds?: number;
  /** DPU-seconds: Glue's `DPUSeconds` when it reports it (auto scaling, Flex), else execution time × capacity. */
  readonly dpuSeconds?: number;
  readonly dpuSecondsEstimated?: boolean;
  readonly errorMessage?: string;
  /** The last lines of its log (local mode: the runner's log file). */
  readonly logTail?: string[];
  readonly logNote?: string;
  readonly links: AwsLink[];
}

/** An execution with its graph's definition, its events and its Glue runs. */
export interface ExecutionView extends ExecutionSummary {
  /** The state machine definition the execution ran with (parsed), when it could be read. */
  readonly definition?: { StartAt?: string; States?: Record<string, object> };
  readonly events: EventView[];
  readonly glueRuns: GlueRunView[];
}

/** A preview of rows (Parquet) or lines (quarantine). */
export interface Preview<T> {
  readonly object?: string;
  readonly objects: number;
  readonly items: T[];
  readonly columns?: string[];
  readonly problem?: string;
}

/** A quarantined line as the Glue job writes it (docs/architecture.md, "S3 layout"). */
export interface QuarantinedLine {
  readonly sourceFile?: string;
  readonly sourceVersion?: string;
  readonly lineNumber?: number;
  readonly reason?: string;
  readonly line?: string;
}

/** The alert of a manifest: the outbox's emails in local mode; in the cloud, where SNS sent it. */
export interface AlertView {
  readonly emails: { file: string; subject: string; date?: string; body: string }[];
  readonly topicArn: string;
  readonly link?: string;
}

/** Everything the manifest page shows. */
export interface ManifestPageModel extends Omit<ManifestDetail, 'executions'> {
  readonly mode: 'local' | 'cloud';
  readonly executions: ExecutionView[];
  /** `linesIn = rowsOut + rowsQuarantined + blankLines` (I5), when the counts are recorded. */
  readonly lineCheck?: { linesIn: number; rowsOut: number; rowsQuarantined: number; blankLines: number; holds: boolean };
  readonly outcomeDocument?: { key: string; text?: string; problem?: string };
  readonly parquet: Preview<Record<string, string>>;
  readonly quarantine: Preview<QuarantinedLine>;
  readonly alert: AlertView;
  readonly replayCommand?: string;
  readonly links: AwsLink[];
}

/** Longest text of one event's data or one previewed value kept on the page. */
const DATA_LIMIT = 4096;
const PREVIEW_ROWS = 20;
const LOG_TAIL_LINES = 40;
/** Largest Parquet object read whole for the preview; a larger one is read by ranges. */
const WHOLE_PARQUET_BYTES = 16 * 1024 * 1024;
/** Longest part of a quarantine file read for the preview. */
const QUARANTINE_BYTES = 256 * 1024;

function clip(text: string, limit = DATA_LIMIT): { text: string; truncated: boolean } {
  return text.length <= limit ? { text, truncated: false } : { text: `${text.slice(0, limit)}…`, truncated: true };
}

/** The events of a history, each with its state and data. */
export function eventViews(events: readonly HistoryEvent[]): EventView[] {
  let current: string | undefined;
  return [...events]
    .sort((a, b) => (a.id ?? 0) - (b.id ?? 0))
    .map((e) => {
      const entered = e.stateEnteredEventDetails;
      const exited = e.stateExitedEventDetails;
      if (entered?.name) current = entered.name;
      const state = entered?.name ?? exited?.name ?? current;
      const details = Object.entries(e).find(([k, v]) => k.endsWith('EventDetails') && v && typeof v === 'object')?.[1] as
        { input?: string; output?: string; cause?: string; error?: string } | undefined;
      const raw = details?.input ?? details?.output ?? (details?.error ? `${details.error}: ${details.cause ?? ''}` : undefined);
      const data = raw === undefined ? undefined : clip(raw);
      return {
        id: e.id ?? 0,
        type: e.type ?? '?',
        at: e.timestamp ? new Date(e.timestamp).toISOString() : undefined,
        state,
        data: data?.text,
        dataTruncated: data?.truncated || undefined,
      };
    });
}

/** The Glue job run ids an execution's history names: the output of each `TaskSubmitted` of a Glue task. */
export function glueRunIds(events: readonly HistoryEvent[]): string[] {
  const ids: string[] = [];
  for (const e of events) {
    const d = e.taskSubmittedEventDetails;
    if (e.type !== 'TaskSubmitted' || d?.resourceType !== 'glue' || !d.output) continue;
    try {
      const out = JSON.parse(d.output) as { JobRunId?: string; Id?: string };
      const id = out.JobRunId ?? out.Id;
      if (typeof id === 'string' && !ids.includes(id)) ids.push(id);
    } catch {
      // not JSON: no run id to read
    }
  }
  return ids;
}

function readTail(file: string, lines: number, maxBytes = 64 * 1024): string[] | undefined {
  if (!existsSync(file)) return undefined;
  const size = statSync(file).size;
  const start = Math.max(0, size - maxBytes);
  const buf = Buffer.alloc(size - start);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, start);
  } finally {
    closeSync(fd);
  }
  const all = buf.toString('utf8').split('\n');
  if (start > 0) all.shift();
  while (all.length > 0 && all[all.length - 1] === '') all.pop();
  return all.slice(-lines);
}

async function glueRun(src: ConsoleSources, runId: string): Promise<GlueRunView> {
  const { ctx } = src;
  const { target } = ctx;
  const links: AwsLink[] = [];
  let view: Omit<GlueRunView, 'links' | 'logTail' | 'logNote'>;
  let logGroup = '/aws-glue/jobs';
  try {
    const { JobRun: r } = await src.glue.send(new GetJobRunCommand({ JobName: target.glueJobName, RunId: runId }));
    if (r?.LogGroupName) logGroup = r.LogGroupName;
    // JobRun.DPUSeconds is set only for auto scaling and Flex runs; otherwise ExecutionTime x MaxCapacity is the
    // capacity paid for (https://docs.aws.amazon.com/glue/latest/webapi/API_JobRun.html).
    const capacity = r?.ExecutionTime !== undefined && r?.MaxCapacity !== undefined ? r.ExecutionTime * r.MaxCapacity : undefined;
    const estimated = r?.DPUSeconds === undefined && capacity !== undefined;
    view = {
      runId,
      state: r?.JobRunState,
      startedOn: r?.StartedOn?.toISOString(),
      completedOn: r?.CompletedOn?.toISOString(),
      executionSeconds: r?.ExecutionTime,
      dpuSeconds: r?.DPUSeconds ?? capacity,
      dpuSecondsEstimated: estimated || undefined,
      errorMessage: r?.ErrorMessage,
    };
  } catch (err) {
    view = { runId, errorMessage: `could not read the run: ${(err as Error).message}` };
  }
  if (target.mode === 'cloud') {
    links.push({ label: 'Glue run', url: awsLinks.glueRun(target.region, target.glueJobName, runId) });
    // Glue writes a run's driver output and errors to streams named after the run id, in <group>/output and
    // <group>/error (https://docs.aws.amazon.com/glue/latest/dg/monitor-continuous-logging.html).
    links.push({ label: 'output log', url: awsLinks.logStream(target.region, `${logGroup}/output`, runId) });
    links.push({ label: 'error log', url: awsLinks.logStream(target.region, `${logGroup}/error`, runId) });
    const tail = await cloudWatchTail(src, `${logGroup}/error`, runId);
    return { ...view, links, ...tail };
  }
  const file = path.join(localPaths(target.stateDir).logsDir, 'glue', `${path.basename(runId)}.log`);
  const tail = readTail(file, LOG_TAIL_LINES);
  return { ...view, links, logTail: tail, logNote: tail === undefined ? `no log file ${file}` : `last lines of ${file}` };
}

/**
 * The last lines of a Glue run's error stream (the driver's stderr: Python's and Spark's log lines, tracebacks),
 * read backwards from its end (`startFromHead: false`).
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html
 */
async function cloudWatchTail(src: ConsoleSources, group: string, stream: string): Promise<Pick<GlueRunView, 'logTail' | 'logNote'>> {
  if (src.logs === undefined) return { logNote: 'the logs are in CloudWatch Logs (links above)' };
  try {
    const out = await src.logs.send(
      new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, limit: LOG_TAIL_LINES, startFromHead: false }),
    );
    const lines = (out.events ?? []).flatMap((e) => (e.message ?? '').replace(/\n$/, '').split('\n'));
    return { logTail: lines.slice(-LOG_TAIL_LINES), logNote: `last lines of ${group}/${stream}` };
  } catch (err) {
    const e = err as Error;
    return {
      logNote: e.name === 'ResourceNotFoundException' ? `no log stream ${group}/${stream}` : `could not read ${group}: ${e.message}`,
    };
  }
}

async function executionView(src: ConsoleSources, summary: ExecutionSummary): Promise<ExecutionView> {
  if (summary.status === 'NOT_FOUND') return { ...summary, events: [], glueRuns: [] };
  const { ctx } = src;
  const history = await readHistory(ctx, summary.executionArn, true);
  let definitionText: string | undefined;
  try {
    // The definition this execution ran with; a stack updated since may have another.
    definitionText = (await ctx.sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn: summary.executionArn }))).definition;
  } catch {
    definitionText = (await ctx.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: ctx.target.stateMachineArn }))).definition;
  }
  let definition: ExecutionView['definition'];
  try {
    definition = definitionText ? (JSON.parse(definitionText) as ExecutionView['definition']) : undefined;
  } catch {
    definition = undefined;
  }
  const glueRuns: GlueRunView[] = [];
  for (const id of glueRunIds(history)) glueRuns.push(await glueRun(src, id));
  return { ...summary, definition, events: eventViews(history), glueRuns };
}

async function readObjectText(
  ctx: CliContext,
  bucket: string,
  key: string,
  maxBytes: number,
): Promise<{ text: string; truncated: boolean }> {
  const out = await ctx.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${maxBytes - 1}` }));
  const bytes = await out.Body!.transformToByteArray();
  const whole = out.ContentRange === undefined || /\/(\d+)$/.exec(out.ContentRange)?.[1] === String(bytes.length);
  const data = key.endsWith('.gz') && whole ? gunzipSync(bytes) : Buffer.from(bytes);
  return { text: data.toString('utf8'), truncated: !whole };
}

async function listKeys(ctx: CliContext, bucket: string, prefix: string): Promise<{ key: string; size: number }[]> {
  const out: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await ctx.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) out.push({ key: o.Key, size: Number(o.Size ?? 0) });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token && out.length < 10_000);
  return out;
}

/** A value of a Parquet row as text (bigints, dates, nested values). */
function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return value.toString();
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? '';
}

async function parquetPreview(src: ConsoleSources, record: ManifestRecord): Promise<Preview<Record<string, string>>> {
  const { ctx } = src;
  if (record.ingestDate === undefined) return { objects: 0, items: [], problem: 'the record has no ingest date' };
  // The output in place: the run directory the record names (I4), not a listing of the manifest's directory.
  const prefix = outputPrefixes(record, ctx.target.curatedBucket)?.parquet;
  if (prefix === undefined) return { objects: 0, items: [], problem: 'no run has put an output in place' };
  try {
    const objects = (await listKeys(ctx, ctx.target.curatedBucket, prefix)).filter((o) => o.key.endsWith('.parquet') && o.size > 0);
    if (objects.length === 0) return { objects: 0, items: [], problem: `no Parquet under s3://${ctx.target.curatedBucket}/${prefix}` };
    const first = objects[0];
    // A part file Spark writes for one manifest is usually small: read it whole, once. A larger one is read by
    // ranges (its footer, then the row groups of the first rows).
    let whole: Promise<Uint8Array> | undefined;
    const read: RangeReader = async (start, end) => {
      if (first.size <= WHOLE_PARQUET_BYTES) {
        whole ??= ctx.s3
          .send(new GetObjectCommand({ Bucket: ctx.target.curatedBucket, Key: first.key }))
          .then((out) => out.Body!.transformToByteArray());
        return (await whole).subarray(start, end);
      }
      const out = await ctx.s3.send(
        new GetObjectCommand({ Bucket: ctx.target.curatedBucket, Key: first.key, Range: `bytes=${start}-${Math.max(start, end - 1)}` }),
      );
      return out.Body!.transformToByteArray();
    };
    const { columns, rows } = await src.parquetRows(read, first.size, PREVIEW_ROWS);
    return {
      object: `s3://${ctx.target.curatedBucket}/${first.key}`,
      objects: objects.length,
      columns,
      items: rows.map((r) => Object.fromEntries(columns.map((c) => [c, clip(cell(r[c]), 300).text]))),
    };
  } catch (err) {
    return { objects: 0, items: [], problem: `could not read the Parquet: ${(err as Error).message}` };
  }
}

async function quarantinePreview(ctx: CliContext, record: ManifestRecord): Promise<Preview<QuarantinedLine>> {
  const prefix = outputPrefixes(record, ctx.target.curatedBucket)?.quarantine;
  if (prefix === undefined) return { objects: 0, items: [] };
  try {
    const objects = (await listKeys(ctx, ctx.target.curatedBucket, prefix)).filter(
      (o) => o.size > 0 && !path.basename(o.key).startsWith('_'),
    );
    if (objects.length === 0) return { objects: 0, items: [] };
    const { text } = await readObjectText(ctx, ctx.target.curatedBucket, objects[0].key, QUARANTINE_BYTES);
    const items: QuarantinedLine[] = [];
    for (const line of text.split('\n')) {
      if (items.length >= PREVIEW_ROWS) break;
      if (line.trim() === '') continue;
      try {
        const q = JSON.parse(line) as Record<string, unknown>;
        items.push({
          sourceFile: typeof q.source_file === 'string' ? q.source_file : undefined,
          sourceVersion: typeof q.source_version === 'string' ? q.source_version : undefined,
          lineNumber: typeof q.line_number === 'number' ? q.line_number : undefined,
          reason: typeof q.reason === 'string' ? q.reason : undefined,
          line: typeof q.line === 'string' ? clip(q.line, 1000).text : undefined,
        });
      } catch {
        // a line cut by the byte limit: the preview stops before it
      }
    }
    return { object: `s3://${ctx.target.curatedBucket}/${objects[0].key}`, objects: objects.length, items };
  } catch (err) {
    return { objects: 0, items: [], problem: `could not read the quarantine: ${(err as Error).message}` };
  }
}

/** Decodes an RFC 2047 encoded word (`=?utf-8?q?...?=` or `?b?`) in a header. */
function decodeHeader(value: string): string {
  return value.replace(/=\?([^?]+)\?([qQbB])\?([^?]*)\?=\s*/g, (_m, _charset: string, enc: string, text: string) =>
    enc.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(
          text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8'),
  );
}

/** Parses an email of the local outbox (local/emulator/sns_outbox.py): headers, then the text body. */
export function parseEmail(raw: string): { subject: string; date?: string; body: string } {
  // Python's email package writes CRLF line ends (RFC 5322).
  const text = raw.replace(/\r\n/g, '\n');
  const split = text.indexOf('\n\n');
  const head = (split < 0 ? text : text.slice(0, split)).replace(/\r/g, '').replace(/\n[ \t]+/g, ' ');
  let body = split < 0 ? '' : text.slice(split + 2);
  const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'mi').exec(head)?.[1];
  if (/quoted-printable/i.test(header('Content-Transfer-Encoding') ?? '')) {
    body = Buffer.from(
      body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    ).toString('utf8');
  }
  const date = header('Date');
  return { subject: decodeHeader(header('Subject') ?? '(no subject)'), date: date ? new Date(date).toISOString() : undefined, body };
}

/** The outbox's emails, oldest first (local mode). */
function outboxAlerts(ctx: CliContext): { file: string; subject: string; date?: string; body: string }[] {
  if (ctx.target.mode !== 'local') return [];
  const dir = localPaths(ctx.target.stateDir).outboxDir;
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((f) => ({ file: path.join(dir, f), ...parseEmail(readFileSync(path.join(dir, f), 'utf8')) }));
}

function lineCheck(m: ManifestRecord): ManifestPageModel['lineCheck'] {
  if (m.linesIn === undefined) return undefined;
  const n = (v: unknown) => Number(v ?? 0);
  const c = { linesIn: n(m.linesIn), rowsOut: n(m.rowsOut), rowsQuarantined: n(m.rowsQuarantined), blankLines: n(m.blankLines) };
  return { ...c, holds: c.linesIn === c.rowsOut + c.rowsQuarantined + c.blankLines };
}

/** Reads everything the manifest page shows. */
export async function manifestPageModel(src: ConsoleSources, manifestId: string): Promise<ManifestPageModel> {
  const { ctx } = src;
  const { target } = ctx;
  const detail = await manifestDetail(ctx, manifestId);
  const m = detail.manifest;
  const executions: ExecutionView[] = [];
  for (const e of detail.executions) executions.push(await executionView(src, e));
  const resultKey = `manifests/${m.dataset}/${m.manifestId}.result.json`;
  let outcomeDocument: ManifestPageModel['outcomeDocument'];
  if (m.status === 'SUCCEEDED' || m.status === 'PARTIAL' || m.status === 'FAILED') {
    try {
      const { text, truncated } = await readObjectText(ctx, target.curatedBucket, resultKey, 64 * 1024);
      outcomeDocument = { key: resultKey, text: truncated ? `${text}…` : text };
    } catch (err) {
      outcomeDocument = {
        key: resultKey,
        problem: (err as Error).name === 'NoSuchKey' ? 'not written (the run ended before it)' : (err as Error).message,
      };
    }
  }
  const emails = outboxAlerts(ctx).filter((e) => e.subject.includes(m.manifestId) || e.body.includes(m.manifestId));
  const links: AwsLink[] = [];
  const output = outputPrefixes(m, target.curatedBucket);
  if (target.mode === 'cloud') {
    if (output !== undefined) {
      links.push({ label: 'Parquet in S3', url: awsLinks.s3Prefix(target.region, target.curatedBucket, output.parquet) });
      links.push({ label: 'quarantine in S3', url: awsLinks.s3Prefix(target.region, target.curatedBucket, output.quarantine) });
    }
    links.push({ label: 'outcome document in S3', url: awsLinks.s3Prefix(target.region, target.curatedBucket, resultKey) });
    links.push({ label: 'Glue table', url: awsLinks.table(target.region, m.dataset) });
  }
  return {
    ...detail,
    mode: target.mode,
    executions,
    lineCheck: lineCheck(m),
    outcomeDocument,
    parquet: m.status === 'SUCCEEDED' || m.status === 'PARTIAL' ? await parquetPreview(src, m) : { objects: 0, items: [] },
    quarantine: await quarantinePreview(ctx, m),
    alert: {
      emails: emails.map((e) => ({ ...e, body: clip(e.body, 16 * 1024).text })),
      topicArn: target.alertTopicArn,
      link: target.mode === 'cloud' ? awsLinks.topic(target.region, target.alertTopicArn) : undefined,
    },
    replayCommand: m.status === 'FAILED' || m.status === 'PARTIAL' ? `npx pipeline replay ${m.manifestId}` : undefined,
    links,
  };
}

// ----------------------------------------------------------------------------------------------------- dataset

/** A dataset's table: its columns now, and each version of the table with the columns it added. */
export interface DatasetModel {
  readonly dataset: string;
  readonly database: string;
  readonly columns: { name: string; type: string; partition: boolean; since?: string }[];
  readonly versions: { versionId: string; updatedAt?: string; added: string[] }[];
  readonly problem?: string;
  readonly manifests: ManifestRecord[];
  readonly link?: string;
}

export async function datasetModel(src: ConsoleSources, dataset: string, since: Date): Promise<DatasetModel> {
  const { ctx, glue } = src;
  const database = ctx.target.glueDatabase;
  const manifests = await manifestsModel(src, { since, dataset });
  const link = ctx.target.mode === 'cloud' ? awsLinks.table(ctx.target.region, dataset) : undefined;
  try {
    const { Table: table } = await glue.send(new GetTableCommand({ DatabaseName: database, Name: dataset }));
    const versions: { versionId: string; updatedAt?: string; names: string[] }[] = [];
    let token: string | undefined;
    do {
      const page = await glue.send(new GetTableVersionsCommand({ DatabaseName: database, TableName: dataset, NextToken: token }));
      for (const v of page.TableVersions ?? []) {
        versions.push({
          versionId: v.VersionId ?? '?',
          updatedAt: (v.Table?.UpdateTime ?? v.Table?.CreateTime)?.toISOString(),
          names: (v.Table?.StorageDescriptor?.Columns ?? []).map((c) => c.Name ?? ''),
        });
      }
      token = page.NextToken;
    } while (token && versions.length < 1000);
    versions.sort((a, b) => Number(a.versionId) - Number(b.versionId));
    const seen = new Set<string>();
    const arrived = new Map<string, string | undefined>();
    const withAdded = versions.map((v) => {
      const added = v.names.filter((n) => !seen.has(n));
      for (const n of added) {
        seen.add(n);
        arrived.set(n, v.updatedAt);
      }
      return { versionId: v.versionId, updatedAt: v.updatedAt, added };
    });
    const columns = [
      ...(table?.StorageDescriptor?.Columns ?? []).map((c) => ({
        name: c.Name ?? '',
        type: c.Type ?? '',
        partition: false,
        since: arrived.get(c.Name ?? ''),
      })),
      ...(table?.PartitionKeys ?? []).map((c) => ({ name: c.Name ?? '', type: c.Type ?? '', partition: true })),
    ];
    return { dataset, database, columns, versions: withAdded.reverse(), manifests, link };
  } catch (err) {
    const e = err as Error;
    return {
      dataset,
      database,
      columns: [],
      versions: [],
      manifests,
      link,
      problem: e.name === 'EntityNotFoundException' ? 'no table yet: its first manifest has not been converted' : e.message,
    };
  }
}
