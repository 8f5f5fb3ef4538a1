/**
 * Object keys, file names and causes can hold any character: every command prints them with the characters that
 * would act on a terminal (ESC sequences, C0 and C1 controls, bidirectional marks) shown as escapes, through the one
 * function `printable` (tables, lines, error lines) and its JSON form `printableJson`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { CliError, oneLineReason } from '../../../cli/errors';
import { printableJson } from '../../../cli/printable';
import { runCli } from '../../../cli/main';
import { CliIo } from '../../../cli/commands/shared';
import { CliContext } from '../../../cli/context';
import { cloudTarget, testContext } from './fixtures';

/** Anything a terminal would act on: ESC, the other C0 controls but \n, DEL, C1 controls, bidi and line marks. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

async function run(args: string[], ctx: CliContext) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), stderrIsTTY: false };
  const code = await runCli(['node', 'pipeline', ...args], { makeContext: async () => ctx, io });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('printableJson', () => {
  it('escapes DEL, C1 controls and bidi marks that JSON.stringify leaves raw, and parses back to the same value', () => {
    const data = { key: 'incoming/orders/a\u009b2J\u202eb\u007f\u001b[31m.ndjson', n: 1 };

    const text = printableJson(data);

    expect(JSON.stringify(data)).toMatch(RAW_CONTROL); // what the CLI printed before
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text).toContain('a\\u009b2J\\u202eb\\u007f\\u001b[31m.ndjson');
    expect(JSON.parse(text)).toEqual(data);
  });
});

describe('the error line', () => {
  it('escapes a key quoted in a reason instead of letting it clear the screen or start a new line', () => {
    const reason = oneLineReason(new CliError('cannot read incoming/orders/x\u001b[2J\nerror: forged.ndjson'));
    const sdk = oneLineReason(Object.assign(new Error('No such key: a\u001b]0;title\u0007b'), { name: 'NoSuchKey', $metadata: {} }));

    expect(reason).toBe('cannot read incoming/orders/x\\x1b[2J\\x0aerror: forged.ndjson');
    expect(sdk).toBe('NoSuchKey: No such key: a\\x1b]0;title\\x07b');
  });
});

describe('pipeline upload with hostile file names', () => {
  const ctx = testContext(cloudTarget);
  const s3 = mockClient(ctx.s3);
  let dir: string;

  beforeEach(() => {
    s3.reset();
    dir = mkdtempSync(path.join(os.tmpdir(), 'cli-safety-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the uploaded keys, the skipped files and the failures escaped, as lines and as JSON', async () => {
    const good = 'a\u001b[2Jb.ndjson';
    const refused = 'c\u009b31md.ndjson';
    writeFileSync(path.join(dir, good), '{"a":1}\n');
    writeFileSync(path.join(dir, refused), '{"a":2}\n');
    writeFileSync(path.join(dir, 'notes\u001b]0;pwned\u0007.txt'), 'x\n');
    s3.on(PutObjectCommand).resolves({});
    s3.on(PutObjectCommand, { Key: `incoming/orders/${refused}` }).rejects(
      Object.assign(new Error(`denied for ${refused}`), { name: 'AccessDenied' }),
    );
    s3.on(HeadObjectCommand).resolves({ ContentLength: 8 });

    const text = await run(['upload', dir, '--dataset', 'orders', '--concurrency', '1'], ctx);
    const json = await run(['upload', dir, '--dataset', 'orders', '--concurrency', '1', '--json'], ctx);

    expect(text.code).toBe(1);
    expect(text.stdout).not.toMatch(RAW_CONTROL);
    expect(text.stderr).not.toMatch(RAW_CONTROL);
    expect(text.stderr).toContain('uploaded incoming/orders/a\\x1b[2Jb.ndjson');
    expect(text.stderr).toContain(`skipped ${dir}/notes\\x1b]0;pwned\\x07.txt: not an accepted suffix`);
    expect(text.stdout).toContain(`failed ${dir}/c\\x9b31md.ndjson: AccessDenied: denied for c\\x9b31md.ndjson`);
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(json.stdout).files.map((f: { key: string }) => f.key)).toEqual([
      `incoming/orders/${good}`,
      `incoming/orders/${refused}`,
    ]);
  });
});

describe('pipeline dlq with a hostile key in a notification', () => {
  const ctx = testContext(cloudTarget);
  const sqs = mockClient(ctx.sqs);

  it('prints the summary escaped in the table and in JSON', async () => {
    const body = JSON.stringify({
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: 'ingest-bucket' }, object: { key: 'incoming/orders/x%C2%9B2J%E2%80%AEy.ndjson', size: 1 } },
        },
      ],
    });
    const setup = () => {
      sqs.reset();
      sqs
        .on(GetQueueAttributesCommand)
        .resolves({ Attributes: { ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesNotVisible: '0' } });
      sqs
        .on(ReceiveMessageCommand)
        .resolvesOnce({ Messages: [{ MessageId: 'm1', ReceiptHandle: 'h1', Body: body }] })
        .resolves({ Messages: [] });
      sqs.on(ChangeMessageVisibilityBatchCommand).resolves({});
    };

    setup();
    const table = await run(['dlq', '--queue', 'ingest'], ctx);
    setup();
    const json = await run(['dlq', '--queue', 'ingest', '--json'], ctx);

    expect(table.code).toBe(0);
    expect(table.stdout).not.toMatch(RAW_CONTROL);
    expect(table.stdout).toContain('ingest-bucket/incoming/orders/x\\x9b2J\\u202ey.ndjson');
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(json.stdout).queues[0].messages[0].summary).toBe(
      'ObjectCreated:Put: ingest-bucket/incoming/orders/x\u009b2J\u202ey.ndjson',
    );
  });
});
