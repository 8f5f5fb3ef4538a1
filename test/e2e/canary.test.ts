/**
 * The canary against the local mode: the real handler, run by the local canary timer on the clock, uploads its files
 * into `pipeline_canary`; the pipeline (builder, sweeper, state machine, the Glue job under Spark) converts them; a
 * later check publishes `CanaryFreshnessSeconds` for each, once, equal to what the record and S3 say independently,
 * and `CanaryPendingAgeSeconds` on every check.
 */
import { readFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { CANARY_DATASET } from '../../contracts/config';
import { localPaths } from '../../contracts/local-stack';
import { stateStoreOf } from '../../cli/ops/manifests';
import { tickOfKey } from '../../handlers/domain/canary';
import { readCuratedParquet } from '../../local/parquet-reader';
import { waitFor } from '../../local/scenario';
import { runningProcesses } from '../../local/runtime';
import { manifestsOf, startInstance, type LocalInstance } from './support/local-instance';

jest.setTimeout(15 * 60_000);

/** One EMF document of the canary's log: its metric values by name, with its namespace and dimensions. */
interface EmfDatum {
  readonly namespace: string;
  readonly service: unknown;
  readonly values: Record<string, number[]>;
}

/** The EMF documents Powertools Metrics wrote to the canary's log (one JSON object a line). */
function emfData(instance: LocalInstance): EmfDatum[] {
  const file = path.join(localPaths(instance.stateDir).logsDir, 'canary.log');
  if (!existsSync(file)) return [];
  const data: EmfDatum[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const aws = doc._aws as { CloudWatchMetrics?: Array<{ Namespace: string; Metrics: Array<{ Name: string }> }> } | undefined;
    if (aws?.CloudWatchMetrics === undefined) continue;
    const values: Record<string, number[]> = {};
    for (const directive of aws.CloudWatchMetrics) {
      for (const metric of directive.Metrics) {
        const v = doc[metric.Name];
        values[metric.Name] = (Array.isArray(v) ? v : [v]).map(Number);
      }
    }
    data.push({ namespace: aws.CloudWatchMetrics[0].Namespace, service: doc.service, values });
  }
  return data;
}

describe('the canary in the local mode', () => {
  let instance: LocalInstance;

  beforeAll(async () => {
    // A file every 30 s; the sweeper seals a manifest whose oldest file waited a minute.
    instance = await startInstance({ maxWaitSeconds: 60, canaryEverySeconds: 30 });
  });

  afterAll(async () => {
    await instance?.stop();
  });

  it('converts its files and publishes the freshness of each once, as the record and S3 say, and the pending age on every check', async () => {
    expect(runningProcesses(instance.stateDir).canary).toBeDefined();

    const published = await waitFor(
      'a freshness datum in the canary log',
      async () => {
        const values = emfData(instance).flatMap((d) => d.values.CanaryFreshnessSeconds ?? []);
        return values.length > 0 ? values : undefined;
      },
      10 * 60_000,
      2000,
    );

    // What the pipeline recorded: a SUCCEEDED manifest of the canary's dataset, its files uploaded by the canary.
    const succeeded = (await manifestsOf(instance)).filter((m) => m.dataset === CANARY_DATASET && m.status === 'SUCCEEDED');
    expect(succeeded.length).toBeGreaterThan(0);
    const store = stateStoreOf(instance.ctx);
    const expected: number[] = [];
    let firstUpload = Infinity;
    for (const manifest of succeeded) {
      for (const file of await store.listManifestFileItems(manifest.manifestId)) {
        expect(tickOfKey(file.key)).toBeDefined();
        const head = await instance.ctx.s3.send(new HeadObjectCommand({ Bucket: file.bucket, Key: file.key }));
        expected.push((Date.parse(manifest.finishedAt!) - head.LastModified!.getTime()) / 1000);
        firstUpload = Math.min(firstUpload, head.LastModified!.getTime());
      }
    }
    // Each published value is one file's upload-to-converted time; no file is counted twice.
    for (const value of published) expect(expected.some((e) => Math.abs(e - value) < 0.01)).toBe(true);
    expect(new Set(published).size).toBe(published.length);
    for (const value of published) expect(value).toBeGreaterThan(0);

    // The rows are in the canary's table, each saying it is the canary's.
    const parquet = await readCuratedParquet(instance.stack, CANARY_DATASET);
    expect(parquet.columns).toEqual(expect.arrayContaining(['canary', 'tick', '_source_file', 'manifest_id']));
    for (const manifest of succeeded) expect(parquet.rowsByManifest[manifest.manifestId]).toBe(manifest.fileCount);

    // Every check published the pending age, in the config's namespace, with the canary's service dimension.
    const data = emfData(instance);
    const pending = data.flatMap((d) => d.values.CanaryPendingAgeSeconds ?? []);
    expect(pending.length).toBeGreaterThan(3);
    expect(data.every((d) => d.namespace === 'IngestPipeline' && d.service === 'canary')).toBe(true);
    // Once a file converted, the pending age counts only the files uploaded after it: less than the converted ones' age.
    const afterConversion = await waitFor(
      'a check after the conversion',
      async () => {
        const now = emfData(instance).flatMap((d) => d.values.CanaryPendingAgeSeconds ?? []);
        return now.length > pending.length ? now[now.length - 1] : undefined;
      },
      60_000,
    );
    expect(afterConversion).toBeLessThan((Date.now() - firstUpload) / 1000);
  });
});
