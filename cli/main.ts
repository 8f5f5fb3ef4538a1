/**
 * The `pipeline` command: the same operations against a deployed stack (`--stack-name`) and the local mode
 * (`--local`, the default when `.local/stack.json` exists). Exit code 0 on success; otherwise one line
 * `error: <reason>` on stderr and 1 (2 for a usage error).
 */
import { Command, CommanderError } from 'commander';
import { oneLineReason } from './errors';
import { registerConsoleCommand } from './commands/console';
import { registerDlqCommand } from './commands/dlq';
import { registerFlushCommand } from './commands/flush';
import { registerReconcileCommand } from './commands/reconcile';
import { registerReplayCommand } from './commands/replay';
import { registerSmokeCommand } from './commands/smoke';
import { CliDeps, defaultMakeContext, processIo } from './commands/shared';
import { registerStatusCommand } from './commands/status';
import { registerUploadCommand } from './commands/upload';

/** Builds the program with its commands; tests pass their own context factory and I/O. */
export function buildProgram(deps: CliDeps): Command {
  const program = new Command('pipeline')
    .description('Operate the NDJSON ingest pipeline: upload, status, replay, DLQ redrive')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => deps.io.out(s.replace(/\n$/, '')),
      writeErr: (s) => deps.io.err(s.replace(/\n$/, '')),
    })
    .addHelpText(
      'after',
      '\nEach command takes --stack-name <name> (a deployed stack; default $PIPELINE_STACK_NAME) or --local and\n' +
        '--state-dir <dir> (the local mode; the default when .local/stack.json exists).\n' +
        '\nExamples:\n' +
        '  $ npx pipeline upload ./exports --dataset orders\n' +
        '  $ npx pipeline status --since 24h\n' +
        '  $ npx pipeline replay --failed --yes --stack-name IngestPipeline\n',
    );
  registerUploadCommand(program, deps);
  registerStatusCommand(program, deps);
  registerReplayCommand(program, deps);
  registerFlushCommand(program, deps);
  registerDlqCommand(program, deps);
  // The bill model's command, loaded with it (it reads files, never a stack's clients).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on demand, as said above
  (require('./commands/cost') as typeof import('./commands/cost')).registerCostCommand(program, deps);
  registerReconcileCommand(program, deps);
  registerSmokeCommand(program, deps);
  registerConsoleCommand(program, deps);
  for (const add of deps.extraCommands ?? []) add(program);
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  return program;
}

/** Runs the command line and resolves to the exit code; never throws. */
export async function runCli(argv: readonly string[], deps: Partial<CliDeps> = {}): Promise<number> {
  const makeContext = deps.makeContext ?? defaultMakeContext;
  let endpoint: string | undefined;
  const full: CliDeps = {
    // Remembers the emulator's endpoint, so a refused connection is reported as the local mode not running.
    makeContext: async (opts) => {
      const ctx = await makeContext(opts);
      endpoint = ctx.target.endpoint;
      return ctx;
    },
    io: deps.io ?? processIo(),
    extraCommands: deps.extraCommands,
  };
  const program = buildProgram(full);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its message (or the help, or the version).
      return err.exitCode === 0 ? 0 : 2;
    }
    full.io.err(`error: ${oneLineReason(err, endpoint)}`);
    const code = (err as { exitCode?: number }).exitCode;
    return typeof code === 'number' && code > 0 ? code : 1;
  }
}

if (require.main === module) {
  void runCli(process.argv).then((code) => {
    process.exitCode = code;
  });
}
