/**
 * Where the local mode keeps its files, and the shape of `.local/stack.json` (docs/architecture.md, "Local mode").
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The repository root: the local mode runs the repository's own handlers, ASL and Glue script. */
export const REPO_ROOT = path.resolve(__dirname, '..');

/** Default state directory of the local mode, relative to the repository root. */
export const DEFAULT_STATE_DIR = path.join(REPO_ROOT, '.local');

/** Default port of the emulator (the port LocalStack and moto users expect). */
export const DEFAULT_PORT = 4566;

/** The region the local mode provisions in. */
export const LOCAL_REGION = 'us-east-1';

/** moto's default account id; every ARN the emulator hands out carries it. */
export const LOCAL_ACCOUNT = '123456789012';

/** The resources of a running local mode; the CLI reads the same names from the deployed stack's outputs. */
export interface LocalStack {
  readonly endpoint: string;
  readonly region: string;
  readonly ingestBucket: string;
  readonly curatedBucket: string;
  readonly ingestQueueUrl: string;
  readonly ingestDlqUrl: string;
  readonly stateTable: string;
  readonly idempotencyTable: string;
  readonly stateMachineArn: string;
  readonly glueJobName: string;
  readonly glueDatabase: string;
  readonly alertTopicArn: string;
  readonly outboxDir: string;
  readonly batchSize: number;
  readonly maxWaitSeconds: number;
  /** Glue runs, and so executions started, at once (absent in files of older instances: the config's). */
  readonly maxConcurrentRuns?: number;
}

/** The files of one local mode instance, all under its state directory. */
export interface LocalPaths {
  readonly stateDir: string;
  readonly stackFile: string;
  readonly pidDir: string;
  readonly logsDir: string;
  readonly outboxDir: string;
}

/** Paths of the local mode whose state lives in `stateDir`. */
export function localPaths(stateDir: string = DEFAULT_STATE_DIR): LocalPaths {
  const dir = path.resolve(stateDir);
  return {
    stateDir: dir,
    stackFile: path.join(dir, 'stack.json'),
    pidDir: path.join(dir, 'pids'),
    logsDir: path.join(dir, 'logs'),
    outboxDir: path.join(dir, 'outbox'),
  };
}

/** The local mode is not running (no stack file in the state directory). */
export class LocalModeNotRunningError extends Error {
  constructor(readonly stateDir: string) {
    super(`The local mode is not running (no ${path.join(stateDir, 'stack.json')}). Start it with: npx pipeline local start`);
    this.name = 'LocalModeNotRunningError';
  }
}

/** Reads `stack.json` of a running local mode. */
export function readStack(stateDir: string = DEFAULT_STATE_DIR): LocalStack {
  const { stackFile, stateDir: dir } = localPaths(stateDir);
  if (!existsSync(stackFile)) throw new LocalModeNotRunningError(dir);
  return JSON.parse(readFileSync(stackFile, 'utf8')) as LocalStack;
}

/** Client settings that point an AWS SDK v3 client at the emulator (dummy credentials: moto checks none). */
export function clientConfig(stack: Pick<LocalStack, 'endpoint' | 'region'>) {
  return {
    endpoint: stack.endpoint,
    region: stack.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // Path-style addressing: bucket names cannot be resolved as subdomains of 127.0.0.1.
    forcePathStyle: true,
  };
}
