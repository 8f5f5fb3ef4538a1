/**
 * The operator CLI run as a process against the local mode: upload a folder with progress (one file large
 * enough for multipart), the manifests in a table and as JSON, a failed manifest (every file's version deleted
 * for good) shown with its execution history, the refusal to replay a succeeded manifest, and the replay of the
 * failed one to SUCCEEDED once the same bytes are uploaded again.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { getManifest } from '../../cli/ops/manifests';
import { keys } from '../../contracts/table-schema';
import { generateDataset } from '../../local/sample-data';
import { deleteVersion, putObject, uploadIntoManifest, waitFor } from '../../local/scenario';
import { manifestsOf, startInstance, waitForExecution, type LocalInstance } from './support/local-instance';

jest.setTimeout(20 * 60_000);

const REPO = path.resolve(__dirname, '..', '..');

/** Runs `pipeline <args>` as the operator would, and returns its exit code and output. */
function pipeline(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(REPO, 'bin', 'pipeline.js'), ...args], { cwd: REPO, timeout: 300_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** About 6 MiB of order lines: above the 5 MiB part size, so the upload goes in parts. */
function largeOrders(lines: number): string {
  const pad = 'x'.repeat(200);
  return Array.from({ length: lines }, (_, i) => JSON.stringify({ order_id: `big-${i}`, amount: i % 100, note: pad })).join('\n') + '\n';
}

describe('pipeline upload, status and replay, against the local mode', () => {
  let instance: LocalInstance;
  let folder: string;
  let ordersId: string;
  let clicksId: string;
  const LARGE_LINES = 28_000;
  const clicks = generateDataset({ dataset: 'clicks', files: 2, minLines: 5, maxLines: 10, badEvery: 3, blankEvery: 4, seed: 11 });
  const smallLines = '{"order_id":"s-1","amount":3}\n{"order_id":"s-2","amount":4}\nnot json\n';

  const stateDir = () => ['--state-dir', instance.stateDir];

  beforeAll(async () => {
    // Two files per manifest; Retry waits scaled down so retries take seconds, not minutes.
    instance = await startInstance({ batchSize: 2, maxWaitSeconds: 60, retryIntervalScale: 0.05 });
    folder = mkdtempSync(path.join(os.tmpdir(), 'cli-upload-'));
    mkdirSync(path.join(folder, '2026', '11'), { recursive: true });
    writeFileSync(path.join(folder, '2026', '11', 'large.ndjson'), largeOrders(LARGE_LINES));
    writeFileSync(path.join(folder, 'small.jsonl'), smallLines);
    writeFileSync(path.join(folder, 'notes.txt'), 'not for the pipeline\n');
  });

  afterAll(async () => {
    rmSync(folder, { recursive: true, force: true });
    await instance?.stop();
  });

  it('refuses a bad dataset name and a missing path with a one-line reason, sending nothing', async () => {
    const badName = await pipeline(['upload', folder, '--dataset', 'Orders-2026', ...stateDir()]);
    const missing = await pipeline(['upload', path.join(folder, 'nope'), '--dataset', 'orders', ...stateDir()]);

    expect(badName.code).toBe(2);
    expect(badName.stderr.trim()).toMatch(/^error: dataset "Orders-2026" is not valid: use lower-case letters/);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe(`error: cannot read ${path.join(folder, 'nope')}: no such file or folder`);
    expect(await manifestsOf(instance)).toEqual([]);
  });

  it('uploads a folder with progress by files and bytes, in parts for the large file, skipping other suffixes', async () => {
    const result = await pipeline(['upload', folder, '--dataset', 'orders', '--part-size-mb', '5', ...stateDir()]);

    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`skipped ${path.join(folder, 'notes.txt')}: not an accepted suffix`);
    expect(result.stderr).toMatch(/\[1\/2 files, .* of 6\.\d MiB\] uploaded incoming\/orders\//);
    expect(result.stderr).toMatch(/\[2\/2 files, 6\.\d MiB of 6\.\d MiB\] uploaded incoming\/orders\//);
    expect(result.stdout).toMatch(
      new RegExp(`^Uploaded 2 of 2 files \\(6\\.\\d MiB\\) to s3://${instance.stack.ingestBucket}/incoming/orders/ in [\\d.]+s; 1 skipped`),
    );
    const large = await instance.ctx.s3.send(
      new HeadObjectCommand({ Bucket: instance.stack.ingestBucket, Key: 'incoming/orders/2026/11/large.ndjson' }),
    );
    const small = await instance.ctx.s3.send(
      new HeadObjectCommand({ Bucket: instance.stack.ingestBucket, Key: 'incoming/orders/small.jsonl' }),
    );
    expect(large.ETag).toMatch(/-2"$/); // a multipart upload's ETag ends with its number of parts
    expect(small.ContentLength).toBe(Buffer.byteLength(smallLines));
  });

  it('lists the converted manifest in a table and as JSON', async () => {
    const converted = await waitFor(
      'the orders manifest to finish',
      async () => (await manifestsOf(instance)).find((m) => m.dataset === 'orders' && (m.status === 'SUCCEEDED' || m.status === 'FAILED')),
      10 * 60_000,
      2000,
    );
    ordersId = converted.manifestId;

    const table = await pipeline(['status', '--since', '1h', ...stateDir()]);
    const json = await pipeline(['status', '--since', '1h', '--dataset', 'orders', '--json', ...stateDir()]);

    expect(converted.status).toBe('SUCCEEDED');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^MANIFEST\s+DATASET\s+FILES\s+STATUS\s+SEALED\s+DURATION\s+ROWS\s+QUARANTINED\s+REPLAYS$/m);
    expect(table.stdout).toMatch(
      new RegExp(
        `^${ordersId}\\s+orders\\s+2\\s+SUCCEEDED\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ\\s+[\\dhms.]+\\s+${LARGE_LINES + 2}\\s+1\\s+-$`,
        'm',
      ),
    );
    expect(json.code).toBe(0);
    const { manifests } = JSON.parse(json.stdout);
    expect(manifests).toHaveLength(1);
    expect(manifests[0]).toMatchObject({
      manifestId: ordersId,
      status: 'SUCCEEDED',
      fileCount: 2,
      rowsOut: LARGE_LINES + 2,
      rowsQuarantined: 1,
    });
    expect(manifests[0].pk).toBeUndefined();
  });

  it("shows a failed manifest with its files and its execution's failure, not retried since the job names it deterministic", async () => {
    const first = await uploadIntoManifest(instance, clicks[0]);
    clicksId = first.manifestId;
    await deleteVersion(instance, clicks[0].key, first.versionId);
    // The second file fills the manifest, which is sealed at once: wait for its entry there, not in the open one.
    const second = await putObject(instance, clicks[1].key, clicks[1].body);
    await waitFor(
      `${clicks[1].key} in ${clicksId}`,
      async () => {
        const key = keys.manifestFile(clicksId, clicks[1].key, second.contentTag);
        return (await instance.ctx.ddb.send(new GetCommand({ TableName: instance.stack.stateTable, Key: key, ConsistentRead: true }))).Item
          ? true
          : undefined;
      },
      60_000,
      100,
    );
    await deleteVersion(instance, clicks[1].key, second.versionId);
    await waitFor(
      'the clicks manifest to fail',
      async () => ((await getManifest(instance.ctx, clicksId).catch(() => undefined))?.status === 'FAILED' ? true : undefined),
      10 * 60_000,
      2000,
    );

    const detail = await pipeline(['status', clicksId, ...stateDir()]);
    const failedOnly = await pipeline(['status', '--state', 'failed', '--json', ...stateDir()]);

    expect(detail.code).toBe(0);
    expect(detail.stdout).toMatch(new RegExp(`^Manifest ${clicksId}\\n {2}status {8}FAILED`));
    expect(detail.stdout).toMatch(/error {9}Pipeline\.Job\.no_readable_file in Convert: manifest .*no file could be read/);
    expect(detail.stdout).toContain(clicks[0].key);
    expect(detail.stdout).toContain('Executions (1)');
    expect(detail.stdout).toMatch(new RegExp(`^ {2}${clicksId} {2}FAILED {2}started `, 'm'));
    expect(detail.stdout).toMatch(/^ {4}MarkRunning \[Task\].*: succeeded$/m);
    // The Glue run's own message is Glue's generic text; the reason came from the job's outcome document.
    expect(detail.stdout).toMatch(
      /^ {4}Convert \[Task\].*: caught; States\.TaskFailed: Glue job run FAILED: Command failed with exit code 1/m,
    );
    expect(detail.stdout).not.toMatch(/^ {4}WaitBeforeConvertRetry/m);
    expect(detail.stdout).toMatch(/^ {4}Failed \[Fail\]: failed; /m);
    expect(detail.stdout).not.toContain('console:'); // no AWS console for the emulator
    expect(JSON.parse(failedOnly.stdout).manifests.map((m: { manifestId: string }) => m.manifestId)).toEqual([clicksId]);
  });

  it('refuses to replay the succeeded manifest, with the reason, starting nothing', async () => {
    const result = await pipeline(['replay', ordersId, ...stateDir()]);

    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n').pop()).toMatch(
      new RegExp(`^error: ${ordersId}: already SUCCEEDED at .*: pass --force to convert it again`),
    );
    const replay = `${instance.stack.stateMachineArn.replace(':stateMachine:', ':execution:')}:${ordersId}-r1`;
    await expect(instance.ctx.sfn.send(new DescribeExecutionCommand({ executionArn: replay }))).rejects.toMatchObject({
      name: 'ExecutionDoesNotExist',
    });
    expect((await getManifest(instance.ctx, ordersId)).replayCount).toBeUndefined();
  });

  it('says --redrive is not available locally, then replays the failed manifest to SUCCEEDED', async () => {
    // The same bytes again: duplicates for the builder, read by the replay in place of the deleted versions.
    for (const file of clicks) await putObject(instance, file.key, file.body);

    const redrive = await pipeline(['replay', clicksId, '--redrive', ...stateDir()]);
    const replay = await pipeline(['replay', '--failed', '--since', '1h', ...stateDir()]);

    expect(redrive.code).toBe(1);
    expect(redrive.stderr.trim()).toBe(
      `error: RedriveExecution is not available in the local emulator; replay instead: npx pipeline replay ${clicksId}`,
    );
    expect(replay.code).toBe(0);
    expect(replay.stdout.trim()).toBe(`started ${clicksId}-r1`);
    const record = await getManifest(instance.ctx, clicksId);
    const ended = await waitForExecution(instance, record.executions![1], 10 * 60_000);
    expect(ended.status).toBe('SUCCEEDED');

    const detail = await pipeline(['status', clicksId, '--json', ...stateDir()]);
    const { manifest, executions } = JSON.parse(detail.stdout);
    expect(manifest).toMatchObject({ status: 'SUCCEEDED', replayCount: 1, rowsOut: clicks.reduce((n, f) => n + f.goodLines, 0) });
    expect(executions.map((e: { name: string; status: string }) => [e.name, e.status])).toEqual([
      [clicksId, 'FAILED'],
      [`${clicksId}-r1`, 'SUCCEEDED'],
    ]);
  });
});
