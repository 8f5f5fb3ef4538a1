/**
 * Reads everything the builder and the sweeper left on the emulator and checks invariants I1 to I3 on it.
 * Tests may scan; the pipeline never does.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AwsClients } from '../../handlers/common/aws-clients';
import type { PipelineResources } from './moto';
import { DEFAULT_ETAG, type UploadedObject } from './s3-events';

/** One manifest as found on the emulator. */
export interface FoundManifest {
  readonly meta: Record<string, any>;
  /** Keys of its `F#` items. */
  readonly keys: string[];
  /** The manifest file in the curated bucket, when written. */
  readonly document?: { files: Array<{ key: string; bucket: string }>; fileCount: number; dataset: string };
}

/** Everything on the emulator. */
export interface FinalState {
  readonly items: Array<Record<string, any>>;
  readonly manifests: Map<string, FoundManifest>;
  /** Execution names with their count. */
  readonly executions: Map<string, number>;
}

async function scanAll(clients: AwsClients, table: string): Promise<Array<Record<string, any>>> {
  const items: Array<Record<string, any>> = [];
  let start: Record<string, any> | undefined;
  do {
    const out = await clients.dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...(out.Items ?? []).map((i) => unmarshall(i)));
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** Reads the state table, the manifest files and the executions. */
export async function readFinalState(clients: AwsClients, resources: PipelineResources): Promise<FinalState> {
  const items = await scanAll(clients, resources.stateTable);
  const manifests = new Map<string, FoundManifest>();
  for (const meta of items.filter((i) => i.pk.startsWith('MANIFEST#') && i.sk === 'META')) {
    const keys = items.filter((i) => i.pk === meta.pk && i.sk.startsWith('F#')).map((i) => i.key as string);
    let document: FoundManifest['document'];
    try {
      const out = await clients.s3.send(
        new GetObjectCommand({ Bucket: resources.curatedBucket, Key: `manifests/${meta.dataset}/${meta.manifestId}.json` }),
      );
      document = JSON.parse(await out.Body!.transformToString());
    } catch (err) {
      if ((err as Error).name !== 'NoSuchKey') throw err;
    }
    manifests.set(meta.manifestId, { meta, keys, document });
  }
  const executions = new Map<string, number>();
  let nextToken: string | undefined;
  do {
    const out = await clients.sfn.send(new ListExecutionsCommand({ stateMachineArn: resources.stateMachineArn, nextToken }));
    for (const e of out.executions ?? []) executions.set(e.name!, (executions.get(e.name!) ?? 0) + 1);
    nextToken = out.nextToken;
  } while (nextToken !== undefined);
  return { items, manifests, executions };
}

function datasetOf(key: string): string {
  return key.split('/')[1];
}

/**
 * The invariants every test ends on: each uploaded object in exactly one sealed manifest (I1), manifests of at
 * most `batchSize` files of one dataset (I2), exactly one execution per manifest, recorded (I3), the
 * manifest file listing exactly the manifest's files, sorted by key, and every write shard's pointer naming only an
 * open manifest of its shard.
 */
export function invariantViolations(
  state: FinalState,
  objects: readonly UploadedObject[],
  batchSize: number,
  stateMachineArn: string,
): string[] {
  const problems: string[] = [];
  const holders = new Map<string, string[]>();
  for (const [id, m] of state.manifests) for (const key of m.keys) holders.set(key, [...(holders.get(key) ?? []), id]);
  const expectedKeys = new Set(objects.map((o) => o.key));
  for (const key of expectedKeys) {
    const held = holders.get(key) ?? [];
    if (held.length !== 1) problems.push(`I1: ${key} is in ${held.length} manifests (${held.join(', ')})`);
  }
  for (const key of holders.keys()) if (!expectedKeys.has(key)) problems.push(`I1: unexpected file ${key} in a manifest`);
  for (const o of objects) {
    const file = state.items.find((i) => i.pk === `FILE#${o.bucket}/${o.key}#${o.eTag ?? DEFAULT_ETAG}`);
    if (file === undefined) problems.push(`I1: no FILE# item for ${o.key}`);
    else if (!(holders.get(o.key) ?? []).includes(file.manifestId))
      problems.push(`I1: FILE# of ${o.key} names ${file.manifestId}, which does not list it`);
  }
  const executionPrefix = stateMachineArn.replace(':stateMachine:', ':execution:');
  for (const [id, m] of state.manifests) {
    if (m.keys.length > batchSize) problems.push(`I2: ${id} holds ${m.keys.length} files > ${batchSize}`);
    const datasets = new Set(m.keys.map(datasetOf));
    if (datasets.size > 1 || (datasets.size === 1 && !datasets.has(m.meta.dataset)))
      problems.push(`I2: ${id} mixes datasets ${[...datasets].join(', ')}`);
    if (m.meta.status === 'OPEN') problems.push(`${id} is still OPEN with ${m.keys.length} files`);
    if (m.keys.length === 0) problems.push(`${id} has no file`);
    const runs = state.executions.get(id) ?? 0;
    if (runs !== 1) problems.push(`I3: ${id} has ${runs} executions`);
    const arn = `${executionPrefix}:${id}`;
    if (m.meta.executionArn !== arn || JSON.stringify(m.meta.executions) !== JSON.stringify([arn]))
      problems.push(`I3: ${id} execution not recorded once (${JSON.stringify(m.meta.executions)})`);
    if (m.meta.pendingPk !== undefined || m.meta.pendingSk !== undefined) problems.push(`${id} still in the pending index`);
    if (m.meta.fileCount !== m.keys.length) problems.push(`${id} records fileCount ${m.meta.fileCount} for ${m.keys.length} files`);
    const listed = m.document?.files.map((f) => f.key) ?? [];
    const sorted = [...m.keys].sort();
    if (JSON.stringify(listed) !== JSON.stringify(sorted))
      problems.push(`${id} manifest file lists ${JSON.stringify(listed)}, state has ${JSON.stringify(sorted)}`);
  }
  for (const name of state.executions.keys()) if (!state.manifests.has(name)) problems.push(`I3: execution ${name} has no manifest`);
  // Every write shard's pointer names only an OPEN manifest of that shard (`OPEN#<dataset>` is shard 0).
  for (const pointer of state.items.filter((i) => i.pk.startsWith('OPEN#') && i.manifestId !== undefined)) {
    const named = state.manifests.get(pointer.manifestId);
    const shard = Number(pointer.pk.split('#')[2] ?? 0);
    if (named?.meta.status !== 'OPEN')
      problems.push(`${pointer.pk} names ${pointer.manifestId}, which is ${named?.meta.status ?? 'absent'}`);
    else if (Number(named.meta.shard ?? 0) !== shard)
      problems.push(`${pointer.pk} names ${pointer.manifestId} of shard ${named.meta.shard}`);
  }
  return problems;
}
