/** What every command shares: the global target options, the context factory, and where output goes. */
import { Command, InvalidArgumentError } from 'commander';
import { createInterface } from 'node:readline/promises';
import { CliContext, createContext } from '../context';
import { printableJson } from '../printable';
import { resolveTarget, TargetOptions } from '../target';

/** Where a command writes and how it asks; tests pass their own. */
export interface CliIo {
  /** Data and results. */
  readonly out: (text: string) => void;
  /** Progress, warnings and errors. */
  readonly err: (text: string) => void;
  /** Whether stderr is a terminal (progress bars) or a pipe (one line per event). */
  readonly stderrIsTTY: boolean;
  /** Asks a yes/no question; undefined when no one can answer (stdin is not a terminal). */
  readonly confirm?: (question: string) => Promise<boolean>;
}

/** The dependencies of the command line: the context factory and the I/O. */
export interface CliDeps {
  readonly makeContext: (opts: TargetOptions) => Promise<CliContext>;
  readonly io: CliIo;
  /**
   * Commands added by the launcher (`bin/pipeline.js` adds `local start/stop` from local/cli-commands.ts), so that
   * the CLI never imports the local mode, which imports the CLI. @default none
   */
  readonly extraCommands?: readonly ((program: Command) => void)[];
}

/** The context factory of the real command line: resolve the target, make its clients. */
export async function defaultMakeContext(opts: TargetOptions): Promise<CliContext> {
  return createContext(await resolveTarget(opts));
}

/** The I/O of the real command line: stdout, stderr, and a prompt when stdin is a terminal. */
export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    stderrIsTTY: process.stderr.isTTY === true,
    confirm: process.stdin.isTTY
      ? async (question) => {
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          try {
            return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
          } finally {
            rl.close();
          }
        }
      : undefined,
  };
}

/**
 * Adds the target options to a command. They belong to each command rather than to the program, so they never
 * shadow an option of the same name of another command (`local start --state-dir`).
 */
export function withTargetOptions(cmd: Command): Command {
  return cmd
    .option('-L, --local', 'use the local mode (the default when .local/stack.json exists)')
    .option('--state-dir <dir>', 'state directory of the local mode (implies --local)')
    .option('--stack-name <name>', 'use the deployed stack of this name (default: $PIPELINE_STACK_NAME)')
    .option('--region <region>', "region of the deployed stack (default: the SDK's, e.g. AWS_REGION or the profile)");
}

/** The target options as seen from a command or its subcommand. */
export function targetOptions(cmd: Command): TargetOptions {
  const o = cmd.optsWithGlobals<{ local?: boolean; stateDir?: string; stackName?: string; region?: string }>();
  return { local: o.local, stateDir: o.stateDir, stackName: o.stackName, region: o.region };
}

/** Prints data as indented JSON, with every character that could act on a terminal written as a `\\u` escape. */
export function printJson(io: CliIo, data: unknown): void {
  io.out(printableJson(data));
}

/** Appends an example section to a command's help. */
export function withExamples(cmd: Command, ...examples: string[]): Command {
  return cmd.addHelpText('after', `\nExample${examples.length > 1 ? 's' : ''}:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
}

/** Parses a positive integer option. */
export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n))
      throw new InvalidArgumentError(`${name} takes a whole number, got "${value}"`);
    return n;
  };
}
