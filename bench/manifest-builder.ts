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
 * Settings (environment): BENCH_FILES (10000), BENCH_BATCH_SIZE (200), BENCH_CONCURRENCY (4), BENCH_DATASETS (3).
 */
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { invariantViolations, readFinalState } from '../test/helpers/final-state';
import { MotoServer, settingsFor } from '../test/helpers/moto';
import { RecordingMetrics, afterMaxWait, builderOn, deliverUntilDone, sweepOn } from '../test/helpers/pipeline-fixture';
import { chunks, notificationOf, uploaded, type UploadedObject } from '../test/helpers/s3-events';
import type { AwsClients } from '../handlers/common/aws-clients';

const FILES = Number(process.env.BENCH_FILES ?? 10_000);
const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const DATASETS = Number(process.env.BENCH_DATASETS ?? 3);
const WRITE_COMMANDS = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand']);

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

  attach(clients: AwsClients): void {
    clients.dynamodb.middlewareStack.add(
      (next: any, context: any) => async (args: any) => {
        const command: string = context.commandName;
        this.requests.set(command, (this.requests.get(command) ?? 0) + 1);
        if (WRITE_COMMANDS.has(command)) {
          args.input.ReturnConsumedCapacity = 'TOTAL';
          this.recordTargets(command, args.input);
        }
        const result = await next(args).catch((err: any) => {
          throw err;
        });
        const consumed = result.output?.ConsumedCapacity;
        for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) this.motoReportedWcu += WRITE_COMMANDS.has(command) ? c.CapacityUnits ?? 0 : 0;
        return result;
      },
      { step: 'initialize', name: 'dynamoMeter' },
    );
  }

  private recordTargets(command: string, input: any): void {
    const keyOf = (table: string, key: Record<string, AttributeValue>) => `${table}|${JSON.stringify(Object.keys(key).sort().map((k) => key[k]))}`;
    const keyFromItem = (item: Record<string, AttributeValue>) => {
      const key: Record<string, AttributeValue> = {};
      for (const name of ['pk', 'sk', 'id']) if (item[name] !== undefined) key[name] = item[name];
      return key;
    };
    if (command === 'TransactWriteItemsCommand') {
      for (const entry of input.TransactItems) {
        const op = entry.Put ?? entry.Update ?? entry.Delete ?? entry.ConditionCheck;
        this.targets.push({ table: op.TableName, key: keyOf(op.TableName, op.Key ?? keyFromItem(op.Item)), transactional: true });
      }
    } else {
      this.targets.push({ table: input.TableName, key: keyOf(input.TableName, input.Key ?? keyFromItem(input.Item)), transactional: false });
    }
  }
}

/** DynamoDB's item size: attribute names plus values (strings in UTF-8 bytes, numbers about 1 byte per 2 digits + 1). */
function attributeSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S, 'utf8');
  if (value.N !== undefined) return Math.ceil(value.N.replace(/^-/, '').replace('.', '').length / 2) + 1;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + attributeSize(v), 0);
  if (value.M !== undefined) return 3 + Object.entries(value.M).reduce((sum, [k, v]) => sum + 1 + Buffer.byteLength(k) + attributeSize(v), 0);
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
      sizes.set(`${table}|${JSON.stringify(Object.keys(key).sort().map((k) => key[k]))}`, itemSize(item));
    }
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return sizes;
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

async function main(): Promise<void> {
  const server = await MotoServer.start();
  try {
    const resources = await server.createPipelineResources('bench');
    const settings = settingsFor(resources, { batchSize: BATCH_SIZE });
    const datasets = Array.from({ length: DATASETS }, (_, i) => `dataset_${i + 1}`);
    const objects: UploadedObject[] = Array.from({ length: FILES }, (_, i) =>
      uploaded(resources.ingestBucket, `incoming/${datasets[i % DATASETS]}/2026/11/23/part-${String(i).padStart(6, '0')}.ndjson`, 3_500_000),
    );
    const messages = objects.map(notificationOf);

    const meter = new DynamoMeter();
    let startExecutionCalls = 0;
    const lambdas = Array.from({ length: CONCURRENCY }, () => {
      const clients = server.clients();
      meter.attach(clients);
      clients.sfn.middlewareStack.add(
        (next: any, context: any) => async (args: any) => {
          if (context.commandName === 'StartExecutionCommand') startExecutionCalls += 1;
          return next(args);
        },
        { step: 'initialize', name: 'startCounter' },
      );
      return { clients, builder: builderOn(clients, settings, new RecordingMetrics()) };
    });

    // Each invocation takes the next SQS batch of 10, as Lambda's pollers hand them out.
    const queue: SQSRecord[][] = chunks(messages, 10);
    let next = 0;
    let done = 0;
    const started = Date.now();
    const progress = setInterval(() => process.stderr.write(`\r${done}/${FILES} files`), 2000);
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

    // One sweep flushes the partial manifest of each dataset, as it would after maxWaitMinutes.
    const sweeperClients = server.clients();
    meter.attach(sweeperClients);
    sweeperClients.sfn.middlewareStack.add(
      (next: any, context: any) => async (args: any) => {
        if (context.commandName === 'StartExecutionCommand') startExecutionCalls += 1;
        return next(args);
      },
      { step: 'initialize', name: 'startCounter' },
    );
    await sweepOn(sweeperClients, settings, afterMaxWait(settings));

    const inspector = server.clients();
    const state = await readFinalState(inspector, resources);
    const violations = invariantViolations(state, objects, BATCH_SIZE, resources.stateMachineArn);
    const sizes = new Map([
      ...(await itemSizes(inspector, resources.stateTable, ['pk', 'sk'])),
      ...(await itemSizes(inspector, resources.idempotencyTable, ['id'])),
    ]);
    const builderWcu = estimateWcu(meter.targets.slice(0, builderTargets), sizes);
    const allWcu = estimateWcu(meter.targets, sizes);
    const totalRequests = [...meter.requests.values()].reduce((a, b) => a + b, 0);
    const manifests = state.manifests.size;
    const executions = [...state.executions.values()].reduce((a, b) => a + b, 0);
    const fmt = (n: number, digits = 2) => n.toFixed(digits);

    console.log(`manifest builder benchmark: ${FILES} files, ${DATASETS} datasets, batch size ${BATCH_SIZE}, ${CONCURRENCY} concurrent invocations, SQS batches of 10, moto ${server.endpoint}`);
    console.log(`  throughput              ${fmt(FILES / builderSeconds, 1)} files/s (${fmt(builderSeconds, 1)} s through the handler; the emulator serves one request at a time)`);
    console.log(`  DynamoDB requests/file  ${fmt(builderRequests / FILES)} builder, ${fmt(totalRequests / FILES)} with the sweep`);
    for (const [command, n] of [...meter.requests].sort((a, b) => b[1] - a[1])) console.log(`      ${command.replace('Command', '').padEnd(20)} ${fmt(n / FILES, 3)}/file`);
    console.log(`  write units/file        ${fmt(builderWcu.total / FILES)} builder, ${fmt(allWcu.total / FILES)} with the sweep (DynamoDB's rules on the items written; goal <= 8 at batch 200)`);
    for (const [table, units] of allWcu.byTable) console.log(`      ${table.padEnd(20)} ${fmt(units / FILES, 3)}/file`);
    console.log(`      not counted: GSI writes of MANIFEST META items (byDay, pending), a few per manifest, ~${fmt((manifests * 6) / FILES, 3)}/file`);
    console.log(`  write units/file (moto) ${fmt(meter.motoReportedWcu / FILES)} as moto reports them (constants; transactions report none)`);
    console.log(`  StartExecution/manifest ${fmt(startExecutionCalls / Math.max(1, manifests))} (${startExecutionCalls} calls, ${manifests} manifests, ${executions} executions listed)`);
    console.log(`  invariants I1-I3        ${violations.length === 0 ? 'hold' : `VIOLATED: ${violations.slice(0, 5).join('; ')}`}`);
    if (violations.length > 0) process.exitCode = 1;
  } finally {
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
