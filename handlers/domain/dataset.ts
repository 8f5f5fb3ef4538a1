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
}

/** Why a record is ignored without a trace (counted as `FilesSkipped`). */
export type SkipReason = 'not-object-created' | 'outside-prefix' | 'empty-object';

/** Why a file is refused and recorded as `REJECTED#` (counted as `FilesRejected`). */
export type RejectReason = 'no-dataset-segment' | 'invalid-dataset-name' | 'unaccepted-suffix';

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
  }
}

/** Decides what happens to a created object from its decoded key, its size and its event name. */
export function classifyObject(key: string, size: number, eventName: string, rules: KeyRules): KeyDecision {
  if (!eventName.startsWith('ObjectCreated:')) return { action: 'skip', reason: 'not-object-created' };
  if (!key.startsWith(rules.ingestPrefix)) return { action: 'skip', reason: 'outside-prefix' };
  // Zero-byte objects include the "folder" markers consoles create; neither holds a line to convert.
  if (size === 0) return { action: 'skip', reason: 'empty-object' };
  const rest = key.slice(rules.ingestPrefix.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return { action: 'reject', reason: 'no-dataset-segment' };
  const dataset = rest.slice(0, slash);
  if (!isValidDataset(dataset)) return { action: 'reject', reason: 'invalid-dataset-name' };
  if (!rules.acceptedSuffixes.some((suffix) => key.endsWith(suffix))) {
    return { action: 'reject', reason: 'unaccepted-suffix', dataset };
  }
  return { action: 'accept', dataset };
}
