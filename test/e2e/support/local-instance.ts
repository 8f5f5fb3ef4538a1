/**
 * An instance of the local mode for one end-to-end test file: its own state directory and a free port, so tests
 * do not collide with a running demo nor with each other. What the tests do against it (upload, wait, read alerts)
 * is the demo's too: local/scenario.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { createContext, type CliContext } from '../../../cli/context';
import type { ManifestRecord } from '../../../handlers/common/state-store';
import { targetFromLocalStack } from '../../../cli/target';
import { FINAL_STATUSES } from '../../../contracts/table-schema';
import { localPaths, type LocalStack } from '../../../contracts/local-stack';
import { freePort } from '../../../local/process-utils';
import { startLocal, stopLocal, type StartOptions } from '../../../local/runtime';
import { readCuratedParquet } from '../../../local/parquet-reader';
import type { SampleFile } from '../../../local/sample-data';
import * as scenario from '../../../local/scenario';
import { manifestsSince, uploadFiles } from '../../../local/scenario';
import { iamProblems } from './iam-check';

/** A running local mode and the CLI's clients pointed at it. */
export interface LocalInstance {
  readonly stack: LocalStack;
  readonly stateDir: string;
  readonly ctx: CliContext;
  /** When the instance started: manifests are listed from this time. */
  readonly startedAt: Date;
  /**
   * Stops the local mode, checks every call its components made against their policies in the synthesized stack
   * (./iam-check.ts), and removes its state directory (kept when KEEP_E2E_STATE is set). Throws, naming each call,
   * when a policy would deny one: the test file fails.
   */
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
      let denied: string[];
      try {
        denied = await iamProblems(stateDir, stack);
      } finally {
        if (!process.env.KEEP_E2E_STATE) rmSync(stateDir, { recursive: true, force: true });
      }
      if (denied.length > 0) {
        throw new Error(`The stack's IAM policies would deny ${denied.length} call(s) the components made:\n${denied.join('\n')}`);
      }
    },
  };
}

/** Uploads sample files to the ingest bucket, a few at a time. */
export function upload(instance: LocalInstance, files: readonly SampleFile[]): Promise<void> {
  return uploadFiles(instance, files);
}

/** The manifests opened since the instance started. */
export function manifestsOf(instance: LocalInstance): Promise<ManifestRecord[]> {
  return manifestsSince(instance, instance.startedAt);
}

/** Waits until manifests holding `fileCount` files in all have finished (SUCCEEDED, PARTIAL or FAILED), and returns them all. */
export function waitForConvertedFiles(instance: LocalInstance, fileCount: number, timeoutMs: number): Promise<ManifestRecord[]> {
  return scenario.waitForConvertedFiles(instance, instance.startedAt, fileCount, timeoutMs);
}

/** Waits for an execution to end; returns its final description. */
export function waitForExecution(instance: LocalInstance, executionArn: string, timeoutMs: number) {
  return scenario.waitForExecution(instance, executionArn, timeoutMs);
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

/** The alert emails of the instance's outbox, oldest first. */
export function outboxEmails(instance: LocalInstance): { file: string; text: string }[] {
  return scenario.outboxEmails(instance.stack.outboxDir);
}

/** Waits for the alert emails that name `manifestId` (at least one) and returns them all. */
export function alertEmailsFor(instance: LocalInstance, manifestId: string, timeoutMs = 60_000): Promise<{ file: string; text: string }[]> {
  return scenario.alertEmailsFor(instance.stack.outboxDir, manifestId, timeoutMs);
}

/** Rows per source file expected from the sample: the good lines of each, by its `s3://` URI. */
export function expectedRowsBySource(bucket: string, files: readonly SampleFile[]): Record<string, number> {
  return Object.fromEntries(files.map((f) => [`s3://${bucket}/${f.key}`, f.goodLines]));
}
