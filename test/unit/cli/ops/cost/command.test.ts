/**
 * `pipeline cost` from the command line: --json, --scale. The stack's inventory is the fixture's (the template
 * reader has its own tests on the synthesized stack); the benchmarks are fixture files, so the figures are the
 * tests' and not those of the last run of `make bench-builder` or `make bench-glue`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../../../cli/main';
import { bench, contended, GLUE_FIXTURE_PATH, inventory } from './fixtures';

jest.mock('../../../../../cli/ops/cost/inputs/template', () => ({
  ...jest.requireActual<object>('../../../../../cli/ops/cost/inputs/template'),
  synthesizeInventory: () => jest.requireActual<typeof import('./fixtures')>('./fixtures').inventory,
}));

describe('pipeline cost', () => {
  let dir: string;
  let builderFile: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-'));
    builderFile = path.join(dir, 'manifest-builder.json');
    fs.writeFileSync(builderFile, JSON.stringify(bench));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function cost(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['node', 'pipeline', 'cost', '--benchmark', builderFile, '--glue-benchmark', GLUE_FIXTURE_PATH, ...args], {
      io: { out: (t) => out.push(t), err: (t) => err.push(t), stderrIsTTY: false },
    });
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  }

  it('--json: the headroom names the part that limits first, and the settings that reach 600x', async () => {
    const { code, stdout } = await cost('--json');
    const json = JSON.parse(stdout);

    expect(code).toBe(0);
    expect(json.filesPerDay).toBe(8000);
    expect(json.headroom).toEqual({ factor: expect.any(Number), part: expect.any(String), limitedBy: 'builder-per-dataset' });
    expect(json.headroom.factor).toBeCloseTo(345.6, 6);
    expect(json.toTarget.target).toBe(600);
    // The stack's maxShardsPerDataset (1 in the fixture) is the setting that raises the per-dataset limit: 2 hold 600x.
    expect(json.toTarget.settings).toContainEqual({ key: 'maxShardsPerDataset', value: 2 });
    expect(json.toTarget.headroom.factor).toBeGreaterThanOrEqual(600);
    expect(json.inventory).toEqual(inventory);
  });

  it("--canary-every-minutes 60: the canary's own lines after the bill, in --json as canary; the load's bill unchanged", async () => {
    const base = JSON.parse((await cost('--json')).stdout);
    const json = JSON.parse((await cost('--canary-every-minutes', '60', '--json')).stdout);
    const text = await cost('--canary-every-minutes', '60');

    expect(json.monthlyUsd).toBe(base.monthlyUsd);
    expect(json.canary.manifestsPerMonth).toBe(720);
    expect(json.canary.monthlyUsd).toBeGreaterThan(0);
    expect(base.canary).toBeUndefined();
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/\nCanary \(canary\.everyMinutes=60\): \$[\d.]+ a month\n/);
    // Refused as the stack's setting is: not a multiple of the five-minute check.
    const bad = await cost('--canary-every-minutes', '7');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('canary.everyMinutes');
  });

  it('--scale 600: the bill of 4.8 M files a day, each part checked against 1x of it', async () => {
    const base = JSON.parse((await cost('--json')).stdout);
    const { code, stdout } = await cost('--scale', '600', '--json');
    const json = JSON.parse(stdout);

    expect(code).toBe(0);
    expect(json.filesPerDay).toBe(4_800_000);
    expect(json.scale).toBe(600);
    expect(json.sealedBy).toBe('full');
    expect(json.monthlyUsd).toBeGreaterThan(100 * base.monthlyUsd);
    expect(json.headroom.factor).toBeCloseTo(base.headroom.factor / 600, 6);
    expect(json.toTarget.target).toBe(1);

    const text = (await cost('--scale', '600')).stdout;
    expect(text).toMatch(/at 600x the load \(--scale 600\): 4,800,000 files a day/);
    expect(text).toMatch(/^TOTAL\s+\d/m);
  });

  it("reads the benchmark's contended case where the file has one, and refuses a scale of nothing", async () => {
    fs.writeFileSync(builderFile, JSON.stringify({ ...bench, contended: { ...contended, shards: 1 } }));
    const json = JSON.parse((await cost('--json')).stdout);

    // 20 files/s on one dataset over its one open manifest: 20 x 86,400 / 8,000 = 216x.
    expect(json.capacity.find((p: { id: string }) => p.id === 'builder-per-dataset').factor).toBeCloseTo(216, 6);
    expect(json.measured.contended).toEqual({ ...contended, shards: 1 });

    const refused = await cost('--scale', '0');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/--scale takes a positive number/);
  });
});
