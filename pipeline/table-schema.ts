/**
 * Key layout of the state table and the idempotency table: read by the stack (to create them), the handlers,
 * the local mode's provisioner and the CLI. See docs/architecture.md for what each item holds.
 */
export const STATE_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Items that expire (FILE# records, long after any redelivery could arrive) carry epoch seconds here. */
  ttlAttribute: 'expiresAt',
  /** Manifests by the UTC day they opened: `gsi1pk = DAY#YYYY-MM-DD`, `gsi1sk = <openedAt ISO>#<manifestId>`. */
  byDayIndex: { name: 'byDay', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /**
   * Sparse index of manifests that have no execution yet (OPEN, or SEALED and not started):
   * `pendingPk = PENDING`, `pendingSk = <openedAt ISO>#<manifestId>`. The sweeper queries it instead of scanning;
   * the attribute is removed once the execution is recorded, so the index stays as small as the open manifests.
   */
  pendingIndex: { name: 'pending', partitionKey: 'pendingPk', sortKey: 'pendingSk' },
} as const;

export const IDEMPOTENCY_TABLE = {
  /** Powertools' default key and expiry attributes. */
  partitionKey: 'id',
  ttlAttribute: 'expiration',
} as const;

/** Key builders: the one place item keys are spelled. */
export const keys = {
  open: (dataset: string) => ({ pk: `OPEN#${dataset}`, sk: 'META' }),
  file: (bucket: string, key: string, sequencer: string) => ({ pk: `FILE#${bucket}/${key}#${sequencer}`, sk: 'META' }),
  manifest: (manifestId: string) => ({ pk: `MANIFEST#${manifestId}`, sk: 'META' }),
  manifestFile: (manifestId: string, key: string) => ({ pk: `MANIFEST#${manifestId}`, sk: `F#${key}` }),
  rejected: (bucket: string, key: string) => ({ pk: `REJECTED#${bucket}/${key}`, sk: 'META' }),
  day: (isoDay: string) => `DAY#${isoDay}`,
  pending: 'PENDING',
} as const;

/** Status of a manifest, in the order it moves through them. */
export type ManifestStatus = 'OPEN' | 'SEALED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
