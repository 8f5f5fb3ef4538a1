import { costJson, costReport } from '../../../../../cli/ops/cost/report';
import { renderCostReport } from '../../../../../cli/ops/cost/render';
import { inventory, load, measured } from './fixtures';

describe('costJson', () => {
  it('has filesPerDay, manifestsPerDay, monthlyUsd, services summing to it and the headroom with its part', () => {
    const report = costReport({ load, inventory, measured: measured() });
    const json = costJson(report, inventory, measured()) as any;

    expect(json.filesPerDay).toBe(8000);
    expect(json.manifestsPerDay).toBeCloseTo(96, 6);
    expect(typeof json.monthlyUsd).toBe('number');
    const sum = Object.values(json.services as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(json.monthlyUsd, 9);
    expect(Object.keys(json.services)).toEqual(
      expect.arrayContaining([
        'Glue',
        'Step Functions',
        'Lambda',
        'DynamoDB',
        'SQS',
        'S3 requests',
        'S3 storage',
        'CloudWatch Logs',
        'KMS',
        'SNS',
      ]),
    );
    expect(json.headroom).toEqual({ factor: report.headroom.factor, part: report.headroom.part, limitedBy: report.headroom.limitedBy });
    expect(json.headroom.limitedBy).toBe('builder-per-dataset');
    expect(JSON.parse(JSON.stringify(json)).services).toEqual(json.services);
  });

  it("gives the Glue benchmark's figures under the names they had: batchMb, warmSeconds, coldSeconds, coreSecondsPerGb", () => {
    const json = costJson(costReport({ load, inventory, measured: measured() }), inventory, measured()) as any;

    expect(json.measured.glue).toMatchObject({
      source: 'test',
      batchMb: 734,
      localCores: 2,
      warmSeconds: 11.7,
      coldSeconds: 11.7 + 9.9,
      parquetMb: 68,
      coldJvmSeconds: 9.9,
    });
    expect(json.measured.glue.coreSecondsPerGb).toBeCloseTo((11.7 * 2) / 0.734, 9);
    expect(json.measured.glue.quarantinedLineShare).toBeCloseTo(693 / 724_599, 12);
  });

  it('keeps the keys it had and adds limitedBy, the settings for the target and the scale', () => {
    const report = costReport({ load, inventory, measured: measured() });
    const json = costJson(report, inventory, measured()) as any;

    // The keys of --json before the headroom's limitedBy was added: none removed, none renamed.
    expect(Object.keys(json)).toEqual(
      expect.arrayContaining([
        'filesPerDay',
        'mbPerFile',
        'datasets',
        'batchSize',
        'maxWaitMinutes',
        'month',
        'filesPerManifest',
        'manifestsPerDay',
        'sealedBy',
        'glueRun',
        'monthlyUsd',
        'services',
        'storageGrowthUsdPerMonth',
        'headroom',
        'capacity',
        'referencePlan',
        'measured',
        'inventory',
        'prices',
        'limits',
        'assumptions',
      ]),
    );
    for (const p of json.capacity)
      expect(p).toEqual(
        expect.objectContaining({
          part: expect.any(String),
          limit: expect.any(String),
          utilization: expect.any(Number),
          factor: expect.any(Number),
          remedy: expect.any(String),
        }),
      );
    expect(json.capacity.map((p: { id: string }) => p.id)).toContain(json.headroom.limitedBy);
    expect(json.toTarget).toMatchObject({ target: 600, holds: false, settings: [{ key: 'glue.maxConcurrentRuns', value: 7 }] });
    expect(json.scale).toBe(1);
    expect(costJson(report, inventory, measured(), 600).scale).toBe(600);
  });
});

describe('renderCostReport', () => {
  it('prints every line of the bill, the headroom and where the Glue figures come from', () => {
    const report = costReport({ load, inventory, measured: measured() });
    const text = renderCostReport(report, inventory, measured(), 600);

    for (const l of report.lines) expect(text).toContain(l.service);
    expect(text).toContain('Headroom: ');
    expect(text).toMatch(/Glue job: test: 32 core-s a GB warm, \+10 s for a cold JVM, Parquet 9\.3% of the NDJSON/);
  });

  it('prints the part that limits first, and the settings that reach the target beside the given ones', () => {
    const input = { load, inventory, measured: measured(), sharding: { perDataset: 1, defaultPerDataset: 1, setting: 'openManifests' } };
    const text = renderCostReport(costReport(input), inventory, measured(), 600);

    expect(text).toMatch(/Headroom: 346x over this load \(2,764,800 files a day\), limited by builder-per-dataset/);
    expect(text).toContain('Settings that reach it: npx cdk deploy -c openManifests=2 -c glue.maxConcurrentRuns=7 (headroom ');
    expect(text).toMatch(/- builder-per-dataset: test \(no contended case/);
    expect(text).toMatch(/- lambda-concurrency: Lambda quotas, .*limits\.html/);

    // Without a setting for the open manifests, the settings do not reach 600x, and the text says so.
    const short = renderCostReport(costReport({ load, inventory, measured: measured() }), inventory, measured(), 600);
    expect(short).toContain('Settings that raise what settings can: npx cdk deploy -c glue.maxConcurrentRuns=7 (headroom 346x');
    expect(short).toContain('Still short with them (a quota or the design must change, as above): builder-per-dataset 346x.');
  });

  it('at --scale 600, prints the bill of 600 times the files and checks each part against 1x of that load', () => {
    const scaledLoad = { ...load, filesPerDay: load.filesPerDay * 600 };
    const base = costReport({ load, inventory, measured: measured() });
    const report = costReport({ load: scaledLoad, inventory, measured: measured(), targetFactor: 1 });
    const text = renderCostReport(report, inventory, measured(), 1, 600);

    expect(report.monthlyUsd).toBeGreaterThan(100 * base.monthlyUsd);
    expect(text).toMatch(/at 600x the load \(--scale 600\): 4,800,000 files a day/);
    expect(text).toContain('600x of the base load = 1.0x of this one');
    expect(text).toContain('no comparison at 600x');
    // The headroom over the scaled load is the base load's headroom divided by 600.
    expect(report.headroom.factor).toBeCloseTo(base.headroom.factor / 600, 6);
  });
});
