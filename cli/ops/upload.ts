/**
 * Uploading NDJSON files to the ingest bucket under `incoming/<dataset>/<relative path>`. Planning (which files,
 * which keys) is separate from the transfer, so the key mapping is tested without S3. A file counts as uploaded
 * only once S3 has completed it and reports the size it was sent; a failed multipart upload is aborted.
 */
import { constants as fsConstants } from 'node:fs';
import { type FileHandle, lstat, open, readdir, realpath, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { DATASET_PATTERN, isHiddenFileName } from '../../handlers/domain/dataset';
import { PipelineConfig } from '../../contracts/config';
import { CliContext } from '../context';
import { UsageError } from '../errors';

/** Throws a {@link UsageError} naming the rule when `dataset` is not a valid dataset name. */
export function validateDataset(dataset: string): void {
  if (!DATASET_PATTERN.test(dataset)) {
    throw new UsageError(
      `dataset "${dataset}" is not valid: use lower-case letters, digits and _, starting with a letter, at most 40 characters`,
    );
  }
}

/** The ingest key of a file: `<ingestPrefix><dataset>/<relative path with / separators>`. */
export function objectKey(ingestPrefix: string, dataset: string, relativePath: string): string {
  const rel = relativePath.split(path.sep).join('/').replace(/^\/+/, '');
  if (rel === '' || rel.split('/').some((seg) => seg === '' || seg === '.' || seg === '..')) {
    throw new UsageError(`cannot make an object key of "${relativePath}"`);
  }
  return `${ingestPrefix}${dataset}/${rel}`;
}

/** The accepted suffix a name ends with, if any; compared case-sensitively, as the manifest builder does. */
export function acceptedSuffix(name: string, suffixes: readonly string[]): string | undefined {
  return [...suffixes].sort((a, b) => b.length - a.length).find((s) => name.endsWith(s));
}

/** A file to upload and its key. */
export interface PlannedFile {
  readonly path: string;
  readonly key: string;
  readonly size: number;
  /**
   * Found inside a folder argument: opened without following a symbolic link, so an entry replaced by a link after
   * the plan is refused rather than read from wherever the link points. A file argument is opened as named.
   */
  readonly inFolder?: boolean;
}

/** A file left out, and why. */
export interface SkippedFile {
  readonly path: string;
  readonly reason: string;
}

/** The files an upload will send. */
/**
 * The checksum `pipeline upload` asks S3 for: CRC64NVME, which S3 keeps as a checksum of the full object whatever
 * the part size, and the one S3 gives an upload that brings none ("Checking object integrity in Amazon S3"). So a
 * file is identified by the same checksum (I7, `contentTagOf`) whether it goes up in one request or in parts of
 * any size, and whether this command or a producer without checksums uploaded it. (The SDK's default, CRC32, is
 * a composite checksum for a multipart upload, which changes with the part size.)
 */
export const UPLOAD_CHECKSUM_ALGORITHM = 'CRC64NVME' as const;

export interface UploadPlan {
  readonly dataset: string;
  readonly files: PlannedFile[];
  readonly skipped: SkippedFile[];
  readonly totalBytes: number;
}

/** A file found by the plan. */
interface FoundFile {
  readonly path: string;
  readonly relative: string;
  readonly size: number;
  readonly inFolder: boolean;
}

/**
 * Why a symbolic link inside a folder argument is not followed. Outside the folder: the operator named the
 * folder, not whatever a link in it points at (another dataset, a home directory, a secret). Inside: its target is
 * uploaded under its own path already, so following it would send the same rows twice under two keys (and a
 * link to a folder above it would loop).
 */
async function symlinkReason(link: string, realBase: string): Promise<string> {
  let target: string;
  try {
    target = await realpath(link);
  } catch (err) {
    return `broken symbolic link (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}): not followed`;
  }
  const rel = path.relative(realBase, target);
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
    return `symbolic link to ${target}, outside the folder: not followed`;
  }
  return `symbolic link to ${rel === '' ? 'the folder itself' : rel.split(path.sep).join('/')}, inside the folder: not followed (the target is uploaded under its own path)`;
}

async function walk(dir: string, base: string, realBase: string, out: FoundFile[], skipped: SkippedFile[]) {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    skipped.push({ path: dir, reason: `cannot read folder: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.name.startsWith('.')) {
      skipped.push({ path: full, reason: `hidden (its name begins with "."): not uploaded; name it as an argument to send it` });
      continue;
    }
    let info;
    try {
      // lstat, not stat: a symbolic link is looked at as a link, never followed.
      info = await lstat(full);
    } catch (err) {
      skipped.push({ path: full, reason: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    if (info.isSymbolicLink()) skipped.push({ path: full, reason: await symlinkReason(full, realBase) });
    else if (info.isDirectory()) await walk(full, base, realBase, out, skipped);
    else if (info.isFile()) out.push({ path: full, relative: path.relative(base, full), size: info.size, inFolder: true });
    else skipped.push({ path: full, reason: 'not a regular file' });
  }
}

/**
 * Lists the files to upload: each file argument keeps its name, each folder its files' paths relative to it.
 * An argument that does not exist or cannot be read fails the whole upload before anything is sent; files
 * without an accepted suffix are skipped with the reason; two files with one key fail it too. Symbolic links inside a
 * folder are never followed (see {@link symlinkReason}); an argument that is itself a link is taken as named.
 */
export async function planUpload(
  paths: readonly string[],
  dataset: string,
  config: Pick<PipelineConfig, 'ingestPrefix' | 'acceptedSuffixes'>,
): Promise<UploadPlan> {
  validateDataset(dataset);
  if (paths.length === 0) throw new UsageError('name at least one file or folder to upload');
  const found: FoundFile[] = [];
  const skipped: SkippedFile[] = [];
  for (const arg of paths) {
    let info;
    try {
      info = await stat(arg);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(`cannot read ${arg}: ${code === 'ENOENT' ? 'no such file or folder' : (code ?? (err as Error).message)}`);
    }
    if (info.isDirectory()) await walk(path.resolve(arg), path.resolve(arg), await realpath(arg), found, skipped);
    else if (info.isFile()) found.push({ path: path.resolve(arg), relative: path.basename(arg), size: info.size, inFolder: false });
    else throw new UsageError(`cannot upload ${arg}: not a regular file or folder`);
  }
  const files: PlannedFile[] = [];
  const byKey = new Map<string, string>();
  for (const f of found) {
    if (isHiddenFileName(path.basename(f.relative))) {
      // The manifest builder would refuse it (REJECTED#, hidden-name): sending it would look like a lost file.
      skipped.push({
        path: f.path,
        reason:
          'file name begins with "_" or ".", which the pipeline refuses (Spark\'s file listing skips such names): rename it to send it',
      });
      continue;
    }
    if (acceptedSuffix(f.relative, config.acceptedSuffixes) === undefined) {
      skipped.push({ path: f.path, reason: `not an accepted suffix (${config.acceptedSuffixes.join(' ')})` });
      continue;
    }
    if (f.size === 0) {
      // The manifest builder ignores empty objects (nothing to convert): sending one would look like a lost file.
      skipped.push({ path: f.path, reason: 'empty file (the pipeline ignores empty objects)' });
      continue;
    }
    const key = objectKey(config.ingestPrefix, dataset, f.relative);
    const other = byKey.get(key);
    if (other !== undefined) throw new UsageError(`${other} and ${f.path} would both be uploaded as ${key}`);
    byKey.set(key, f.path);
    files.push({ path: f.path, key, size: f.size, inFolder: f.inFolder });
  }
  return { dataset, files, skipped, totalBytes: files.reduce((sum, f) => sum + f.size, 0) };
}

/** Progress of an upload, reported as parts complete. */
export interface UploadProgress {
  readonly filesTotal: number;
  readonly filesDone: number;
  readonly filesFailed: number;
  readonly bytesTotal: number;
  readonly bytesDone: number;
}

/** The outcome of one file. */
export interface FileOutcome {
  readonly path: string;
  readonly key: string;
  readonly size: number;
  /** `exists`: left out by `skipExisting`, an object of the same key and size is already there. */
  readonly status: 'uploaded' | 'failed' | 'exists';
  readonly error?: string;
}

/** The outcome of an upload. */
export interface UploadSummary {
  readonly dataset: string;
  readonly bucket: string;
  readonly uploaded: number;
  readonly failed: number;
  /** Files left out because they were already in the bucket ({@link UploadOptions.skipExisting}). */
  readonly existing: number;
  readonly skipped: SkippedFile[];
  readonly bytesUploaded: number;
  readonly seconds: number;
  readonly files: FileOutcome[];
}

/** Options of {@link uploadFiles}. */
export interface UploadOptions {
  /** Files sent at once. @default 4 */
  readonly concurrency?: number;
  /** Multipart part size in bytes (at least 5 MiB); files larger than this go in parts. @default 8 MiB */
  readonly partSize?: number;
  /** Parts of one file sent at once. @default 2 */
  readonly queueSize?: number;
  /**
   * Leave out a file whose key already holds an object of the same size. Every upload of a key is a new
   * object that the pipeline ingests, so finishing an interrupted upload must not send the others again.
   * @default false
   */
  readonly skipExisting?: boolean;
  /** Called whenever bytes or files complete. */
  readonly onProgress?: (progress: UploadProgress) => void;
  /** Called once per file when it is done or failed. */
  readonly onFile?: (outcome: FileOutcome, progress: UploadProgress) => void;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;

function contentType(key: string): string {
  if (key.endsWith('.gz')) return 'application/gzip';
  if (key.endsWith('.json')) return 'application/json';
  return 'application/x-ndjson';
}

/** Sends the planned files to the ingest bucket. Never throws for one file: each outcome is in the summary. */
export async function uploadFiles(ctx: CliContext, plan: UploadPlan, opts: UploadOptions = {}): Promise<UploadSummary> {
  const started = Date.now();
  const bucket = ctx.target.ingestBucket;
  const partSize = Math.max(opts.partSize ?? 8 * 1024 * 1024, MIN_PART_SIZE);
  const loaded = new Map<string, number>();
  const outcomes: FileOutcome[] = [];
  const progress = (): UploadProgress => ({
    filesTotal: plan.files.length,
    filesDone: outcomes.filter((o) => o.status !== 'failed').length,
    filesFailed: outcomes.filter((o) => o.status === 'failed').length,
    bytesTotal: plan.totalBytes,
    bytesDone: [...loaded.values()].reduce((a, b) => a + b, 0),
  });

  const existing = async (file: PlannedFile): Promise<boolean> => {
    try {
      return (await ctx.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: file.key }))).ContentLength === file.size;
    } catch (err) {
      if ((err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchKey') return false;
      throw err;
    }
  };

  const sendOne = async (file: PlannedFile): Promise<FileOutcome> => {
    let handle: FileHandle | undefined;
    try {
      if (opts.skipExisting && (await existing(file))) {
        loaded.set(file.key, file.size);
        return { ...file, status: 'exists' };
      }
      // O_NOFOLLOW: a file found in a folder and replaced by a symbolic link since the plan is refused (ELOOP).
      handle = await open(file.path, file.inFolder ? fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW : fsConstants.O_RDONLY);
      const upload = new Upload({
        client: ctx.s3,
        params: {
          Bucket: bucket,
          Key: file.key,
          Body: handle.createReadStream(),
          ContentType: contentType(file.key),
          ChecksumAlgorithm: UPLOAD_CHECKSUM_ALGORITHM,
        },
        partSize,
        queueSize: opts.queueSize ?? 2,
        leavePartsOnError: false,
      });
      upload.on('httpUploadProgress', (p) => {
        loaded.set(file.key, Math.min(p.loaded ?? 0, file.size));
        opts.onProgress?.(progress());
      });
      await upload.done();
      // What S3 holds must be what was planned: a file that changed while being read is not reported as done.
      const head = await ctx.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: file.key }));
      if (head.ContentLength !== file.size) {
        loaded.set(file.key, 0);
        return {
          ...file,
          status: 'failed',
          error: `stored ${head.ContentLength} bytes, expected ${file.size}: the file changed while uploading`,
        };
      }
      loaded.set(file.key, file.size);
      return { ...file, status: 'uploaded' };
    } catch (err) {
      loaded.set(file.key, 0);
      const e = err as NodeJS.ErrnoException;
      return { ...file, status: 'failed', error: e.code && e.syscall ? `cannot read file: ${e.code}` : `${e.name}: ${e.message}` };
    } finally {
      // The stream closes it once read; a transfer that failed before reading it leaves it to close here.
      await handle?.close().catch(() => undefined);
    }
  };

  const queue = [...plan.files];
  const workers = Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 4, queue.length)) }, async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const outcome = await sendOne(file);
      outcomes.push(outcome);
      const now = progress();
      opts.onProgress?.(now);
      opts.onFile?.(outcome, now);
    }
  });
  await Promise.all(workers);

  const order = new Map(plan.files.map((f, i) => [f.key, i]));
  outcomes.sort((a, b) => (order.get(a.key) ?? 0) - (order.get(b.key) ?? 0));
  const uploaded = outcomes.filter((o) => o.status === 'uploaded');
  return {
    dataset: plan.dataset,
    bucket,
    uploaded: uploaded.length,
    failed: outcomes.filter((o) => o.status === 'failed').length,
    existing: outcomes.filter((o) => o.status === 'exists').length,
    skipped: plan.skipped,
    bytesUploaded: uploaded.reduce((sum, o) => sum + o.size, 0),
    seconds: (Date.now() - started) / 1000,
    files: outcomes,
  };
}
