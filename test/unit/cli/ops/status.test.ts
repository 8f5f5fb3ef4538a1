/** `pipeline status` of a PARTIAL manifest: what became of each file, and the list view's counts. */
import { DescribeExecutionCommand, GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { runCli } from '../../../../cli/main';
import { CliContext } from '../../../../cli/context';
import type { ManifestFileItem } from '../../../../handlers/common/state-store';
import { fileOutcomes, manifestDetail, parseFailedFiles, publicRecord } from '../../../../cli/ops/status';
import { STATE_TABLE, STATE_TABLE_KEY_ATTRIBUTES } from '../../../../contracts/table-schema';
import { cloudTarget, executionArn, testContext } from '../fixtures';

const ID = 'orders-20261123-000042';
const file = (key: string, versionId: string, size = 100): ManifestFileItem & { sk: string } => ({
  sk: `F#${key}#etag-${versionId}`,
  bucket: 'ingest-bucket',
  key,
  size,
  eTag: `etag-${versionId}`,
  sequencer: versionId,
  versionId,
});
const FILES = [file('incoming/orders/a.ndjson', 'va'), file('incoming/orders/b.ndjson', 'vb'), file('incoming/orders/c.ndjson', 'vc')];
const FAILED = [
  {
    uri: 's3://ingest-bucket/incoming/orders/b.ndjson',
    key: 'incoming/orders/b.ndjson',
    versionId: 'vb',
    reason: 'missing',
    message: 'no version vb of the key, and no version with its eTag',
  },
];
const PARTIAL = {
  manifestId: ID,
  dataset: 'orders',
  status: 'PARTIAL',
  fileCount: 3,
  totalBytes: 300,
  executionArn: executionArn(ID),
  executions: [executionArn(ID)],
  linesIn: 20,
  rowsOut: 20,
  rowsQuarantined: 0,
  blankLines: 0,
  outputFiles: 1,
  outputBytes: 999,
  filesRead: 2,
  filesFailed: 1,
  failedFiles: JSON.stringify(FAILED),
};

async function run(args: string[], ctx: CliContext) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['node', 'pipeline', ...args], {
    makeContext: async () => ctx,
    io: { out: (t) => out.push(t), err: (t) => err.push(t), stderrIsTTY: false },
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('status of a PARTIAL manifest', () => {
  const ctx = testContext(cloudTarget);
  const sfn = mockClient(ctx.sfn);
  const ddb = mockClient(ctx.ddb);

  beforeEach(() => {
    sfn.reset();
    ddb.reset();
    sfn.on(DescribeExecutionCommand).rejects(Object.assign(new Error('no'), { name: 'ExecutionDoesNotExist' }));
    sfn
      .on(DescribeExecutionCommand, { executionArn: executionArn(ID) })
      .resolves({ name: ID, status: 'FAILED', startDate: new Date('2026-11-23T10:00:00Z'), stopDate: new Date('2026-11-23T10:05:00Z') });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
  });

  it('gives each file its outcome: the one the record names failed with its reason, the others converted', async () => {
    ddb.on(GetCommand).resolves({ Item: PARTIAL });
    ddb.on(QueryCommand).resolves({ Items: FILES });

    const detail = await manifestDetail(ctx, ID);

    expect(detail.files.map((f) => [f.key, f.outcome, f.reason])).toEqual([
      ['incoming/orders/a.ndjson', 'converted', undefined],
      ['incoming/orders/b.ndjson', 'failed', 'missing'],
      ['incoming/orders/c.ndjson', 'converted', undefined],
    ]);
    expect(detail.failedFiles).toEqual(FAILED);
    expect(detail.unmatchedFailures).toBeUndefined();
  });

  it('says nothing of a file the record does not list when the record lists only the first failed files', async () => {
    ddb.on(GetCommand).resolves({ Item: { ...PARTIAL, filesFailed: 2 } });
    ddb.on(QueryCommand).resolves({ Items: FILES });

    const detail = await manifestDetail(ctx, ID);
    const result = await run(['status', ID], ctx);

    expect(detail.files.map((f) => [f.key, f.outcome])).toEqual([
      ['incoming/orders/a.ndjson', undefined],
      ['incoming/orders/b.ndjson', 'failed'],
      ['incoming/orders/c.ndjson', undefined],
    ]);
    expect(result.stdout.split('\n')).toContain(
      `Failed files (1 of 2; every one: manifests/orders/${ID}.result.json in the curated bucket)`,
    );
  });

  it('prints the failed file with its reason and message, the converted ones, and the files read', async () => {
    ddb.on(GetCommand).resolves({ Item: PARTIAL });
    ddb.on(QueryCommand).resolves({ Items: FILES });

    const result = await run(['status', ID], ctx);
    const lines = result.stdout.split('\n');

    expect(result.code).toBe(0);
    expect(lines).toContain('  status        PARTIAL');
    expect(lines).toContain('  files read    2 read, 1 could not be read');
    expect(lines).toContain('Failed files (1)');
    expect(lines).toContain(
      '  incoming/orders/b.ndjson (version vb): failed (missing): no version vb of the key, and no version with its eTag',
    );
    expect(lines).toContain(
      `  The other files were converted. Replay to read every file again at its pinned version: npx pipeline replay ${ID}`,
    );
    const table = lines.slice(lines.indexOf('Files (3)') + 1, lines.indexOf('Files (3)') + 5);
    expect(table.map((l) => l.trim().split(/\s{2,}/))).toEqual([
      ['KEY', 'SIZE', 'OUTCOME'],
      ['incoming/orders/a.ndjson', '100 B', 'converted'],
      ['incoming/orders/b.ndjson', '100 B', 'failed (missing): no version vb of the key, and no version with its eTag'],
      ['incoming/orders/c.ndjson', '100 B', 'converted'],
    ]);
  });

  it('tells two contents of one key apart by their pinned versions', async () => {
    const twice = [file('incoming/orders/a.ndjson', 'v1'), file('incoming/orders/a.ndjson', 'v2')];
    const failed = [
      {
        uri: 's3://ingest-bucket/incoming/orders/a.ndjson',
        key: 'incoming/orders/a.ndjson',
        versionId: 'v2',
        reason: 'access_denied',
        message: 'Access Denied',
      },
    ];
    ddb.on(GetCommand).resolves({ Item: { ...PARTIAL, fileCount: 2, filesRead: 1, failedFiles: JSON.stringify(failed) } });
    ddb.on(QueryCommand).resolves({ Items: twice });

    const result = await run(['status', ID], ctx);

    expect(result.stdout).toMatch(
      /KEY +VERSION +SIZE +OUTCOME\n +incoming\/orders\/a\.ndjson +v1 +100 B +converted\n +incoming\/orders\/a\.ndjson +v2 +100 B +failed \(access_denied\): Access Denied/,
    );
  });

  it('escapes control characters of keys and messages instead of sending them to the terminal', async () => {
    const key = 'incoming/orders/\u001b[2J\u001b]0;pwned\u0007x\r.ndjson';
    const failed = [{ key, versionId: 'vx', reason: 'unreadable', message: 'bad gzip \u001b[31mred\u001b[0m' }];
    ddb.on(GetCommand).resolves({
      Item: { ...PARTIAL, fileCount: 1, filesRead: 0, failedFiles: JSON.stringify(failed), error: 'Err\u001b[1m', cause: 'boom\u009b' },
    });
    ddb.on(QueryCommand).resolves({ Items: [file(key, 'vx')] });

    const result = await run(['status', ID], ctx);

    expect(result.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(result.stdout).toContain(
      'incoming/orders/\\x1b[2J\\x1b]0;pwned\\x07x\\x0d.ndjson (version vx): failed (unreadable): bad gzip \\x1b[31mred\\x1b[0m',
    );
    expect(result.stdout).toContain('error         Err\\x1b[1m: boom\\x9b');
  });

  it('says when failedFiles cannot be read rather than calling every file converted', async () => {
    ddb.on(GetCommand).resolves({ Item: { ...PARTIAL, failedFiles: '[{"reason"' } });
    ddb.on(QueryCommand).resolves({ Items: FILES });

    const result = await run(['status', ID], ctx);

    expect(result.stdout).toContain('Failed files: cannot tell which (failedFiles is not JSON)');
    expect(result.stdout).not.toContain('converted');
  });
});

describe('fileOutcomes and parseFailedFiles', () => {
  const files = FILES.map(({ sk: _sk, ...f }) => f);

  it('calls every file of a SUCCEEDED manifest converted, and says nothing per file of a FAILED one', () => {
    expect(fileOutcomes({ manifestId: ID, dataset: 'orders', status: 'SUCCEEDED' }, files).files.map((f) => f.outcome)).toEqual([
      'converted',
      'converted',
      'converted',
    ]);
    expect(fileOutcomes({ manifestId: ID, dataset: 'orders', status: 'FAILED' }, files).files.map((f) => f.outcome)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('keeps a failure that names no file of the manifest apart', () => {
    const failed = [{ key: 'incoming/orders/zzz.ndjson', versionId: null, reason: 'missing', message: 'gone' }];
    const out = fileOutcomes({ manifestId: ID, dataset: 'orders', status: 'PARTIAL', failedFiles: JSON.stringify(failed) }, files);

    expect(out.unmatchedFailures).toEqual([
      { key: 'incoming/orders/zzz.ndjson', versionId: null, reason: 'missing', message: 'gone', uri: undefined },
    ]);
    expect(out.files.every((f) => f.outcome === 'converted')).toBe(true);
  });

  it('matches a failure without a version by its key', () => {
    const failed = [{ key: 'incoming/orders/c.ndjson', versionId: null, reason: 'missing' }];
    const out = fileOutcomes({ manifestId: ID, dataset: 'orders', status: 'PARTIAL', failedFiles: JSON.stringify(failed) }, files);

    expect(out.files.map((f) => f.outcome)).toEqual(['converted', 'converted', 'failed']);
  });

  it('refuses what is not a list of entries with keys', () => {
    expect(parseFailedFiles('{}')).toEqual({ problem: 'failedFiles is not a list' });
    expect(parseFailedFiles('[{"reason":"missing"}]')).toEqual({ problem: 'an entry of failedFiles has no key' });
    expect(parseFailedFiles(undefined)).toEqual({ problem: 'failedFiles is not a list' });
  });
});

describe('status list', () => {
  const ctx = testContext(cloudTarget);
  const ddb = mockClient(ctx.ddb);

  beforeEach(() => ddb.reset());

  it('shows PARTIAL manifests with their failed files, counted apart, and how to replay them', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':day': 'DAY#2026-11-23' } }).resolves({
      Items: [
        { sk: 'META', manifestId: 'orders-20261123-000001', dataset: 'orders', status: 'FAILED', fileCount: 2 },
        {
          sk: 'META',
          manifestId: 'orders-20261123-000002',
          dataset: 'orders',
          status: 'PARTIAL',
          fileCount: 10,
          filesRead: 9,
          filesFailed: 1,
        },
        { sk: 'META', manifestId: 'orders-20261123-000003', dataset: 'orders', status: 'SUCCEEDED', fileCount: 5 },
        {
          sk: 'META',
          manifestId: 'orders-20261123-000004',
          dataset: 'orders',
          status: 'PARTIAL',
          fileCount: 4,
          filesRead: 1,
          filesFailed: 3,
        },
      ],
    });

    const result = await run(['status', '--since', '1d'], ctx);
    const lines = result.stdout.split('\n');

    expect(result.code).toBe(0);
    expect(lines.find((l) => l.startsWith('orders-20261123-000002'))).toMatch(/^orders-20261123-000002 +orders +10 \(1 failed\) +PARTIAL /);
    expect(lines).toContain('4 manifests opened since 2026-11-22 12:00:00Z: 1 SUCCEEDED, 2 PARTIAL, 1 FAILED');
    expect(lines[lines.length - 1]).toBe(
      '3 FAILED or PARTIAL (PARTIAL: some files could not be read; npx pipeline status <manifestId> names them): replay with npx pipeline replay --failed --since 1d',
    );
  });
});

describe('publicRecord', () => {
  test("leaves out the table's and every index's keys and the expiry, whatever index is added, and keeps the facts", () => {
    const keyAttributes = Object.fromEntries([...STATE_TABLE_KEY_ATTRIBUTES, STATE_TABLE.ttlAttribute].map((name) => [name, 'k']));
    const record = {
      ...keyAttributes,
      manifestId: ID,
      dataset: 'orders',
      status: 'RUNNING' as const,
      startedAt: '2026-11-23T10:00:00.000Z',
    };

    expect(publicRecord(record)).toEqual({ manifestId: ID, dataset: 'orders', status: 'RUNNING', startedAt: '2026-11-23T10:00:00.000Z' });
    expect(STATE_TABLE_KEY_ATTRIBUTES).toEqual(expect.arrayContaining(['runningPk', 'runningSk', 'pendingPk', 'gsi1pk']));
  });
});
