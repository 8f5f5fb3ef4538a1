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
  /** Rows of the dataset's table: the Parquet at each catalog partition's location. */
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

// Reads what the catalog names, as Athena does: each partition of the dataset's table at its location (the files
// directly there, not those of a superseded run beside it), never a listing of the dataset's prefix (I4).
const SCRIPT = `
import json, os, sys
from collections import Counter
import boto3
import pyarrow as pa
import pyarrow.dataset as ds
from pyarrow import fs
endpoint, region, bucket, database, dataset_name, key_column = sys.argv[1:7]
s3 = fs.S3FileSystem(access_key=os.environ["AWS_ACCESS_KEY_ID"], secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                     endpoint_override=endpoint, region=region, scheme="http")
glue = boto3.client("glue", endpoint_url=endpoint, region_name=region)
partitions = []
try:
    for page in glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=dataset_name):
        partitions += page["Partitions"]
except glue.exceptions.EntityNotFoundException:
    pass
files, tables, names = [], [], []
for p in partitions:
    location = p["StorageDescriptor"]["Location"].split("://", 1)[1].rstrip("/")
    infos = s3.get_file_info(fs.FileSelector(location, allow_not_found=True))
    here = sorted(i.path for i in infos if i.type == fs.FileType.File and not i.base_name.startswith(("_", ".")))
    if not here:
        continue
    part = ds.dataset(here, filesystem=s3, format="parquet")
    for n in part.schema.names:
        if n not in names:
            names.append(n)
    wanted = [c for c in ("_source_file", "_source_version", key_column) if c and c in part.schema.names]
    table = part.to_table(columns=wanted)
    tables.append((p["Values"][1], table))
    files += here
for n in ("ingest_date", "manifest_id"):
    if files and n not in names:
        names.append(n)
def column(table, name):
    return table.column(name).to_pylist() if name in table.column_names else [None] * table.num_rows
out = {"rows": sum(t.num_rows for _, t in tables), "files": len(files), "columns": names,
       "rowsBySourceFile": {}, "rowsBySourceVersion": {}, "rowsByManifest": {}}
source, version, manifest, keys = Counter(), Counter(), Counter(), set()
for manifest_id, t in tables:
    fs_, vs_ = column(t, "_source_file"), column(t, "_source_version")
    source.update(fs_)
    version.update(f"{f}#{v}" for f, v in zip(fs_, vs_))
    manifest[manifest_id] += t.num_rows
    if key_column and key_column in t.column_names:
        keys.update(t.column(key_column).to_pylist())
out["rowsBySourceFile"], out["rowsBySourceVersion"], out["rowsByManifest"] = dict(source), dict(version), dict(manifest)
if key_column and key_column in names:
    out["distinctKeys"] = len(keys)
print(json.dumps(out))
`;

/** Reads the dataset's table as the catalog names it: each partition's Parquet at the partition's location. */
export async function readCuratedParquet(stack: LocalStack, dataset: string, keyColumn = ''): Promise<ParquetSummary> {
  const python = path.join(REPO_ROOT, '.venv', 'bin', 'python');
  const args = [stack.endpoint, stack.region, stack.curatedBucket, stack.glueDatabase, dataset, keyColumn];
  const { stdout } = await run(python, ['-c', SCRIPT, ...args], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
    // The instance's key through the environment, not the command line.
    env: { ...process.env, AWS_ACCESS_KEY_ID: stack.accessKeyId, AWS_SECRET_ACCESS_KEY: stack.secretAccessKey },
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as ParquetSummary;
}
