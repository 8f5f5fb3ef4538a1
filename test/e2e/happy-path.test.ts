/**
 * End to end on the local mode: files uploaded to the ingest bucket become full manifests and a partial one
 * flushed by the sweeper, each converted by the real Glue script; the Parquet read back holds every good line once.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { readCuratedParquet } from '../../local/parquet-reader';
import { generateDataset, totals, type SampleFile } from '../../local/sample-data';
import { PREFIXES } from '../../contracts/config';
import { LOCAL_COMPONENTS, type LocalComponent } from '../../contracts/local-stack';
import { deniedCalls, describeDenial, iamModel, onBehalfCalls, pipelineForIamCheck, readCalls, templateWithout } from './support/iam-check';
import { expectedRowsBySource, startInstance, upload, waitForConvertedFiles, type LocalInstance } from './support/local-instance';

jest.setTimeout(15 * 60_000);

const BATCH_SIZE = 4;

describe('local mode: the happy path', () => {
  let instance: LocalInstance;
  let files: SampleFile[];

  beforeAll(async () => {
    instance = await startInstance({ batchSize: BATCH_SIZE, maxWaitSeconds: 60, sweeperIntervalSeconds: 5 });
    // 9 files: two full manifests of 4 and one of 1 that only the sweeper's timeout seals.
    const generated = generateDataset({ dataset: 'orders', files: 9, minLines: 5, maxLines: 12, badEvery: 3, blankEvery: 4, seed: 7 });
    // One key with a space and a '+': S3 sends them URL-encoded, the builder must decode them.
    files = generated.map((f, i) =>
      i === generated.length - 1 ? { ...f, key: f.key.replace(/orders-(\d+)\.ndjson$/, 'late batch/orders+$1.ndjson') } : f,
    );
    await upload(instance, files);
  });

  afterAll(async () => {
    await instance?.stop();
  });

  it('puts every file in exactly one manifest: full ones of batchSize files and a partial one sealed on timeout', async () => {
    const manifests = await waitForConvertedFiles(instance, files.length, 10 * 60_000);

    expect(manifests.map((m) => m.status)).toEqual(manifests.map(() => 'SUCCEEDED'));
    expect(manifests.map((m) => [m.sealReason, Number(m.fileCount)]).sort()).toEqual([
      ['full', BATCH_SIZE],
      ['full', BATCH_SIZE],
      ['timeout', 1],
    ]);
    for (const m of manifests) {
      expect(m.manifestId).toMatch(/^orders-\d{8}-\d{6}$/);
      expect(m.executionArn).toBe(`${instance.stack.stateMachineArn.replace(':stateMachine:', ':execution:')}:${m.manifestId}`);
    }
  });

  it('accounts for every line: rows, quarantined and blank lines match the sample (I5)', async () => {
    const manifests = await waitForConvertedFiles(instance, files.length, 60_000);
    const expected = totals(files);
    const sum = (pick: (m: Record<string, unknown>) => unknown) => manifests.reduce((n, m) => n + Number(pick(m)), 0);

    for (const m of manifests) {
      expect(Number(m.linesIn)).toBe(Number(m.rowsOut) + Number(m.rowsQuarantined) + Number(m.blankLines));
    }
    expect(sum((m) => m.rowsOut)).toBe(expected.goodLines);
    expect(sum((m) => m.rowsQuarantined)).toBe(expected.badLines);
    expect(sum((m) => m.blankLines)).toBe(expected.blankLines);
    expect(sum((m) => m.linesIn)).toBe(expected.lines);
  });

  it('writes Parquet that reads back with each good line once, under each manifest partition', async () => {
    const manifests = await waitForConvertedFiles(instance, files.length, 60_000);

    const parquet = await readCuratedParquet(instance.stack, 'orders', 'order_id');

    expect(parquet.rows).toBe(totals(files).goodLines);
    expect(parquet.distinctKeys).toBe(parquet.rows);
    expect(parquet.rowsBySourceFile).toEqual(expectedRowsBySource(instance.stack.ingestBucket, files));
    expect(Object.keys(parquet.rowsByManifest).sort()).toEqual(manifests.map((m) => m.manifestId).sort());
    expect(parquet.columns).toEqual(
      expect.arrayContaining(['order_id', 'amount', '_source_file', '_ingested_at', 'ingest_date', 'manifest_id']),
    );
  });

  it('quarantines the bad lines under the manifest that held them', async () => {
    const out = await instance.ctx.s3.send(
      new ListObjectsV2Command({ Bucket: instance.stack.curatedBucket, Prefix: `${PREFIXES.quarantine}orders/` }),
    );
    const withBadLines = new Set(
      (out.Contents ?? []).map((o) => /manifest_id=([^/]+)\//.exec(o.Key ?? '')?.[1]).filter((id): id is string => id !== undefined),
    );
    const manifests = await waitForConvertedFiles(instance, files.length, 60_000);

    expect([...withBadLines].sort()).toEqual(
      manifests
        .filter((m) => Number(m.rowsQuarantined) > 0)
        .map((m) => m.manifestId)
        .sort(),
    );
  });

  it("records every component's calls, each allowed by its role, and the check fails without a permission a call needs", async () => {
    await waitForConvertedFiles(instance, files.length, 60_000);
    const recorded = readCalls(instance.stateDir);
    const pipeline = pipelineForIamCheck();
    const check = async (model = iamModel(pipeline, instance.stack)) =>
      deniedCalls(model, [...recorded, ...onBehalfCalls(model, recorded)]);

    // Every component but the canary, which this instance does not run.
    expect([...new Set(recorded.map((c) => c.component))].sort()).toEqual(LOCAL_COMPONENTS.filter((c) => c !== 'canary').sort());
    expect((await check()).map(describeDenial)).toEqual([]);
    // One permission each component used in this run, taken out of its role's policies.
    const needed: [LocalComponent, string][] = [
      ['manifest-builder', 'dynamodb:PutItem'],
      ['sweeper', 'states:StartExecution'],
      ['state-machine', 'glue:GetJobRun'],
      ['glue-job', 'glue:CreatePartition'],
    ];
    for (const [component, action] of needed) {
      const denied = await check(iamModel(pipeline, instance.stack, templateWithout(pipeline, component, action)));
      expect({ component, action, denied: denied.length > 0 }).toEqual({ component, action, denied: true });
      expect(new Set(denied.map((d) => `${d.call.component} ${d.call.action}`))).toEqual(new Set([`${component} ${action}`]));
    }
  });
});
