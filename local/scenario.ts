/**
 * What a producer and an operator do against a running local mode, as the demo and the end-to-end tests both do it:
 * upload (one file into its manifest, or many), delete a version, wait for manifests and executions to finish,
 * read the alert emails. Waits are polls with deadlines, never fixed sleeps.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { CliContext } from '../cli/context';
import { listManifests } from '../cli/ops/manifests';
import { contentTagOfObject } from '../handlers/common/content-identity';
import type { ManifestRecord } from '../handlers/common/state-store';
import type { LocalStack } from '../contracts/local-stack';
import { FINAL_STATUSES, keys } from '../contracts/table-schema';
import { sleep } from './process-utils';
import type { SampleFile } from './sample-data';

/** A running local mode and the CLI's clients pointed at it. */
export interface Scene {
  readonly stack: LocalStack;
  readonly ctx: CliContext;
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

/** Uploads `body` under `key` as a producer would; returns the new version, its eTag and its content tag (I7). */
export async function putObject(scene: Scene, key: string, body: string): Promise<{ versionId: string; eTag: string; contentTag: string }> {
  const bucket = scene.stack.ingestBucket;
  const out = await scene.ctx.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const version = { bucket, key, versionId: out.VersionId!, eTag: (out.ETag ?? '').replace(/"/g, '') };
  // The identity the builder keys the file by (its full-object checksum), read as the builder reads it.
  return { ...version, contentTag: await contentTagOfObject(scene.ctx.s3, version) };
}

/** Deletes one version of an object for good, as a producer with that right can: it cannot be read any more. */
export async function deleteVersion(scene: Scene, key: string, versionId: string): Promise<void> {
  await scene.ctx.s3.send(new DeleteObjectCommand({ Bucket: scene.stack.ingestBucket, Key: key, VersionId: versionId }));
}

/** Uploads sample files to the ingest bucket, `concurrency` at a time; `onUploaded` after each. */
export async function uploadFiles(scene: Scene, files: readonly SampleFile[], concurrency = 4, onUploaded?: () => void): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++];
      await putObject(scene, file.key, file.body);
      onUploaded?.();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Uploads one file, waits until the manifest builder wrote it into its dataset's open manifest, and returns that
 * manifest's id and the version uploaded.
 */
export async function uploadIntoManifest(
  scene: Scene,
  file: SampleFile,
  timeoutMs = 60_000,
): Promise<{ manifestId: string; versionId: string }> {
  const { ctx, stack } = scene;
  const put = await putObject(scene, file.key, file.body);
  const manifestId = await waitFor(
    `${file.key} in a manifest (see the manifest builder's log)`,
    async () => {
      // The content's FILE# item names its manifest, whichever write shard of the dataset it entered.
      const recorded = await ctx.ddb.send(
        new GetCommand({ TableName: stack.stateTable, Key: keys.file(stack.ingestBucket, file.key, put.contentTag), ConsistentRead: true }),
      );
      return recorded.Item?.manifestId as string | undefined;
    },
    timeoutMs,
    300,
  );
  return { manifestId, versionId: put.versionId };
}

/** Manifests opened since `since` (a minute of slack for clocks), whatever their status. */
export function manifestsSince(scene: Scene, since: Date): Promise<ManifestRecord[]> {
  return listManifests(scene.ctx, { since: new Date(since.getTime() - 60_000) });
}

/** How far the manifests opened since `since` are: files in finished manifests, and manifests per status. */
export interface ConversionProgress {
  readonly manifests: ManifestRecord[];
  readonly filesDone: number;
  /** `2 SUCCEEDED, 1 RUNNING`. */
  readonly states: string;
}

/**
 * Waits until manifests holding `fileCount` files in all have finished (SUCCEEDED, PARTIAL or FAILED) and no other
 * is left, and returns them all; `onProgress` after each look.
 */
export function waitForConvertedFiles(
  scene: Scene,
  since: Date,
  fileCount: number,
  timeoutMs: number,
  onProgress?: (p: ConversionProgress) => void,
): Promise<ManifestRecord[]> {
  return waitFor(
    `${fileCount} files in finished manifests (see the local mode's logs)`,
    async () => {
      const manifests = await manifestsSince(scene, since);
      const finished = manifests.filter((m) => (FINAL_STATUSES as readonly string[]).includes(m.status));
      const filesDone = finished.reduce((n, m) => n + Number(m.fileCount ?? 0), 0);
      const counts = new Map<string, number>();
      for (const m of manifests) counts.set(m.status, (counts.get(m.status) ?? 0) + 1);
      onProgress?.({ manifests, filesDone, states: [...counts].map(([s, n]) => `${n} ${s}`).join(', ') });
      return filesDone >= fileCount && finished.length === manifests.length ? manifests : undefined;
    },
    timeoutMs,
    2000,
  );
}

/** Waits for an execution to end; returns its final description. */
export function waitForExecution(
  scene: Scene,
  executionArn: string,
  timeoutMs: number,
  onTick?: () => void,
): Promise<DescribeExecutionCommandOutput> {
  return waitFor(
    `execution ${executionArn} to end`,
    async () => {
      const d = await scene.ctx.sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (d.status === 'RUNNING') onTick?.();
      return d.status === 'RUNNING' ? undefined : d;
    },
    timeoutMs,
    2000,
  );
}

/** The alert emails the local mode's outbox holds, oldest first. */
export function outboxEmails(outboxDir: string): { file: string; text: string }[] {
  return readdirSync(outboxDir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((f) => ({ file: path.join(outboxDir, f), text: readFileSync(path.join(outboxDir, f), 'utf8') }));
}

/** Waits for the alert emails that name `manifestId` (at least one) and returns them all. */
export function alertEmailsFor(outboxDir: string, manifestId: string, timeoutMs = 60_000): Promise<{ file: string; text: string }[]> {
  return waitFor(
    `an alert email naming ${manifestId}`,
    () => {
      const found = outboxEmails(outboxDir).filter((e) => e.text.includes(manifestId));
      return Promise.resolve(found.length > 0 ? found : undefined);
    },
    timeoutMs,
  );
}
