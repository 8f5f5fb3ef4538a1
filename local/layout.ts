/**
 * The local mode's own files: its instance key and how `stack.json` is written and read. Where the files are and
 * the shape of `stack.json` are the contract the CLI reads too, in contracts/local-stack.ts.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { chmodSync, closeSync, existsSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import {
  DEFAULT_STATE_DIR,
  LOCAL_COMPONENTS,
  LocalModeNotRunningError,
  localPaths,
  type LocalComponent,
  type LocalCredentials,
  type LocalStack,
} from '../contracts/local-stack';

/** The repository root: the local mode runs the repository's own handlers, ASL and Glue script. */
export const REPO_ROOT = path.resolve(__dirname, '..');

/** The region the local mode provisions in. */
export const LOCAL_REGION = 'us-east-1';

/** moto's default account id; every ARN the emulator hands out carries it. */
export const LOCAL_ACCOUNT = '123456789012';

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

/** A new key for each of the pipeline's components (contracts/local-stack.ts, `LOCAL_COMPONENTS`). */
export function generateComponentKeys(): Record<LocalComponent, LocalCredentials> {
  return Object.fromEntries(LOCAL_COMPONENTS.map((component) => [component, generateCredentials()])) as Record<
    LocalComponent,
    LocalCredentials
  >;
}

/**
 * The environment that hands the emulator its key and the components' keys (never its command line, which every
 * local user can read): local/emulator/sigv4_auth.py reads them.
 */
export function emulatorKeyEnvironment(
  credentials: LocalCredentials,
  componentKeys: Readonly<Record<LocalComponent, LocalCredentials>> | undefined = undefined,
): Record<string, string> {
  return {
    EMULATOR_ACCESS_KEY_ID: credentials.accessKeyId,
    EMULATOR_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    ...(componentKeys ? { EMULATOR_COMPONENT_KEYS: JSON.stringify(componentKeys) } : {}),
  };
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
