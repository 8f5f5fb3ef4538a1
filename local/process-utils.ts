/** Small process-level utilities shared by the local mode's processes. */
import { existsSync, readFileSync } from 'node:fs';
import * as net from 'node:net';

/** Waits `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Parses `--name value` pairs (and bare `--flag` as `'true'`). */
export function parseArgs(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) continue;
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) {
      out[arg.slice(2)] = 'true';
    } else {
      out[arg.slice(2)] = next;
      i++;
    }
  }
  return out;
}

/** Writes one JSON log line to stdout (which the local mode sends to a file under `.local/logs/`). */
export function logLine(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ timestamp: new Date().toISOString(), ...fields })}\n`);
}

/** Whether a process with this id exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of a process, or undefined when it is gone (Linux `/proc`). */
export function commandLine(pid: number): string | undefined {
  const file = `/proc/${pid}/cmdline`;
  if (!existsSync(file)) return undefined;
  try {
    return readFileSync(file, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/** Resolves when nothing listens on `host:port` and the port can be bound, rejects with the bind error otherwise. */
export function checkPortFree(port: number, host = '127.0.0.1'): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/** A port the system reports free now (for tests and parallel instances). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
