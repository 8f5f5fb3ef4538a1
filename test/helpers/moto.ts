/**
 * A moto server for the handler tests and the builder benchmark: started on a free port from the project's
 * virtual environment (test/helpers/moto_server.py), with the pipeline's tables, curated bucket and a state
 * machine created as the stack creates them. Step Functions only records executions (moto's interpreter stays off).
 * Like the local mode's emulator, it answers only requests signed with a key generated for it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import type { AwsClients } from '../../handlers/common/aws-clients';
import type { HandlerSettings } from '../../contracts/lambda-environment';
import { type LocalCredentials } from '../../contracts/local-stack';
import { emulatorKeyEnvironment, generateCredentials } from '../../local/layout';
import { IDEMPOTENCY_TABLE, STATE_TABLE, STATE_TABLE_INDEXES, STATE_TABLE_KEY_ATTRIBUTES } from '../../contracts/table-schema';

const ROOT = join(__dirname, '..', '..');
const REGION = 'us-east-1';

/** Names of what {@link MotoServer.createPipelineResources} makes. */
export interface PipelineResources {
  readonly stateTable: string;
  readonly idempotencyTable: string;
  readonly curatedBucket: string;
  readonly ingestBucket: string;
  readonly stateMachineArn: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** SigV4 headers for a body-less request to moto's own API (`/moto-api/...`), which no SDK client covers. */
export function signedHeaders(credentials: LocalCredentials, method: string, url: string, now = new Date()): Record<string, string> {
  const { host, pathname } = new URL(url);
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const scope = `${amzDate.slice(0, 8)}/${REGION}/s3/aws4_request`;
  const payload = sha256('');
  const canonical = [
    method,
    pathname,
    '',
    `host:${host}\nx-amz-content-sha256:${payload}\nx-amz-date:${amzDate}\n`,
    'host;x-amz-content-sha256;x-amz-date',
    payload,
  ].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key: Buffer = hmac(`AWS4${credentials.secretAccessKey}`, amzDate.slice(0, 8));
  for (const part of [REGION, 's3', 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return {
    'x-amz-date': amzDate,
    'x-amz-content-sha256': payload,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${signature}`,
  };
}

/** A running moto server. */
export class MotoServer {
  private readonly made: Array<{ destroy(): void }> = [];

  private constructor(
    private readonly child: ChildProcess,
    /** `http://127.0.0.1:<port>` */
    readonly endpoint: string,
    /** The key this server answers to, generated for it. */
    readonly credentials: LocalCredentials,
  ) {}

  /** Starts moto on a free port with a key of its own and waits until it answers. */
  static async start(): Promise<MotoServer> {
    const port = await freePort();
    const python = join(ROOT, '.venv', 'bin', 'python');
    const credentials = generateCredentials();
    const child = spawn(python, [join(__dirname, 'moto_server.py'), '127.0.0.1', String(port)], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, MOTO_PORT: String(port), ...emulatorKeyEnvironment(credentials) },
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const server = new MotoServer(child, `http://127.0.0.1:${port}`, credentials);
    for (let i = 0; i < 300; i++) {
      if (child.exitCode !== null) throw new Error(`moto server exited with ${child.exitCode}: ${stderr}`);
      try {
        const url = `${server.endpoint}/moto-api/data.json`;
        const res = await fetch(url, { headers: signedHeaders(credentials, 'GET', url) });
        if (res.ok) return server;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    await server.stop();
    throw new Error(`moto server did not answer on ${server.endpoint}: ${stderr}`);
  }

  /** Stops the server. */
  async stop(): Promise<void> {
    for (const client of this.made.splice(0)) client.destroy();
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
    clearTimeout(timer);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  /** Forgets every resource (moto's reset API). */
  async reset(): Promise<void> {
    const url = `${this.endpoint}/moto-api/reset`;
    const res = await fetch(url, { method: 'POST', headers: signedHeaders(this.credentials, 'POST', url) });
    if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
  }

  /** Client configuration for this server. */
  clientConfig(): { region: string; endpoint: string; credentials: LocalCredentials } {
    return { region: REGION, endpoint: this.endpoint, credentials: this.credentials };
  }

  /** Fresh SDK clients on this server, as one Lambda instance would hold them. */
  clients(dynamodbConfig: Partial<DynamoDBClientConfig> = {}): AwsClients {
    const config = this.clientConfig();
    const clients = {
      dynamodb: new DynamoDBClient({ ...config, ...dynamodbConfig }),
      s3: new S3Client({ ...config, forcePathStyle: true }),
      sfn: new SFNClient(config),
      sns: new SNSClient(config),
    };
    this.made.push(clients.dynamodb, clients.s3, clients.sfn, clients.sns);
    return clients;
  }

  /** Creates the state table (with its GSIs), the idempotency table, the buckets and a state machine. */
  async createPipelineResources(suffix = 'test'): Promise<PipelineResources> {
    const { dynamodb, s3, sfn } = this.clients();
    const names = {
      stateTable: `state-${suffix}`,
      idempotencyTable: `idempotency-${suffix}`,
      curatedBucket: `curated-${suffix}`,
      ingestBucket: `ingest-${suffix}`,
    };
    const gsi = (index: { name: string; partitionKey: string; sortKey: string }) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    });
    await dynamodb.send(
      new CreateTableCommand({
        TableName: names.stateTable,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: STATE_TABLE.sortKey, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: STATE_TABLE_KEY_ATTRIBUTES.map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
        GlobalSecondaryIndexes: STATE_TABLE_INDEXES.map(gsi),
      }),
    );
    await dynamodb.send(
      new CreateTableCommand({
        TableName: names.idempotencyTable,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, AttributeType: 'S' }],
      }),
    );
    await s3.send(new CreateBucketCommand({ Bucket: names.curatedBucket }));
    await s3.send(new CreateBucketCommand({ Bucket: names.ingestBucket }));
    const machine = await sfn.send(
      new CreateStateMachineCommand({
        name: `convert-manifest-${suffix}`,
        roleArn: 'arn:aws:iam::123456789012:role/convert-manifest',
        definition: JSON.stringify({ StartAt: 'Convert', States: { Convert: { Type: 'Pass', End: true } } }),
      }),
    );
    dynamodb.destroy();
    s3.destroy();
    sfn.destroy();
    return { ...names, stateMachineArn: machine.stateMachineArn! };
  }
}

/** Handler settings for resources on the emulator, small batches unless told otherwise. */
export function settingsFor(resources: PipelineResources, overrides: Partial<HandlerSettings> = {}): HandlerSettings {
  return {
    stateTable: resources.stateTable,
    idempotencyTable: resources.idempotencyTable,
    stateMachineArn: resources.stateMachineArn,
    curatedBucket: resources.curatedBucket,
    ingestPrefix: 'incoming/',
    acceptedSuffixes: ['.ndjson', '.jsonl', '.json', '.ndjson.gz', '.jsonl.gz', '.json.gz'],
    region: 'us-east-1',
    ingestBucket: resources.ingestBucket,
    // The emulator here runs no execution, so every one stays RUNNING: no limit, unless a test sets one.
    maxConcurrentRuns: 1000,
    batchSize: 5,
    maxWaitMinutes: 15,
    idempotencyTtlSeconds: 3600,
    alertSubjectPrefix: 'Ingest pipeline',
    ...overrides,
  };
}
