/**
 * `pipeline console` in a real browser (headless Chromium, driven by playwright-core) against the local mode,
 * after a scenario with a SUCCEEDED, a PARTIAL and a FAILED manifest: the 401 without the token, the overview's
 * counts, the manifest page's graph with the failed state coloured, the failed file's reason, the Parquet preview,
 * the alert, the replay command, and markup in an object key and in a line shown as text, never run.
 * With SCREENSHOT=<file> it also saves a screenshot of the PARTIAL manifest's page (`make screenshot`).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { getManifest } from '../../cli/ops/manifests';
import { CONTENT_SECURITY_POLICY } from '../../cli/console/server';
import { generateDataset, type SampleFile } from '../../local/sample-data';
import { deleteVersion, uploadIntoManifest, waitFor } from '../../local/scenario';
import { alertEmailsFor, startInstance, upload, type LocalInstance } from './support/local-instance';

jest.setTimeout(15 * 60_000);

const REPO = path.resolve(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A file of a dataset with its key and body given. */
function file(dataset: string, name: string, body: string, goodLines: number, badLines: number): SampleFile {
  return { dataset, key: `incoming/${dataset}/${name}`, body, goodLines, badLines, blankLines: 0 };
}

const MARKUP_KEY_NAME = '<img src=x onerror="window.__pwned=1">.ndjson';
const MARKUP_LINE = '<script>window.__pwned=2</script><b>bold</b>';

/** Starts `pipeline console` as the operator would, and resolves with its URL carrying the token. */
function startConsole(stateDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [path.join(REPO, 'bin', 'pipeline.js'), 'console', '--state-dir', stateDir, '--port', '0', '--since', '1h'],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`the console did not print its URL: ${out} ${err}`)), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/.exec(out)?.[0];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url });
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`the console exited (${code}): ${err}`)));
  });
}

async function finished(instance: LocalInstance, id: string): Promise<string> {
  const record = await waitFor(
    `${id} to end`,
    async () => {
      const m = await getManifest(instance.ctx, id).catch(() => undefined);
      return m && ['SUCCEEDED', 'PARTIAL', 'FAILED'].includes(m.status) ? m : undefined;
    },
    10 * 60_000,
    2000,
  );
  return record.status;
}

describe('pipeline console in a browser, against the local mode', () => {
  let instance: LocalInstance;
  let consoleProcess: ChildProcess | undefined;
  let url: string;
  let base: string;
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];
  const ids = { succeeded: '', partial: '', failed: '' };
  const orders = [
    ...generateDataset({ dataset: 'orders', files: 2, minLines: 5, maxLines: 8, badEvery: 100, blankEvery: 100, seed: 21 }),
    file('orders', 'markup-line.ndjson', `{"order_id":"m-1","amount":1}\n${MARKUP_LINE}\n`, 1, 1),
  ];
  const clicks = generateDataset({ dataset: 'clicks', files: 3, minLines: 4, maxLines: 6, badEvery: 2, blankEvery: 100, seed: 22 });
  const markupFile = file('returns', MARKUP_KEY_NAME, '{"return_id":"r-1"}\n', 1, 0);

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: make test installs Debian's chromium package (or set CHROMIUM_PATH)`);
    // Three files per manifest; the one-file manifest is sealed by the sweeper after 10 s.
    instance = await startInstance({ batchSize: 3, maxWaitSeconds: 10, retryIntervalScale: 0.05 });
    // FAILED: its only file (a key carrying markup) is deleted for good once listed.
    const returns = await uploadIntoManifest(instance, markupFile);
    ids.failed = returns.manifestId;
    await deleteVersion(instance, markupFile.key, returns.versionId);
    // PARTIAL: one of three files deleted once listed.
    const first = await uploadIntoManifest(instance, clicks[0]);
    ids.partial = first.manifestId;
    await deleteVersion(instance, clicks[0].key, first.versionId);
    await upload(instance, clicks.slice(1));
    // SUCCEEDED: three files, one with a line of markup (quarantined as invalid JSON).
    ids.succeeded = (await uploadIntoManifest(instance, orders[0])).manifestId;
    await upload(instance, orders.slice(1));
    const statuses = [await finished(instance, ids.succeeded), await finished(instance, ids.partial), await finished(instance, ids.failed)];
    expect(statuses).toEqual(['SUCCEEDED', 'PARTIAL', 'FAILED']);
    await alertEmailsFor(instance, ids.partial);
    await alertEmailsFor(instance, ids.failed);

    ({ child: consoleProcess, url } = await startConsole(instance.stateDir));
    base = url.replace(/\?token=.*$/, '');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (consoleProcess?.pid !== undefined && consoleProcess.exitCode === null) consoleProcess.kill('SIGTERM');
    await instance?.stop();
  });

  it('answers 401 without the token, or with a wrong one, and refuses to change anything', async () => {
    const none = await fetch(base);
    const wrong = await fetch(`${base}?token=not-the-token`);
    const manifest = await fetch(`${base}manifests/${encodeURIComponent(ids.failed)}`);
    const post = await fetch(url, { method: 'POST', redirect: 'manual' });

    expect([none.status, wrong.status, manifest.status]).toEqual([401, 401, 401]);
    expect(await manifest.text()).not.toContain(ids.failed);
    expect(none.headers.get('access-control-allow-origin')).toBeNull();
    expect(post.status).toBe(405);
  });

  it('takes the token once, then keeps it in an HttpOnly cookie, with a strict CSP', async () => {
    const response = await page.goto(url);

    expect(page.url()).toBe(base); // the token left the address bar
    expect(response!.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    const cookies = await page.context().cookies();
    expect(cookies).toEqual([expect.objectContaining({ name: 'pipeline_console_token', httpOnly: true, sameSite: 'Strict' })]);
    expect(await page.evaluate('document.cookie')).toBe('');
  });

  it('shows the manifests by status on the overview, with the alerts', async () => {
    await page.goto(base);
    const count = (status: string) => page.locator(`[data-status="${status}"] b`).textContent();

    expect([await count('SUCCEEDED'), await count('PARTIAL'), await count('FAILED'), await count('total')]).toEqual(['1', '1', '1', '3']);
    await expect(page.locator('ul.alerts li').count()).resolves.toBe(2);
    expect(await page.locator('[data-dataset="clicks"] td').nth(2).textContent()).toBe('3');
  });

  it('leads from the overview to the failed manifest: its graph with the failed state, the Glue log, the replay command', async () => {
    await page.goto(base);
    await page.click('[data-status="FAILED"]');
    await page.click(`tr[data-manifest="${ids.failed}"] a >> nth=0`);

    expect(new URL(page.url()).pathname).toBe(`/manifests/${ids.failed}`);
    const convert = page.locator(`[data-execution="${ids.failed}"] svg.graph g.state[data-state="Convert"]`);
    expect(await convert.getAttribute('data-mark')).toBe('failed');
    // Coloured by the style sheet: the failed fill, not the not-entered one.
    expect(
      await convert
        .locator('rect')
        .evaluate((r) => (globalThis as unknown as { getComputedStyle(e: unknown): { fill: string } }).getComputedStyle(r).fill),
    ).toBe('rgb(255, 206, 203)');
    expect(await page.locator('g.state[data-state="MarkRunning"]').first().getAttribute('data-mark')).toBe('succeeded');
    expect(await page.locator('g.state[data-state="Converted"]').first().getAttribute('data-mark')).toBe('not-entered');
    expect(await page.locator('#manifest-error').textContent()).toMatch(/in state Convert/);
    expect(await page.locator('#replay-command').textContent()).toBe(`npx pipeline replay ${ids.failed}`);
    const log = await page.locator('pre.log-tail').first().textContent();
    expect(log).toMatch(/\S/);
    // The subject stays under SNS's 100 characters, so it names no manifest; the body's first line does.
    expect(await page.locator('.email .subject').textContent()).toMatch(/manifest failed/);
    expect(await page.locator('.email-body').first().textContent()).toContain(ids.failed);
  });

  it('shows an object key carrying markup as text, running nothing', async () => {
    await page.goto(`${base}manifests/${encodeURIComponent(ids.failed)}`);

    expect(await page.locator('#files td.key').first().textContent()).toBe(markupFile.key);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(dialogs).toEqual([]);
  });

  it("shows the partial manifest's failed file with its reason, and its alert", async () => {
    await page.goto(`${base}manifests/${encodeURIComponent(ids.partial)}`);
    if (process.env.SCREENSHOT) {
      mkdirSync(path.dirname(path.resolve(REPO, process.env.SCREENSHOT)), { recursive: true });
      // Tall enough for the record, the files and the execution's graph.
      await page.setViewportSize({ width: 1400, height: 2000 });
      await page.screenshot({ path: path.resolve(REPO, process.env.SCREENSHOT) });
      await page.setViewportSize({ width: 1400, height: 1000 });
    }

    expect(await page.locator('#failed-files tr.failed-file td.key').allTextContents()).toEqual([clicks[0].key]);
    expect(await page.locator('#failed-files tr.failed-file td.reason').textContent()).toBe('missing');
    expect(await page.locator('.email .subject').textContent()).toMatch(/partly converted/);
    expect(await page.locator('.email-body').textContent()).toContain(clicks[0].key);
    expect(await page.locator('#line-check').getAttribute('class')).toContain('ok');
  });

  it('previews the Parquet rows and the quarantined lines, markup shown as text', async () => {
    await page.goto(`${base}manifests/${encodeURIComponent(ids.succeeded)}`);
    const headers = await page.locator('#parquet table.preview th').allTextContents();
    const rows = await page.locator('#parquet table.preview tbody tr').count();

    expect(headers).toEqual(expect.arrayContaining(['order_id', '_source_file']));
    expect(rows).toBe(orders.reduce((n, f) => n + f.goodLines, 0));
    expect(await page.locator('#parquet').textContent()).toContain('m-1');
    expect(await page.locator('#quarantine td code').allTextContents()).toContain(MARKUP_LINE);
    expect(await page.locator('#quarantine b').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator(`[data-execution="${ids.succeeded}"] g.state[data-state="Converted"]`).getAttribute('data-mark')).toBe(
      'succeeded',
    );
  });

  it("shows a dataset's schema", async () => {
    await page.goto(`${base}datasets/orders`);

    expect(await page.locator('#schema td:first-child').allTextContents()).toEqual(expect.arrayContaining(['order_id', 'amount']));
  });
});
