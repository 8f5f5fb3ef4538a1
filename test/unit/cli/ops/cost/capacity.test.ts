import { capacity, factorAtLimit, planForTarget, withSetting } from '../../../../../cli/ops/cost/capacity';
import type { CapacityPart, ModelInput } from '../../../../../cli/ops/cost/model';
import { LIMITS } from '../../../../../cli/ops/cost/prices';
import { bench, contended, inventory, load, measured } from './fixtures';

/** 86,400 files a day on one dataset: 1 file a second, so a part's headroom reads as its capacity in files/s. */
const oneFilePerSecond = { ...load, filesPerDay: 86_400 };

const part = (parts: readonly CapacityPart[], id: string) => {
  const p = parts.find((x) => x.id === id);
  if (p === undefined) throw new Error(`no part ${id}`);
  return p;
};

const withContended = (c = contended): ModelInput['measured'] => ({ ...measured(), builder: { ...bench, contended: c } });

describe('capacity: each part is its capacity over its need at the load', () => {
  it('names every part of the pipeline once, in the groups of the plan', () => {
    const { parts } = capacity({ load, inventory, measured: measured() });

    expect(parts.map((p) => p.id)).toEqual([
      'builder-per-dataset',
      'builder-overall',
      'lambda-concurrency',
      'glue-concurrent-runs',
      'glue-dpus',
      'dynamodb-table',
      'dynamodb-pointer-partition',
      'sqs-in-flight',
      'sfn-start-execution',
      'sfn-list-executions',
      'sfn-transitions',
      's3-prefix-puts',
    ]);
    expect(new Set(parts.map((p) => p.group))).toEqual(
      new Set(['builder per dataset', 'builder overall', 'Lambda', 'Glue', 'DynamoDB', 'SQS', 'Step Functions', 'S3']),
    );
    for (const p of parts) {
      expect(p.utilization).toBeCloseTo(p.need / p.capacity, 12);
      expect(p.source).not.toBe('');
    }
  });

  it("without a contended case, limits a dataset's open manifest at one pointer's (1 - conflicts) / (read + commit): 0.8 / 25 ms = 32 files/s, and says so", () => {
    const p = part(capacity({ load: oneFilePerSecond, inventory, measured: measured() }).parts, 'builder-per-dataset');

    expect(p.capacity).toBeCloseTo(32, 9);
    expect(p.need).toBeCloseTo(1, 12);
    expect(p.factor).toBeCloseTo(32, 9);
    expect(p.source).toMatch(/no contended case/);
  });

  it('with a contended case, takes its measured rate per dataset: 20 files/s over 2 open manifests', () => {
    const p = part(
      capacity({
        load: oneFilePerSecond,
        inventory,
        measured: withContended(),
        sharding: { perDataset: 2, defaultPerDataset: 2, setting: 'openManifests' },
      }).parts,
      'builder-per-dataset',
    );

    expect(p.capacity).toBeCloseTo(20, 9);
    expect(p.factor).toBeCloseTo(20, 9);
    expect(p.source).toMatch(/contended case/);
  });

  it('scales the per-dataset rate with the open manifests the settings give, from those the benchmark ran with', () => {
    const at = (perDataset: number, shards?: number) =>
      part(
        capacity({
          load: oneFilePerSecond,
          inventory,
          measured: withContended({ ...contended, shards }),
          sharding: { perDataset, defaultPerDataset: 2, setting: 'openManifests' },
        }).parts,
        'builder-per-dataset',
      ).factor;

    expect(at(6, 2)).toBeCloseTo(60, 9);
    // Where the file does not say, the benchmark ran with the setting's default (2).
    expect(at(6, undefined)).toBeCloseTo(60, 9);
    expect(at(2, 4)).toBeCloseTo(10, 9);
    // The most the dataset used at once in the run, rather than those left at its end.
    const widest = capacity({
      load: oneFilePerSecond,
      inventory,
      measured: withContended({ ...contended, shards: 1, widestShards: 4 }),
      sharding: { perDataset: 8, defaultPerDataset: 8, setting: 'maxShardsPerDataset' },
    });
    expect(part(widest.parts, 'builder-per-dataset').factor).toBeCloseTo(40, 9);
  });

  it('proposes no more open manifests than the setting takes', () => {
    const plan = (settingMax: number) =>
      planForTarget({
        load,
        inventory,
        measured: measured(),
        sharding: { perDataset: 1, defaultPerDataset: 1, setting: 'openManifests', settingMax },
      });

    expect(plan(64).settings).toContainEqual({ key: 'openManifests', value: 2 });
    expect(plan(1).settings.map((s) => s.key)).not.toContain('openManifests');
    expect(plan(1).quotaIncreases.map((q) => q.id)).toContain('builder-per-dataset');
  });

  it("takes one pointer's rate from the contended case's run on one open manifest where the file has it: 8 x 6 files/s", () => {
    const p = part(
      capacity({
        load: oneFilePerSecond,
        inventory,
        measured: withContended({ ...contended, widestShards: 8, singleShard: { builders: 4, filesPerSecond: 6, conflictsPerFile: 2.5 } }),
        sharding: { perDataset: 8, defaultPerDataset: 8, setting: 'maxShardsPerDataset' },
      }).parts,
      'builder-per-dataset',
    );

    expect(p.capacity).toBeCloseTo(48, 9);
    expect(p.factor).toBeCloseTo(48, 9);
    expect(p.source).toMatch(/contended case on one open manifest/);
    expect(p.limit).toMatch(/over 8 open manifests the run took 20\.0 files\/s/);
  });

  it('holds more per dataset with more datasets: three datasets, three times the files', () => {
    const one = part(capacity({ load, inventory, measured: measured() }).parts, 'builder-per-dataset');
    const three = part(capacity({ load: { ...load, datasets: 3 }, inventory, measured: measured() }).parts, 'builder-per-dataset');

    expect(three.factor).toBeCloseTo(3 * one.factor, 6);
  });

  it('limits the builder overall at builderMaxConcurrency / handler time: 10 / 100 ms = 100 files/s', () => {
    const p = part(capacity({ load: oneFilePerSecond, inventory, measured: measured() }).parts, 'builder-overall');

    expect(p.capacity).toBeCloseTo(100, 9);
    expect(p.factor).toBeCloseTo(100, 9);
  });

  it("limits Lambda at the account's 1,000 executions: files/s x handler time + the sweeper's share of a minute", () => {
    const p = part(capacity({ load: oneFilePerSecond, inventory, measured: measured() }).parts, 'lambda-concurrency');
    const sweeper = 0.5 / 60;

    expect(p.capacity).toBe(1000);
    expect(p.need).toBeCloseTo(0.1 + sweeper, 12);
    expect(p.factor).toBeCloseTo((1000 - sweeper) / 0.1, 3);
  });

  it('limits Glue at glue.maxConcurrentRuns runs at once, and the DPUs of those runs at the FLEX quota', () => {
    const { parts } = capacity({ load, inventory, measured: measured() });
    const runs = part(parts, 'glue-concurrent-runs');
    const dpus = part(parts, 'glue-dpus');

    // 96 manifests a day of 83.3 files: runs of 21.8 s on 3 G.1X workers (10 s start + 9.9 s cold + 32 core-s/GB).
    const seconds = 10 + 9.9 + (((11.7 * 2) / 0.734) * ((8000 / 96) * 3.5)) / 1000 / 5;
    expect(runs.need).toBeCloseTo((96 / 86_400) * seconds, 9);
    expect(runs.capacity).toBe(5);
    expect(dpus.need).toBeCloseTo(runs.need * 3, 9);
    expect(dpus.capacity).toBe(LIMITS.glueFlexDpusPerAccount);
    // Manifests fill up as the load grows: the headroom is where the runs reach the limit, not 5 / need now.
    expect(runs.factor).toBeGreaterThan(runs.capacity / runs.need);

    const standard = part(
      capacity({ load, inventory: { ...inventory, glue: { ...inventory.glue, executionClass: 'STANDARD' } }, measured: measured() }).parts,
      'glue-dpus',
    );
    expect(standard.capacity).toBe(LIMITS.glueDpusPerAccount);
  });

  it('limits DynamoDB at the table quota and at 1,000 units a second on each pointer: 2 units a commit, 1.25 commits a file', () => {
    const { parts } = capacity({ load: oneFilePerSecond, inventory, measured: measured() });

    expect(part(parts, 'dynamodb-table').need).toBeCloseTo(8, 12);
    expect(part(parts, 'dynamodb-table').factor).toBeCloseTo(40_000 / 8, 6);
    expect(part(parts, 'dynamodb-pointer-partition').need).toBeCloseTo(2.5, 12);
    expect(part(parts, 'dynamodb-pointer-partition').factor).toBeCloseTo(400, 6);
  });

  it("takes the contended case's units a file and conflicts where present: 9 units, 1.5 commits a file", () => {
    const { parts } = capacity({ load: oneFilePerSecond, inventory, measured: withContended() });

    expect(part(parts, 'dynamodb-table').need).toBeCloseTo(9, 12);
    expect(part(parts, 'dynamodb-pointer-partition').need).toBeCloseTo(3, 12);
  });

  it('limits SQS at 120,000 messages in flight: files/s x (the batching window + the invocation)', () => {
    const p = part(capacity({ load: oneFilePerSecond, inventory, measured: measured() }).parts, 'sqs-in-flight');
    // 1 file/s: 6 files an invocation (1 + 5 s window), 20 ms + 6 x 100 ms.
    expect(p.need).toBeCloseTo(1 * (5 + 0.02 + 6 * 0.1), 9);
    expect(p.capacity).toBe(120_000);
  });

  it('limits Step Functions at 300 starts and 5,000 transitions a second; ListExecutions, once a sweep, does not grow with the load', () => {
    // 1 file/s on one dataset: full manifests of 200 files, 432 a day, 0.005 starts a second; a sweep a minute.
    const { parts } = capacity({ load: oneFilePerSecond, inventory, measured: measured(7) });

    expect(part(parts, 'sfn-start-execution').need).toBeCloseTo(0.005, 12);
    expect(part(parts, 'sfn-start-execution').factor).toBeCloseTo(300 / 0.005, 3);
    expect(part(parts, 'sfn-list-executions').need).toBeCloseTo(1 / 60, 12);
    expect(part(parts, 'sfn-list-executions').factor).toBe(Infinity);
    expect(part(parts, 'sfn-transitions').factor).toBeCloseTo(5000 / (0.005 * 7), 2);
  });

  it("limits S3 at 3,500 PUTs a second on a dataset's prefix", () => {
    expect(part(capacity({ load: oneFilePerSecond, inventory, measured: measured() }).parts, 's3-prefix-puts').factor).toBeCloseTo(3500, 9);
  });

  it('names the first part to reach its limit as the headroom (limitedBy), and a remedy for each part short of the target', () => {
    const { parts, headroom } = capacity({ load, inventory, measured: measured(), targetFactor: 600 });
    const lowest = Math.min(...parts.map((p) => p.factor));

    expect(headroom.factor).toBe(lowest);
    expect(headroom.limitedBy).toBe(parts.find((p) => p.factor === lowest)!.id);
    expect(headroom.part).toBe(parts.find((p) => p.factor === lowest)!.part);
    for (const p of parts) expect(p.remedy === '').toBe(p.factor >= 600);
  });

  it('limitedBy follows the smallest part: a slower Glue job moves it from the open manifests to Glue', () => {
    const fast = capacity({ load, inventory, measured: measured() });
    const slowGlue = { ...measured(), glue: { ...measured().glue, seconds: { ...measured().glue.seconds, coldJvmExtra: 300 } } };
    const slow = capacity({ load, inventory, measured: slowGlue });

    expect(fast.headroom.limitedBy).toBe('builder-per-dataset');
    expect(slow.headroom.limitedBy).toBe('glue-concurrent-runs');
  });

  it("checks each part against the reference plan's 600x unless told otherwise", () => {
    const byDefault = capacity({ load, inventory, measured: measured() });
    const at600 = capacity({ load, inventory, measured: measured(), targetFactor: 600 });

    expect(byDefault.parts.map((p) => p.remedy)).toEqual(at600.parts.map((p) => p.remedy));
  });

  it('finds where an increasing utilization reaches 1', () => {
    expect(factorAtLimit((f) => f / 250)).toBeCloseTo(250, 6);
    expect(factorAtLimit(() => 0)).toBe(Infinity);
  });
});

describe('planForTarget: the settings that reach the target beside the given ones', () => {
  const sharded = { perDataset: 1, defaultPerDataset: 1, setting: 'openManifests' };

  it('raises the open manifests and the Glue runs until every part holds 600x, and says the headroom then', () => {
    const input: ModelInput = { load, inventory, measured: measured(), sharding: sharded };
    const plan = planForTarget(input);

    expect(plan.holds).toBe(false);
    const settings = Object.fromEntries(plan.settings.map((s) => [s.key, s.value]));
    // 345.6x with one pointer: two reach 600x; Glue needs 7 runs at once at 600x (6.06 runs of 21.8 s).
    expect(settings).toEqual({ openManifests: 2, 'glue.maxConcurrentRuns': 7 });
    expect(plan.headroom.factor).toBeGreaterThanOrEqual(600);
    expect(plan.quotaIncreases).toEqual([]);

    // The same settings applied by hand give the same headroom.
    const applied = plan.settings.reduce(withSetting, input);
    expect(capacity(applied).headroom).toEqual(plan.headroom);
  });

  it('says what no setting raises: without a setting for the open manifests, the per-dataset limit needs another design', () => {
    const plan = planForTarget({ load, inventory, measured: measured() });

    expect(plan.settings).toEqual([{ key: 'glue.maxConcurrentRuns', value: 7 }]);
    expect(plan.quotaIncreases.map((q) => q.id)).toEqual(['builder-per-dataset']);
    expect(plan.headroom.limitedBy).toBe('builder-per-dataset');
  });

  it('raises builderMaxConcurrency when the builder is short', () => {
    const slowBuilder = { ...measured(), builder: { ...bench, handlerSecondsPerFile: 0.2 } };
    const plan = planForTarget({ load, inventory, measured: slowBuilder, sharding: sharded });

    // 10 / 200 ms = 50 files/s, 540x: 12 invocations hold 600x (648x).
    expect(plan.settings).toContainEqual({ key: 'builderMaxConcurrency', value: 12 });
    expect(plan.headroom.factor).toBeGreaterThanOrEqual(600);
  });

  it('needs no setting where the given ones hold the target', () => {
    const plan = planForTarget({ load, inventory, measured: measured(), targetFactor: 100 });

    expect(plan).toMatchObject({ holds: true, settings: [], quotaIncreases: [] });
  });
});
