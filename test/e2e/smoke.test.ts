/**
 * `pipeline smoke` run as a process against the local mode, as an operator runs it after a deploy: every check passes,
 * in order, and what it reports is confirmed independently (the record, the Parquet read back with pyarrow). Then the
 * smoke is made to fail twice: an expectation the pipeline does not meet (the checks compare real values) and a
 * pipeline that cannot convert within the timeout, its manifest builder stopped (exit code 1, the failed check last).
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { getManifest } from '../../cli/ops/manifests';
import { newRunId, runSmoke, SMOKE_CHECKS, SMOKE_DATASET, smokeFixture, type SmokeReport } from '../../cli/ops/smoke';
import { readCuratedParquet } from '../../local/parquet-reader';
import { runningProcesses } from '../../local/runtime';
import { startInstance, type LocalInstance } from './support/local-instance';

jest.setTimeout(20 * 60_000);

const REPO = path.resolve(__dirname, '..', '..');

/** Runs `pipeline <args>` as the operator would, and returns its exit code and output. */
function pipeline(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(REPO, 'bin', 'pipeline.js'), ...args], { cwd: REPO, timeout: 900_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Resolves once the process is gone (signal 0 throws for a pid that no longer exists). */
async function waitForProcessExit(pid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('pipeline smoke against the local mode', () => {
  let instance: LocalInstance;

  beforeAll(async () => {
    // A manifest waits ten minutes before the sweeper would seal it: a smoke that passes sealed its own.
    instance = await startInstance({ maxWaitSeconds: 600 });
  });

  afterAll(async () => {
    await instance?.stop();
  });

  it('passes every check in order, prints each step with its time, and its report holds', async () => {
    const result = await pipeline(['smoke', '--state-dir', instance.stateDir, '--json']);

    expect(result.stderr).not.toMatch(/error:/);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as SmokeReport;
    expect(report.passed).toBe(true);
    expect(report.checks.map((c) => [c.name, c.passed])).toEqual(SMOKE_CHECKS.map((name) => [name, true]));
    const seconds = report.checks.map((c) => c.seconds);
    expect(seconds).toEqual([...seconds].sort((a, b) => a - b));
    expect(report.latencySeconds).toBe(seconds.at(-1));
    expect(report.latencySeconds).toBeGreaterThan(0);
    for (const name of SMOKE_CHECKS) expect(result.stderr).toMatch(new RegExp(`^ok +${name} +\\d+\\.\\d s  `, 'm'));

    // What it reported, seen another way: the record, and the Parquet read by pyarrow.
    const manifest = await getManifest(instance.ctx, report.manifestId!);
    expect(manifest).toMatchObject({ status: 'SUCCEEDED', sealReason: 'flush', fileCount: 2, linesIn: 7, rowsOut: 5 });
    const parquet = await readCuratedParquet(instance.stack, SMOKE_DATASET);
    expect(parquet.rowsByManifest[report.manifestId!]).toBe(5);
    expect(parquet.columns).toEqual(
      expect.arrayContaining(['smoke_id', 'seq', 'ok', 'note', '_source_file', 'ingest_date', 'manifest_id']),
    );
  });

  it('fails at the first check whose expectation the pipeline does not meet, and runs no further check', async () => {
    const runId = newRunId(new Date());
    const fixture = smokeFixture(runId);
    const wrong = { ...fixture, expected: { ...fixture.expected, rowsOut: 6, linesIn: 8 } };

    const report = await runSmoke(instance.ctx, { runId, fixture: wrong, pollMs: 1000 });

    expect(report.passed).toBe(false);
    expect(report.checks.map((c) => [c.name, c.passed])).toEqual([
      ['uploaded', true],
      ['sealed', true],
      ['started', true],
      ['converted', true],
      ['counts', false],
    ]);
    expect(report.checks[4].detail).toBe('recorded linesIn 7, rowsOut 5; uploaded linesIn 8, rowsOut 6');
  });

  // Last in the file: it stops the instance's manifest builder. With no builder, the uploaded files can never be
  // recorded, so the smoke cannot get past `sealed` within any timeout, however fast this machine converts.
  it('exits 1 with the failed check last when the pipeline cannot convert within --timeout-seconds', async () => {
    const { poller } = runningProcesses(instance.stateDir);
    expect(poller).toBeDefined();
    process.kill(poller!, 'SIGTERM');
    await waitForProcessExit(poller!);

    const result = await pipeline(['smoke', '--state-dir', instance.stateDir, '--json', '--timeout-seconds', '20']);

    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as SmokeReport;
    expect(report.passed).toBe(false);
    expect(report.checks.map((c) => [c.name, c.passed])).toEqual([
      ['uploaded', true],
      ['sealed', false],
    ]);
    const failed = report.checks.at(-1)!;
    expect(failed.detail).toMatch(/recorded no manifest for the files/);
    expect(failed.seconds).toBeGreaterThanOrEqual(20);
    expect(result.stderr).toContain(`error: smoke check sealed failed: ${failed.detail}`);
  });
});
