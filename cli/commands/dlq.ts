/** `pipeline dlq`: what is in the dead-letter queues, and `dlq redrive` to move them back. */
import { Command } from 'commander';
import { formatTime, renderTable } from '../format';
import { DlqName, peekDlqs, redriveDlq } from '../ops/dlq';
import { CliError, UsageError } from '../errors';
import { CliDeps, withTargetOptions, positiveInt, printJson, targetOptions, withExamples } from './shared';

const QUEUE_LABEL: Record<DlqName, string> = {
  ingest: 'ingest DLQ (S3 notifications the manifest builder failed on)',
  sweeper: 'sweeper DLQ (failed scheduled sweeper runs)',
};

export function registerDlqCommand(program: Command, deps: CliDeps): void {
  const dlq = program
    .command('dlq')
    .description('show the messages in the dead-letter queues (a summary of each, never its body); see also: dlq redrive')
    .option('--peek <n>', 'messages shown per queue', positiveInt('--peek'), 10)
    .option('--queue <name>', 'only this DLQ: ingest or sweeper')
    .option('--json', 'print the data as JSON')
    .action(async (opts: { peek: number; queue?: string; json?: boolean }, command: Command) => {
      const { io } = deps;
      // `builder`, the sweeper DLQ's name before the sweeper was its own construct, still names it.
      const queue = opts.queue === 'builder' ? 'sweeper' : opts.queue;
      if (queue !== undefined && queue !== 'ingest' && queue !== 'sweeper') {
        throw new UsageError(`--queue "${opts.queue}" is neither ingest nor sweeper`);
      }
      const ctx = await deps.makeContext(targetOptions(command));
      const peeks = await peekDlqs(ctx, opts.peek, queue);
      if (opts.json) {
        printJson(io, { queues: peeks });
        return;
      }
      for (const [i, q] of peeks.entries()) {
        if (i > 0) io.out('');
        io.out(`${QUEUE_LABEL[q.queue]}: about ${q.approximateVisible} waiting, ${q.approximateInFlight} in flight`);
        if (q.messages.length === 0) continue;
        io.out(
          renderTable(
            ['MESSAGE', 'RECEIVES', 'SENT', 'SUMMARY'],
            q.messages.map((m) => [m.messageId, m.receiveCount, formatTime(m.sentAt), m.summary]),
          ),
        );
        if (q.approximateVisible > q.messages.length) io.out(`(${q.messages.length} shown; --peek ${q.approximateVisible} to see more)`);
      }
      if (peeks.some((q) => q.queue === 'ingest' && (q.approximateVisible > 0 || q.messages.length > 0))) {
        io.out('\nMove the ingest DLQ back to the ingest queue with: npx pipeline dlq redrive');
      }
    });
  withTargetOptions(dlq);
  withExamples(dlq, 'npx pipeline dlq', 'npx pipeline dlq --peek 50 --json');

  const redrive = dlq
    .command('redrive')
    .description(
      "move the ingest DLQ's messages back to the ingest queue (StartMessageMoveTask in the cloud, receive/send/delete in the local mode) and report how many moved",
    )
    .option('--loop', 'move with receive/send/delete even where StartMessageMoveTask exists')
    .option('--no-wait', 'return once the move task has started (cloud)')
    .option('--json', 'print the result as JSON')
    .action(async (_opts: unknown, command: Command) => {
      const { io } = deps;
      // With the parent's options: `dlq` also has --json, and Commander lets the parent take it.
      const opts = command.optsWithGlobals<{ loop?: boolean; wait: boolean; json?: boolean }>();
      const ctx = await deps.makeContext(targetOptions(command));
      const result = await redriveDlq(ctx, { loop: opts.loop, noWait: !opts.wait });
      if (opts.json) {
        printJson(io, result);
      } else {
        if (result.note) io.err(result.note);
        const moved = result.moved === undefined ? 'move task started' : `moved ${result.moved} messages`;
        io.out(
          `${moved} from the ingest DLQ to the ingest queue${result.failed > 0 ? `; ${result.failed} could not be moved` : ''}; ` +
            `about ${result.remaining} left in the DLQ${result.taskHandle ? ` (task ${result.taskHandle})` : ''}`,
        );
      }
      if (result.failed > 0) throw new CliError(`${result.failed} messages could not be moved`);
    });
  withTargetOptions(redrive);
  withExamples(redrive, 'npx pipeline dlq redrive', 'npx pipeline dlq redrive --stack-name IngestPipeline --no-wait');
}
