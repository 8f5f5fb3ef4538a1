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
    expect(json.headroom).toEqual({ factor: report.headroom.factor, part: report.headroom.part });
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
});

describe('renderCostReport', () => {
  it('prints every line of the bill, the headroom and where the Glue figures come from', () => {
    const report = costReport({ load, inventory, measured: measured() });
    const text = renderCostReport(report, inventory, measured(), 600);

    for (const l of report.lines) expect(text).toContain(l.service);
    expect(text).toContain('Headroom: ');
    expect(text).toMatch(/Glue job: test: 32 core-s a GB warm, \+10 s for a cold JVM, Parquet 9\.3% of the NDJSON/);
  });
});
