/**
 * Manifest ids, object locations, grouping decisions and the manifest file: pure functions, no AWS.
 */
import { PREFIXES } from '../../contracts/config';

/** `yyyymmdd` of a UTC instant. */
export function compactDay(at: Date): string {
  return at.toISOString().slice(0, 10).replace(/-/g, '');
}

/** `YYYY-MM-DD` from `yyyymmdd`. */
export function isoDayOf(compact: string): string {
  return `${compact.slice(0, 4)}-${compact.slice(4, 6)}-${compact.slice(6, 8)}`;
}

/** `<dataset>-<yyyymmdd>-<seq6>`, the manifest id and the name of its first execution (I3). */
export function manifestIdOf(dataset: string, day: string, seq: number): string {
  if (!Number.isInteger(seq) || seq < 1 || seq > 999_999) throw new RangeError(`manifest sequence out of range: ${seq}`);
  return `${dataset}-${day}-${String(seq).padStart(6, '0')}`;
}

const MANIFEST_ID = /^([a-z][a-z0-9_]{0,39})-(\d{8})-(\d{6})$/;

/** Splits a manifest id into its parts, or returns undefined when it is not one. */
export function parseManifestId(id: string): { dataset: string; day: string; seq: number } | undefined {
  const m = MANIFEST_ID.exec(id);
  return m ? { dataset: m[1], day: m[2], seq: Number(m[3]) } : undefined;
}

/** Where the builder writes the manifest file in the curated bucket. */
export function manifestKeyOf(dataset: string, manifestId: string): string {
  return `${PREFIXES.manifests}${dataset}/${manifestId}.json`;
}

/** Where the Glue job writes the result file in the curated bucket (docs/architecture.md, "Buckets and prefixes"). */
export function resultKeyOf(dataset: string, manifestId: string): string {
  return `${PREFIXES.manifests}${dataset}/${manifestId}.result.json`;
}

/** The ARN Step Functions gives an execution, known without asking it (ExecutionAlreadyExists carries no ARN). */
export function executionArnOf(stateMachineArn: string, executionName: string): string {
  const parts = stateMachineArn.split(':');
  if (parts.length !== 7 || parts[5] !== 'stateMachine') throw new Error(`not a state machine ARN: ${stateMachineArn}`);
  return [...parts.slice(0, 5), 'execution', parts[6], executionName].join(':');
}

/**
 * A write shard's pointer to its open manifest, as read from the state table: `OPEN#<dataset>` for shard 0,
 * `OPEN#<dataset>#<shard>` for the others (docs/architecture.md, "Sharded open manifests").
 */
export interface ShardPointer {
  /** Absent between a seal and the next opening. */
  readonly manifestId?: string;
  /** Files written into the open manifest. */
  readonly count: number;
  readonly openedAt?: string;
}

/** The dataset's manifest counter: `yyyymmdd` and sequence of the last manifest opened in any of its shards. */
export interface DatasetCounter {
  readonly day: string;
  readonly seq: number;
}

/** The dataset's item `OPEN#<dataset>`: shard 0's pointer, the dataset's counter, and how many shards it uses. */
export interface OpenPointer extends ShardPointer, DatasetCounter {
  /** Shards the builder spreads the dataset's files over now (absent on the item: 1). */
  readonly shards: number;
  /** The most shards it ever spread them over: only shards below this may hold an open manifest. */
  readonly widest: number;
}

/** The next manifest to open after the dataset's `counter` (undefined: the dataset never had one). */
export function nextOpening(
  dataset: string,
  counter: DatasetCounter | undefined,
  now: Date,
): { manifestId: string; day: string; seq: number } {
  const today = compactDay(now);
  // A Lambda whose clock lags behind the one that opened the last manifest keeps the later day: ids never repeat.
  const day = counter !== undefined && counter.day > today ? counter.day : today;
  const seq = counter !== undefined && counter.day === day ? counter.seq + 1 : 1;
  return { manifestId: manifestIdOf(dataset, day, seq), day, seq };
}

/** What a file's writer does next, given its shard's pointer. */
export type SlotDecision =
  | { readonly step: 'open' }
  | { readonly step: 'seal-full'; readonly manifestId: string }
  | { readonly step: 'write'; readonly manifestId: string; readonly count: number };

/**
 * The grouping rule, per shard: write into the shard's open manifest while it has room; a full one (its last writer
 * stopped before sealing) is sealed first; with none open, open one.
 */
export function decideSlot(pointer: ShardPointer | undefined, batchSize: number): SlotDecision {
  if (pointer?.manifestId === undefined) return { step: 'open' };
  if (pointer.count >= batchSize) return { step: 'seal-full', manifestId: pointer.manifestId };
  return { step: 'write', manifestId: pointer.manifestId, count: pointer.count };
}

/**
 * The write shard of an object key among `shards`: a pure function of the key (FNV-1a, 32 bits), so every delivery
 * of a key goes to the same shard while the dataset's width stays the same. Which shard a file enters never matters
 * to I1 (its `FILE#` item decides), only to how evenly the shards fill.
 */
export function shardOfKey(key: string, shards: number): number {
  if (shards <= 1) return 0;
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}

/** The shard a manifest was opened in, as its META item records it (absent on manifests opened before shards: 0). */
export function shardOfManifest(meta: { readonly shard?: unknown }): number {
  const shard = Number(meta.shard ?? 0);
  return Number.isInteger(shard) && shard >= 0 ? shard : 0;
}

/** True when a manifest opened at `openedAt` has waited `maxWaitMinutes` at `now`. */
export function isDue(openedAt: string, now: Date, maxWaitMinutes: number): boolean {
  return now.getTime() - Date.parse(openedAt) >= maxWaitMinutes * 60_000;
}

/** Seconds from `openedAt` to `now`, never negative. */
export function ageSeconds(openedAt: string, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - Date.parse(openedAt)) / 1000));
}

/** One file (object version) of a manifest as stored under `MANIFEST#<id>` / `F#<key>#<contentTag>`. */
export interface ManifestFileEntry {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly eTag: string;
  readonly sequencer: string;
  /** The S3 version the Glue job converts (the ingest bucket is versioned); absent when the event had none. */
  readonly versionId?: string;
}

/**
 * Why a manifest was sealed: `full` (batchSize files), `timeout` (its oldest file waited maxWaitMinutes), `flush`
 * (an operator's `pipeline flush`, or `pipeline smoke`, sealed it at once).
 */
export type SealReason = 'full' | 'timeout' | 'flush';

/** What a sealed manifest's META item says, as far as the manifest file needs it. */
export interface SealedManifest {
  readonly manifestId: string;
  readonly dataset: string;
  readonly ingestDate: string;
  readonly openedAt: string;
  readonly sealedAt: string;
  readonly sealReason: SealReason;
}

/** The manifest file (docs/architecture.md, "Manifest file"). */
export interface ManifestDocument extends SealedManifest {
  readonly fileCount: number;
  readonly totalBytes: number;
  readonly files: ReadonlyArray<ManifestFileEntry & { readonly uri: string }>;
}

/** Builds the manifest file; files sorted by key so every retry of a seal writes the same bytes. */
export function buildManifestDocument(manifest: SealedManifest, files: readonly ManifestFileEntry[]): ManifestDocument {
  const order = (f: ManifestFileEntry) => [f.key, f.bucket, f.sequencer, f.eTag];
  const sorted = [...files].sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
  });
  return {
    manifestId: manifest.manifestId,
    dataset: manifest.dataset,
    ingestDate: manifest.ingestDate,
    openedAt: manifest.openedAt,
    sealedAt: manifest.sealedAt,
    sealReason: manifest.sealReason,
    fileCount: sorted.length,
    totalBytes: sorted.reduce((sum, f) => sum + f.size, 0),
    files: sorted.map((f) => ({
      uri: `s3://${f.bucket}/${f.key}`,
      bucket: f.bucket,
      key: f.key,
      size: f.size,
      eTag: f.eTag,
      sequencer: f.sequencer,
      ...(f.versionId === undefined ? {} : { versionId: f.versionId }),
    })),
  };
}

/** The state machine input (docs/architecture.md, "State machine input"); the file list stays in S3. */
export interface ExecutionInput {
  readonly manifestId: string;
  readonly dataset: string;
  readonly manifestUri: string;
  readonly resultUri: string;
  /** The result file's key in the curated bucket (the object `resultUri` names), which the state machine reads. */
  readonly resultKey: string;
  readonly ingestDate: string;
  readonly fileCount: number;
  readonly totalBytes: number;
}

/** What an execution input is made from: the manifest and where its file is. */
export type ExecutionInputFields = Pick<
  ExecutionInput,
  'manifestId' | 'dataset' | 'manifestUri' | 'ingestDate' | 'fileCount' | 'totalBytes'
>;

/**
 * The execution input of a manifest whose result file goes to `curatedBucket`: the one place that builds it, for
 * the builder's and the sweeper's starts and for `pipeline replay`'s rebuild from the record.
 */
export function executionInput(fields: ExecutionInputFields, curatedBucket: string): ExecutionInput {
  const resultKey = resultKeyOf(fields.dataset, fields.manifestId);
  return {
    manifestId: fields.manifestId,
    dataset: fields.dataset,
    manifestUri: fields.manifestUri,
    resultUri: `s3://${curatedBucket}/${resultKey}`,
    resultKey,
    ingestDate: fields.ingestDate,
    fileCount: fields.fileCount,
    totalBytes: fields.totalBytes,
  };
}

/** The execution input of a manifest file written to `curatedBucket`. */
export function executionInputOf(doc: ManifestDocument, curatedBucket: string): ExecutionInput {
  return executionInput(
    {
      manifestId: doc.manifestId,
      dataset: doc.dataset,
      manifestUri: `s3://${curatedBucket}/${manifestKeyOf(doc.dataset, doc.manifestId)}`,
      ingestDate: doc.ingestDate,
      fileCount: doc.fileCount,
      totalBytes: doc.totalBytes,
    },
    curatedBucket,
  );
}
