/**
 * `pipeline smoke` on mocked clients: the ways a deployed pipeline can fail each check (a failed manifest, counts that
 * do not add up, files split or shared, Parquet or quarantine not where the docs say, a table of other types, an AWS
 * error), each ending the run at that check; and the command's output and exit code. The end-to-end test runs it on
 * the local mode (test/e2e/smoke.test.ts).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetJobCommand, GetPartitionCommand, GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ListExecutionsCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { runCli } from '../../../../cli/main';
import { runSmoke, SMOKE_CHECKS, smokeFixture, type SmokeOptions } from '../../../../cli/ops/smoke';
import { cloudTarget, executionArn, testContext } from '../fixtures';

const ID = 'pipeline_smoke-20261123-000007';
const RUN = 'run1';
const PREFIX = `incoming/pipeline_smoke/${RUN}/`;
/** The run's own directories, which the record names (I4). */
const PARTITION = `curated/pipeline_smoke/ingest_date=2026-11-23/manifest_id=${ID}/run=20261123T120100Z-0a1b2c3d/`;
const QUARANTINE = `quarantine/pipeline_smoke/manifest_id=${ID}/run=20261123T120100Z-0a1b2c3d/`;
/** Written with pyarrow: the 5 rows of the fixture, with the job's columns. */
const PARQUET = readFileSync(path.join(__dirname, 'parquet', 'smoke-output.parquet'));

const glue = mockClient(GlueClient);

const body = (bytes: Uint8Array) => ({ transformToByteArray: async () => bytes }) as never;

const SUCCEEDED = {
  status: 'SUCCEEDED',
  linesIn: 7,
  rowsOut: 5,
  rowsQuarantined: 1,
  blankLines: 1,
  finishedAt: '2026-11-23T12:03:00.000Z',
  outputLocation: `s3://curated-bucket/${PARTITION}`,
  quarantineLocation: `s3://curated-bucket/${QUARANTINE}`,
};

const QUARANTINED = {
  source_file: `s3://ingest-bucket/${PREFIX}a.ndjson`,
  source_version: 'v1',
  line_number: 4,
  reason: 'invalid_json',
  line: smokeFixture(RUN).expected.quarantined.line,
};

const COLUMNS = Object.entries(smokeFixture(RUN).expected.columns).map(([Name, Type]) => ({ Name, Type }));

/** A pipeline on mocked clients that converts the smoke's manifest into `outcome`; each part can be changed by a test. */
function pipeline(
  opts: {
    outcome?: Record<string, unknown>;
    holders?: string[];
    extraFile?: string;
    parquetKeys?: string[];
    quarantine?: Record<string, unknown>[];
    columns?: { Name: string; Type: string }[];
    partition?: boolean;
  } = {},
) {
  const ctx = testContext(cloudTarget, new Date('2026-11-23T12:00:00Z'));
  const ddb = mockClient(ctx.ddb);
  const s3 = mockClient(ctx.s3);
  const sfn = mockClient(ctx.sfn);
  let record: Record<string, unknown> = {
    manifestId: ID,
    dataset: 'pipeline_smoke',
    status: 'OPEN',
    openedAt: '2026-11-23T12:00:00.000Z',
    ingestDate: '2026-11-23',
  };
  const uploads: { key: string; body: Buffer }[] = [];
  let fileLookups = 0;
  s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: Buffer }) => {
    if (input.Key.startsWith('incoming/')) uploads.push({ key: input.Key, body: input.Body });
    return { ETag: `"etag-${uploads.length}"`, VersionId: `v${uploads.length}` };
  });
  // S3 gives every upload a full-object CRC64NVME; the builder records the file under it, not under the eTag.
  s3.on(HeadObjectCommand).callsFake((input: { Key: string }) => {
    const n = uploads.findIndex((u) => u.key === input.Key) + 1;
    return { ETag: `"etag-${n}"`, ChecksumCRC64NVME: `crc-${n}`, ChecksumType: 'FULL_OBJECT' };
  });
  ddb.on(GetCommand).callsFake((input: { Key: { pk: string } }) => {
    if (input.Key.pk.startsWith('FILE#')) {
      if (!/#crc64nvme:crc-\d$/.test(input.Key.pk)) return {};
      const holder = (opts.holders ?? [ID, ID])[fileLookups++ % 2];
      return { Item: { manifestId: holder } };
    }
    if (input.Key.pk === 'OPEN#pipeline_smoke') {
      return { Item: { manifestId: record.status === 'OPEN' ? ID : undefined, count: 2, day: '2026-11-23', seq: 7 } };
    }
    return { Item: record };
  });
  ddb.on(TransactWriteCommand).callsFake(() => {
    record = { ...record, status: 'SEALED', sealedAt: '2026-11-23T12:00:05.000Z', sealReason: 'flush', pendingSk: 'x' };
    return {};
  });
  // The start queue: the flush queues the manifest, then starts it into a free slot and removes the entry.
  let queued: Record<string, unknown> | undefined;
  ddb.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
    queued = input.Item;
    return {};
  });
  ddb.on(DeleteCommand).callsFake(() => {
    queued = undefined;
    return {};
  });
  // The manifest's files are what was uploaded (under the run's prefix, whatever the run id).
  ddb.on(QueryCommand).callsFake((input: { ExpressionAttributeValues?: Record<string, unknown> }) => {
    if (input.ExpressionAttributeValues?.[':queue'] === 'QUEUE') return { Items: queued === undefined ? [] : [queued] };
    const files = uploads.map((u, i) => ({
      bucket: 'ingest-bucket',
      key: u.key,
      size: 100,
      eTag: `etag-${i + 1}`,
      sequencer: '',
      versionId: `v${i + 1}`,
    }));
    if (opts.extraFile) files.push({ bucket: 'ingest-bucket', key: opts.extraFile, size: 1, eTag: 'x', sequencer: '', versionId: 'v9' });
    return { Items: files };
  });
  ddb.on(UpdateCommand).callsFake((input: { Key: { pk: string } }) => {
    if (input.Key.pk === 'SLOTS') return {};
    record = { ...record, executions: [executionArn(ID)], executionArn: executionArn(ID), ...(opts.outcome ?? SUCCEEDED) };
    return {};
  });
  sfn.on(ListExecutionsCommand).resolves({ executions: [] });
  sfn.on(StartExecutionCommand).resolves({ executionArn: executionArn(ID), startDate: new Date() });
  const parquetKeys = opts.parquetKeys ?? [`${PARTITION}part-00000.zstd.parquet`];
  s3.on(ListObjectsV2Command, { Prefix: PARTITION }).resolves({ Contents: parquetKeys.map((Key) => ({ Key, Size: PARQUET.length })) });
  // The quarantined line names the uploaded a.ndjson, whatever the run id.
  const quarantine = () =>
    Buffer.from(
      (opts.quarantine ?? [QUARANTINED])
        .map((r) => JSON.stringify({ ...r, source_file: String(r.source_file).replace(`${PREFIX}a.ndjson`, uploads[0].key) }))
        .join('\n') + '\n',
    );
  s3.on(ListObjectsV2Command, { Prefix: QUARANTINE }).callsFake(() => ({
    Contents: [
      { Key: `${QUARANTINE}_SUCCESS`, Size: 0 },
      { Key: `${QUARANTINE}part-00000.json`, Size: quarantine().length },
    ],
  }));
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => ({ Body: body(input.Key.endsWith('.parquet') ? PARQUET : quarantine()) }));
  glue.reset();
  glue.on(GetJobCommand).resolves({ Job: { ExecutionProperty: { MaxConcurrentRuns: 5 } } });
  glue.on(GetTableCommand).resolves({
    Table: {
      Name: 'pipeline_smoke',
      StorageDescriptor: { Columns: opts.columns ?? COLUMNS },
      PartitionKeys: [
        { Name: 'ingest_date', Type: 'string' },
        { Name: 'manifest_id', Type: 'string' },
      ],
    },
  });
  if (opts.partition === false)
    glue.on(GetPartitionCommand).rejects(Object.assign(new Error('not found'), { name: 'EntityNotFoundException' }));
  else
    glue
      .on(GetPartitionCommand)
      .resolves({ Partition: { Values: ['2026-11-23', ID], StorageDescriptor: { Location: `s3://curated-bucket/${PARTITION}` } } });
  return { ctx, s3, sfn, uploads };
}

const FAST: SmokeOptions = { runId: RUN, pollMs: 1, timeoutMs: 2000 };

/** The checks' names and outcomes. */
const outcomes = (r: { checks: { name: string; passed: boolean }[] }) => r.checks.map((c) => `${c.name}:${c.passed ? 'ok' : 'FAIL'}`);

/** Every check passes up to `failed`, which fails; none after it runs. */
function upTo(failed: string): string[] {
  const i = SMOKE_CHECKS.indexOf(failed as (typeof SMOKE_CHECKS)[number]);
  return [...SMOKE_CHECKS.slice(0, i).map((n) => `${n}:ok`), `${failed}:FAIL`];
}

describe('runSmoke', () => {
  it('passes every check on a pipeline that does what the docs say, after uploading the fixed files under a prefix of its run', async () => {
    const p = pipeline();

    const report = await runSmoke(p.ctx, FAST);

    expect(outcomes(report)).toEqual(SMOKE_CHECKS.map((n) => `${n}:ok`));
    expect(report).toMatchObject({ passed: true, dataset: 'pipeline_smoke', runId: RUN, manifestId: ID });
    expect(p.uploads.map((u) => u.key)).toEqual([`${PREFIX}a.ndjson`, `${PREFIX}b.ndjson.gz`]);
    const text = p.uploads[0].body.toString() + gunzipSync(p.uploads[1].body).toString();
    expect(text.split('\n').slice(0, -1)).toHaveLength(7);
    expect(p.sfn.commandCalls(StartExecutionCommand)[0].args[0].input.name).toBe(ID);
    expect(report.latencySeconds).toBe(report.checks.at(-1)!.seconds);
  });

  it.each([
    [
      'the manifest FAILED',
      { outcome: { status: 'FAILED', error: 'Pipeline.LinesUnaccounted', cause: 'lines lost' } },
      'converted',
      `${ID} ended FAILED: Pipeline.LinesUnaccounted: lines lost`,
    ],
    [
      'the counts do not add up (I5)',
      { outcome: { ...SUCCEEDED, blankLines: 0 } },
      'counts',
      'linesIn 7 != rowsOut 5 + rowsQuarantined 1 + blankLines 0 (I5)',
    ],
    ['the files went into two manifests', { holders: [ID, 'pipeline_smoke-20261123-000008'] }, 'sealed', /the files went into 2 manifests/],
    [
      'the manifest holds a file of another upload',
      { extraFile: 'incoming/pipeline_smoke/other.ndjson' },
      'sealed',
      /also holds 1 file\(s\) of another upload/,
    ],
    ['no Parquet under the partition', { parquetKeys: [] }, 'parquet', `no Parquet file under s3://curated-bucket/${PARTITION}`],
    [
      'the record names no run directory (a listing of the partition would also read superseded runs)',
      { outcome: { ...SUCCEEDED, outputLocation: undefined } },
      'parquet',
      /the record names no output run directory under curated\/pipeline_smoke\/ingest_date=2026-11-23\/manifest_id=/,
    ],
    [
      'the rows are counted twice',
      { parquetKeys: [`${PARTITION}a.parquet`, `${PARTITION}b.parquet`] },
      'parquet',
      /^10 rows in 2 Parquet files/,
    ],
    [
      'the quarantined line has another reason',
      { quarantine: [{ ...QUARANTINED, reason: 'type_mismatch' }] },
      'quarantine',
      'line 4 of a.ndjson quarantined as type_mismatch, expected invalid_json with its text',
    ],
    [
      'the quarantined line is another line',
      { quarantine: [{ ...QUARANTINED, line_number: 3 }] },
      'quarantine',
      /no quarantined line 4 of/,
    ],
    [
      'a column of the table has another type',
      { columns: COLUMNS.map((c) => (c.Name === 'seq' ? { ...c, Type: 'double' } : c)) },
      'queryable',
      /seq is double, expected bigint/,
    ],
    ['the partition is not registered', { partition: false }, 'queryable', /has no partition 2026-11-23\/pipeline_smoke-20261123-000007/],
  ])('fails when %s, at that check, and runs no further', async (_what, opts, check, detail) => {
    const report = await runSmoke(pipeline(opts).ctx, FAST);

    expect(report.passed).toBe(false);
    expect(outcomes(report)).toEqual(upTo(check));
    expect(report.checks.at(-1)!.detail).toMatch(detail);
  });

  it('fails the check under way with the AWS error when a call is refused', async () => {
    const p = pipeline();
    p.s3.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));

    const report = await runSmoke(p.ctx, FAST);

    expect(outcomes(report)).toEqual(['uploaded:FAIL']);
    expect(report.checks[0].detail).toBe('AccessDenied: Access Denied');
  });

  it('fails at converted, saying how long it waited, when the manifest does not end in time; and reports the wait', async () => {
    const p = pipeline({ outcome: { status: 'RUNNING' } });
    const progress: string[] = [];

    const report = await runSmoke(p.ctx, { ...FAST, timeoutMs: 300, progressEveryMs: 50, onProgress: (m) => progress.push(m) });

    expect(outcomes(report)).toEqual(upTo('converted'));
    expect(report.checks.at(-1)!.detail).toBe(`${ID} still RUNNING after 0 s: npx pipeline status ${ID}`);
    expect(progress.some((m) => m.startsWith(`waiting for ${ID} to be converted: RUNNING for `))).toBe(true);
  });
});

describe('pipeline smoke', () => {
  it('prints each check with its time, then passed; exit 0', async () => {
    const p = pipeline();
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['node', 'pipeline', 'smoke'], {
      makeContext: async () => p.ctx,
      io: { out: (t) => out.push(t), err: (t) => err.push(t), stderrIsTTY: false },
    });

    expect(code).toBe(0);
    expect(out).toHaveLength(SMOKE_CHECKS.length + 1);
    for (const [i, name] of SMOKE_CHECKS.entries()) expect(out[i]).toMatch(new RegExp(`^ok {4}${name} +\\d+\\.\\d s  \\S`));
    expect(out.at(-1)).toMatch(/^passed: upload to queryable in \d+\.\d s$/);
    expect(err[0]).toBe('smoke test of stack IngestPipeline: dataset pipeline_smoke');
  });

  it('prints the JSON report on stdout and the failed check as the error; exit 1', async () => {
    const p = pipeline({ outcome: { ...SUCCEEDED, rowsOut: 4, rowsQuarantined: 2 } });
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['node', 'pipeline', 'smoke', '--json'], {
      makeContext: async () => p.ctx,
      io: { out: (t) => out.push(t), err: (t) => err.push(t), stderrIsTTY: false },
    });

    expect(code).toBe(1);
    const report = JSON.parse(out.join('\n'));
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['passed', 'checks', 'latencySeconds']));
    expect(report.passed).toBe(false);
    expect(report.checks.at(-1)).toEqual({
      name: 'counts',
      passed: false,
      seconds: expect.any(Number),
      detail: 'recorded rowsOut 4, rowsQuarantined 2; uploaded rowsOut 5, rowsQuarantined 1',
    });
    expect(err.at(-1)).toBe(
      'error: smoke check counts failed: recorded rowsOut 4, rowsQuarantined 2; uploaded rowsOut 5, rowsQuarantined 1',
    );
  });
});
