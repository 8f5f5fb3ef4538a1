import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { resolveConfig } from '../../../../contracts/config';
import { objectKey, planUpload, uploadFiles, validateDataset } from '../../../../cli/ops/upload';
import { testContext } from '../fixtures';

const config = resolveConfig();

describe('objectKey', () => {
  it('puts a file under incoming/<dataset>/ with its relative path in / form', () => {
    expect(objectKey('incoming/', 'orders', 'a.ndjson')).toBe('incoming/orders/a.ndjson');
    expect(objectKey('incoming/', 'orders', path.join('2026', '11', 'b.jsonl.gz'))).toBe('incoming/orders/2026/11/b.jsonl.gz');
  });

  it('refuses a path that would climb out of the dataset', () => {
    expect(() => objectKey('incoming/', 'orders', '../x.ndjson')).toThrow('cannot make an object key');
  });
});

describe('validateDataset', () => {
  it.each(['orders', 'o', 'web_clicks_2', 'a'.repeat(40)])('accepts %s', (name) => {
    expect(() => validateDataset(name)).not.toThrow();
  });

  it.each(['Orders', '2orders', 'web-clicks', '', 'a'.repeat(41), 'orders/x'])('refuses "%s" with the rule', (name) => {
    expect(() => validateDataset(name)).toThrow(
      /is not valid: use lower-case letters, digits and _, starting with a letter, at most 40 characters/,
    );
  });
});

describe('planUpload', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cli-upload-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (rel: string, body = '{"a":1}\n') => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), body);
    return path.join(dir, rel);
  };

  it("maps a folder's files to keys relative to it and a file argument to its name, skipping others with the reason", async () => {
    write('export/2026/11/a.ndjson');
    write('export/b.json.gz', 'gz');
    write('export/readme.txt');
    write('export/B.NDJSON');
    write('export/empty.ndjson', '');
    write('export/.hidden/c.ndjson');
    write('export/_partial.ndjson');
    write('export/_folder/d.ndjson');
    const single = write('single/one.jsonl');
    const dotted = write('single/.two.ndjson');

    const plan = await planUpload([path.join(dir, 'export'), single, dotted], 'orders', config);

    expect(plan.files.map((f) => f.key)).toEqual([
      'incoming/orders/2026/11/a.ndjson',
      'incoming/orders/_folder/d.ndjson',
      'incoming/orders/b.json.gz',
      'incoming/orders/one.jsonl',
    ]);
    expect(plan.totalBytes).toBe(8 + 8 + 2 + 8);
    expect(plan.skipped.map((s) => [path.basename(s.path), s.reason.split(' ')[0]])).toEqual([
      ['.hidden', 'hidden'],
      ['B.NDJSON', 'not'],
      ['_partial.ndjson', 'file'],
      ['empty.ndjson', 'empty'],
      ['readme.txt', 'not'],
      ['.two.ndjson', 'file'],
    ]);
    // Each skip says why: the files the pipeline would refuse, by the rule it applies.
    expect(plan.skipped.find((s) => path.basename(s.path) === '_partial.ndjson')?.reason).toMatch(/begins with "_" or "\."/);
    expect(plan.skipped.find((s) => path.basename(s.path) === '.hidden')?.reason).toContain('not uploaded');
  });

  it('fails before sending anything for a missing path, a bad dataset name or two files with one key', async () => {
    const a = write('x/a.ndjson');
    const b = write('y/a.ndjson');

    await expect(planUpload([path.join(dir, 'nope')], 'orders', config)).rejects.toThrow(
      `cannot read ${path.join(dir, 'nope')}: no such file or folder`,
    );
    await expect(planUpload([a], 'Orders', config)).rejects.toThrow('dataset "Orders" is not valid');
    await expect(planUpload([a, b], 'orders', config)).rejects.toThrow('would both be uploaded as incoming/orders/a.ndjson');
  });

  it('never follows a symbolic link inside a folder: one out of it is skipped with its target, one inside it too (its target goes once)', async () => {
    write('export/a.ndjson');
    write('export/sub/b.ndjson');
    const secret = write('elsewhere/secret.ndjson', '{"ssn":"123"}\n');
    write('elsewhere/more/c.ndjson');
    symlinkSync(secret, path.join(dir, 'export', 'leak.ndjson'));
    symlinkSync(path.join(dir, 'elsewhere', 'more'), path.join(dir, 'export', 'more'));
    symlinkSync(path.join(dir, 'export', 'sub', 'b.ndjson'), path.join(dir, 'export', 'again.ndjson'));
    symlinkSync(path.join(dir, 'export'), path.join(dir, 'export', 'sub', 'loop'));
    symlinkSync(path.join(dir, 'nowhere.ndjson'), path.join(dir, 'export', 'broken.ndjson'));

    const plan = await planUpload([path.join(dir, 'export')], 'orders', config);
    const reason = (name: string) => plan.skipped.find((s) => path.basename(s.path) === name)?.reason;

    expect(plan.files.map((f) => f.key)).toEqual(['incoming/orders/a.ndjson', 'incoming/orders/sub/b.ndjson']);
    expect(reason('leak.ndjson')).toBe(`symbolic link to ${secret}, outside the folder: not followed`);
    expect(reason('more')).toBe(`symbolic link to ${path.join(dir, 'elsewhere', 'more')}, outside the folder: not followed`);
    expect(reason('again.ndjson')).toBe(
      'symbolic link to sub/b.ndjson, inside the folder: not followed (the target is uploaded under its own path)',
    );
    expect(reason('loop')).toBe(
      'symbolic link to the folder itself, inside the folder: not followed (the target is uploaded under its own path)',
    );
    expect(reason('broken.ndjson')).toBe('broken symbolic link (ENOENT): not followed');
  });

  it('takes a file or folder named on the command line as named, even through a link', async () => {
    const real = write('real/x.ndjson');
    write('realdir/y.ndjson');
    symlinkSync(real, path.join(dir, 'named.ndjson'));
    symlinkSync(path.join(dir, 'realdir'), path.join(dir, 'linkdir'));

    const plan = await planUpload([path.join(dir, 'named.ndjson'), path.join(dir, 'linkdir')], 'orders', config);

    expect(plan.files.map((f) => [f.key, f.inFolder])).toEqual([
      ['incoming/orders/named.ndjson', false],
      ['incoming/orders/y.ndjson', true],
    ]);
  });
});

describe('uploadFiles', () => {
  const ctx = testContext();
  const s3 = mockClient(ctx.s3);
  let dir: string;

  beforeEach(() => {
    s3.reset();
    dir = mkdtempSync(path.join(os.tmpdir(), 'cli-upload-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, body: string) => {
    writeFileSync(path.join(dir, name), body);
    return { path: path.join(dir, name), key: `incoming/orders/${name}`, size: Buffer.byteLength(body) };
  };

  it('reports a file as uploaded only when S3 holds its full size, and every other outcome per file', async () => {
    const good = file('good.ndjson', '{"a":1}\n');
    const short = file('short.ndjson', '{"a":1}\n{"a":2}\n');
    const refused = file('refused.ndjson', '{"a":3}\n');
    s3.on(PutObjectCommand).resolves({ ETag: '"e"' });
    s3.on(PutObjectCommand, { Key: refused.key }).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    s3.on(HeadObjectCommand, { Key: good.key }).resolves({ ContentLength: good.size });
    s3.on(HeadObjectCommand, { Key: short.key }).resolves({ ContentLength: 3 });
    const progress: number[] = [];

    const summary = await uploadFiles(
      ctx,
      { dataset: 'orders', files: [good, short, refused], skipped: [], totalBytes: good.size + short.size + refused.size },
      {
        onFile: (_o, p) => progress.push(p.filesDone + p.filesFailed),
      },
    );

    expect(summary.files.map((f) => [f.key, f.status])).toEqual([
      [good.key, 'uploaded'],
      [short.key, 'failed'],
      [refused.key, 'failed'],
    ]);
    expect(summary.files[1].error).toMatch(/stored 3 bytes, expected 16/);
    expect(summary.files[2].error).toBe('AccessDenied: Access Denied');
    expect(summary).toMatchObject({ uploaded: 1, failed: 2, bytesUploaded: good.size, bucket: 'ingest-bucket' });
    expect(progress.sort()).toEqual([1, 2, 3]);
    expect(s3.commandCalls(PutObjectCommand)[0].args[0].input).toMatchObject({
      Bucket: 'ingest-bucket',
      ContentType: 'application/x-ndjson',
    });
  });

  it('refuses to read a file of a folder that was replaced by a symbolic link after the plan', async () => {
    const planned = { ...file('swapped.ndjson', '{"a":1}\n'), inFolder: true };
    writeFileSync(path.join(dir, 'secret'), '{"ssn":"123"}\n');
    unlinkSync(planned.path);
    symlinkSync(path.join(dir, 'secret'), planned.path);
    s3.on(PutObjectCommand).resolves({});
    s3.on(HeadObjectCommand).resolves({ ContentLength: planned.size });

    const summary = await uploadFiles(ctx, { dataset: 'orders', files: [planned], skipped: [], totalBytes: planned.size });

    expect(summary.files.map((f) => [f.status, f.error])).toEqual([['failed', 'cannot read file: ELOOP']]);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('leaves out files already there with the same size when asked to', async () => {
    const there = file('there.ndjson', '{"a":1}\n');
    const fresh = file('fresh.ndjson', '{"a":2}\n');
    s3.on(HeadObjectCommand, { Key: there.key }).resolves({ ContentLength: there.size });
    s3.on(HeadObjectCommand, { Key: fresh.key })
      .rejectsOnce(Object.assign(new Error('NotFound'), { name: 'NotFound' }))
      .resolves({ ContentLength: fresh.size });
    s3.on(PutObjectCommand).resolves({});

    const summary = await uploadFiles(
      ctx,
      { dataset: 'orders', files: [there, fresh], skipped: [], totalBytes: 16 },
      { skipExisting: true, concurrency: 1 },
    );

    expect(summary.files.map((f) => f.status)).toEqual(['exists', 'uploaded']);
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual([fresh.key]);
  });
});
