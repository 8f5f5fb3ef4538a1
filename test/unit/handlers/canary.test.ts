/**
 * One check of the canary against mocked S3 and state table: what it reads, what it publishes, what it uploads.
 * The end-to-end check (the real handler against the local mode) is test/e2e/canary.test.ts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { runCanary, type CanaryDeps } from '../../../handlers/canary/canary';
import { StateStore } from '../../../handlers/common/state-store';
import { canaryBody, canaryKey } from '../../../handlers/domain/canary';
import { keys } from '../../../contracts/table-schema';
import type { CanaryHandlerSettings } from '../../../contracts/lambda-environment';
import { RecordingMetrics, silentLogger } from '../../helpers/pipeline-fixture';

const settings: CanaryHandlerSettings = {
  stateTable: 'state',
  ingestBucket: 'ingest',
  ingestPrefix: 'incoming/',
  everySeconds: 3600,
  checkSeconds: 300,
  lookbackSeconds: 3 * 3600,
};

const s3 = mockClient(S3Client);
const ddb = mockClient(DynamoDBDocumentClient);
beforeEach(() => {
  s3.reset();
  ddb.reset();
});
afterAll(() => {
  s3.restore();
  ddb.restore();
});

function deps(metrics: RecordingMetrics): CanaryDeps {
  const dynamodb = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  return {
    s3: new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
    store: new StateStore(dynamodb, settings.stateTable),
    settings,
    logger: silentLogger(),
    metrics,
  };
}

const at = (iso: string) => new Date(iso);
const converted = canaryKey('incoming/', at('2026-12-07T10:00:00Z'));
const waiting = canaryKey('incoming/', at('2026-12-07T11:00:00Z'));

/** Two canary files in the bucket: the one of 10:00, converted at 10:56 (the 11:00 check's window), and the one of 11:00. */
function twoFiles(): void {
  s3.on(ListObjectsV2Command, { Prefix: 'incoming/pipeline_canary/2026-12-07/' }).resolves({
    Contents: [
      { Key: converted, ETag: '"e1"', LastModified: at('2026-12-07T10:00:02Z') },
      { Key: waiting, ETag: '"e2"', LastModified: at('2026-12-07T11:00:03Z') },
      // Not a canary file's name: not looked at.
      { Key: 'incoming/pipeline_canary/2026-12-07/stray.ndjson', ETag: '"e3"', LastModified: at('2026-12-07T10:30:00Z') },
    ],
  });
  s3.on(HeadObjectCommand, { Key: converted }).resolves({ ETag: '"e1"', ChecksumCRC32: 'AAAAAA==', ChecksumType: 'FULL_OBJECT' });
  s3.on(HeadObjectCommand, { Key: waiting }).resolves({ ETag: '"e2"', ChecksumCRC32: 'BBBBBB==', ChecksumType: 'FULL_OBJECT' });
  ddb.on(GetCommand).resolves({});
  ddb
    .on(GetCommand, { Key: keys.file('ingest', converted, 'crc32:AAAAAA==') })
    .resolves({ Item: { manifestId: 'm1', dataset: 'pipeline_canary' } });
  ddb
    .on(GetCommand, { Key: keys.manifest('m1') })
    .resolves({ Item: { manifestId: 'm1', dataset: 'pipeline_canary', status: 'SUCCEEDED', finishedAt: '2026-12-07T10:56:00.000Z' } });
}

test('publishes the freshness of the file converted in its window and the age of the one not converted, then uploads on an upload tick', async () => {
  twoFiles();
  s3.on(PutObjectCommand).resolves({});
  const metrics = new RecordingMetrics();

  const report = await runCanary(deps(metrics), '2026-12-07T12:00:00Z', at('2026-12-07T12:00:09Z'));

  expect(report.files.map((f) => f.key)).toEqual([converted, waiting]);
  expect(metrics.values.get('CanaryFreshnessSeconds')).toBeUndefined(); // 10:56 is the 11:00 check's window
  expect(metrics.values.get('CanaryPendingAgeSeconds')).toEqual([3600 + 6]);
  expect(metrics.published).toBe(1);
  const put = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
  expect(put).toEqual([
    {
      Bucket: 'ingest',
      Key: 'incoming/pipeline_canary/2026-12-07/canary-20261207T120000Z.ndjson',
      Body: canaryBody(at('2026-12-07T12:00:00Z')),
      ContentType: 'application/x-ndjson',
    },
  ]);
  // It lists its own day prefixes only, and reads the records consistently.
  expect(s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input.Prefix)).toEqual(['incoming/pipeline_canary/2026-12-07/']);
  expect(ddb.commandCalls(GetCommand).every((c) => c.args[0].input.ConsistentRead === true)).toBe(true);
});

test('the check whose window holds the conversion publishes its freshness, once; a check off the upload tick uploads nothing', async () => {
  twoFiles();
  const metrics = new RecordingMetrics();

  await runCanary(deps(metrics), '2026-12-07T11:00:00Z', at('2026-12-07T11:00:20Z'));
  await runCanary(deps(metrics), '2026-12-07T11:05:00Z', at('2026-12-07T11:05:20Z'));

  expect(metrics.values.get('CanaryFreshnessSeconds')).toEqual([56 * 60 - 2]);
  expect(metrics.values.get('CanaryPendingAgeSeconds')).toEqual([17, 317]);
  // 11:00 is an upload tick (its file is the one listed, as after a retry: the same key and bytes); 11:05 is not.
  expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual([waiting]);
});

test('a file recorded under its eTag (an object without a full-object checksum) is found', async () => {
  s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: converted, ETag: '"e1"', LastModified: at('2026-12-07T10:00:02Z') }] });
  s3.on(HeadObjectCommand).resolves({ ETag: '"e1"' });
  ddb.on(GetCommand).resolves({});
  ddb.on(GetCommand, { Key: keys.file('ingest', converted, 'e1') }).resolves({ Item: { manifestId: 'm1', dataset: 'pipeline_canary' } });
  ddb.on(GetCommand, { Key: keys.manifest('m1') }).resolves({ Item: { status: 'SUCCEEDED', finishedAt: '2026-12-07T10:20:00.000Z' } });
  const metrics = new RecordingMetrics();

  await runCanary(deps(metrics), '2026-12-07T10:25:00Z', at('2026-12-07T10:25:05Z'));

  expect(metrics.values.get('CanaryFreshnessSeconds')).toEqual([20 * 60 - 2]);
  expect(metrics.values.get('CanaryPendingAgeSeconds')).toEqual([0]);
});

test('a manifest that ended FAILED leaves its file not converted; a failed upload fails the check after its metrics', async () => {
  s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: converted, ETag: '"e1"', LastModified: at('2026-12-07T10:00:02Z') }] });
  s3.on(HeadObjectCommand).resolves({ ETag: '"e1"' });
  ddb.on(GetCommand).resolves({});
  ddb.on(GetCommand, { Key: keys.file('ingest', converted, 'e1') }).resolves({ Item: { manifestId: 'm1', dataset: 'pipeline_canary' } });
  ddb.on(GetCommand, { Key: keys.manifest('m1') }).resolves({ Item: { status: 'FAILED', finishedAt: '2026-12-07T10:20:00.000Z' } });
  s3.on(PutObjectCommand).rejects(new Error('AccessDenied'));
  const metrics = new RecordingMetrics();

  await expect(runCanary(deps(metrics), '2026-12-07T11:00:00Z', at('2026-12-07T11:00:02Z'))).rejects.toThrow('AccessDenied');

  expect(metrics.values.get('CanaryPendingAgeSeconds')).toEqual([3600]);
  expect(metrics.published).toBe(1);
});
