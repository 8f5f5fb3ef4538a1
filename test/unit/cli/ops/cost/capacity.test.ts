import { capacity, factorAtLimit } from '../../../../../cli/ops/cost/capacity';
import { inventory, load, measured } from './fixtures';

describe('capacity', () => {
  it("limits a dataset's OPEN# pointer at (1 - conflicts) / (read + commit): 0.8 / 25 ms = 32 files/s", () => {
    // 86,400 files a day on one dataset is 1 file/s: the pointer holds 32x.
    const { parts } = capacity({ load: { ...load, filesPerDay: 86_400 }, inventory, measured: measured() });
    const pointer = parts.find((p) => p.part.startsWith('OPEN# pointer'))!;

    expect(pointer.factor).toBeCloseTo(32, 3);
    expect(pointer.utilization).toBeCloseTo(1 / 32, 9);
  });

  it('holds more per dataset with more datasets: three datasets, three times the files', () => {
    const one = capacity({ load, inventory, measured: measured() }).parts.find((p) => p.part.startsWith('OPEN#'))!;
    const three = capacity({ load: { ...load, datasets: 3 }, inventory, measured: measured() }).parts.find((p) =>
      p.part.startsWith('OPEN#'),
    )!;

    expect(three.factor).toBeCloseTo(3 * one.factor, 6);
  });

  it('names the first part to reach its limit as the headroom, and a remedy for each part short of the target', () => {
    const { parts, headroom } = capacity({ load, inventory, measured: measured(), targetFactor: 600 });
    const lowest = Math.min(...parts.map((p) => p.factor));

    expect(headroom.factor).toBe(lowest);
    expect(parts.find((p) => p.factor === lowest)!.part).toBe(headroom.part);
    for (const p of parts) expect(p.remedy === '').toBe(p.factor >= 600);
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
