import { batching, glueRun } from '../../../../../cli/ops/cost/model';
import { GLUE_COLD_JVM_SECONDS as coldJvm, GLUE_CORE_SECONDS_PER_GB as coreSecondsPerGb, glue, inventory, load } from './fixtures';

describe('batching: manifests from the arrival rate and the wait', () => {
  it('at the reference load, a manifest holds the files of 15 minutes: 8000 / 86400 * 900 = 83.3, so 96 a day', () => {
    const b = batching(load);

    expect(b.filesPerManifest).toBeCloseTo(83.333, 3);
    expect(b.manifestsPerDay).toBeCloseTo(96, 9);
    expect(b.sealedBy).toBe('timeout');
  });

  it('spreads the files over the datasets: two datasets, each manifest half as full, twice as many', () => {
    const b = batching({ ...load, datasets: 2 });

    expect(b.filesPerManifest).toBeCloseTo(41.667, 3);
    expect(b.manifestsPerDay).toBeCloseTo(192, 9);
  });

  it('seals full manifests once batchSize files arrive within the wait: 4.8 M a day is 24,000 manifests of 200', () => {
    const b = batching({ ...load, filesPerDay: 4_800_000 });

    expect(b.filesPerManifest).toBe(200);
    expect(b.manifestsPerDay).toBe(24_000);
    expect(b.sealedBy).toBe('full');
  });

  it('never makes a manifest of less than one file', () => {
    const b = batching({ ...load, filesPerDay: 10 });

    expect(b.filesPerManifest).toBe(1);
    expect(b.manifestsPerDay).toBe(10);
  });

  it('a shorter wait makes smaller, more manifests: 5 minutes gives 27.8 files, 288 a day', () => {
    const b = batching({ ...load, maxWaitMinutes: 5 });

    expect(b.filesPerManifest).toBeCloseTo(27.778, 3);
    expect(b.manifestsPerDay).toBeCloseTo(288, 9);
  });
});

describe('glueRun: from the Glue benchmark file', () => {
  it('bills the 1-minute minimum for a run shorter than a minute: 83 files of 3.5 MB on 3 G.1X workers', () => {
    const run = glueRun(83.333, 291.667, inventory.glue, glue);

    // (291.7 MB + 83.3 files x 4 MB open cost) / 128 MB = 4.9 -> 5 tasks -> 2 executors of 4 cores + the driver.
    expect(run.tasks).toBe(5);
    expect(run.workers).toBe(3);
    expect(run.seconds).toBeCloseTo(10 + coldJvm + (coreSecondsPerGb * 0.291667) / 5, 2);
    expect(run.seconds).toBeLessThan(60);
    expect(run.billedSeconds).toBe(60);
    expect(run.dpuHours).toBeCloseTo((3 * 60) / 3600, 9);
    expect(run.usd.FLEX).toBeCloseTo(0.05 * 0.29, 9);
    expect(run.usd.STANDARD).toBeCloseTo(0.05 * 0.44, 9);
  });

  it('bills the seconds of a longer run, on at most maxWorkers workers', () => {
    const run = glueRun(10, 100_000, inventory.glue, glue);

    // (100000 + 40) / 128 = 781.6 -> 782 tasks, 196 executors wanted, 10 workers allowed: 9 executors x 4 = 36 cores.
    const seconds = 10 + coldJvm + (coreSecondsPerGb * 100) / 36;
    expect(run.workers).toBe(10);
    expect(run.seconds).toBeCloseTo(seconds, 6);
    expect(run.billedSeconds).toBe(Math.ceil(seconds));
    expect(run.billedSeconds).toBeGreaterThan(60);
    expect(run.usd.FLEX).toBeCloseTo(((10 * Math.ceil(seconds)) / 3600) * 0.29, 9);
  });

  it('follows the file: a job twice as slow in the steady state takes twice the conversion seconds', () => {
    const slower = { ...glue, seconds: { ...glue.seconds, steady: glue.seconds.steady * 2 } };
    const conversion = (g: typeof glue) => glueRun(10, 100_000, inventory.glue, g).seconds - 10 - coldJvm;

    expect(conversion(slower)).toBeCloseTo(2 * conversion(glue), 6);
  });

  it('counts a G.2X worker as 2 DPU and 8 cores', () => {
    const run = glueRun(83.333, 291.667, { ...inventory.glue, workerType: 'G.2X' }, glue);

    expect(run.workers).toBe(2);
    expect(run.dpus).toBe(4);
  });
});
