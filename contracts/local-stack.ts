/**
 * The local mode's contract with the CLI: where an instance keeps its files, the shape of its `stack.json`
 * (docs/architecture.md, "Local mode"), and how a client signs for it. The local mode writes it, the CLI reads it;
 * neither imports the other for it. No CDK, no AWS SDK.
 */
import * as path from 'node:path';

/** Default state directory of the local mode: `.local` at the repository root. */
export const DEFAULT_STATE_DIR = path.join(path.resolve(__dirname, '..'), '.local');

/** Default port of the emulator (the port LocalStack and moto users expect). */
export const DEFAULT_PORT = 4566;

/**
 * The access key of one local mode instance: generated when it starts, the only key its emulator answers to
 * (local/emulator/sigv4_auth.py), written to `stack.json` where only its owner can read it.
 */
export interface LocalCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * The pipeline's components that call AWS with a role of their own in the stack. In the local mode each gets an access
 * key of its own, so the emulator knows which one made a call and records it (local/emulator/call_log.py), for the
 * check of every call against that component's policy (test/e2e/support/iam-check.ts).
 */
export const LOCAL_COMPONENTS = ['manifest-builder', 'sweeper', 'canary', 'state-machine', 'glue-job'] as const;
/** One of {@link LOCAL_COMPONENTS}; the Lambdas are named as their `POWERTOOLS_SERVICE_NAME`. */
export type LocalComponent = (typeof LOCAL_COMPONENTS)[number];

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
  /**
   * Each component's own key (absent in files of older instances: they all used the instance's key). The operator
   * CLI and the tests sign with the instance's key (`accessKeyId`), whose calls are not recorded.
   */
  readonly componentKeys?: Readonly<Record<LocalComponent, LocalCredentials>>;
}

/** The key a component signs with: its own, else (a file of an older instance) the instance's. */
export function componentCredentials(stack: LocalStack, component: LocalComponent): LocalCredentials {
  const own = stack.componentKeys?.[component];
  return own ?? { accessKeyId: stack.accessKeyId, secretAccessKey: stack.secretAccessKey };
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
