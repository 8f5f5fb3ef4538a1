/**
 * The benchmarks' results files the model reads: `make bench-builder` writes bench/results/manifest-builder.json
 * (bench/manifest-builder.ts), `make bench-glue` writes bench/results/glue-job.json
 * (glue-scripts/bench/bench_ndjson_to_parquet.py). Each is checked on reading; an error says which target makes it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const RESULTS_DIR = path.join(__dirname, '..', '..', '..', '..', 'bench', 'results');

/** Where `make bench-builder` writes its figures. */
export const BUILDER_BENCHMARK_PATH = path.join(RESULTS_DIR, 'manifest-builder.json');
/** Where `make bench-glue` writes its figures. */
export const GLUE_BENCHMARK_PATH = path.join(RESULTS_DIR, 'glue-job.json');

/** What the model reads from the builder benchmark's result file. */
export interface BuilderBenchmark {
  readonly date: string;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly loadAverage1m: number; readonly target: string };
  readonly settings: { readonly files: number; readonly datasets: number; readonly batchSize: number; readonly concurrency: number };
  readonly filesPerSecond: number;
  readonly handlerSecondsPerFile: number;
  readonly writeUnitsPerFile: { readonly withSweep: number };
  readonly readUnitsPerFile: number;
  readonly commitTransaction: { readonly meanMs: number; readonly perFile: number };
  readonly pointerRead: { readonly meanMs: number };
  readonly conflictRate: number;
  /** A sweep that sealed and started `sweepSealedManifests` manifests, and one with nothing to do. */
  readonly sweepSeconds: number;
  readonly sweepSealedManifests: number;
  readonly idleSweepSeconds: number;
  readonly storedBytesPerFile: Readonly<Record<string, number>>;
  /** The contended case, where the file has one: several builders on one dataset at once. */
  readonly contended?: ContendedBenchmark;
}

/**
 * The builder benchmark's contended case: `builders` concurrent invocations on the files of one dataset, what one
 * dataset's files can get through its open manifests.
 */
export interface ContendedBenchmark {
  readonly datasets: number;
  readonly builders: number;
  /** Open manifests (write shards) the dataset's files spread over at the end of the run, where the file says. */
  readonly shards?: number;
  /** The most open manifests the dataset used at once during the run, where the file says. */
  readonly widestShards?: number;
  /**
   * The same run on one open manifest (`maxShardsPerDataset` 1), where the file has it: `builders` writers on one
   * pointer, so its rate is what one pointer takes under contention.
   */
  readonly singleShard?: { readonly builders: number; readonly filesPerSecond: number; readonly conflictsPerFile: number };
  readonly filesPerSecond: number;
  /** Commits that lost a pointer to a concurrent writer, per file placed. */
  readonly conflictsPerFile: number;
  readonly writeUnitsPerFile: number;
}

/** What the Glue benchmark's result file holds: one run of the job on a generated batch, beside bare Spark. */
export interface GlueBenchmark {
  readonly benchmark: string;
  readonly date: string;
  readonly machine: {
    readonly cores: number;
    readonly platform: string;
    /** Load averages over 1, 5 and 15 minutes. */
    readonly loadAtStart: readonly number[];
    readonly loadAtEnd: readonly number[];
  };
  readonly batch: {
    readonly files: number;
    readonly megabytes: number;
    readonly lines: number;
    readonly quarantinedLines: number;
    readonly blankLines: number;
  };
  /** Parquet the steady state wrote. */
  readonly parquetMegabytes: number;
  /** Cores of the local Spark session. */
  readonly sparkCores: number;
  readonly seconds: {
    readonly bareSpark: number;
    /** Another manifest of the same files, the schema recorded, warm JVM. */
    readonly steady: number;
    /** The first manifest (schema inferred), warm JVM. */
    readonly firstWarm: number;
    /** What the first manifest took more on a cold JVM than warm: what every Glue run pays. */
    readonly coldJvmExtra: number;
  };
  readonly ratios: { readonly steady: number; readonly first: number };
}

/** The value at a dotted path of parsed JSON, or undefined where it lacks it. */
function at(data: unknown, dotted: string): unknown {
  return dotted
    .split('.')
    .reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), data);
}

/**
 * Checks that each of `numbers` in parsed results is a finite number at least `min` (its value) and each of
 * `objects` an object; the error names what is missing and the make target that writes the file.
 */
function checkFigures(
  data: unknown,
  file: string,
  target: string,
  numbers: Readonly<Record<string, number>>,
  objects: readonly string[] = [],
): void {
  const bad = [
    ...Object.entries(numbers)
      .filter(([k, min]) => {
        const v = at(data, k);
        return typeof v !== 'number' || !Number.isFinite(v) || v < min;
      })
      .map(([k]) => k),
    ...objects.filter((k) => {
      const v = at(data, k);
      return typeof v !== 'object' || v === null;
    }),
  ];
  if (bad.length > 0) throw new Error(`${file} lacks ${bad.join(', ')}: run \`${target}\` again`);
}

/** Parses a results file and checks its figures ({@link checkFigures}); the error says which target makes it. */
function readResults(
  file: string,
  what: string,
  target: string,
  numbers: Readonly<Record<string, number>>,
  objects: readonly string[] = [],
): unknown {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${what} from ${file} (${(err as Error).message}): run \`${target}\``, { cause: err });
  }
  checkFigures(data, file, target, numbers, objects);
  return data;
}

/** Reads and checks the builder benchmark's result file; the error says how to make it. */
export function readBuilderBenchmark(file = BUILDER_BENCHMARK_PATH): BuilderBenchmark {
  const numbers = Object.fromEntries(
    [
      'handlerSecondsPerFile',
      'writeUnitsPerFile.withSweep',
      'readUnitsPerFile',
      'commitTransaction.meanMs',
      'commitTransaction.perFile',
      'pointerRead.meanMs',
      'conflictRate',
      'sweepSeconds',
      'sweepSealedManifests',
      'idleSweepSeconds',
    ].map((k) => [k, 0]),
  );
  const data = readResults(file, "the builder benchmark's figures", 'make bench-builder', numbers, [
    'storedBytesPerFile',
  ]) as BuilderBenchmark;
  if (data.contended !== undefined) {
    // The contended case is optional, but checked whole where it is present: one dataset, rates that divide.
    checkFigures(data, file, 'make bench-builder', {
      'contended.datasets': 1,
      'contended.builders': 1,
      'contended.filesPerSecond': Number.MIN_VALUE,
      'contended.conflictsPerFile': 0,
      'contended.writeUnitsPerFile': Number.MIN_VALUE,
      ...(data.contended.shards === undefined ? {} : { 'contended.shards': 1 }),
      ...(data.contended.widestShards === undefined ? {} : { 'contended.widestShards': 1 }),
      ...(data.contended.singleShard === undefined
        ? {}
        : {
            'contended.singleShard.builders': 1,
            'contended.singleShard.filesPerSecond': Number.MIN_VALUE,
            'contended.singleShard.conflictsPerFile': 0,
          }),
    });
    if (data.contended.datasets !== 1)
      throw new Error(`${file}: the contended case is of ${data.contended.datasets} datasets, not one: run \`make bench-builder\` again`);
  }
  return data;
}

/** Reads and checks the Glue benchmark's result file; the error says how to make it. */
export function readGlueBenchmark(file = GLUE_BENCHMARK_PATH): GlueBenchmark {
  // The divisors (the batch's size and lines, the cores) must be positive; the seconds may not be negative.
  const numbers = {
    'batch.megabytes': Number.MIN_VALUE,
    'batch.lines': 1,
    'batch.quarantinedLines': 0,
    parquetMegabytes: 0,
    sparkCores: 1,
    'seconds.steady': Number.MIN_VALUE,
    'seconds.coldJvmExtra': 0,
  };
  return readResults(file, "the Glue benchmark's figures", 'make bench-glue', numbers, ['machine', 'seconds']) as GlueBenchmark;
}

/** What the model derives from the Glue benchmark. */
export interface GlueThroughput {
  /** Spark core-seconds a GB of NDJSON takes in the steady state, warm. */
  readonly coreSecondsPerGb: number;
  /** Seconds a cold JVM adds to a run. */
  readonly coldJvmSeconds: number;
  /** Parquet bytes per NDJSON byte. */
  readonly parquetShare: number;
  /** Lines quarantined per line read. */
  readonly quarantinedLineShare: number;
}

export function glueThroughput(glue: GlueBenchmark): GlueThroughput {
  return {
    coreSecondsPerGb: (glue.seconds.steady * glue.sparkCores) / (glue.batch.megabytes / 1000),
    coldJvmSeconds: glue.seconds.coldJvmExtra,
    parquetShare: glue.parquetMegabytes / glue.batch.megabytes,
    quarantinedLineShare: glue.batch.quarantinedLines / glue.batch.lines,
  };
}

/** How the Glue figures are named in the output: the file, the command, its date and batch. */
export function glueBenchmarkSource(glue: GlueBenchmark, file: string): string {
  return `${file} (${glue.benchmark}, ${glue.date.slice(0, 10)}: ${glue.batch.megabytes} MB, ${glue.batch.files} files, ${glue.sparkCores} cores, schema recorded)`;
}
