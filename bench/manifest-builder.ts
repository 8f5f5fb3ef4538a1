/**
 * Benchmark of the manifest builder against the emulator (`make bench-builder`): 10,000 S3 notifications go
 * through the Lambda handler in SQS batches of 10, from several concurrent invocations, then one sweep
 * flushes the partial manifests. Prints files per second, DynamoDB requests and write units per file
 * (Powertools' idempotency writes included), and StartExecution calls per manifest, and checks I1 to I3 on the result.
 *
 * Write units: moto returns ConsumedCapacity as constants (1 per PutItem, 0.5 per UpdateItem, nothing for
 * TransactWriteItems), so its sum is printed but is not DynamoDB's bill. The estimate applies DynamoDB's rules
 * to what was written: ceil(item size / 1 KB) per write, twice that for each item of a transaction, a failed
 * conditional write charged like a successful one; item sizes are measured on the items as they end up.
 *
 * For the cost model (`pipeline cost`, docs/cost.md) it also measures what bounds one dataset's rate through its
 * `OPEN#` pointer: the latency of the pointer's consistent read and of the commit transaction, and how often a commit
 * lost the pointer to a concurrent writer (the conflict rate); read units per file; the bytes kept in the tables per
 * file; the sweep's duration. It writes every figure to bench/results/manifest-builder.json (BENCH_RESULT_FILE to
 * write elsewhere, `-` for none), with the date and the machine, which `pipeline cost` reads.
 *
 * The contended case (`contended` in the results file): one dataset, BENCH_CONTENDED_BUILDERS concurrent invocations,
 * BENCH_CONTENDED_FILES files, with the dataset's write shards (up to `maxShardsPerDataset`, docs/architecture.md,
 * "Sharded open manifests"), and the same on one shard (`contended.singleShard`, the design before shards): files per
 * second, commits lost to a concurrent writer per file (conflicts per file), write units per file, the shards used.
 *
 * Settings (environment): BENCH_FILES (10000), BENCH_BATCH_SIZE (200), BENCH_CONCURRENCY (4), BENCH_DATASETS (3),
 * BENCH_CONTENDED_FILES (3000), BENCH_CONTENDED_BUILDERS (8), BENCH_CONTENDED_BASELINE (1; 0: no one-shard run).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ScanCommand, type AttributeValue, type ServiceInputTypes, type ServiceOutputTypes } from '@aws-sdk/client-dynamodb';
import type { ServiceInputTypes as SfnInput, ServiceOutputTypes as SfnOutput } from '@aws-sdk/client-sfn';
import type { InitializeMiddleware } from '@smithy/types';
import type { SQSRecord } from 'aws-lambda';
import { invariantViolations, readFinalState } from '../test/helpers/final-state';
import { MotoServer, settingsFor } from '../test/helpers/moto';
import { RecordingMetrics, afterMaxWait, builderOn, deliverUntilDone, sweepOn } from '../test/helpers/pipeline-fixture';
import { chunks, notificationOf, uploaded, type UploadedObject } from '../test/helpers/s3-events';
import type { AwsClients } from '../handlers/common/aws-clients';
import { StateStore } from '../handlers/common/state-store';
import { DEFAULT_CONFIG } from '../contracts/config';

const FILES = Number(process.env.BENCH_FILES ?? 10_000);
const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const DATASETS = Number(process.env.BENCH_DATASETS ?? 3);
const CONTENDED_FILES = Number(process.env.BENCH_CONTENDED_FILES ?? 3000);
const CONTENDED_BUILDERS = Number(process.env.BENCH_CONTENDED_BUILDERS ?? 8);
/** Also run the contended case on one shard per dataset (`maxShardsPerDataset` 1, the design before shards). */
const CONTENDED_BASELINE = (process.env.BENCH_CONTENDED_BASELINE ?? '1') !== '0';
const WRITE_COMMANDS = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand']);
const RESULT_FILE = process.env.BENCH_RESULT_FILE ?? path.join(__dirname, 'results', 'manifest-builder.json');

/** What became of one transaction that writes a file into a manifest (`StateStore.commitFile`). */
type CommitOutcome = 'written' | 'pointer-moved' | 'file-exists' | 'conflict' | 'error';

/** An item or key as a request carries it: marshalled (`{ S }`) from the low-level client, plain from the document client. */
type Attributes = Record<string, unknown>;
/** One write of a request, or of a transaction's entry. */
interface WriteOperation {
  readonly TableName: string;
  readonly Key?: Attributes;
  readonly Item?: Attributes;
}
/** The fields of any DynamoDB request that the meter reads or sets. */
interface MeteredInput extends Partial<WriteOperation> {
  ReturnConsumedCapacity?: string;
  readonly ConsistentRead?: boolean;
  readonly TransactItems?: readonly {
    readonly Put?: WriteOperation;
    readonly Update?: WriteOperation;
    readonly Delete?: WriteOperation;
    readonly ConditionCheck?: WriteOperation;
  }[];
}
/** The fields of any DynamoDB response that the meter reads. */
interface MeteredOutput {
  readonly Item?: unknown;
  readonly Items?: readonly unknown[];
  readonly ConsumedCapacity?: { readonly CapacityUnits?: number } | { readonly CapacityUnits?: number }[];
}

/** Latency samples in milliseconds, summarised. */
function summarise(samples: readonly number[]): { n: number; meanMs: number; p50Ms: number; p90Ms: number; p99Ms: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
  const mean = sorted.length === 0 ? 0 : sorted.reduce((a, b) => a + b, 0) / sorted.length;
  const round = (n: number) => Math.round(n * 100) / 100;
  return { n: sorted.length, meanMs: round(mean), p50Ms: round(at(0.5)), p90Ms: round(at(0.9)), p99Ms: round(at(0.99)) };
}

/** One item a write touched: table, key, and whether inside a transaction. */
interface WriteTarget {
  readonly table: string;
  readonly key: string;
  readonly transactional: boolean;
}

/** What the DynamoDB middleware saw. */
class DynamoMeter {
  readonly requests = new Map<string, number>();
  readonly targets: WriteTarget[] = [];
  motoReportedWcu = 0;
  /** Consistent reads of a dataset's `OPEN#` pointer, ms. */
  readonly pointerReadMs: number[] = [];
  /** Transactions writing a file into a manifest (the pointer's compare-and-set), ms, and their outcomes. */
  readonly commitMs: number[] = [];
  readonly commitOutcomes = new Map<CommitOutcome, number>();
  /** Read units by DynamoDB's rules: per item read, ceil(size / 4 KB), halved when eventually consistent. */
  readUnits = 0;

  attach(clients: AwsClients): void {
    const meter: InitializeMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next, context) => async (args) => {
      const command = context.commandName ?? '';
      const input = args.input as MeteredInput;
      this.requests.set(command, (this.requests.get(command) ?? 0) + 1);
      if (WRITE_COMMANDS.has(command)) {
        input.ReturnConsumedCapacity = 'TOTAL';
        this.recordTargets(command, input);
      }
      const commit = command === 'TransactWriteItemsCommand' && isCommit(input);
      const pointerRead = command === 'GetItemCommand' && keyString(input.Key?.pk).startsWith('OPEN#');
      const t0 = performance.now();
      let result: Awaited<ReturnType<typeof next>>;
      try {
        result = await next(args);
      } catch (err) {
        if (commit) this.recordCommit(performance.now() - t0, commitOutcomeOf(err));
        throw err;
      }
      const elapsed = performance.now() - t0;
      if (commit) this.recordCommit(elapsed, 'written');
      if (pointerRead) this.pointerReadMs.push(elapsed);
      const output = result.output as MeteredOutput;
      this.readUnits += readUnitsOf(command, input, output);
      const consumed = output.ConsumedCapacity;
      for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : [])
        this.motoReportedWcu += WRITE_COMMANDS.has(command) ? (c.CapacityUnits ?? 0) : 0;
      return result;
    };
    clients.dynamodb.middlewareStack.add(meter, { step: 'initialize', name: 'dynamoMeter' });
  }

  private recordCommit(ms: number, outcome: CommitOutcome): void {
    this.commitMs.push(ms);
    this.commitOutcomes.set(outcome, (this.commitOutcomes.get(outcome) ?? 0) + 1);
  }

  private recordTargets(command: string, input: MeteredInput): void {
    const keyOf = (table: string, key: Attributes) =>
      `${table}|${JSON.stringify(
        Object.keys(key)
          .sort()
          .map((k) => key[k]),
      )}`;
    const keyFromItem = (item: Attributes = {}) => {
      const key: Attributes = {};
      for (const name of ['pk', 'sk', 'id']) if (item[name] !== undefined) key[name] = item[name];
      return key;
    };
    if (command === 'TransactWriteItemsCommand') {
      for (const entry of input.TransactItems ?? []) {
        const op = entry.Put ?? entry.Update ?? entry.Delete ?? entry.ConditionCheck;
        if (op === undefined) continue;
        this.targets.push({ table: op.TableName, key: keyOf(op.TableName, op.Key ?? keyFromItem(op.Item)), transactional: true });
      }
    } else {
      const table = input.TableName ?? '';
      this.targets.push({ table, key: keyOf(table, input.Key ?? keyFromItem(input.Item)), transactional: false });
    }
  }
}

/** A key attribute's string, whether the request is marshalled yet (`{ S }`) or not (the document client's). */
function keyString(value: unknown): string {
  const text = typeof value === 'object' && value !== null ? (value as { S?: unknown }).S : value;
  return typeof text === 'string' ? text : '';
}

/** A file's commit: the pointer's compare-and-set first, then the `FILE#` and `F#` puts (state-store.ts). */
function isCommit(input: MeteredInput): boolean {
  const items = input.TransactItems ?? [];
  return items.length === 3 && keyString(items[0]?.Update?.Key?.pk).startsWith('OPEN#') && items[1]?.Put !== undefined;
}

/** How a commit failed, as `StateStore.commitFile` classifies it. */
function commitOutcomeOf(err: unknown): CommitOutcome {
  if (!(err instanceof Error) || err.name !== 'TransactionCanceledException') return 'error';
  const reasons = (err as { CancellationReasons?: readonly { Code?: string }[] }).CancellationReasons ?? [];
  const codes = reasons.map((r) => r.Code ?? 'None');
  if (codes[1] === 'ConditionalCheckFailed') return 'file-exists';
  if (codes[0] === 'ConditionalCheckFailed') return 'pointer-moved';
  return 'conflict';
}

/**
 * Read units of one request: ceil(bytes read / 4 KB), at least 1, halved for an eventually consistent read. Items are
 * sized by their JSON text (marshalled or not), which is near DynamoDB's size and decides only the 4 KB steps.
 */
function readUnitsOf(command: string, input: MeteredInput, output: MeteredOutput): number {
  const factor = input.ConsistentRead === true ? 1 : 0.5;
  const bytes = (items: unknown[]) => items.reduce((sum: number, item) => sum + Buffer.byteLength(JSON.stringify(item)), 0);
  if (command === 'GetItemCommand') return factor * Math.max(1, Math.ceil(bytes(output.Item ? [output.Item] : []) / 4096));
  if (command === 'QueryCommand' || command === 'ScanCommand')
    return factor * Math.max(1, Math.ceil(bytes([...(output.Items ?? [])]) / 4096));
  return 0;
}

/** DynamoDB's item size: attribute names plus values (strings in UTF-8 bytes, numbers about 1 byte per 2 digits + 1). */
function attributeSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S, 'utf8');
  if (value.N !== undefined) return Math.ceil(value.N.replace(/^-/, '').replace('.', '').length / 2) + 1;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + attributeSize(v), 0);
  if (value.M !== undefined)
    return 3 + Object.entries(value.M).reduce((sum, [k, v]) => sum + 1 + Buffer.byteLength(k) + attributeSize(v), 0);
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + Buffer.byteLength(s), 0);
  return 8;
}

function itemSize(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + attributeSize(value), 0);
}

async function itemSizes(clients: AwsClients, table: string, keyNames: string[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await clients.dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of out.Items ?? []) {
      const key: Record<string, AttributeValue> = {};
      for (const k of keyNames) key[k] = item[k];
      sizes.set(
        `${table}|${JSON.stringify(
          Object.keys(key)
            .sort()
            .map((k) => key[k]),
        )}`,
        itemSize(item),
      );
    }
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return sizes;
}

/** Bytes kept per kind of item (pk prefix; `F#` items of manifests apart), from the scanned sizes. */
function storedBytesByKind(sizes: Map<string, number>, stateTable: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, size] of sizes) {
    const [table, rest] = [key.slice(0, key.indexOf('|')), key.slice(key.indexOf('|') + 1)];
    let kind = 'idempotency';
    if (table === stateTable) {
      const [pk, sk] = (JSON.parse(rest) as AttributeValue[]).map((v) => v.S ?? '');
      kind = `${pk.split('#')[0]}#${sk.startsWith('F#') ? ' F#' : ''}`;
      if (kind === 'MANIFEST#') kind = 'MANIFEST# META';
      if (kind === 'MANIFEST# F#') kind = 'MANIFEST# F#';
    }
    out[kind] = (out[kind] ?? 0) + size;
  }
  return out;
}

function estimateWcu(targets: readonly WriteTarget[], sizes: Map<string, number>): { total: number; byTable: Map<string, number> } {
  const byTable = new Map<string, number>();
  let total = 0;
  for (const t of targets) {
    const size = sizes.get(t.key) ?? 1024; // gone (deleted): charged as one unit
    const units = Math.max(1, Math.ceil(size / 1024)) * (t.transactional ? 2 : 1);
    total += units;
    byTable.set(t.table, (byTable.get(t.table) ?? 0) + units);
  }
  return { total, byTable };
}

/** One run of the builder: `files` notifications of `datasets` datasets through `concurrency` concurrent invocations. */
interface CaseOptions {
  readonly files: number;
  readonly datasets: number;
  readonly concurrency: number;
  /** Most write shards of a dataset (`maxShardsPerDataset`). @default the config's default */
  readonly maxShards?: number;
  /** Name of the resources (and of the datasets' prefix). */
  readonly name: string;
}

/** What one run measured. */
interface CaseFigures {
  readonly files: number;
  readonly builderSeconds: number;
  readonly sweepSeconds: number;
  readonly idleSweepSeconds: number;
  readonly meter: DynamoMeter;
  readonly builderRequests: number;
  readonly totalRequests: number;
  readonly builderWcu: { total: number; byTable: Map<string, number> };
  readonly allWcu: { total: number; byTable: Map<string, number> };
  readonly stored: Record<string, number>;
  readonly manifests: number;
  /** Manifests the sweep sealed (by timeout): the partial ones the run left. */
  readonly sealedBySweep: number;
  readonly executions: number;
  readonly startExecutionCalls: number;
  readonly commits: number;
  /** Commits that lost their shard's pointer to a concurrent writer (`pointer-moved`, `conflict`). */
  readonly lost: number;
  /** Write shards each dataset spread over at the end, and the most it ever did. */
  readonly shards: Array<{ dataset: string; shards: number; widest: number }>;
  /** Manifests by the shard they were opened in. */
  readonly manifestsPerShard: Record<string, number>;
  readonly violations: string[];
  readonly stateTable: string;
}

async function runCase(server: MotoServer, options: CaseOptions): Promise<CaseFigures> {
  const { files, datasets: datasetCount, concurrency } = options;
  await server.reset();
  const resources = await server.createPipelineResources(options.name);
  const settings = settingsFor(resources, {
    batchSize: BATCH_SIZE,
    ...(options.maxShards === undefined ? {} : { maxShardsPerDataset: options.maxShards }),
  });
  const datasets = Array.from({ length: datasetCount }, (_, i) => `dataset_${i + 1}`);
  const objects: UploadedObject[] = Array.from({ length: files }, (_, i) =>
    uploaded(
      resources.ingestBucket,
      `incoming/${datasets[i % datasetCount]}/2026/11/23/part-${String(i).padStart(6, '0')}.ndjson`,
      3_500_000,
    ),
  );
  const messages = objects.map(notificationOf);

  const meter = new DynamoMeter();
  let startExecutionCalls = 0;
  const countStarts: InitializeMiddleware<SfnInput, SfnOutput> = (next, context) => (args) => {
    if (context.commandName === 'StartExecutionCommand') startExecutionCalls += 1;
    return next(args);
  };
  const lambdas = Array.from({ length: concurrency }, () => {
    const clients = server.clients();
    meter.attach(clients);
    clients.sfn.middlewareStack.add(countStarts, { step: 'initialize', name: 'startCounter' });
    return { clients, builder: builderOn(clients, settings, new RecordingMetrics()) };
  });

  // Each invocation takes the next SQS batch of 10, as Lambda's pollers hand them out.
  const queue: SQSRecord[][] = chunks(messages, 10);
  let next = 0;
  let done = 0;
  const started = Date.now();
  const progress = setInterval(() => process.stderr.write(`\r${options.name}: ${done}/${files} files`), 2000);
  await Promise.all(
    lambdas.map(async ({ builder }) => {
      while (next < queue.length) {
        const batch = queue[next++];
        await deliverUntilDone(builder, batch);
        done += batch.length;
      }
    }),
  );
  const builderSeconds = (Date.now() - started) / 1000;
  clearInterval(progress);
  process.stderr.write('\n');
  const builderTargets = meter.targets.length;
  const builderRequests = [...meter.requests.values()].reduce((a, b) => a + b, 0);

  // One sweep flushes the partial manifest of each dataset's shards, as it would after maxWaitMinutes.
  const sweeperClients = server.clients();
  meter.attach(sweeperClients);
  sweeperClients.sfn.middlewareStack.add(countStarts, { step: 'initialize', name: 'startCounter' });
  const store = new StateStore(sweeperClients.dynamodb, resources.stateTable);
  const shards = await Promise.all(
    datasets.map(async (dataset) => {
      const item = await store.getPointer(dataset);
      return { dataset, shards: item?.shards ?? 1, widest: item?.widest ?? 1 };
    }),
  );
  const sweepStarted = performance.now();
  await sweepOn(sweeperClients, settings, afterMaxWait(settings));
  const sweepSeconds = (performance.now() - sweepStarted) / 1000;
  // A sweep with nothing to seal or start, as most sweeps are (one a minute).
  const idleStarted = performance.now();
  await sweepOn(sweeperClients, settings, afterMaxWait(settings));
  const idleSweepSeconds = (performance.now() - idleStarted) / 1000;

  const inspector = server.clients();
  const state = await readFinalState(inspector, resources);
  const violations = invariantViolations(state, objects, BATCH_SIZE, resources.stateMachineArn);
  const sizes = new Map([
    ...(await itemSizes(inspector, resources.stateTable, ['pk', 'sk'])),
    ...(await itemSizes(inspector, resources.idempotencyTable, ['id'])),
  ]);
  const manifestsPerShard: Record<string, number> = {};
  for (const { meta } of state.manifests.values()) {
    const shard = String(meta.shard ?? 0);
    manifestsPerShard[shard] = (manifestsPerShard[shard] ?? 0) + 1;
  }
  const commits = [...meter.commitOutcomes.values()].reduce((a, b) => a + b, 0);
  return {
    files,
    builderSeconds,
    sweepSeconds,
    idleSweepSeconds,
    meter,
    builderRequests,
    totalRequests: [...meter.requests.values()].reduce((a, b) => a + b, 0),
    builderWcu: estimateWcu(meter.targets.slice(0, builderTargets), sizes),
    allWcu: estimateWcu(meter.targets, sizes),
    stored: storedBytesByKind(sizes, resources.stateTable),
    manifests: state.manifests.size,
    sealedBySweep: [...state.manifests.values()].filter((m) => m.meta.sealReason === 'timeout').length,
    executions: [...state.executions.values()].reduce((a, b) => a + b, 0),
    startExecutionCalls,
    commits,
    lost: (meter.commitOutcomes.get('pointer-moved') ?? 0) + (meter.commitOutcomes.get('conflict') ?? 0),
    shards,
    manifestsPerShard,
    violations,
    stateTable: resources.stateTable,
  };
}

const round = (n: number, digits = 4) => Math.round(n * 10 ** digits) / 10 ** digits;
const fmt = (n: number, digits = 2) => n.toFixed(digits);

/** The contended case's figures as the results file records them (`contended`, and its `singleShard` baseline). */
function contendedFigures(run: CaseFigures, options: CaseOptions) {
  const commitLatency = summarise(run.meter.commitMs);
  return {
    datasets: options.datasets,
    builders: options.concurrency,
    files: run.files,
    maxShardsPerDataset: options.maxShards ?? DEFAULT_CONFIG.maxShardsPerDataset,
    filesPerSecond: round(run.files / run.builderSeconds, 2),
    conflictsPerFile: round(run.lost / run.files),
    conflictRate: round(run.lost / Math.max(1, run.commits)),
    writeUnitsPerFile: round(run.allWcu.total / run.files),
    writeUnitsPerFileBuilder: round(run.builderWcu.total / run.files),
    readUnitsPerFile: round(run.meter.readUnits / run.files),
    handlerSecondsPerFile: round((run.builderSeconds * options.concurrency) / run.files, 4),
    commitTransaction: {
      ...commitLatency,
      perFile: round(run.commits / run.files),
      outcomes: Object.fromEntries(run.meter.commitOutcomes),
    },
    pointerRead: summarise(run.meter.pointerReadMs),
    shards: run.shards[0]?.shards ?? 1,
    widestShards: run.shards[0]?.widest ?? 1,
    manifests: run.manifests,
    manifestsPerShard: run.manifestsPerShard,
    invariantsHold: run.violations.length === 0,
  };
}

function printContended(label: string, figures: ReturnType<typeof contendedFigures>): void {
  console.log(
    `  ${label.padEnd(23)} ${fmt(figures.filesPerSecond, 1)} files/s, ${fmt(figures.conflictsPerFile, 3)} conflicts/file ` +
      `(${fmt(100 * figures.conflictRate, 1)}% of commits), ${fmt(figures.writeUnitsPerFile)} write units/file, ` +
      `${figures.widestShards} shard(s) at most (${figures.shards} at the end), ${figures.manifests} manifests ${JSON.stringify(figures.manifestsPerShard)}`,
  );
}

async function main(): Promise<void> {
  const server = await MotoServer.start();
  const loadAtStart = os.loadavg()[0];
  try {
    const main = { files: FILES, datasets: DATASETS, concurrency: CONCURRENCY, name: 'bench' };
    const run = await runCase(server, main);
    const { meter, builderWcu, allWcu, manifests, executions, startExecutionCalls, commits, lost, stored } = run;
    const builderSeconds = run.builderSeconds;

    console.log(
      `manifest builder benchmark: ${FILES} files, ${DATASETS} datasets, batch size ${BATCH_SIZE}, ${CONCURRENCY} concurrent invocations, SQS batches of 10, moto ${server.endpoint}`,
    );
    console.log(
      `  throughput              ${fmt(FILES / builderSeconds, 1)} files/s (${fmt(builderSeconds, 1)} s through the handler; the emulator serves one request at a time)`,
    );
    console.log(`  DynamoDB requests/file  ${fmt(run.builderRequests / FILES)} builder, ${fmt(run.totalRequests / FILES)} with the sweep`);
    for (const [command, n] of [...meter.requests].sort((a, b) => b[1] - a[1]))
      console.log(`      ${command.replace('Command', '').padEnd(20)} ${fmt(n / FILES, 3)}/file`);
    console.log(
      `  write units/file        ${fmt(builderWcu.total / FILES)} builder, ${fmt(allWcu.total / FILES)} with the sweep (DynamoDB's rules on the items written; goal <= 8 at batch 200)`,
    );
    for (const [table, units] of allWcu.byTable) console.log(`      ${table.padEnd(20)} ${fmt(units / FILES, 3)}/file`);
    console.log(
      `      not counted: GSI writes of MANIFEST META items (byDay, pending), a few per manifest, ~${fmt((manifests * 6) / FILES, 3)}/file`,
    );
    console.log(
      `  write units/file (moto) ${fmt(meter.motoReportedWcu / FILES)} as moto reports them (constants; transactions report none)`,
    );
    console.log(
      `  StartExecution/manifest ${fmt(startExecutionCalls / Math.max(1, manifests))} (${startExecutionCalls} calls, ${manifests} manifests, ${executions} executions listed)`,
    );
    const commitLatency = summarise(meter.commitMs);
    const pointerReadLatency = summarise(meter.pointerReadMs);
    console.log(`  read units/file         ${fmt(meter.readUnits / FILES)} (DynamoDB's rules on the items read, the sweep included)`);
    console.log(
      `  commit transaction      mean ${fmt(commitLatency.meanMs)} ms, p50 ${fmt(commitLatency.p50Ms)}, p90 ${fmt(commitLatency.p90Ms)}, p99 ${fmt(commitLatency.p99Ms)} (${commits} commits)`,
    );
    console.log(
      `  pointer read            mean ${fmt(pointerReadLatency.meanMs)} ms, p50 ${fmt(pointerReadLatency.p50Ms)}, p90 ${fmt(pointerReadLatency.p90Ms)} (consistent GetItem of an OPEN# item)`,
    );
    console.log(
      `  conflict rate           ${fmt((100 * lost) / Math.max(1, commits), 1)}% of commits lost the pointer to a concurrent writer (${lost} of ${commits}; ${fmt(commits / FILES, 3)} commits/file)`,
    );
    console.log(`  write shards            ${run.shards.map((d) => `${d.dataset} ${d.shards} (at most ${d.widest})`).join(', ')}`);
    console.log(
      `  sweep                   ${fmt(run.sweepSeconds, 2)} s for the one sweep that sealed and started the partial manifests, ${fmt(run.idleSweepSeconds, 2)} s for the next (nothing to do)`,
    );
    console.log(
      `  bytes kept/file         ${Object.entries(stored)
        .map(([kind, bytes]) => `${kind} ${fmt(bytes / FILES, 0)}`)
        .join(', ')}`,
    );
    console.log(`  invariants I1-I3        ${run.violations.length === 0 ? 'hold' : `VIOLATED: ${run.violations.slice(0, 5).join('; ')}`}`);

    // The contended case: one dataset, every builder on it; and the same with one shard, the design before shards.
    const contendedCase = { files: CONTENDED_FILES, datasets: 1, concurrency: CONTENDED_BUILDERS, name: 'contended' };
    console.log(
      `contended: ${CONTENDED_FILES} files of one dataset, ${CONTENDED_BUILDERS} concurrent invocations, batch size ${BATCH_SIZE}`,
    );
    const contendedRun = await runCase(server, contendedCase);
    const contended = contendedFigures(contendedRun, contendedCase);
    printContended(`sharded (at most ${contended.maxShardsPerDataset})`, contended);
    const baselineCase = { ...contendedCase, maxShards: 1, name: 'single' };
    const baselineRun = CONTENDED_BASELINE ? await runCase(server, baselineCase) : undefined;
    const singleShard = baselineRun === undefined ? undefined : contendedFigures(baselineRun, baselineCase);
    if (singleShard !== undefined) printContended('one shard (before)', singleShard);
    const violations = [...run.violations, ...contendedRun.violations, ...(baselineRun?.violations ?? [])];
    console.log(
      `  invariants I1-I3        ${violations.length === 0 ? 'hold in every case' : `VIOLATED: ${violations.slice(0, 5).join('; ')}`}`,
    );
    if (violations.length > 0) process.exitCode = 1;

    const result = {
      benchmark: 'manifest-builder',
      command: 'make bench-builder',
      date: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memoryGb: round(os.totalmem() / 1e9, 1),
        platform: `${os.platform()} ${os.release()}`,
        node: process.version,
        loadAverage1m: round(os.loadavg()[0], 2),
        loadAverage1mAtStart: round(loadAtStart, 2),
        loadAverage1mAtEnd: round(os.loadavg()[0], 2),
        target: 'moto emulator (test/helpers/moto_server.py), one process on this machine',
      },
      settings: {
        files: FILES,
        datasets: DATASETS,
        batchSize: BATCH_SIZE,
        concurrency: CONCURRENCY,
        sqsBatch: 10,
        maxShardsPerDataset: DEFAULT_CONFIG.maxShardsPerDataset,
      },
      filesPerSecond: round(FILES / builderSeconds, 2),
      handlerSecondsPerFile: round((builderSeconds * CONCURRENCY) / FILES, 4),
      requestsPerFile: {
        builder: round(run.builderRequests / FILES),
        withSweep: round(run.totalRequests / FILES),
        byCommand: Object.fromEntries([...meter.requests].map(([command, n]) => [command.replace('Command', ''), round(n / FILES)])),
      },
      writeUnitsPerFile: {
        builder: round(builderWcu.total / FILES),
        withSweep: round(allWcu.total / FILES),
        byTable: Object.fromEntries(
          [...allWcu.byTable].map(([table, units]) => [table === run.stateTable ? 'state' : 'idempotency', round(units / FILES)]),
        ),
        notCounted: "GSI writes of MANIFEST META items (byDay, pending, running) and the state machine's updates",
      },
      readUnitsPerFile: round(meter.readUnits / FILES),
      commitTransaction: { ...commitLatency, perFile: round(commits / FILES), outcomes: Object.fromEntries(meter.commitOutcomes) },
      pointerRead: pointerReadLatency,
      conflictRate: round(lost / Math.max(1, commits)),
      conflictsPerFile: round(lost / FILES),
      shards: run.shards,
      sweepSeconds: round(run.sweepSeconds, 3),
      sweepSealedManifests: run.sealedBySweep,
      idleSweepSeconds: round(run.idleSweepSeconds, 3),
      storedBytesPerFile: Object.fromEntries(Object.entries(stored).map(([kind, bytes]) => [kind, round(bytes / FILES, 1)])),
      manifests,
      startExecutionPerManifest: round(startExecutionCalls / Math.max(1, manifests)),
      contended: { ...contended, ...(singleShard === undefined ? {} : { singleShard }) },
      invariantsHold: violations.length === 0,
    };
    if (RESULT_FILE !== '-') {
      fs.mkdirSync(path.dirname(RESULT_FILE), { recursive: true });
      fs.writeFileSync(RESULT_FILE, `${JSON.stringify(result, null, 2)}\n`);
      console.log(`  written to              ${path.relative(process.cwd(), RESULT_FILE)}`);
    }
  } finally {
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
