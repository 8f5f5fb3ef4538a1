/**
 * Where the local mode keeps its files, and the shape of `.local/stack.json` (docs/architecture.md, "Local mode").
 */
import { randomBytes, randomInt } from 'node:crypto';
import { chmodSync, closeSync, existsSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
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

/**
 * The access key of one local mode instance: generated when it starts, the only key its emulator answers to
 * (local/emulator/sigv4_auth.py), written to `stack.json` where only its owner can read it.
 */
export interface LocalCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The resources of a running local mode; the CLI reads the same names from the deployed stack's outputs. */
export interface LocalStack extends LocalCredentials {
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

const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A new access key for an emulator instance: an id shaped like AWS's and a 40-character random secret. */
export function generateCredentials(): LocalCredentials {
  let id = 'LKIA';
  for (let i = 0; i < 16; i++) id += KEY_ID_ALPHABET[randomInt(KEY_ID_ALPHABET.length)];
  return { accessKeyId: id, secretAccessKey: randomBytes(30).toString('base64url') };
}

/** The environment that hands the emulator its key (never its command line, which every local user can read). */
export function emulatorKeyEnvironment(credentials: LocalCredentials): Record<string, string> {
  return { EMULATOR_ACCESS_KEY_ID: credentials.accessKeyId, EMULATOR_SECRET_ACCESS_KEY: credentials.secretAccessKey };
}

/**
 * Writes `stack.json` readable and writable by its owner only (mode 0600), since it holds the instance's secret:
 * written aside under that mode, then renamed over the old file, so no reader ever sees it open or half written.
 */
export function writeStackFile(stackFile: string, stack: LocalStack): void {
  const aside = `${stackFile}.${process.pid}.tmp`;
  const fd = openSync(aside, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(stack, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  chmodSync(aside, 0o600); // in case the file was there before, with another mode
  renameSync(aside, stackFile);
}

/** Client settings that point an AWS SDK v3 client at the emulator, signing with the instance's key. */
export function clientConfig(stack: Pick<LocalStack, 'endpoint' | 'region' | 'accessKeyId' | 'secretAccessKey'>) {
  return {
    endpoint: stack.endpoint,
    region: stack.region,
    credentials: { accessKeyId: stack.accessKeyId, secretAccessKey: stack.secretAccessKey },
    // Path-style addressing: bucket names cannot be resolved as subdomains of 127.0.0.1.
    forcePathStyle: true,
  };
}
