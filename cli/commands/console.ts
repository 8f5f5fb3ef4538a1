/** `pipeline console`: a read-only web console of the pipeline, one page per manifest (cli/console/). */
import { Command, InvalidArgumentError } from 'commander';
import { parseSince } from '../format';
import { CliDeps, positiveInt, targetOptions, withExamples, withTargetOptions } from './shared';

/** Resolves on Ctrl-C (SIGINT) or SIGTERM. */
function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

/** Adds `console`; it serves until `untilStopped` resolves (given the URL with its token), by default until Ctrl-C. */
export function registerConsoleCommand(
  program: Command,
  deps: CliDeps,
  untilStopped: (urlWithToken: string) => Promise<void> = untilSignal,
): void {
  const cmd = program
    .command('console')
    .description('serve a read-only web console on 127.0.0.1: overview, manifests, one page per manifest, datasets; stop with Ctrl-C')
    .option('--port <port>', 'port to listen on (0: any free port)', positiveIntOrZero, 8642)
    .option('--host <address>', 'address to listen on; anything but 127.0.0.1 lets other machines reach it (with the token)', '127.0.0.1')
    .option('--since <time>', "default window of the overview and the manifests' table (30m, 24h, 7d)", '24h')
    .action(async (opts: { port: number; host: string; since: string }, command: Command) => {
      const { io } = deps;
      parseSince(opts.since, new Date()); // refuses a bad window before anything starts
      const ctx = await deps.makeContext(targetOptions(command));
      if (!['127.0.0.1', 'localhost', '::1'].includes(opts.host)) {
        io.err(
          `warning: listening on ${opts.host}: anyone who can reach this address and has the token can read the pipeline's data; the console speaks plain HTTP`,
        );
      }
      // Loaded here, not with the CLI: the other commands need neither the server nor the Glue client.
      /* eslint-disable @typescript-eslint/no-require-imports -- loaded on demand, as said above */
      const { consoleSources } = require('../console/model') as typeof import('../console/model');
      const { startConsoleServer } = require('../console/server') as typeof import('../console/server');
      /* eslint-enable @typescript-eslint/no-require-imports */
      const server = await startConsoleServer({ sources: consoleSources(ctx), host: opts.host, port: opts.port, defaultSince: opts.since });
      const where =
        ctx.target.mode === 'local' ? `the local mode (${ctx.target.stateDir})` : `stack ${ctx.target.stackName} (${ctx.target.region})`;
      io.out(`Console of ${where}, read-only. Open:\n  ${server.urlWithToken}\nPress Ctrl-C to stop.`);
      try {
        await untilStopped(server.urlWithToken);
      } finally {
        await server.close();
      }
      io.err('console stopped');
    });
  withTargetOptions(cmd);
  withExamples(cmd, 'npx pipeline console', 'npx pipeline console --stack-name IngestPipeline --port 9000');
}

function positiveIntOrZero(value: string): number {
  if (value.trim() === '0') return 0;
  const n = positiveInt('--port')(value);
  if (n > 65535) throw new InvalidArgumentError('--port takes a port number up to 65535');
  return n;
}
