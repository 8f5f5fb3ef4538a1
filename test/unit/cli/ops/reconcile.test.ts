import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, HeadObjectCommandInput, ListObjectVersionsCommand, ListObjectVersionsCommandInput } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { StateStore } from '../../../../handlers/common/state-store';
import { classifyObject } from '../../../../handlers/domain/dataset';
import { decodeS3Key, parseNotification } from '../../../../handlers/domain/s3-event';
import { keys } from '../../../../contracts/table-schema';
import { CliIo } from '../../../../cli/commands/shared';
import { runCli } from '../../../../cli/main';
import { encodeS3EventKey, FILE_RECORD_RETENTION_DAYS, reconcile, s3EventNotification } from '../../../../cli/ops/reconcile';
import { cloudTarget, localTarget, testContext } from '../fixtures';

const BUCKET = cloudTarget.ingestBucket;
const NOW = new Date('2026-11-23T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000);

interface Version {
  Key: string;
  VersionId: string;
  ETag: string;
  Size: number;
  LastModified: Date;
  IsLatest?: boolean;
}
const v = (Key: string, VersionId: string, eTag: string, Size = 10, age = 1): Version => ({
  Key,
  VersionId,
  ETag: `"${eTag}"`,
  Size,
  LastModified: daysAgo(age),
});

describe('the notification reconcile sends', () => {
  it.each(['incoming/orders/a.ndjson', "incoming/orders/with space+plus%/é 日本/(x)!*'~.ndjson", 'incoming/orders/a\u001b[2J.ndjson'])(
    "is parsed by the builder as S3's own, key decoded back: %s",
    (key) => {
      const body = s3EventNotification({ bucket: BUCKET, key, size: 42, eTag: 'abc', versionId: 'v1', lastModified: NOW }, 'eu-west-1');

      const parsed = parseNotification('m1', body);

      expect(decodeS3Key(encodeS3EventKey(key))).toBe(key);
      expect(parsed).toEqual({
        kind: 'records',
        records: [
          {
            bucket: BUCKET,
            key,
            size: 42,
            eTag: 'abc',
            versionId: 'v1',
            sequencer: undefined,
            eventName: 'ObjectCreated:Put',
            eventTime: NOW.toISOString(),
          },
        ],
      });
      expect(JSON.parse(body).Records[0]).toMatchObject({
        eventSource: 'aws:s3',
        awsRegion: 'eu-west-1',
        s3: { bucket: { arn: `arn:aws:s3:::${BUCKET}` } },
      });
    },
  );

  it('encodes keys as S3 does: a space as +, / kept, other unsafe bytes as %XX of their UTF-8', () => {
    expect(encodeS3EventKey("incoming/o/a b+c(1)!'*~é.ndjson")).toBe('incoming/o/a+b%2Bc%281%29%21%27%2A~%C3%A9.ndjson');
  });

  it('names a multipart upload as S3 does', () => {
    const body = s3EventNotification({ bucket: BUCKET, key: 'incoming/o/big.ndjson', size: 1, eTag: 'd41d8cd9-3' }, 'eu-west-1');

    expect(JSON.parse(body).Records[0].eventName).toBe('ObjectCreated:CompleteMultipartUpload');
  });

  it('compares against records that live as long as the state store keeps them', () => {
    expect(FILE_RECORD_RETENTION_DAYS * 86_400).toBe(new StateStore(new DynamoDBClient({ region: 'eu-west-1' }), 't').fileTtlSeconds);
  });
});

describe('reconcile', () => {
  const ctx = testContext(cloudTarget, NOW);
  const s3 = mockClient(ctx.s3);
  const sqs = mockClient(ctx.sqs);
  const ddb = mockClient(ctx.ddb);
  let recorded: Set<string>;

  /** The listing in pages, as ListObjectVersions gives it (by key, newest version first). */
  function listing(pages: Version[][], deleteMarkerOn?: string) {
    s3.on(ListObjectVersionsCommand).callsFake((input: ListObjectVersionsCommandInput) => {
      const all = pages.flat().filter((x) => x.Key.startsWith(input.Prefix ?? ''));
      const byPage = pages.map((p) => p.filter((x) => all.includes(x))).filter((p) => p.length > 0);
      const index = input.KeyMarker === undefined ? 0 : Number(input.VersionIdMarker);
      const truncated = index < byPage.length - 1;
      return {
        Versions: byPage[index] ?? [],
        DeleteMarkers: deleteMarkerOn ? [{ Key: deleteMarkerOn, VersionId: 'dm', IsLatest: true }] : [],
        IsTruncated: truncated,
        NextKeyMarker: truncated ? 'k' : undefined,
        NextVersionIdMarker: truncated ? String(index + 1) : undefined,
      };
    });
  }

  /** Bodies sent to the ingest queue, parsed as the builder parses them. */
  const sentRecords = () =>
    sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => {
      const input = c.args[0].input;
      expect(input.QueueUrl).toBe(cloudTarget.ingestQueueUrl);
      return (input.Entries ?? []).map((e) => {
        const n = parseNotification(e.Id ?? '', e.MessageBody ?? '');
        if (n.kind !== 'records') throw new Error('not records');
        expect(n.records).toHaveLength(1);
        return n.records[0];
      });
    });

  beforeEach(() => {
    s3.reset();
    sqs.reset();
    ddb.reset();
    recorded = new Set();
    // No version has a checksum unless a test says so: each is identified by its eTag.
    s3.on(HeadObjectCommand).resolves({});
    ddb.on(DescribeTableCommand).resolves({ Table: { CreationDateTime: daysAgo(30) } });
    ddb.on(BatchGetCommand).callsFake((input: { RequestItems: Record<string, { Keys: { pk: string }[] }> }) => {
      const asked = input.RequestItems[cloudTarget.stateTable].Keys;
      expect(asked.length).toBeLessThanOrEqual(100);
      return { Responses: { [cloudTarget.stateTable]: asked.filter((k) => recorded.has(k.pk)).map((k) => ({ pk: k.pk })) } };
    });
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id, MessageId: `m${e.Id}`, MD5OfMessageBody: 'x' })),
    }));
  });

  const file = (key: string, eTag: string) => keys.file(BUCKET, key, eTag).pk;

  it('counts each version as in manifests, rejected or missing per dataset, and sends each missing content once, with its version and eTag', async () => {
    listing(
      [
        [
          v('incoming/orders/a.ndjson', 'a2', 'ea'),
          // A producer's retried PUT: an older version with the recorded content. In a manifest; nothing to send.
          v('incoming/orders/a.ndjson', 'a1', 'ea'),
          // New bytes under the key, never notified; and the same bytes twice: one file.
          v('incoming/orders/b.ndjson', 'b3', 'eb2'),
          v('incoming/orders/b.ndjson', 'b2', 'eb2'),
          v('incoming/orders/b.ndjson', 'b1', 'eb1'),
          v('incoming/orders/folder/', 'f1', 'd41d8cd98f00b204e9800998ecf8427e', 0),
          v('incoming/orders/notes.txt', 'n1', 'en'),
        ],
        [v('incoming/Bad-Name/x.ndjson', 'x1', 'ex'), v('incoming/clicks/c.ndjson', 'c1', 'ec')],
      ],
      'incoming/orders/gone.ndjson',
    );
    recorded = new Set([
      file('incoming/orders/a.ndjson', 'ea'),
      file('incoming/orders/b.ndjson', 'eb1'),
      keys.rejected(BUCKET, 'incoming/orders/notes.txt').pk,
    ]);

    const result = await reconcile(ctx);

    expect(result.datasets).toEqual({
      orders: { inManifests: 3, rejected: 1, missing: 2, sent: 1 },
      'Bad-Name': { inManifests: 0, rejected: 0, missing: 1, sent: 1 },
      clicks: { inManifests: 0, rejected: 0, missing: 1, sent: 1 },
    });
    expect(result).toMatchObject({ listed: 9, ignored: 1, notCompared: 0 });
    expect(sentRecords()).toEqual([
      expect.objectContaining({
        bucket: BUCKET,
        key: 'incoming/orders/b.ndjson',
        versionId: 'b3',
        eTag: 'eb2',
        size: 10,
        eventName: 'ObjectCreated:Put',
      }),
      expect.objectContaining({ key: 'incoming/Bad-Name/x.ndjson', versionId: 'x1', eTag: 'ex' }),
      expect.objectContaining({ key: 'incoming/clicks/c.ndjson', versionId: 'c1', eTag: 'ec' }),
    ]);
    // The builder will refuse Bad-Name as it refuses S3's own notification of it, and record the rejection.
    expect(classifyObject('incoming/Bad-Name/x.ndjson', 10, 'ObjectCreated:Put', ctx.config).action).toBe('reject');
    // Both the content's FILE# item and the key's REJECTED# item were asked for, consistently.
    const asked = ddb
      .commandCalls(BatchGetCommand)
      .flatMap((c) => (c.args[0].input.RequestItems?.[cloudTarget.stateTable].Keys ?? []).map((k) => k.pk));
    expect(asked).toEqual(
      expect.arrayContaining([file('incoming/orders/b.ndjson', 'eb2'), keys.rejected(BUCKET, 'incoming/orders/b.ndjson').pk]),
    );
    expect(
      ddb.commandCalls(BatchGetCommand).every((c) => c.args[0].input.RequestItems?.[cloudTarget.stateTable].ConsistentRead === true),
    ).toBe(true);
  });

  it('identifies each version by its full-object checksum, as the builder does: other eTags of recorded bytes are in manifests', async () => {
    listing([
      [
        v('incoming/orders/a.ndjson', 'a3', 'e5mb-3'),
        v('incoming/orders/a.ndjson', 'a2', 'e6mb-2'),
        v('incoming/orders/a.ndjson', 'a1', 'eold'),
        v('incoming/orders/c.ndjson', 'c2', 'ec2-2'),
        v('incoming/orders/c.ndjson', 'c1', 'ec1-3'),
      ],
    ]);
    const checksums: Record<string, string> = { a3: 'AAAAAAAAAAA=', a2: 'AAAAAAAAAAA=', c2: 'rvlAgO7pOzs=', c1: 'rvlAgO7pOzs=' };
    s3.on(HeadObjectCommand).callsFake((input: HeadObjectCommandInput) => {
      expect(input).toMatchObject({ Bucket: BUCKET, ChecksumMode: 'ENABLED' });
      const versionETag: Record<string, string> = { a3: 'e5mb-3', a2: 'e6mb-2', a1: 'eold', c2: 'ec2-2', c1: 'ec1-3' };
      const value = checksums[input.VersionId!];
      return { ETag: `"${versionETag[input.VersionId!]}"`, ...(value ? { ChecksumCRC64NVME: value, ChecksumType: 'FULL_OBJECT' } : {}) };
    });
    // a's bytes recorded by their checksum; a1 (no checksum, from before) by its eTag. c was never delivered.
    recorded = new Set([file('incoming/orders/a.ndjson', 'crc64nvme:AAAAAAAAAAA='), file('incoming/orders/a.ndjson', 'eold')]);

    const result = await reconcile(ctx);

    expect(result.datasets.orders).toEqual({ inManifests: 3, rejected: 0, missing: 2, sent: 1 });
    expect(sentRecords()).toEqual([expect.objectContaining({ key: 'incoming/orders/c.ndjson', versionId: 'c2', eTag: 'ec2-2' })]);
  });

  it('finds nothing to do once what it sent is recorded', async () => {
    listing([[v('incoming/orders/b.ndjson', 'b2', 'eb2'), v('incoming/orders/b.ndjson', 'b1', 'eb2')]]);

    const first = await reconcile(ctx);
    recorded.add(file('incoming/orders/b.ndjson', 'eb2'));
    sqs.resetHistory();
    const second = await reconcile(ctx);

    expect(first.datasets.orders).toEqual({ inManifests: 0, rejected: 0, missing: 2, sent: 1 });
    expect(second.datasets.orders).toEqual({ inManifests: 2, rejected: 0, missing: 0, sent: 0 });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('sends nothing in a dry run, and lists only the dataset and the versions modified since the time asked', async () => {
    listing([
      [v('incoming/clicks/old.ndjson', 'o1', 'eo', 10, 5), v('incoming/clicks/new.ndjson', 'n1', 'en', 10, 1)],
      [v('incoming/orders/x.ndjson', 'x1', 'ex')],
    ]);

    const result = await reconcile(ctx, { dataset: 'clicks', since: daysAgo(2), dryRun: true });

    expect(s3.commandCalls(ListObjectVersionsCommand)[0].args[0].input).toMatchObject({ Bucket: BUCKET, Prefix: 'incoming/clicks/' });
    expect(result.datasets).toEqual({ clicks: { inManifests: 0, rejected: 0, missing: 1, sent: 0 } });
    expect(result.notCompared).toBe(1);
    expect(result.files.map((f) => f.key)).toEqual(['incoming/clicks/new.ndjson']);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('sends 10 notifications a call and sends again those the queue refused', async () => {
    listing([Array.from({ length: 12 }, (_, i) => v(`incoming/orders/f${String(i).padStart(2, '0')}.ndjson`, `v${i}`, `e${i}`))]);
    sqs
      .on(SendMessageBatchCommand)
      .callsFakeOnce((input: SendMessageBatchCommandInput) => ({
        Successful: (input.Entries ?? []).slice(1).map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: 'x' })),
        Failed: [{ Id: input.Entries?.[0].Id, Code: 'InternalError', SenderFault: false }],
      }))
      .callsFake((input: SendMessageBatchCommandInput) => ({
        Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: 'x' })),
      }));

    const result = await reconcile(ctx);

    expect(sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries?.length)).toEqual([10, 1, 2]);
    expect(new Set(sentRecords().map((r) => r.key)).size).toBe(12);
    expect(result.datasets.orders.sent).toBe(12);
  });

  it('does not compare versions older than the record horizon once the table is older than it, and refuses --since past it', async () => {
    ddb.on(DescribeTableCommand).resolves({ Table: { CreationDateTime: daysAgo(400) } });
    listing([[v('incoming/orders/ancient.ndjson', 'a1', 'ea', 10, 120), v('incoming/orders/recent.ndjson', 'r1', 'er', 10, 3)]]);

    const result = await reconcile(ctx);

    expect(result.datasets.orders).toEqual({ inManifests: 0, rejected: 0, missing: 1, sent: 1 });
    expect(result.notCompared).toBe(1);
    expect(result.horizonNote).toMatch(
      /^versions modified before 2026-08-25 12:00:00Z were not compared: file records expire after 90 days/,
    );
    await expect(reconcile(ctx, { since: daysAgo(100) })).rejects.toThrow(
      /^--since 2026-08-15 12:00:00Z reaches past 2026-08-25 12:00:00Z: file records expire after 90 days/,
    );
  });

  it('compares every version, however old, while the table is younger than the horizon (a backfill of files older than the stack)', async () => {
    ddb.on(DescribeTableCommand).resolves({ Table: { CreationDateTime: daysAgo(2) } });
    listing([[v('incoming/orders/ancient.ndjson', 'a1', 'ea', 10, 700)]]);

    const result = await reconcile(ctx);

    expect(result.datasets.orders).toEqual({ inManifests: 0, rejected: 0, missing: 1, sent: 1 });
    expect(sentRecords()[0]).toMatchObject({
      key: 'incoming/orders/ancient.ndjson',
      versionId: 'a1',
      eventTime: daysAgo(700).toISOString(),
    });
  });

  it("leaves out the version id of an unversioned bucket, as S3's events do", async () => {
    listing([[v('incoming/orders/u.ndjson', 'null', 'eu')]]);

    await reconcile(ctx);

    expect(sentRecords()[0]).toMatchObject({ key: 'incoming/orders/u.ndjson', eTag: 'eu', versionId: undefined });
  });

  describe('pipeline reconcile', () => {
    async function run(args: string[], target = cloudTarget) {
      const out: string[] = [];
      const err: string[] = [];
      const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), stderrIsTTY: false };
      const c = target === cloudTarget ? ctx : { ...ctx, target };
      const code = await runCli(['node', 'pipeline', ...args], { makeContext: async () => c, io });
      return { code, stdout: out.join('\n'), stderr: err.join('\n') };
    }

    it('prints exactly {"datasets": {...}} with --json', async () => {
      listing([[v('incoming/orders/a.ndjson', 'a1', 'ea'), v('incoming/orders/b.ndjson', 'b1', 'eb')]]);
      recorded.add(file('incoming/orders/a.ndjson', 'ea'));

      const result = await run(['reconcile', '--json']);

      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toStrictEqual({ datasets: { orders: { inManifests: 1, rejected: 0, missing: 1, sent: 1 } } });
    });

    it('prints a table per dataset, keys escaped, and one progress line per page of a long listing', async () => {
      listing([[v('incoming/orders/a.ndjson', 'a1', 'ea')], [v('incoming/x\u001b[2J/b.ndjson', 'b1', 'eb')]]);

      const result = await run(['reconcile', '--dry-run'], localTarget);

      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^DATASET +IN MANIFESTS +REJECTED +MISSING +SENT\norders +0 +0 +1 +0\nx\\x1b\[2J +0 +0 +1 +0\n/);
      expect(result.stdout).toContain('Dry run: 2 missing versions (2 files), nothing sent.');
      expect(result.stdout).toContain('  incoming/x\\x1b[2J/b.ndjson (version b1)');
      expect(result.stdout).not.toContain('\u001b');
      expect(result.stderr.split('\n')).toEqual([
        'compared 1 versions, listing more: 1 missing, 0 sent',
        'compared 2 versions: 2 missing, 0 sent',
      ]);
      expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    });

    it('says when nothing is missing', async () => {
      listing([[v('incoming/orders/a.ndjson', 'a1', 'ea')]]);
      recorded.add(file('incoming/orders/a.ndjson', 'ea'));

      const result = await run(['reconcile']);

      expect(result.stdout).toContain('Nothing missing: every version is in a manifest or recorded as rejected.');
      expect(result.stderr).toBe('');
    });

    it.each([
      [['reconcile', '--dataset', 'Orders'], /^error: dataset "Orders" is not valid/],
      [['reconcile', '--since', 'yesterday'], /^error: --since "yesterday" is neither an age/],
    ])('refuses bad input with one line and exit code 2: %j', async (args, message) => {
      const result = await run(args);

      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.split('\n')).toHaveLength(1);
      expect(s3.commandCalls(ListObjectVersionsCommand)).toHaveLength(0);
    });
  });
});
