import { FILE_ITEM_TTL_SECONDS } from '../../../../../handlers/common/state-store';
import { filesPerBuilderInvocation } from '../../../../../cli/ops/cost/model';
import { BILL_LINES, monthlyBill, type BillLineOf } from '../../../../../cli/ops/cost/bill';
import { inventory, load, measured } from './fixtures';

describe('monthlyBill', () => {
  it('prices Step Functions as executions x success-path transitions: 2,880 x 7 x $0.025 / 1000', () => {
    const bill = monthlyBill({ load, inventory, measured: measured(7) });

    expect(bill.lines.find((l) => l.service === 'Step Functions')!.usd).toBeCloseTo(2880 * 7 * 0.000025, 9);
  });

  it('prices Glue per run: 2,880 runs of 3 DPU for the 60-s minimum, FLEX or STANDARD', () => {
    const flex = monthlyBill({ load, inventory, measured: measured() });
    const standard = monthlyBill({ load, inventory, measured: measured(), executionClass: 'STANDARD' });

    expect(flex.lines.find((l) => l.service === 'Glue')!.usd).toBeCloseTo(2880 * 0.05 * 0.29, 6);
    expect(standard.lines.find((l) => l.service === 'Glue')!.usd).toBeCloseTo(2880 * 0.05 * 0.44, 6);
  });

  it('gives the builder 1 + rate x window files an invocation: 1 + 8000/86400 x 5 = 1.46', () => {
    expect(filesPerBuilderInvocation(8000 / 86400, inventory)).toBeCloseTo(1.463, 3);
    expect(filesPerBuilderInvocation(1000, inventory)).toBe(50);
  });

  it('prices Lambda from invocations and GB-seconds, the sweeper every minute included', () => {
    const bill = monthlyBill({ load, inventory, measured: measured() });
    const perInvocation = 1 + (8000 / 86400) * 5;
    const builderInvocations = 240_000 / perInvocation;
    const builderGbS = builderInvocations * (0.02 + perInvocation * 0.1) * 0.5;
    // 43,200 idle sweeps of 0.5 s, plus 2,880 manifests sealed by timeout at (2 - 0.5) s each, at 1 GB.
    const sweeperGbS = 43_200 * 0.5 + 2880 * 1.5;
    const expected = ((builderInvocations + 43_200) / 1e6) * 0.2 + (builderGbS + sweeperGbS) * 0.0000133334;

    expect(bill.lines.find((l) => l.service === 'Lambda')!.usd).toBeCloseTo(expected, 9);
  });

  it('prices DynamoDB writes from the measured units per file and the META writes a manifest adds', () => {
    const bill = monthlyBill({ load, inventory, measured: measured() });
    const line = bill.lines.find((l) => l.service === 'DynamoDB')!;
    // META: 3 writes by the handlers and 2 by the state machine, each in 2 GSIs; the benchmark saw the handlers' 3.
    expect(line.detail).toContain('+ 12/manifest');
    expect(line.detail).toContain(`${((240_000 * 8 + 2880 * 12) / 1e6).toFixed(2)} M`);
  });

  it("keeps idempotency records as long as the stack's builder does, FILE# items as long as the state store does", () => {
    const usd = (inv: typeof inventory, month: number) =>
      monthlyBill({ load, inventory: inv, measured: measured(), month }).lines.find((l) => l.service === 'DynamoDB')!.usd;
    // In month 2, records of 60 days are all still held; of 7 days, a week's.
    expect(usd({ ...inventory, idempotencyTtlDays: 60 }, 2)).toBeGreaterThan(usd(inventory, 2));
    expect(FILE_ITEM_TTL_SECONDS / 86_400).toBe(90);
    // FILE# items stop growing after 90 days: months 4 and 5 differ by the kept items only.
    const growth = (m: number) => usd(inventory, m + 1) - usd(inventory, m);
    expect(growth(4)).toBeLessThan(growth(2));
  });

  it('holds raw data in Standard for its first 30 days, then in IA: storage grows month after month', () => {
    const m1 = monthlyBill({ load, inventory, measured: measured(), month: 1 });
    const m2 = monthlyBill({ load, inventory, measured: measured(), month: 2 });
    const m12 = monthlyBill({ load, inventory, measured: measured(), month: 12 });
    const storage = (b: typeof m1) => b.lines.find((l) => l.service === 'S3 storage')!.usd;
    // Month 1: 28 GB a day, 14 GB on average per day elapsed: 840 GB / 2 on average, at Standard.
    const rawMonth1 = ((28 * 30) / 2) * 0.023;

    expect(storage(m1)).toBeGreaterThan(rawMonth1);
    expect(storage(m1)).toBeLessThan(rawMonth1 * 1.2);
    expect(storage(m2)).toBeGreaterThan(storage(m1));
    expect(storage(m12)).toBeGreaterThan(storage(m2));
    expect(m1.storageGrowthUsdPerMonth).toBeCloseTo(storage(m2) - storage(m1), 9);
    // No transition to IA before day 30; a full month of them after.
    expect(m1.lines.find((l) => l.service === 'S3 requests')!.detail).toContain(' 0 lifecycle transitions');
    expect(m2.lines.find((l) => l.service === 'S3 requests')!.detail).toContain('240,000 lifecycle transitions');
  });

  it("counts Parquet files of a quarter of the job's target size: a smaller target, more PUTs", () => {
    const puts = (targetMb: number) =>
      Number(
        /^([\d,]+) PUT/
          .exec(
            monthlyBill({
              load: { ...load, filesPerDay: 800_000 },
              inventory: { ...inventory, parquetTargetFileMb: targetMb },
              measured: measured(),
            }).lines.find((l) => l.service === 'S3 requests')!.detail,
          )![1]
          .replace(/,/g, ''),
      );
    // 800,000 files a day: full manifests of 200 x 3.5 MB, 65 MB of Parquet: 3 files of 32 MB, 17 of 4 MB.
    expect(puts(16) - puts(128)).toBe(4000 * 30 * (17 - 3));
  });

  it('sums its lines to the total, every service once', () => {
    const bill = monthlyBill({ load, inventory, measured: measured() });

    expect(bill.monthlyUsd).toBeCloseTo(
      bill.lines.reduce((s, l) => s + l.usd, 0),
      12,
    );
    expect(new Set(bill.lines.map((l) => l.service)).size).toBe(bill.lines.length);
  });

  it('takes its lines from a list others extend: a line added is billed and summed, one that returns nothing is left out', () => {
    const base = monthlyBill({ load, inventory, measured: measured() });
    const canary: BillLineOf = (t) => ({ service: 'Canary', usd: t.load.datasets * 1.5, detail: 'one a dataset' });
    const absent: BillLineOf = () => undefined;
    const bill = monthlyBill({ load, inventory, measured: measured() }, [...BILL_LINES, canary, absent]);

    expect(bill.lines.map((l) => l.service)).toEqual([...base.lines.map((l) => l.service), 'Canary']);
    expect(bill.monthlyUsd).toBeCloseTo(base.monthlyUsd + 1.5, 12);
  });

  it('bills no VPC endpoint in the public network; in the private one, each interface endpoint by the hour in each zone and the GB it carries', () => {
    const publicBill = monthlyBill({ load, inventory, measured: measured() });
    const privateInventory = { ...inventory, vpcEndpoints: { interface: 8, interfaceZones: 16, gateway: 2 } };
    const privateBill = monthlyBill({ load, inventory: privateInventory, measured: measured() });
    const line = privateBill.lines.find((l) => l.service === 'VPC endpoints')!;
    // 2,880 runs: 500 KB of logs, 10 catalog and 10 KMS calls and 3 Step Functions calls each; 43,200 sweeps of 1 call; 5 KB a call.
    const gb = (2880 * 500_000 + (2880 * 23 + 43_200) * 5_000) / 1e9;

    expect(publicBill.lines.map((l) => l.service)).not.toContain('VPC endpoints');
    expect(line.usd).toBeCloseTo(16 * 720 * 0.01 + gb * 0.01, 9);
    expect(line.usd).toBeGreaterThan(115);
    expect(privateBill.monthlyUsd - publicBill.monthlyUsd).toBeCloseTo(line.usd, 9);
  });
});
