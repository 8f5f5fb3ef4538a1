import { canaryCost, renderCanaryCost } from '../../../../../cli/ops/cost/canary';
import { CANARY_METRIC } from '../../../../../handlers/common/observability';
import { inventory, measured } from './fixtures';

const base = { maxWaitMinutes: 15, lookbackMinutes: 150, inventory, measured: measured(7), executionClass: 'FLEX' as const };

describe('canaryCost', () => {
  it('makes a manifest per file when a file waits less than the next tick: 720 files, 720 Glue runs of 2 DPU for the 60-s minimum', () => {
    const cost = canaryCost({ ...base, everyMinutes: 60 });

    expect(cost.checksPerMonth).toBe(8640);
    expect(cost.filesPerMonth).toBe(720);
    expect(cost.filesPerManifest).toBe(1);
    expect(cost.manifestsPerMonth).toBe(720);
    expect(cost.run.workers).toBe(2);
    expect(cost.run.billedSeconds).toBe(60);
    expect(cost.lines.find((l) => l.service === 'Glue')!.usd).toBeCloseTo(720 * ((2 * 60) / 3600) * 0.29, 9);
    expect(cost.lines.find((l) => l.service === 'Step Functions')!.usd).toBeCloseTo(720 * 7 * 0.000025, 9);
  });

  it('gathers the files of the ticks within maxWaitMinutes into one manifest: every 5 minutes, 3 files a manifest', () => {
    const cost = canaryCost({ ...base, everyMinutes: 5 });

    expect(cost.filesPerMonth).toBe(8640);
    expect(cost.filesPerManifest).toBe(3);
    expect(cost.manifestsPerMonth).toBe(2880);
  });

  it('prices the checks: invocations and GB-seconds, the builder invocation of each file, at the look-back', () => {
    const cost = canaryCost({ ...base, everyMinutes: 60 });
    // 150 minutes back at one file an hour: 3 files a check, 150 + 3 x 25 ms at the sweeper's 1 GB; each file a
    // builder invocation of 20 + 100 ms at 512 MB.
    const gbSeconds = 8640 * 0.225 * 1 + 720 * 0.12 * 0.5;
    expect(cost.lines.find((l) => l.service === 'Lambda')!.usd).toBeCloseTo(((8640 + 720) / 1e6) * 0.2 + gbSeconds * 0.0000133334, 9);
    // Two GetItems per file looked at, per check, beside the builder's reads of each file.
    expect(cost.lines.find((l) => l.service === 'DynamoDB')!.detail).toContain(
      `${(8640 * 3 * 2 + 720 * 2).toLocaleString('en-US')} read units`,
    );
  });

  it('counts its two metrics and two alarms, and its total is the sum of its lines', () => {
    const cost = canaryCost({ ...base, everyMinutes: 60 });
    expect(Object.keys(CANARY_METRIC)).toHaveLength(2);
    expect(cost.lines.find((l) => l.service === 'CloudWatch')!.usd).toBeGreaterThanOrEqual(2 * 0.3 + 2 * 0.1);
    expect(cost.monthlyUsd).toBeCloseTo(
      cost.lines.reduce((s, l) => s + l.usd, 0),
      12,
    );
    expect(renderCanaryCost(cost)).toMatch(/^Canary \(canary.everyMinutes=60\): \$\d+\.\d\d a month/);
  });

  it('STANDARD costs more for the same runs', () => {
    const flex = canaryCost({ ...base, everyMinutes: 60 });
    const standard = canaryCost({ ...base, everyMinutes: 60, executionClass: 'STANDARD' });
    expect(standard.lines.find((l) => l.service === 'Glue')!.usd).toBeCloseTo(720 * ((2 * 60) / 3600) * 0.44, 9);
    expect(standard.monthlyUsd).toBeGreaterThan(flex.monthlyUsd);
  });
});
