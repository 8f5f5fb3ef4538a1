/**
 * Reads the Parquet the Glue job wrote to the emulator's curated bucket back, with pyarrow from the project's
 * Python environment: an independent check of the counts the pipeline records.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { type LocalStack } from '../contracts/local-stack';
import { REPO_ROOT } from './layout';

const run = promisify(execFile);

/** What the Parquet of one dataset holds. */
export interface ParquetSummary {
  /** Rows in every Parquet file under `curated/<dataset>/`. */
  readonly rows: number;
  /** Parquet files read. */
  readonly files: number;
  /** Column names, partition columns included. */
  readonly columns: string[];
  /** Rows per `_source_file` value. */
  readonly rowsBySourceFile: Record<string, number>;
  /** Rows per `<_source_file>#<_source_version>`: which version of each object the rows came from. */
  readonly rowsBySourceVersion: Record<string, number>;
  /** Rows per `manifest_id` partition. */
  readonly rowsByManifest: Record<string, number>;
  /** Distinct values of the key column, when one was asked for. */
  readonly distinctKeys?: number;
}

const SCRIPT = `
import json, os, sys
from collections import Counter
import pyarrow.dataset as ds
from pyarrow import fs
endpoint, region, base, key_column = sys.argv[1:5]
s3 = fs.S3FileSystem(access_key=os.environ["AWS_ACCESS_KEY_ID"], secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                     endpoint_override=endpoint, region=region, scheme="http")
try:
    dataset = ds.dataset(base, filesystem=s3, format="parquet", partitioning="hive")
    files = list(dataset.files)
except FileNotFoundError:
    dataset, files = None, []
if dataset is None or not files:
    print(json.dumps({"rows": 0, "files": 0, "columns": [], "rowsBySourceFile": {}, "rowsBySourceVersion": {}, "rowsByManifest": {}}))
    sys.exit(0)
names = dataset.schema.names
wanted = [c for c in ("_source_file", "_source_version", "manifest_id", key_column) if c and c in names]
table = dataset.to_table(columns=wanted)
out = {"rows": table.num_rows, "files": len(files), "columns": names}
out["rowsBySourceFile"] = dict(Counter(table.column("_source_file").to_pylist())) if "_source_file" in names else {}
out["rowsBySourceVersion"] = dict(Counter(f"{f}#{v}" for f, v in zip(table.column("_source_file").to_pylist(), table.column("_source_version").to_pylist()))) if "_source_version" in names else {}
out["rowsByManifest"] = dict(Counter(str(v) for v in table.column("manifest_id").to_pylist())) if "manifest_id" in names else {}
if key_column and key_column in names:
    out["distinctKeys"] = len(set(table.column(key_column).to_pylist()))
print(json.dumps(out))
`;

/** Reads every Parquet file under `curated/<dataset>/` of the curated bucket. */
export async function readCuratedParquet(stack: LocalStack, dataset: string, keyColumn = ''): Promise<ParquetSummary> {
  const python = path.join(REPO_ROOT, '.venv', 'bin', 'python');
  const base = `${stack.curatedBucket}/curated/${dataset}/`;
  const { stdout } = await run(python, ['-c', SCRIPT, stack.endpoint, stack.region, base, keyColumn], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
    // The instance's key through the environment, not the command line.
    env: { ...process.env, AWS_ACCESS_KEY_ID: stack.accessKeyId, AWS_SECRET_ACCESS_KEY: stack.secretAccessKey },
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as ParquetSummary;
}
