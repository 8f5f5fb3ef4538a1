/** `pipeline flush --dataset D`: seal a dataset's open manifests (one per write shard) now and start their executions. */
import { Command } from 'commander';
import { executionConsoleUrl } from '../console-url';
import { flushDataset, type FlushResult } from '../ops/flush';
import { CliDeps, printJson, targetOptions, withExamples, withTargetOptions } from './shared';

interface FlushCommandOptions {
  dataset: string;
  json?: boolean;
}

/** What a flush did, in one line. */
export function flushedLine(r: FlushResult): string {
  switch (r.outcome) {
    case 'nothing-open':
      return `${r.dataset} has no open manifest: nothing to flush`;
    case 'not-open':
      return `${r.manifestId} is not ${r.dataset}'s open manifest any more: nothing to flush`;
    case 'empty':
      return `${r.manifestId} is open but holds no file yet: nothing to flush`;
    default: {
      const what = r.outcome === 'sealed' ? `sealed ${r.manifestId}` : `${r.manifestId} was sealed meanwhile by the pipeline`;
      const files = `${r.fileCount} file${r.fileCount === 1 ? '' : 's'}`;
      if (r.queued)
        return `${what} (${files}); queued: every capacity slot is held (glue.maxConcurrentRuns), it starts in turn, oldest first`;
      return `${what} (${files}); execution ${r.executionArn!.split(':').pop()} started`;
    }
  }
}

export function registerFlushCommand(program: Command, deps: CliDeps): void {
  const cmd = program
    .command('flush')
    .description(
      "seal a dataset's open manifests now (one per write shard), as the sweeper does once their oldest file has waited maxWaitMinutes, and start their executions",
    )
    .requiredOption('--dataset <name>', 'the dataset whose open manifests to seal')
    .option('--json', 'print the outcome as JSON')
    .action(async (opts: FlushCommandOptions, command: Command) => {
      const { io } = deps;
      const ctx = await deps.makeContext(targetOptions(command));
      const results = await flushDataset(ctx, opts.dataset);
      if (opts.json) {
        printJson(io, results);
        return;
      }
      for (const result of results) {
        io.out(flushedLine(result));
        // The emulator has no console.
        if ('executionArn' in result && result.executionArn !== undefined && ctx.target.mode === 'cloud') {
          io.out(`  console: ${executionConsoleUrl(result.executionArn)}`);
        }
        if ('manifestId' in result) io.out(`  follow it: npx pipeline status ${result.manifestId}`);
      }
    });
  withTargetOptions(cmd);
  withExamples(cmd, 'npx pipeline flush --dataset orders', 'npx pipeline flush --dataset orders --json --stack-name IngestPipeline');
}
