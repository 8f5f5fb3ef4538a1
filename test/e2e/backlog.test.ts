/**
 * End to end on the local mode: a backlog larger than what the state machine's retries of Glue's concurrency limit
 * can wait for. With one Glue run at a time and those retries scaled to some 25 seconds in all, manifests
 * queue in the state table and each starts as the one before it ends: every manifest SUCCEEDED, no operator.
 */
import { readCuratedParquet } from '../../local/parquet-reader';
import { generateDataset, totals } from '../../local/sample-data';
import { startInstance, upload, waitForConvertedFiles, type LocalInstance } from './support/local-instance';

jest.setTimeout(15 * 60_000);

describe('local mode: a backlog beyond the concurrency retries', () => {
  let instance: LocalInstance;
  const files = generateDataset({ dataset: 'orders', files: 4, minLines: 3, maxLines: 6, badEvery: 100, blankEvery: 100, seed: 23 });

  beforeAll(async () => {
    // One file per manifest, one Glue run at a time; Retry and Wait at 0.003: about 8 s of concurrency retries per
    // run of Convert, three runs, so some 25 s in all: less than the backlog of four Spark runs (about 15 s each).
    instance = await startInstance({
      batchSize: 1,
      maxWaitSeconds: 60,
      maxConcurrentRuns: 1,
      retryIntervalScale: 0.003,
      sweeperIntervalSeconds: 2,
    });
    await upload(instance, files);
  });

  afterAll(async () => {
    await instance?.stop();
  });

  it('converts every manifest, one after the other, without a failure', async () => {
    const manifests = await waitForConvertedFiles(instance, files.length, 12 * 60_000);
    const parquet = await readCuratedParquet(instance.stack, 'orders', 'order_id');

    expect(manifests.map((m) => m.status)).toEqual(files.map(() => 'SUCCEEDED'));
    expect(manifests.every((m) => (m.executions ?? []).length === 1)).toBe(true);
    expect(parquet.rows).toBe(totals(files).goodLines);
    expect(parquet.distinctKeys).toBe(parquet.rows);
  });
});
