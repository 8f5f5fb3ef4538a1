/**
 * Key layout of the state table and the idempotency table: read by the stack (to create them), the handlers,
 * the local mode's provisioner and the CLI. See docs/architecture.md for what each item holds. Part of the
 * contracts layer: no CDK, no AWS SDK.
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
   * the attribute is removed once the execution is recorded or claimed (MarkRunning), so the index stays as small as the open manifests.
   */
  pendingIndex: { name: 'pending', partitionKey: 'pendingPk', sortKey: 'pendingSk' },
  /**
   * Sparse index of manifests an execution holds or was started for (RUNNING, or SEALED with its execution
   * recorded): `runningPk = RUNNING`, `runningSk = <startedAt ISO>#<manifestId>`. Set by the record of the original
   * execution (while SEALED) and by the state machine's MarkRunning, which both leave the pending index in the same
   * write, so a manifest is in exactly one of the two until final; removed by whatever records the outcome; the sweeper reads it to find executions that ended without recording one (timeout, abort,
   * runtime error), so no manifest stays RUNNING (I7). As small as the executions in flight.
   */
  runningIndex: { name: 'running', partitionKey: 'runningPk', sortKey: 'runningSk' },
  /**
   * Sparse index of manifests whose outcome's alert is not published yet (the outbox, I7): `alertPending = PENDING`,
   * `alertSk = <finishedAt ISO>#<manifestId>`. Written by the final write of a FAILED or PARTIAL outcome (the state
   * machine's RecordFailure/RecordPartial, or the sweeper for an ended execution) with the alert's `alertSubject`
   * and `alertMessage`; removed, conditionally, by whoever publishes it once SNS accepted it. The sweeper reads it
   * to publish the alerts that the state machine could not.
   */
  alertsIndex: { name: 'alerts', partitionKey: 'alertPending', sortKey: 'alertSk' },
} as const;

/** Every global secondary index of the state table: the stack, the local mode and the tests create exactly these. */
export const STATE_TABLE_INDEXES = [
  STATE_TABLE.byDayIndex,
  STATE_TABLE.pendingIndex,
  STATE_TABLE.runningIndex,
  STATE_TABLE.alertsIndex,
] as const;

/** The attribute names the state table's key schema and indexes declare (all strings). */
export const STATE_TABLE_KEY_ATTRIBUTES: readonly string[] = [
  STATE_TABLE.partitionKey,
  STATE_TABLE.sortKey,
  ...STATE_TABLE_INDEXES.flatMap((index) => [index.partitionKey, index.sortKey]),
];

export const IDEMPOTENCY_TABLE = {
  /** Powertools' default key and expiry attributes. */
  partitionKey: 'id',
  ttlAttribute: 'expiration',
  /** The builder's keys are `<prefix>#<hash>`; its role may touch no other item (`dynamodb:LeadingKeys`). */
  builderKeyPrefix: 'manifest-builder',
} as const;

/**
 * The partition key prefixes of the state table's items. The stack grants each role the prefixes it touches
 * (`dynamodb:LeadingKeys`), so a new kind of item needs its prefix here and a grant.
 */
export const STATE_TABLE_PREFIXES = {
  open: 'OPEN#',
  file: 'FILE#',
  manifest: 'MANIFEST#',
  rejected: 'REJECTED#',
  /** The capacity slots: one item, `SLOTS`/`META` (docs/architecture.md, "Capacity slots"). */
  slots: 'SLOTS',
  /** The start queue: one partition, `QUEUE`/`<rank>#<queuedAt>#<executionName>`, read consistently, oldest first. */
  queue: 'QUEUE',
} as const;

/** Key builders: the one place item keys are spelled. */
export const keys = {
  /**
   * The dataset's item: shard 0's pointer to its open manifest, the dataset's manifest counter (`day`, `seq`) and
   * how many shards its files spread over (`shards`, `widest`). docs/architecture.md, "Sharded open manifests".
   */
  open: (dataset: string) => ({ pk: `${STATE_TABLE_PREFIXES.open}${dataset}`, sk: 'META' }),
  /** Shard `shard`'s pointer to its open manifest: shard 0 is the dataset's item itself, shard k > 0 `OPEN#<dataset>#<k>`. */
  openShard: (dataset: string, shard: number) => ({
    pk: shard === 0 ? `${STATE_TABLE_PREFIXES.open}${dataset}` : `${STATE_TABLE_PREFIXES.open}${dataset}#${shard}`,
    sk: 'META',
  }),
  /** One content of a key: `contentTag` is the eTag (an identical re-upload has the same one, so it is a duplicate). */
  file: (bucket: string, key: string, contentTag: string) => ({
    pk: `${STATE_TABLE_PREFIXES.file}${bucket}/${key}#${contentTag}`,
    sk: 'META',
  }),
  manifest: (manifestId: string) => ({ pk: `${STATE_TABLE_PREFIXES.manifest}${manifestId}`, sk: 'META' }),
  /** One file (object version) of a manifest: two contents of one key in one manifest are two items. */
  manifestFile: (manifestId: string, key: string, contentTag: string) => ({
    pk: `${STATE_TABLE_PREFIXES.manifest}${manifestId}`,
    sk: `F#${key}#${contentTag}`,
  }),
  rejected: (bucket: string, key: string) => ({ pk: `${STATE_TABLE_PREFIXES.rejected}${bucket}/${key}`, sk: 'META' }),
  /** The one item holding the capacity slots: `holders` maps each execution holding a slot to its manifest. */
  slots: () => ({ pk: STATE_TABLE_PREFIXES.slots, sk: 'META' }),
  /**
   * One execution waiting for a slot. `rank` 0 jumps the queue (`pipeline replay --now`), 1 is everyone else; then
   * the time it joined the queue (an original: its seal), so a query of the partition reads the queue in order.
   */
  queueEntry: (rank: 0 | 1, queuedAt: string, executionName: string) => ({
    pk: STATE_TABLE_PREFIXES.queue,
    sk: `${rank}#${queuedAt}#${executionName}`,
  }),
  day: (isoDay: string) => `DAY#${isoDay}`,
  pending: 'PENDING',
  running: 'RUNNING',
  alertPending: 'PENDING',
} as const;

/**
 * Every status of a manifest, in the order it moves through them (`PARTIAL`: some files could not be read); the last
 * three are final (I7). test/infra/asl.test.ts checks that the state machine writes only these.
 */
export const MANIFEST_STATUSES = ['OPEN', 'SEALED', 'RUNNING', 'SUCCEEDED', 'PARTIAL', 'FAILED'] as const;

/** Status of a manifest: one of {@link MANIFEST_STATUSES}. */
export type ManifestStatus = (typeof MANIFEST_STATUSES)[number];

/** The final statuses: every manifest ends in one of them, whatever ended its execution (I7). */
export const FINAL_STATUSES: readonly ManifestStatus[] = ['SUCCEEDED', 'PARTIAL', 'FAILED'];
