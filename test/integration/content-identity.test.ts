/**
 * Content identity (I7) with the real builder against moto carrying S3's checksums (local/emulator/s3_checksums.py):
 * the same bytes uploaded as multipart uploads of 5 MB and of 6 MB parts, and by `pipeline upload`, have three
 * eTags and one full-object CRC64NVME; they are one file, placed once. Each duplicate delivery moves the file
 * record's expiry to the full retention from that delivery, which `pipeline reconcile`'s horizon relies on.
 */
import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutBucketVersioningCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { keys, STATE_TABLE } from '../../contracts/table-schema';
import { contentTagOfObject } from '../../handlers/common/content-identity';
import type { AwsClients } from '../../handlers/common/aws-clients';
import { UPLOAD_CHECKSUM_ALGORITHM } from '../../cli/ops/upload';
import { MotoServer, settingsFor, type PipelineResources } from '../helpers/moto';
import { RecordingMetrics, builderOn, deliverUntilDone } from '../helpers/pipeline-fixture';
import { notificationOf, type UploadedObject } from '../helpers/s3-events';

const MB = 1024 * 1024;
const KEY = 'incoming/orders/big.ndjson';

let server: MotoServer;
let resources: PipelineResources;
let clients: AwsClients;
/** A client that sends no checksum of its own, as the S3A connector and older SDKs: S3 adds a CRC64NVME. */
let bare: S3Client;

beforeAll(async () => {
  server = await MotoServer.start();
  resources = await server.createPipelineResources();
  clients = server.clients();
  bare = new S3Client({ ...server.clientConfig(), forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
  await clients.s3.send(new PutBucketVersioningCommand({ Bucket: resources.ingestBucket, VersioningConfiguration: { Status: 'Enabled' } }));
});

afterAll(async () => {
  bare?.destroy();
  await server?.stop();
});

let sequence = 0x9000;
function uploadedAs(eTag: string | undefined, versionId: string | undefined, size: number): UploadedObject {
  sequence += 1;
  return {
    bucket: resources.ingestBucket,
    key: KEY,
    size,
    eTag: (eTag ?? '').replace(/"/g, ''),
    versionId,
    sequencer: `0062E99A88DC407${sequence.toString(16).toUpperCase().padStart(6, '0')}`,
  };
}

async function multipart(data: Buffer, partSize: number): Promise<UploadedObject> {
  const { UploadId } = await bare.send(new CreateMultipartUploadCommand({ Bucket: resources.ingestBucket, Key: KEY }));
  const parts = [];
  for (let start = 0, n = 1; start < data.length; start += partSize, n++) {
    const out = await bare.send(
      new UploadPartCommand({
        Bucket: resources.ingestBucket,
        Key: KEY,
        UploadId,
        PartNumber: n,
        Body: data.subarray(start, start + partSize),
      }),
    );
    parts.push({ PartNumber: n, ETag: out.ETag });
  }
  const done = await bare.send(
    new CompleteMultipartUploadCommand({ Bucket: resources.ingestBucket, Key: KEY, UploadId, MultipartUpload: { Parts: parts } }),
  );
  return uploadedAs(done.ETag, done.VersionId, data.length);
}

test('identical bytes in parts of 5 MB, of 6 MB and by pipeline upload are one file; each duplicate refreshes its record', async () => {
  const data = randomBytes(13 * MB);
  const fiveMb = await multipart(data, 5 * MB);
  const sixMb = await multipart(data, 6 * MB);
  // As `pipeline upload` sends a large file: lib-storage, in parts, with the CLI's checksum algorithm.
  const viaCli = await new Upload({
    client: clients.s3,
    params: { Bucket: resources.ingestBucket, Key: KEY, Body: data, ChecksumAlgorithm: UPLOAD_CHECKSUM_ALGORITHM },
    partSize: 7 * MB,
  }).done();
  const cli = uploadedAs(viaCli.ETag, viaCli.VersionId, data.length);
  expect(new Set([fiveMb.eTag, sixMb.eTag, cli.eTag]).size).toBe(3);
  const tags = await Promise.all([fiveMb, sixMb, cli].map((o) => contentTagOfObject(clients.s3, { ...o, eTag: o.eTag! })));
  expect(new Set(tags).size).toBe(1);
  expect(tags[0]).toMatch(/^crc64nvme:[A-Za-z0-9+/]{11}=$/);

  let now = new Date('2026-11-23T10:00:00Z');
  const metrics = new RecordingMetrics();
  const builder = builderOn(clients, settingsFor(resources, { batchSize: 10 }), metrics, () => now);
  const doc = DynamoDBDocumentClient.from(clients.dynamodb);
  const fileRecord = async () =>
    (
      await doc.send(
        new GetCommand({ TableName: resources.stateTable, Key: keys.file(resources.ingestBucket, KEY, tags[0]), ConsistentRead: true }),
      )
    ).Item;

  await deliverUntilDone(builder, [notificationOf(fiveMb)]);
  const first = await fileRecord();
  expect(first).toMatchObject({ versionId: fiveMb.versionId, contentTag: tags[0] });
  now = new Date(now.getTime() + 80 * 86_400_000);
  await deliverUntilDone(builder, [notificationOf(sixMb), notificationOf(cli)]);

  expect(metrics.total('FilesAccepted')).toBe(1);
  expect(metrics.total('DuplicatesSkipped')).toBe(2);
  const manifestFiles = await doc.send(
    new QueryCommand({
      TableName: resources.stateTable,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :f)',
      ExpressionAttributeValues: { ':pk': keys.manifestFile(first!.manifestId as string, KEY, tags[0]).pk, ':f': 'F#' },
    }),
  );
  expect(manifestFiles.Items).toHaveLength(1);
  // The record now lives 90 days from the last duplicate, not from the first delivery.
  const refreshed = await fileRecord();
  expect(refreshed![STATE_TABLE.ttlAttribute]).toBe(Math.floor(now.getTime() / 1000) + 90 * 86_400);
  expect(refreshed![STATE_TABLE.ttlAttribute]).toBeGreaterThan(first![STATE_TABLE.ttlAttribute] as number);
});
