/**
 * An instance of the local mode for one end-to-end test file: its own state directory and a free port, so tests
 * do not collide with a running demo nor with each other. Waits are polls with deadlines, never fixed sleeps.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createContext, type CliContext } from '../../../cli/context';
import { listManifests, type ManifestRecord } from '../../../cli/ops/manifests';
import { targetFromLocalStack } from '../../../cli/target';
import { FINAL_STATUSES, keys } from '../../../pipeline/table-schema';
import { localPaths, type LocalStack } from '../../../local/layout';
import { freePort, sleep } from '../../../local/process-utils';
import { startLocal, stopLocal, type StartOptions } from '../../../local/runtime';
import { readCuratedParquet } from '../../../local/parquet-reader';
import type { SampleFile } from '../../../local/sample-data';

/** A running local mode and the CLI's clients pointed at it. */
export interface LocalInstance {
  readonly stack: LocalStack;
  readonly stateDir: string;
  readonly ctx: CliContext;
  /** When the instance started: manifests are listed from this time. */
  readonly startedAt: Date;
  /** Stops the local mode and removes its state directory (kept when KEEP_E2E_STATE is set). */
  stop(): Promise<void>;
}

/** Starts the local mode in a fresh temporary state directory on a free port. */
export async function startInstance(options: Omit<StartOptions, 'stateDir' | 'port'> = {}): Promise<LocalInstance> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-e2e-'));
  const startedAt = new Date();
  const stack = await startLocal({ ...options, stateDir, port: await freePort() });
  const ctx = createContext(targetFromLocalStack(stack, localPaths(stateDir).stackFile));
  return {
    stack,
    stateDir,
    ctx,
    startedAt,
    stop: async () => {
      for (const client of [ctx.s3, ctx.sqs, ctx.sfn, ctx.ddb]) client.destroy();
      await stopLocal({ stateDir }).catch(() => undefined);
      if (!process.env.KEEP_E2E_STATE) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` until it returns a value other than undefined, or fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Uploads sample files to the ingest bucket, a few at a time. */
export async function upload(instance: LocalInstance, files: readonly SampleFile[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++];
      await instance.ctx.s3.send(new PutObjectCommand({ Bucket: instance.stack.ingestBucket, Key: file.key, Body: file.body }));
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

/** The manifests opened since the instance started. */
export function manifestsOf(instance: LocalInstance): Promise<ManifestRecord[]> {
  return listManifests(instance.ctx, { since: new Date(instance.startedAt.getTime() - 60_000) });
}

/** Waits until manifests holding `fileCount` files in all have finished (SUCCEEDED, PARTIAL or FAILED), and returns them all. */
export function waitForConvertedFiles(instance: LocalInstance, fileCount: number, timeoutMs: number): Promise<ManifestRecord[]> {
  return waitFor(
    `${fileCount} files in finished manifests (see ${instance.stateDir}/logs)`,
    async () => {
      const manifests = await manifestsOf(instance);
      const finished = manifests.filter((m) => (FINAL_STATUSES as readonly string[]).includes(m.status));
      const files = finished.reduce((n, m) => n + Number(m.fileCount ?? 0), 0);
      return files >= fileCount && finished.length === manifests.length ? manifests : undefined;
    },
    timeoutMs,
    2000,
  );
}

/** Waits for an execution to end; returns its final description. */
export function waitForExecution(instance: LocalInstance, executionArn: string, timeoutMs: number) {
  return waitFor(
    `execution ${executionArn} to end`,
    async () => {
      const d = await instance.ctx.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return d.status === 'RUNNING' ? undefined : d;
    },
    timeoutMs,
    2000,
  );
}

/**
 * Uploads one file, waits until the manifest builder wrote it into its dataset's open manifest, and returns that
 * manifest's id and the version uploaded.
 */
export async function uploadIntoManifest(instance: LocalInstance, file: SampleFile): Promise<{ manifestId: string; versionId: string }> {
  const { ctx, stack } = instance;
  const put = await putObject(instance, file.key, file.body);
  const manifestId = await waitFor(
    `${file.key} in a manifest`,
    async () => {
      const open = await ctx.ddb.send(new GetCommand({ TableName: stack.stateTable, Key: keys.open(file.dataset), ConsistentRead: true }));
      const id = open.Item?.manifestId as string | undefined;
      if (id === undefined) return undefined;
      const entry = await ctx.ddb.send(
        new GetCommand({ TableName: stack.stateTable, Key: keys.manifestFile(id, file.key, put.eTag), ConsistentRead: true }),
      );
      return entry.Item === undefined ? undefined : id;
    },
    60_000,
    300,
  );
  return { manifestId, versionId: put.versionId };
}

/** Uploads `body` under `key` as a producer would; returns the new version and its eTag. */
export async function putObject(instance: LocalInstance, key: string, body: string): Promise<{ versionId: string; eTag: string }> {
  const out = await instance.ctx.s3.send(new PutObjectCommand({ Bucket: instance.stack.ingestBucket, Key: key, Body: body }));
  return { versionId: out.VersionId!, eTag: (out.ETag ?? '').replace(/"/g, '') };
}

/** Deletes one version of an object for good, as a producer with that right can: it cannot be read any more. */
export async function deleteVersion(instance: LocalInstance, key: string, versionId: string): Promise<void> {
  await instance.ctx.s3.send(new DeleteObjectCommand({ Bucket: instance.stack.ingestBucket, Key: key, VersionId: versionId }));
}

/**
 * The end-to-end checker of I7, once the pipeline is quiet: no manifest of the instance in a non-final status, and
 * every uploaded content's rows in the Parquet exactly once (by `_source_file` and `_source_version`) unless a
 * manifest lists it as failed. `expected` maps `s3://bucket/key#versionId` to the rows that version holds.
 */
export async function nothingLeftBehind(instance: LocalInstance, dataset: string, expected: Record<string, number>): Promise<string[]> {
  const problems: string[] = [];
  const manifests = await manifestsOf(instance);
  for (const m of manifests) {
    if (!(FINAL_STATUSES as readonly string[]).includes(m.status)) problems.push(`${m.manifestId} is ${m.status}`);
  }
  const failed = new Set(
    manifests
      .flatMap((m) =>
        m.status === 'PARTIAL' && typeof m.failedFiles === 'string'
          ? (JSON.parse(m.failedFiles) as { uri: string; versionId?: string }[])
          : [],
      )
      .map((f) => `${f.uri}#${f.versionId ?? ''}`),
  );
  const parquet = await readCuratedParquet(instance.stack, dataset);
  for (const [version, rows] of Object.entries(expected)) {
    const found = parquet.rowsBySourceVersion[version] ?? 0;
    if (found !== rows && !(found === 0 && failed.has(version))) problems.push(`${version}: ${found} rows in Parquet, expected ${rows}`);
  }
  for (const version of Object.keys(parquet.rowsBySourceVersion)) {
    if (!(version in expected)) problems.push(`${version}: rows of a version nobody uploaded`);
  }
  return problems;
}

/** Messages in a queue: visible plus in flight. */
export async function queueDepth(instance: LocalInstance, queueUrl: string): Promise<number> {
  const out = await instance.ctx.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** The alert emails in the outbox, as text. */
export function outboxEmails(instance: LocalInstance): { file: string; text: string }[] {
  const dir = instance.stack.outboxDir;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((f) => ({ file: f, text: readFileSync(path.join(dir, f), 'utf8') }));
}

/** Waits for the alert emails that name `manifestId` (at least one) and returns them all. */
export function alertEmailsFor(instance: LocalInstance, manifestId: string, timeoutMs = 60_000): Promise<{ file: string; text: string }[]> {
  return waitFor(
    `an alert email naming ${manifestId}`,
    () => {
      const found = outboxEmails(instance).filter((e) => e.text.includes(manifestId));
      return Promise.resolve(found.length > 0 ? found : undefined);
    },
    timeoutMs,
  );
}

/** Rows per source file expected from the sample: the good lines of each, by its `s3://` URI. */
export function expectedRowsBySource(bucket: string, files: readonly SampleFile[]): Record<string, number> {
  return Object.fromEntries(files.map((f) => [`s3://${bucket}/${f.key}`, f.goodLines]));
}
