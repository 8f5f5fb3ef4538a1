/** `pipeline replay`: new executions `<id>-r<n>` for failed or partial manifests, or `--redrive` of the failed execution in place. */
import { Command } from 'commander';
import { CliContext } from '../context';
import { CliError, UsageError } from '../errors';
import { formatTime, parseSince } from '../format';
import { findFailedManifests, redriveManifest, RedriveResult, replayManifest, ReplayResult } from '../ops/replay';
import { CliDeps, withTargetOptions, printJson, targetOptions, withExamples } from './shared';

/** Replaying more manifests than this at once asks for confirmation (or `--yes`). */
export const CONFIRM_ABOVE = 3;

interface ReplayCommandOptions {
  failed?: boolean;
  since?: string;
  dataset?: string;
  yes?: boolean;
  force?: boolean;
  allowMissingFiles?: boolean;
  now?: boolean;
  redrive?: boolean;
  json?: boolean;
}

type Outcome =
  | { manifestId: string; outcome: 'replayed'; result: ReplayResult }
  | { manifestId: string; outcome: 'redriven'; result: RedriveResult }
  | { manifestId: string; outcome: 'refused' | 'error'; reason: string };

async function targets(ctx: CliContext, ids: string[], opts: ReplayCommandOptions): Promise<{ ids: string[]; since?: Date }> {
  if (opts.failed && ids.length > 0) throw new UsageError('give manifest ids or --failed, not both');
  if (!opts.failed && ids.length === 0)
    throw new UsageError('give manifest ids to replay, or --failed to replay every FAILED or PARTIAL manifest');
  if (!opts.failed && (opts.since !== undefined || opts.dataset !== undefined)) {
    throw new UsageError('--since and --dataset select manifests for --failed; with ids, name the manifests');
  }
  if (!opts.failed) return { ids: [...new Set(ids)] };
  const since = parseSince(opts.since ?? '7d', ctx.now());
  const failed = await findFailedManifests(ctx, since, opts.dataset);
  return { ids: failed.map((m) => m.manifestId), since };
}

/** What a replay did, in one line. */
export function replayedLine(r: ReplayResult): string {
  const jumped =
    r.jumpedAhead === undefined
      ? ''
      : r.jumpedAhead === 0
        ? ' (--now: nothing was queued)'
        : `, ahead of ${r.jumpedAhead} queued (--now jumped the queue)`;
  if (r.queued !== undefined) {
    const where =
      r.jumpedAhead === undefined ? `${r.queued.position} of ${r.queued.waiting} in the start queue` : 'at the head of the start queue';
    return (
      `queued ${r.executionName}: ${where}${jumped}; all ${r.queued.slots} capacity slots are held (glue.maxConcurrentRuns), ` +
      'it starts when one frees (the sweeper starts the queue every minute)'
    );
  }
  if (r.jumpedAhead !== undefined) return `started ${r.executionName} now${jumped}`;
  if (r.alreadyStarted && r.alreadyRecorded) {
    return `${r.executionName} was already started and recorded by another replay of ${r.manifestId}: nothing new started`;
  }
  if (r.alreadyRecorded) return `started ${r.executionName} (recorded by another replay of ${r.manifestId} meanwhile)`;
  if (r.alreadyStarted) return `recorded ${r.executionName} (it had been started already with the same input)`;
  return `started ${r.executionName}`;
}

export function registerReplayCommand(program: Command, deps: CliDeps): void {
  const cmd = program
    .command('replay')
    .description(
      'start a new execution <id>-r<n> with the same input for each FAILED or PARTIAL manifest (a SUCCEEDED one only with --force; ' +
        'never one that is RUNNING or has an execution running, even with --force), in turn with the manifests waiting for a ' +
        'capacity slot (--now: ahead of them); ' +
        'or, with --redrive, resume the failed execution in place (cloud only)',
    )
    .argument('[manifestIds...]', 'manifests to replay')
    .option('--failed', 'replay every manifest that ended FAILED or PARTIAL since --since (and is still so)')
    .option(
      '--since <time>',
      'with --failed: failed (its recorded end) since an age (30m, 24h, 7d) or an ISO date or time, whenever it opened (default: 7d)',
    )
    .option('--dataset <name>', 'with --failed: only this dataset')
    .option('-y, --yes', `replay more than ${CONFIRM_ABOVE} manifests without asking`)
    .option('--force', 'replay a manifest that already SUCCEEDED (never a RUNNING one); with --redrive, redrive past a caught failure')
    .option(
      '--allow-missing-files',
      'let the replay replace an output that holds rows of files it can no longer read (their pinned version deleted): ' +
        'those rows are dropped and the files listed (PARTIAL); without it such a replay fails and keeps the output in place',
    )
    .option('--now', 'put the replay ahead of every manifest waiting for a capacity slot (it starts at once if a slot is free, else next)')
    .option('--redrive', 'resume the latest failed execution with RedriveExecution instead of starting a new one (not in the local mode)')
    .option('--json', 'print the outcomes as JSON')
    .action(async (ids: string[], opts: ReplayCommandOptions, command: Command) => {
      const { io } = deps;
      const ctx = await deps.makeContext(targetOptions(command));
      const chosen = await targets(ctx, ids, opts);
      if (chosen.ids.length === 0) {
        const msg = `No manifests ended FAILED or PARTIAL since ${formatTime(chosen.since)}${opts.dataset ? ` in ${opts.dataset}` : ''}: nothing to replay.`;
        if (opts.json) printJson(io, { outcomes: [] });
        else io.out(msg);
        return;
      }
      if (opts.redrive && opts.allowMissingFiles) {
        throw new UsageError('--allow-missing-files applies to a new replay, not to --redrive (which resumes with the input it had)');
      }
      if (opts.redrive && ctx.target.mode === 'local') {
        // Said once for the whole command rather than once per manifest.
        throw new CliError(
          `RedriveExecution is not available in the local emulator; replay instead: npx pipeline replay ${opts.failed ? '--failed' : chosen.ids.join(' ')}`,
        );
      }
      const verb = opts.redrive ? 'Redrive' : 'Replay';
      if (chosen.ids.length > CONFIRM_ABOVE && !opts.yes) {
        const question = `${verb} ${chosen.ids.length} manifests (${chosen.ids.slice(0, 3).join(', ')}, ...)?`;
        if (io.confirm === undefined) {
          throw new UsageError(
            `${verb.toLowerCase()} of ${chosen.ids.length} manifests needs confirmation: pass --yes (no terminal to ask on)`,
          );
        }
        if (!(await io.confirm(question))) throw new CliError('cancelled: nothing was replayed');
      }
      const outcomes: Outcome[] = [];
      for (const id of chosen.ids) {
        try {
          if (opts.redrive) {
            const result = await redriveManifest(ctx, id, { force: opts.force });
            outcomes.push({ manifestId: id, outcome: 'redriven', result });
            if (!opts.json) io.out(`redriven ${id}: ${result.executionArn}${result.consoleUrl ? `\n  console: ${result.consoleUrl}` : ''}`);
          } else {
            const result = await replayManifest(ctx, id, { force: opts.force, allowMissingFiles: opts.allowMissingFiles, now: opts.now });
            outcomes.push({ manifestId: id, outcome: 'replayed', result });
            if (!opts.json) {
              io.out(`${replayedLine(result)}${result.note ? ` (${result.note})` : ''}`);
              if (result.consoleUrl) io.out(`  console: ${result.consoleUrl}`);
            }
          }
        } catch (err) {
          const e = err as Error;
          const refused = e.name === 'ReplayRefusedError' || e.name === 'ManifestNotFoundError';
          if (!refused && !(e as { $metadata?: unknown }).$metadata) throw err;
          outcomes.push({ manifestId: id, outcome: refused ? 'refused' : 'error', reason: e.message });
          if (!opts.json) io.err(`${refused ? 'refused' : 'failed'} ${e.message.startsWith(id) ? e.message : `${id}: ${e.message}`}`);
        }
      }
      if (opts.json) printJson(io, { outcomes });
      const notDone = outcomes.filter((o) => o.outcome === 'refused' || o.outcome === 'error');
      if (notDone.length === 1 && outcomes.length === 1) {
        throw new CliError((notDone[0] as { reason: string }).reason);
      }
      if (notDone.length > 0) {
        throw new CliError(
          `${notDone.length} of ${outcomes.length} manifests not ${opts.redrive ? 'redriven' : 'replayed'} (reasons above)`,
        );
      }
    });
  withTargetOptions(cmd);
  withExamples(
    cmd,
    'npx pipeline replay orders-20261123-000042',
    'npx pipeline replay --failed --since 24h --yes',
    'npx pipeline replay orders-20261123-000042 --redrive --stack-name IngestPipeline',
  );
}
