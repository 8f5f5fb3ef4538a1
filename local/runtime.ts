/**
 * Starts and stops the local mode: the emulator (moto server with the Glue runner), the provisioned resources,
 * the SQS poller (manifest builder), the sweeper timer and, when asked, the canary timer. Each runs as its own process group with its log
 * under `<stateDir>/logs/` and its pid under `<stateDir>/pids/`, so `stop` works from any shell and a test or
 * the demo can run an instance of its own in another state directory on another port.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { resolveConfig } from '../contracts/config';
import { DEFAULT_PORT, LocalModeNotRunningError, localPaths, type LocalPaths, type LocalStack } from '../contracts/local-stack';
import { emulatorKeyEnvironment, generateComponentKeys, generateCredentials, LOCAL_REGION, REPO_ROOT, writeStackFile } from './layout';
import { checkPortFree, commandLine, isAlive, sleep } from './process-utils';
import { LOCAL_CANARY_CHECK_SECONDS } from './canary-timer';
import { provision } from './provision';

/** Options of {@link startLocal}. */
/**
 * Glue runs at once in the local mode, below the stack's default (`glue.maxConcurrentRuns`, 10): each run is a Spark JVM
 * of its own on this one machine (local/emulator/README.md).
 */
export const LOCAL_MAX_CONCURRENT_RUNS = 5;

export interface StartOptions {
  /** Where stack.json, pids, logs and the outbox go. @default `<repo>/.local` */
  readonly stateDir?: string;
  /** Emulator port on 127.0.0.1. @default 4566 */
  readonly port?: number;
  /** Most files in one manifest. @default the config's batchSize (200) */
  readonly batchSize?: number;
  /**
   * Seconds the oldest file of a manifest waits before the sweeper seals it; rounded up to whole minutes, the
   * unit of the handlers' `MAX_WAIT_MINUTES`. @default 60
   */
  readonly maxWaitSeconds?: number;
  /** Glue job runs allowed at once (each is a Spark JVM on this machine). @default LOCAL_MAX_CONCURRENT_RUNS (5) */
  readonly maxConcurrentRuns?: number;
  /** Seconds between two runs of the sweeper. @default a third of maxWaitSeconds, 1 to 10 */
  readonly sweeperIntervalSeconds?: number;
  /** Most records per manifest builder invocation. @default the stack's event source batch size (50) */
  readonly pollerBatchSize?: number;
  /**
   * Start the SQS poller with the rest. Without it notifications wait in the queue until {@link startPoller}:
   * the end-to-end tests use this to hold real notifications and deliver them again. @default true
   */
  readonly poller?: boolean;
  /** Visibility timeout of the ingest queue, in seconds. @default 10 */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * Factor applied to the waits of the state machine's Retry rules (the ASL's are minutes long, written for the
   * cloud); 1 runs them as written. @default 1
   */
  readonly retryIntervalScale?: number;
  /**
   * Execution timeout of the state machine in seconds, below the config's lower bound: for tests that make an
   * execution time out. @default the config's executionTimeoutMinutes
   */
  readonly executionTimeoutSeconds?: number;
  /**
   * Run the canary (docs/architecture.md, "Canary"): a file every this many seconds, a multiple of the local check
   * period (5 s), checked every 5 s. @default no canary
   */
  readonly canaryEverySeconds?: number;
  /** Progress messages while starting. @default none */
  readonly onProgress?: (message: string) => void;
}

/** The processes of a local mode instance, by pid file name, with a fragment of their command line. */
const PROCESSES = [
  { name: 'poller', marker: 'poller.ts', log: 'manifest-builder.log' },
  { name: 'sweeper', marker: 'sweeper-timer.ts', log: 'sweeper.log' },
  { name: 'canary', marker: 'canary-timer.ts', log: 'canary.log' },
  { name: 'emulator', marker: 'server.py', log: 'emulator.log' },
] as const;
type ProcessName = (typeof PROCESSES)[number]['name'];

/** Base class of the local mode's start and stop errors: their message is meant for the operator. */
export class LocalModeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalModeError';
  }
}

/** A local mode already runs in this state directory. */
export class LocalModeAlreadyRunningError extends LocalModeError {
  constructor(
    readonly stateDir: string,
    readonly endpoint: string | undefined,
  ) {
    super(
      `The local mode is already running${endpoint ? ` at ${endpoint}` : ''} (state in ${stateDir}). ` +
        'Stop it first with: npx pipeline local stop',
    );
    this.name = 'LocalModeAlreadyRunningError';
  }
}

/** The emulator's port is taken by another program. */
export class PortInUseError extends LocalModeError {
  constructor(readonly port: number) {
    super(`Port ${port} on 127.0.0.1 is already in use. Free it or pick another one: npx pipeline local start --port <port>`);
    this.name = 'PortInUseError';
  }
}

/** A process of the local mode did not come up. */
export class LocalProcessFailedError extends LocalModeError {
  constructor(
    readonly processName: string,
    readonly logFile: string,
    detail: string,
  ) {
    super(`The local mode's ${processName} did not start: ${detail}\nSee ${logFile}`);
    this.name = 'LocalProcessFailedError';
  }
}

/** Pids of the local mode's processes that are alive in this state directory. */
export function runningProcesses(stateDir?: string): Partial<Record<ProcessName, number>> {
  const paths = localPaths(stateDir);
  const out: Partial<Record<ProcessName, number>> = {};
  for (const p of PROCESSES) {
    const pid = readPid(paths, p.name);
    if (pid !== undefined && isAlive(pid) && (commandLine(pid) ?? '').includes(p.marker)) out[p.name] = pid;
  }
  return out;
}

/** Whether a local mode runs in this state directory. */
export function isRunning(stateDir?: string): boolean {
  return Object.keys(runningProcesses(stateDir)).length > 0;
}

/** Starts the local mode and returns its stack once the poller and the sweeper timer are up. */
export async function startLocal(options: StartOptions = {}): Promise<LocalStack> {
  const paths = localPaths(options.stateDir);
  const port = options.port ?? DEFAULT_PORT;
  const progress = options.onProgress ?? (() => undefined);
  if (isRunning(paths.stateDir)) {
    throw new LocalModeAlreadyRunningError(paths.stateDir, readEndpoint(paths));
  }
  const canaryEvery = options.canaryEverySeconds;
  if (canaryEvery !== undefined && (!Number.isInteger(canaryEvery) || canaryEvery < 1 || canaryEvery % LOCAL_CANARY_CHECK_SECONDS !== 0)) {
    throw new LocalModeError(`The canary's period must be a multiple of ${LOCAL_CANARY_CHECK_SECONDS} seconds, got ${canaryEvery}.`);
  }
  const python = path.join(REPO_ROOT, '.venv', 'bin', 'python');
  const server = path.join(REPO_ROOT, 'local', 'emulator', 'server.py');
  if (!existsSync(python)) throw new LocalModeError(`No Python environment at ${python}: run make install first.`);
  if (!existsSync(server)) throw new LocalModeError(`The emulator launcher ${server} is missing.`);
  try {
    await checkPortFree(port);
  } catch {
    throw new PortInUseError(port);
  }

  setAsidePreviousOutbox(paths);
  for (const dir of [paths.stateDir, paths.pidDir, paths.logsDir, paths.outboxDir]) mkdirSync(dir, { recursive: true });
  clearInstanceFiles(paths);

  // The handlers read MAX_WAIT_MINUTES, a whole number of minutes: a shorter wait is rounded up to one minute.
  const maxWaitMinutes = Math.max(1, Math.ceil((options.maxWaitSeconds ?? 60) / 60));
  const maxWaitSeconds = maxWaitMinutes * 60;
  if (options.maxWaitSeconds !== undefined && options.maxWaitSeconds !== maxWaitSeconds) {
    progress(`a manifest waits whole minutes: --max-wait-seconds ${options.maxWaitSeconds} is rounded up to ${maxWaitSeconds}`);
  }
  const config = resolveConfig({
    batchSize: options.batchSize,
    maxWaitMinutes,
    glue: { maxConcurrentRuns: options.maxConcurrentRuns ?? LOCAL_MAX_CONCURRENT_RUNS },
  });

  // The handlers run on Node 22, as on Lambda (nodejs22.x): checked before anything starts.
  const node = handlerNode();
  // This instance's key: the emulator answers no request signed with another (local/emulator/sigv4_auth.py), but
  // for the components' own keys, which tell it who made a call (local/emulator/call_log.py records them).
  const credentials = generateCredentials();
  const componentKeys = generateComponentKeys();

  try {
    progress(`starting the emulator on 127.0.0.1:${port}`);
    const endpoint = await startEmulator(
      paths,
      python,
      server,
      port,
      options.retryIntervalScale ?? 1,
      emulatorKeyEnvironment(credentials, componentKeys),
    );
    progress(`provisioning the pipeline's resources on ${endpoint}`);
    const stack = await provision({
      endpoint,
      region: LOCAL_REGION,
      credentials,
      config,
      maxWaitSeconds,
      outboxDir: paths.outboxDir,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
      executionTimeoutSeconds: options.executionTimeoutSeconds,
    });
    writeStackFile(paths.stackFile, { ...stack, componentKeys });

    progress('starting the manifest builder poller and the sweeper timer');
    const sweeperArgs = ['--state-dir', paths.stateDir];
    if (options.sweeperIntervalSeconds !== undefined) sweeperArgs.push('--interval-seconds', String(options.sweeperIntervalSeconds));
    startNodeProcess(paths, node, 'sweeper', path.join(REPO_ROOT, 'local', 'sweeper-timer.ts'), sweeperArgs);
    if (canaryEvery !== undefined) {
      progress(`starting the canary: a file every ${canaryEvery} s`);
      startNodeProcess(paths, node, 'canary', path.join(REPO_ROOT, 'local', 'canary-timer.ts'), [
        '--state-dir',
        paths.stateDir,
        '--every-seconds',
        String(canaryEvery),
      ]);
    }
    await Promise.all([
      waitReady(paths, 'sweeper'),
      canaryEvery === undefined ? Promise.resolve() : waitReady(paths, 'canary'),
      options.poller === false ? Promise.resolve() : startPoller({ stateDir: paths.stateDir, pollerBatchSize: options.pollerBatchSize }),
    ]);
    return { ...stack, componentKeys };
  } catch (err) {
    await stopProcesses(paths);
    rmSync(paths.stackFile, { force: true });
    throw err;
  }
}

/** Starts the SQS poller of a running local mode that was started without it. */
export async function startPoller(options: { stateDir?: string; pollerBatchSize?: number } = {}): Promise<void> {
  const paths = localPaths(options.stateDir);
  if (!existsSync(paths.stackFile)) throw new LocalModeNotRunningError(paths.stateDir);
  if (runningProcesses(paths.stateDir).poller !== undefined) throw new LocalModeError('The SQS poller is already running.');
  const args = ['--state-dir', paths.stateDir];
  if (options.pollerBatchSize !== undefined) args.push('--batch-size', String(options.pollerBatchSize));
  startNodeProcess(paths, handlerNode(), 'poller', path.join(REPO_ROOT, 'local', 'poller.ts'), args);
  await waitReady(paths, 'poller');
}

/** Stops the local mode of this state directory; the logs and the outbox stay. */
export async function stopLocal(options: { stateDir?: string } = {}): Promise<string[]> {
  const paths = localPaths(options.stateDir);
  if (!isRunning(paths.stateDir)) {
    clearInstanceFiles(paths);
    throw new LocalModeNotRunningError(paths.stateDir);
  }
  const stopped = await stopProcesses(paths);
  clearInstanceFiles(paths);
  return stopped;
}

/** Resolves when a process of the local mode exits (with its name), for a foreground `local start`. */
export async function waitForExit(stateDir?: string, pollMs = 1000): Promise<string> {
  const expected = Object.keys(runningProcesses(stateDir));
  for (;;) {
    const alive = runningProcesses(stateDir);
    const gone = expected.find((name) => !(name in alive));
    if (gone !== undefined) return gone;
    await sleep(pollMs);
  }
}

/**
 * The node that runs the handlers: Lambda runs them on nodejs22.x, so this one when it is Node 22 or later, else the
 * Node 22 that `make install` brings into `.tools/` when the machine's is older.
 */
export function handlerNode(
  current: string = process.versions.node,
  execPath: string = process.execPath,
  tools: string = path.join(REPO_ROOT, '.tools'),
): string {
  const major = (version: string) => Number(version.split('.')[0]);
  if (major(current) >= 22) return execPath;
  const versions = existsSync(tools) ? readdirSync(tools).flatMap((name) => /^node-(22\.\d+\.\d+)$/.exec(name)?.[1] ?? []) : [];
  const newest = versions
    .map((v) => ({ v, parts: v.split('.').map(Number) }))
    .sort((a, b) => a.parts[1] - b.parts[1] || a.parts[2] - b.parts[2])
    .map(({ v }) => path.join(tools, `node-${v}`, 'node_modules', '.bin', 'node'))
    .filter((binary) => existsSync(binary))
    .pop();
  if (newest === undefined) {
    throw new LocalModeError(
      `The handlers run on Node 22, as on Lambda (nodejs22.x), and this is Node ${current}: run make install, which brings it.`,
    );
  }
  return newest;
}

async function startEmulator(
  paths: LocalPaths,
  python: string,
  server: string,
  port: number,
  retryIntervalScale: number,
  keyEnvironment: Record<string, string>,
): Promise<string> {
  const logFile = path.join(paths.logsDir, 'emulator.log');
  const offset = existsSync(logFile) ? statSync(logFile).size : 0;
  const args = [server, '--port', String(port), '--state-dir', paths.stateDir, '--retry-interval-scale', String(retryIntervalScale)];
  const child = spawnDetached(paths, 'emulator', python, args, logFile, keyEnvironment);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const text = readFileSync(logFile, 'utf8').slice(offset);
    const ready = /READY (http:\/\/\S+)/.exec(text);
    if (ready) return ready[1];
    if (child.exitCode !== null || !isAlive(child.pid!)) {
      const tail = text.trim().split('\n').slice(-3).join(' | ');
      if (/address already in use|port .* in use/i.test(text)) throw new PortInUseError(port);
      throw new LocalProcessFailedError('emulator', logFile, tail || `exited with code ${child.exitCode}`);
    }
    await sleep(200);
  }
  throw new LocalProcessFailedError('emulator', logFile, 'no READY line within 120 s');
}

function startNodeProcess(paths: LocalPaths, node: string, name: ProcessName, script: string, args: string[]): void {
  const log = PROCESSES.find((p) => p.name === name)!.log;
  spawnDetached(paths, name, node, ['--import', 'tsx', script, ...args], path.join(paths.logsDir, log));
}

function spawnDetached(
  paths: LocalPaths,
  name: ProcessName,
  command: string,
  args: string[],
  logFile: string,
  extraEnv: Record<string, string> = {},
) {
  const fd = openSync(logFile, 'a');
  try {
    // Own process group: `stop` signals the group, which includes the Spark JVMs the emulator starts.
    const env = { ...process.env, ...extraEnv };
    const child = spawn(command, args, { cwd: REPO_ROOT, detached: true, stdio: ['ignore', fd, fd], env });
    child.unref();
    writeFileSync(path.join(paths.pidDir, `${name}.pid`), String(child.pid));
    return child;
  } finally {
    closeSync(fd);
  }
}

async function waitReady(paths: LocalPaths, name: ProcessName, timeoutMs = 120_000): Promise<void> {
  const spec = PROCESSES.find((p) => p.name === name)!;
  const logFile = path.join(paths.logsDir, spec.log);
  const pid = readPid(paths, name)!;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(path.join(paths.pidDir, `${name}.ready`))) return;
    if (!isAlive(pid)) {
      const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-2).join(' | ') : '';
      throw new LocalProcessFailedError(name, logFile, tail || 'exited');
    }
    await sleep(200);
  }
  throw new LocalProcessFailedError(name, logFile, `not ready within ${timeoutMs / 1000} s`);
}

async function stopProcesses(paths: LocalPaths): Promise<string[]> {
  const running = runningProcesses(paths.stateDir);
  const stopped: string[] = [];
  // Consumers first, so nothing calls the emulator while it goes down.
  for (const p of PROCESSES) {
    const pid = running[p.name];
    if (pid === undefined) continue;
    await stopGroup(pid);
    stopped.push(p.name);
  }
  return stopped;
}

async function stopGroup(pid: number, graceMs = 10_000): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && isAlive(pid)) await sleep(100);
  // Whatever is left of the group (a Spark JVM mid-run) goes too.
  signalGroup(pid, 'SIGKILL');
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

function readPid(paths: LocalPaths, name: string): number | undefined {
  const file = path.join(paths.pidDir, `${name}.pid`);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function readEndpoint(paths: LocalPaths): string | undefined {
  try {
    return (JSON.parse(readFileSync(paths.stackFile, 'utf8')) as LocalStack).endpoint;
  } catch {
    return undefined;
  }
}

/**
 * Moves the alert emails of an earlier instance to `<outbox>-previous/` (replacing the one before): manifest ids
 * restart with each instance, so an old alert would otherwise name a manifest of this one.
 */
function setAsidePreviousOutbox(paths: LocalPaths): void {
  if (!existsSync(paths.outboxDir) || readdirSync(paths.outboxDir).length === 0) return;
  const previous = `${paths.outboxDir}-previous`;
  rmSync(previous, { recursive: true, force: true });
  renameSync(paths.outboxDir, previous);
}

function clearInstanceFiles(paths: LocalPaths): void {
  rmSync(paths.stackFile, { force: true });
  if (!existsSync(paths.pidDir)) return;
  for (const file of readdirSync(paths.pidDir)) rmSync(path.join(paths.pidDir, file), { force: true });
}
