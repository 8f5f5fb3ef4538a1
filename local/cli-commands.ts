/**
 * `pipeline local start` and `pipeline local stop`: the whole pipeline on this machine (see local/runtime.ts).
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { LocalModeNotRunningError, DEFAULT_PORT, DEFAULT_STATE_DIR, type LocalStack } from '../contracts/local-stack';
import { CliError, UsageError } from '../cli/errors';
import { LocalModeError, startLocal, stopLocal, waitForExit } from './runtime';

/** Parses a whole number option within bounds, or fails with a usage error naming the option. */
function wholeNumber(option: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new UsageError(`${option} expects a whole number from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

/** Start and stop errors carry a message for the operator: report them as the CLI reports its own. */
function asCliError(err: unknown): unknown {
  if (err instanceof LocalModeError || err instanceof LocalModeNotRunningError) return new CliError(err.message);
  return err;
}

/** What an operator can do once the local mode runs. */
export function describeLocalStack(stack: LocalStack, stateDir: string): string {
  const aws = `aws --endpoint-url ${stack.endpoint} --region ${stack.region}`;
  return [
    `Local mode running at ${stack.endpoint}`,
    `  ingest bucket   s3://${stack.ingestBucket}/incoming/<dataset>/...`,
    `  curated bucket  s3://${stack.curatedBucket}/`,
    `  state machine   ${stack.stateMachineArn}`,
    `  batch size      ${stack.batchSize} files, sealed after ${stack.maxWaitSeconds} s`,
    `  stack file      ${path.join(stateDir, 'stack.json')}`,
    `  logs            ${path.join(stateDir, 'logs')}/`,
    `  alert emails    ${stack.outboxDir}/`,
    '',
    "Try (the emulator answers only requests signed with this instance's key, from the stack file):",
    `  export AWS_ACCESS_KEY_ID=$(node -p "require('${path.join(stateDir, 'stack.json')}').accessKeyId") \\`,
    `    AWS_SECRET_ACCESS_KEY=$(node -p "require('${path.join(stateDir, 'stack.json')}').secretAccessKey")`,
    `  ${aws} s3 cp my.ndjson s3://${stack.ingestBucket}/incoming/orders/my.ndjson`,
    '  npx pipeline status',
    '  npx pipeline console            # a read-only web console: overview, manifests, one page per manifest',
    `  ${aws} stepfunctions list-executions --state-machine-arn ${stack.stateMachineArn}`,
  ].join('\n');
}

/** Adds `local start` and `local stop` to the operator CLI. */
export function registerLocalCommands(program: Command): void {
  const local = program.command('local').description('run the whole pipeline on this machine (no AWS account, no Docker)');

  local
    .command('start')
    .description('start the emulator, provision the pipeline and run the manifest builder and the sweeper')
    .option('--port <port>', 'emulator port on 127.0.0.1', wholeNumber('--port', 1, 65535), DEFAULT_PORT)
    .option('--batch-size <n>', 'most files in one manifest', wholeNumber('--batch-size', 1, 10000))
    .option(
      '--max-wait-seconds <s>',
      'seal a manifest when its oldest file has waited this long',
      wholeNumber('--max-wait-seconds', 1, 86400),
      60,
    )
    .option(
      '--canary-every-seconds <s>',
      'run the canary: a file into the dataset pipeline_canary every this many seconds (a multiple of 5), checked every 5 s; its metrics in logs/canary.log',
      wholeNumber('--canary-every-seconds', 5, 86400),
    )
    .option('--detach', 'return once started; stop later with `pipeline local stop`')
    .option('--state-dir <dir>', 'where stack.json, logs and the outbox go', DEFAULT_STATE_DIR)
    .action(
      async (opts: {
        port: number;
        batchSize?: number;
        maxWaitSeconds: number;
        canaryEverySeconds?: number;
        detach?: boolean;
        stateDir: string;
      }) => {
        let stack: LocalStack;
        try {
          stack = await startLocal({
            stateDir: opts.stateDir,
            port: opts.port,
            batchSize: opts.batchSize,
            maxWaitSeconds: opts.maxWaitSeconds,
            canaryEverySeconds: opts.canaryEverySeconds,
            onProgress: (message) => process.stderr.write(`${message}...\n`),
          });
        } catch (err) {
          throw asCliError(err);
        }
        process.stdout.write(`${describeLocalStack(stack, path.resolve(opts.stateDir))}\n`);
        if (opts.detach) {
          process.stdout.write('\nStop it with: npx pipeline local stop\n');
          return;
        }
        process.stdout.write('\nPress Ctrl-C to stop.\n');
        const stopped = await new Promise<{ reason: string; failed: boolean }>((resolve) => {
          process.once('SIGINT', () => resolve({ reason: 'interrupted', failed: false }));
          process.once('SIGTERM', () => resolve({ reason: 'terminated', failed: false }));
          void waitForExit(opts.stateDir).then((name) =>
            resolve({ reason: `the ${name} exited (see ${path.join(path.resolve(opts.stateDir), 'logs')}/)`, failed: true }),
          );
        });
        process.stderr.write(`\n${stopped.reason}: stopping the local mode...\n`);
        try {
          await stopLocal({ stateDir: opts.stateDir });
        } catch (err) {
          if (!(err instanceof LocalModeNotRunningError)) throw err;
        }
        if (stopped.failed) throw new CliError(`the local mode stopped: ${stopped.reason}`);
        process.exit(0);
      },
    );

  local
    .command('stop')
    .description('stop the local mode (its logs and alert emails stay in the state directory)')
    .option('--state-dir <dir>', 'state directory of the local mode to stop', DEFAULT_STATE_DIR)
    .action(async (opts: { stateDir: string }) => {
      try {
        const stopped = await stopLocal({ stateDir: opts.stateDir });
        process.stdout.write(`Local mode stopped (${stopped.join(', ')}).\n`);
      } catch (err) {
        throw asCliError(err);
      }
    });
}
