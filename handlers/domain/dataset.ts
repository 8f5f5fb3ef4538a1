/**
 * Which objects become manifest files. The dataset is the first path segment under the ingest prefix
 * (`incoming/orders/2026/11/a.ndjson` is dataset `orders`); manifests never mix datasets (I2).
 */

/** Lower-case letters, digits and `_`, starting with a letter, at most 40 characters (docs/architecture.md). */
export const DATASET_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;

/** True when `name` is a valid dataset name. */
export function isValidDataset(name: string): boolean {
  return DATASET_PATTERN.test(name);
}

/** The rules an object key is checked against. */
export interface KeyRules {
  /** Key prefix producers upload under, ending with `/`. */
  readonly ingestPrefix: string;
  /** Accepted key suffixes, each starting with `.`, compared case-sensitively. */
  readonly acceptedSuffixes: readonly string[];
  /** Largest object accepted, in bytes (`maxObjectMb`); undefined: no cap. */
  readonly maxObjectBytes?: number;
}

/** Why a record is ignored without a trace (counted as `FilesSkipped`). */
export type SkipReason = 'not-object-created' | 'outside-prefix' | 'empty-object' | 'foreign-bucket';

/** Why a file is refused and recorded as `REJECTED#` (counted as `FilesRejected`). */
export type RejectReason =
  'no-dataset-segment' | 'invalid-dataset-name' | 'unaccepted-suffix' | 'unsafe-key' | 'hidden-name' | 'key-too-long' | 'too-large';

/**
 * True when Spark's file listing would skip an object of this file name (the key's last segment) without a word: a
 * name beginning with `_` or `.` (Spark 3.5's `HadoopFSUtils.shouldFilterOutPathName`, which `InMemoryFileIndex`
 * applies to every file it lists, a file named explicitly too). The Glue job could not read it, so it is refused
 * here; folders of such names are read and accepted. `pipeline upload` skips such files, saying why.
 */
export function isHiddenFileName(name: string): boolean {
  return name.startsWith('_') || name.startsWith('.');
}

/**
 * Longest key (UTF-8 bytes) whose manifest item sort key `F#<key>#<contentTag>` stays within DynamoDB's 1,024
 * bytes, whatever the content tag (`contentTagOf`): at most 51 bytes, a SHA-256 checksum (`sha256:` and 44
 * base64 characters); a multipart eTag is at most 32 hex digits, `-` and 5 digits.
 */
export const MAX_KEY_BYTES = 1024 - 'F#'.length - '#'.length - 51;

/** A control character: C0, DEL and C1. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** What to do with one created object. */
export type KeyDecision =
  | { readonly action: 'accept'; readonly dataset: string }
  | { readonly action: 'skip'; readonly reason: SkipReason }
  | { readonly action: 'reject'; readonly reason: RejectReason; readonly dataset?: string };

/** Human-readable text of a reject reason, stored on the `REJECTED#` item. */
export function describeRejection(reason: RejectReason, rules: KeyRules): string {
  switch (reason) {
    case 'no-dataset-segment':
      return `the key has no dataset folder under ${rules.ingestPrefix}`;
    case 'invalid-dataset-name':
      return 'the dataset folder is not a valid dataset name (lower-case letters, digits and _, starting with a letter, at most 40 characters)';
    case 'unaccepted-suffix':
      return `the key does not end with an accepted suffix (${rules.acceptedSuffixes.join(', ')})`;
    case 'unsafe-key':
      return 'the key has an empty, "." or ".." path segment or a control character: a path reader would resolve it to another object';
    case 'hidden-name':
      return 'the file name begins with "_" or ".", which Spark\'s file listing skips, so it could not be converted: rename the file';
    case 'key-too-long':
      return `the key is longer than ${MAX_KEY_BYTES} bytes, too long for the state table's keys`;
    case 'too-large':
      return `the object is larger than the ${formatMb(rules.maxObjectBytes)} MB an object may have (maxObjectMb)`;
  }
}

function formatMb(bytes: number | undefined): string {
  return bytes === undefined ? 'unlimited' : String(Math.round((bytes / (1024 * 1024)) * 100) / 100);
}

/** Decides what happens to a created object from its decoded key, its size and its event name. */
export function classifyObject(key: string, size: number, eventName: string, rules: KeyRules): KeyDecision {
  if (!eventName.startsWith('ObjectCreated:')) return { action: 'skip', reason: 'not-object-created' };
  if (!key.startsWith(rules.ingestPrefix)) return { action: 'skip', reason: 'outside-prefix' };
  // Zero-byte objects include the "folder" markers consoles create; neither holds a line to convert.
  if (size === 0) return { action: 'skip', reason: 'empty-object' };
  const rest = key.slice(rules.ingestPrefix.length);
  // Hadoop's Path (the Glue job's reader) resolves `.` and `..` and folds `//`: such a key would be read as another
  // object, possibly of another dataset. Control characters have no place in a key a person reads in an alert.
  if (CONTROL.test(key) || rest.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    return { action: 'reject', reason: 'unsafe-key' };
  }
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return { action: 'reject', reason: 'key-too-long' };
  const slash = rest.indexOf('/');
  if (slash <= 0) return { action: 'reject', reason: 'no-dataset-segment' };
  const dataset = rest.slice(0, slash);
  if (!isValidDataset(dataset)) return { action: 'reject', reason: 'invalid-dataset-name' };
  if (!rules.acceptedSuffixes.some((suffix) => key.endsWith(suffix))) {
    return { action: 'reject', reason: 'unaccepted-suffix', dataset };
  }
  if (isHiddenFileName(rest.slice(rest.lastIndexOf('/') + 1))) return { action: 'reject', reason: 'hidden-name', dataset };
  // The size the S3 event reports: refused before it is ever read, so one huge upload cannot hold a Glue run.
  if (rules.maxObjectBytes !== undefined && size > rules.maxObjectBytes) return { action: 'reject', reason: 'too-large', dataset };
  return { action: 'accept', dataset };
}
