/**
 * End to end on the local mode: files are object contents (I7). A key overwritten with new bytes while its first
 * manifest converts: each content is converted once, by its own manifest, from its own version. A producer's
 * retried PUT of the same bytes is a duplicate: never converted again.
 */
import { generateDataset } from '../../local/sample-data';
import { putObject, waitFor } from '../../local/scenario';
import { manifestsOf, nothingLeftBehind, startInstance, waitForConvertedFiles, type LocalInstance } from './support/local-instance';

jest.setTimeout(15 * 60_000);

describe('local mode: overwrites and identical re-uploads', () => {
  let instance: LocalInstance;
  const [a, b, c, other] = generateDataset({
    dataset: 'orders',
    files: 4,
    minLines: 4,
    maxLines: 9,
    badEvery: 100,
    blankEvery: 100,
    seed: 11,
  });
  const uri = (key: string) => `s3://${instance.stack.ingestBucket}/${key}`;
  const expected: Record<string, number> = {};

  beforeAll(async () => {
    instance = await startInstance({ batchSize: 2, maxWaitSeconds: 60, retryIntervalScale: 0.05, sweeperIntervalSeconds: 5 });
  });

  afterAll(async () => {
    await instance?.stop();
  });

  it('converts each content of a key once, from its own version, and a retried PUT not at all', async () => {
    const first = await putObject(instance, a.key, a.body);
    const second = await putObject(instance, b.key, b.body);
    // The first manifest is full with a and b: sealed and started. Overwrite a before its Glue run reads it.
    await waitFor(
      'the first manifest to be started',
      async () => ((await manifestsOf(instance)).some((m) => (m.executions?.length ?? 0) > 0) ? true : undefined),
      60_000,
      300,
    );
    const overwrite = await putObject(instance, a.key, other.body);
    const retriedPut = await putObject(instance, b.key, b.body);
    const third = await putObject(instance, c.key, c.body);
    Object.assign(expected, {
      [`${uri(a.key)}#${first.versionId}`]: a.goodLines,
      [`${uri(b.key)}#${second.versionId}`]: b.goodLines,
      [`${uri(a.key)}#${overwrite.versionId}`]: other.goodLines,
      [`${uri(c.key)}#${third.versionId}`]: c.goodLines,
    });

    const manifests = await waitForConvertedFiles(instance, 4, 10 * 60_000);
    const problems = await nothingLeftBehind(instance, 'orders', expected);

    expect(retriedPut.eTag).toBe(second.eTag);
    expect(retriedPut.versionId).not.toBe(second.versionId);
    expect(manifests.map((m) => [m.status, Number(m.fileCount)])).toEqual([
      ['SUCCEEDED', 2],
      ['SUCCEEDED', 2],
    ]);
    expect(problems).toEqual([]);
  });
});
