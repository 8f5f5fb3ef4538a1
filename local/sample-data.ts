/**
 * Sample NDJSON for the demo and the end-to-end tests: deterministic files of two datasets, with known numbers
 * of good lines, bad lines (truncated JSON) and blank lines, so the pipeline's counts can be reconciled.
 */

/** One generated file and what it holds. */
export interface SampleFile {
  readonly dataset: string;
  /** Object key in the ingest bucket, under the ingest prefix. */
  readonly key: string;
  readonly body: string;
  /** Lines that are JSON objects: each becomes a Parquet row. */
  readonly goodLines: number;
  /** Lines that are not valid JSON: each is quarantined. */
  readonly badLines: number;
  /** Empty lines: counted, neither a row nor quarantined. */
  readonly blankLines: number;
}

/** Options of {@link generateDataset}. */
export interface DatasetOptions {
  /** Dataset name: the first key segment under the ingest prefix. */
  readonly dataset: string;
  /** Number of files. */
  readonly files: number;
  /** Good lines per file, at least. @default 20 */
  readonly minLines?: number;
  /** Good lines per file, at most. @default 40 */
  readonly maxLines?: number;
  /** One file in this many gets a bad line. @default 4 */
  readonly badEvery?: number;
  /** One file in this many gets a blank line. @default 5 */
  readonly blankEvery?: number;
  /** Ingest prefix. @default 'incoming/' */
  readonly ingestPrefix?: string;
  /** Seed of the generator, so each run produces the same files. @default 1 */
  readonly seed?: number;
  /** Key part between the dataset and the file name. @default '2026/11/23' */
  readonly folder?: string;
  /**
   * Index of the first file whose records carry the dataset's newer field (orders gain `channel`, clicks
   * `referrer`), as a producer that adds a field midway: the dataset's schema evolves. @default half of `files`
   */
  readonly newFieldFrom?: number;
}

/** A small deterministic generator (LCG), so sample data is the same on every run. */
function generator(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const RECORD_MAKERS: Record<string, (i: number, rnd: () => number) => Record<string, unknown>> = {
  orders: (i, rnd) => ({
    order_id: `o-${i}`,
    customer_id: `c-${Math.floor(rnd() * 500)}`,
    amount: Math.round(rnd() * 100000) / 100,
    currency: rnd() < 0.8 ? 'EUR' : 'USD',
    created_at: new Date(Date.UTC(2026, 10, 23, 0, 0, 0) + Math.floor(rnd() * 86_400_000)).toISOString(),
  }),
  clicks: (i, rnd) => ({
    click_id: `k-${i}`,
    session_id: `s-${Math.floor(rnd() * 2000)}`,
    page: ['/', '/search', '/product', '/cart', '/checkout'][Math.floor(rnd() * 5)],
    duration_ms: Math.floor(rnd() * 30000),
    at: new Date(Date.UTC(2026, 10, 23, 0, 0, 0) + Math.floor(rnd() * 86_400_000)).toISOString(),
  }),
};

/** The field each dataset gains midway (see {@link DatasetOptions.newFieldFrom}), from the record's number. */
const NEW_FIELDS: Record<string, (i: number) => Record<string, unknown>> = {
  orders: (i) => ({ channel: ['web', 'app', 'store'][i % 3] }),
  clicks: (i) => ({ referrer: i % 2 === 0 ? 'search' : 'direct' }),
};

function genericRecord(i: number, rnd: () => number): Record<string, unknown> {
  return { id: `r-${i}`, value: Math.floor(rnd() * 1_000_000) };
}

/** Generates the files of one dataset. */
export function generateDataset(options: DatasetOptions): SampleFile[] {
  const rnd = generator(options.seed ?? 1);
  const minLines = options.minLines ?? 20;
  const maxLines = options.maxLines ?? 40;
  const badEvery = options.badEvery ?? 4;
  const blankEvery = options.blankEvery ?? 5;
  const prefix = options.ingestPrefix ?? 'incoming/';
  const folder = options.folder ?? '2026/11/23';
  const make = RECORD_MAKERS[options.dataset] ?? genericRecord;
  const newField = NEW_FIELDS[options.dataset] ?? ((i: number) => ({ note: `n-${i}` }));
  const newFieldFrom = options.newFieldFrom ?? Math.floor(options.files / 2);
  const files: SampleFile[] = [];
  let recordNo = 0;
  for (let f = 0; f < options.files; f++) {
    const count = minLines + Math.floor(rnd() * (maxLines - minLines + 1));
    const lines = Array.from({ length: count }, () => {
      const i = recordNo++;
      return JSON.stringify({ ...make(i, rnd), ...(f >= newFieldFrom ? newField(i) : {}) });
    });
    let badLines = 0;
    let blankLines = 0;
    if (f % badEvery === badEvery - 1) {
      // A truncated record, as a producer crashing mid-write leaves it.
      lines.splice(Math.floor(rnd() * lines.length), 0, lines[0].slice(0, Math.max(2, Math.floor(lines[0].length / 2))));
      badLines++;
    }
    if (f % blankEvery === blankEvery - 1) {
      lines.splice(1 + Math.floor(rnd() * (lines.length - 1)), 0, '');
      blankLines++;
    }
    const name = `${options.dataset}-${String(f + 1).padStart(4, '0')}.ndjson`;
    files.push({
      dataset: options.dataset,
      key: `${prefix}${options.dataset}/${folder}/${name}`,
      body: `${lines.join('\n')}\n`,
      goodLines: count,
      badLines,
      blankLines,
    });
  }
  return files;
}

/** Totals of a set of sample files. */
export function totals(files: readonly SampleFile[]): {
  files: number;
  goodLines: number;
  badLines: number;
  blankLines: number;
  lines: number;
} {
  const sum = (pick: (f: SampleFile) => number) => files.reduce((n, f) => n + pick(f), 0);
  const goodLines = sum((f) => f.goodLines);
  const badLines = sum((f) => f.badLines);
  const blankLines = sum((f) => f.blankLines);
  return { files: files.length, goodLines, badLines, blankLines, lines: goodLines + badLines + blankLines };
}
