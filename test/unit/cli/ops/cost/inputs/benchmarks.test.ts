import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  GLUE_BENCHMARK_PATH,
  glueThroughput,
  readBuilderBenchmark,
  readGlueBenchmark,
} from '../../../../../../cli/ops/cost/inputs/benchmarks';
import { bench, contended, GLUE_FIXTURE_PATH } from '../fixtures';

describe('the benchmarks results files', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a builder benchmark file without the figures, and says how to make it', () => {
    const file = path.join(dir, 'manifest-builder.json');
    fs.writeFileSync(file, JSON.stringify({ ...bench, conflictRate: undefined }));
    expect(() => readBuilderBenchmark(file)).toThrow(/conflictRate.*make bench-builder/);
    expect(() => readBuilderBenchmark(path.join(dir, 'missing.json'))).toThrow(/make bench-builder/);
    fs.writeFileSync(file, JSON.stringify(bench));
    expect(readBuilderBenchmark(file).conflictRate).toBe(0.2);
  });

  it('reads the contended case where the file has one, and refuses one that is partial or of several datasets', () => {
    const file = path.join(dir, 'manifest-builder.json');
    fs.writeFileSync(file, JSON.stringify({ ...bench, contended }));
    expect(readBuilderBenchmark(file).contended).toEqual(contended);
    fs.writeFileSync(file, JSON.stringify({ ...bench, contended: { ...contended, conflictsPerFile: undefined } }));
    expect(() => readBuilderBenchmark(file)).toThrow(/contended\.conflictsPerFile.*make bench-builder/);
    const singleShard = { builders: 4, filesPerSecond: 6, conflictsPerFile: 2.5 };
    fs.writeFileSync(file, JSON.stringify({ ...bench, contended: { ...contended, singleShard } }));
    expect(readBuilderBenchmark(file).contended?.singleShard).toEqual(singleShard);
    fs.writeFileSync(file, JSON.stringify({ ...bench, contended: { ...contended, singleShard: { ...singleShard, filesPerSecond: 0 } } }));
    expect(() => readBuilderBenchmark(file)).toThrow(/contended\.singleShard\.filesPerSecond/);
    fs.writeFileSync(file, JSON.stringify({ ...bench, contended: { ...contended, datasets: 3 } }));
    expect(() => readBuilderBenchmark(file)).toThrow(/contended case is of 3 datasets/);
    fs.writeFileSync(file, JSON.stringify(bench));
    expect(readBuilderBenchmark(file).contended).toBeUndefined();
  });

  it('refuses a Glue benchmark file without the figures or with a batch of nothing, and says how to make it', () => {
    const good = JSON.parse(fs.readFileSync(GLUE_FIXTURE_PATH, 'utf8')) as Record<string, any>;
    const file = path.join(dir, 'glue-job.json');
    fs.writeFileSync(file, JSON.stringify({ ...good, seconds: { ...good.seconds, steady: undefined } }));
    expect(() => readGlueBenchmark(file)).toThrow(/seconds\.steady.*make bench-glue/);
    fs.writeFileSync(file, JSON.stringify({ ...good, batch: { ...good.batch, megabytes: 0 } }));
    expect(() => readGlueBenchmark(file)).toThrow(/batch\.megabytes/);
    fs.writeFileSync(file, JSON.stringify({ ...good, sparkCores: 0 }));
    expect(() => readGlueBenchmark(file)).toThrow(/sparkCores/);
    expect(() => readGlueBenchmark(path.join(dir, 'missing.json'))).toThrow(/make bench-glue/);
  });

  it('derives core-seconds a GB, the cold JVM, the Parquet and quarantine shares from the Glue file', () => {
    const t = glueThroughput(readGlueBenchmark(GLUE_FIXTURE_PATH));

    expect(t.coreSecondsPerGb).toBeCloseTo((11.7 * 2) / 0.734, 9);
    expect(t.coldJvmSeconds).toBe(9.9);
    expect(t.parquetShare).toBeCloseTo(68 / 734, 12);
    expect(t.quarantinedLineShare).toBeCloseTo(693 / 724_599, 12);
  });

  it('reads the file make bench-glue wrote, which has the fixture’s fields', () => {
    const committed = readGlueBenchmark(GLUE_BENCHMARK_PATH);
    const fixture = readGlueBenchmark(GLUE_FIXTURE_PATH);
    const shape = (v: unknown): unknown =>
      v !== null && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]))
        : Array.isArray(v)
          ? 'array'
          : typeof v;

    expect(shape(committed)).toEqual(shape(fixture));
    expect(committed.benchmark).toBe('make bench-glue');
  });
});
