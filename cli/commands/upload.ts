/** `pipeline upload`: NDJSON files and folders to `incoming/<dataset>/...`, with progress by files and bytes. */
import { Command } from 'commander';
import { MultiBar, Presets } from 'cli-progress';
import { resolveConfig } from '../../contracts/config';
import { CliError } from '../errors';
import { formatBytes } from '../format';
import { printable } from '../printable';
import { planUpload, UploadProgress, uploadFiles } from '../ops/upload';
import { CliDeps, withTargetOptions, positiveInt, printJson, targetOptions, withExamples } from './shared';

/** Reports progress as a bar on a terminal, as one line per file otherwise (logs, CI, tests). */
function progressReporter(deps: CliDeps, total: { files: number; bytes: number }) {
  const { io } = deps;
  const counts = (p: UploadProgress) =>
    `${p.filesDone + p.filesFailed}/${p.filesTotal} files, ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`;
  if (!io.stderrIsTTY) {
    return {
      file: (line: string, p: UploadProgress) => io.err(`[${counts(p)}] ${line}`),
      progress: () => undefined,
      stop: () => undefined,
    };
  }
  const multibar = new MultiBar(
    {
      format: ' {bar} {percentage}% | {files}/{filesTotal} files | {done} of {totalBytes} | {eta_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  );
  const bar = multibar.create(Math.max(total.bytes, 1), 0, {
    files: 0,
    filesTotal: total.files,
    done: formatBytes(0),
    totalBytes: formatBytes(total.bytes),
  });
  const update = (p: UploadProgress) => bar.update(p.bytesDone, { files: p.filesDone + p.filesFailed, done: formatBytes(p.bytesDone) });
  return {
    file: (line: string, p: UploadProgress) => {
      if (line.startsWith('failed')) multibar.log(`${line}\n`);
      update(p);
    },
    progress: update,
    stop: () => multibar.stop(),
  };
}

export function registerUploadCommand(program: Command, deps: CliDeps): void {
  const cmd = program
    .command('upload')
    .description('upload NDJSON files or folders to incoming/<dataset>/ in the ingest bucket, with progress and a summary')
    .argument(
      '<paths...>',
      "files and folders; a folder keeps its files' paths relative to it. Symbolic links inside a folder are never followed: " +
        'one pointing outside it is skipped with a warning naming its target, one pointing inside it is skipped too (its target ' +
        'is uploaded under its own path, so its rows go once). A file or folder named here is taken as named, even through a link',
    )
    .requiredOption('-d, --dataset <name>', 'dataset: lower-case letters, digits and _, starting with a letter, at most 40 characters')
    .option('--concurrency <n>', 'files sent at once', positiveInt('--concurrency'), 4)
    .option('--part-size-mb <n>', 'multipart part size in MiB (at least 5); larger files go in parts', positiveInt('--part-size-mb'), 8)
    .option('--skip-existing', 'leave out files already in the bucket with the same key and size (to finish an interrupted upload)')
    .option('--json', 'print the summary as JSON')
    .action(
      async (
        paths: string[],
        opts: { dataset: string; concurrency: number; partSizeMb: number; skipExisting?: boolean; json?: boolean },
        command: Command,
      ) => {
        const { io } = deps;
        // Check the arguments before touching AWS: a bad name or path fails at once, with nothing sent.
        const plan = await planUpload(paths, opts.dataset, resolveConfig());
        for (const s of plan.skipped) io.err(`skipped ${printable(s.path)}: ${printable(s.reason)}`);
        if (plan.files.length === 0) {
          throw new CliError(
            `nothing to upload: no file in ${paths.join(', ')} ends with one of ${resolveConfig().acceptedSuffixes.join(' ')}`,
          );
        }
        const ctx = await deps.makeContext(targetOptions(command));
        const destination = `s3://${ctx.target.ingestBucket}/${ctx.config.ingestPrefix}${opts.dataset}/`;
        io.err(`Uploading ${plan.files.length} files (${formatBytes(plan.totalBytes)}) to ${destination}`);
        const reporter = progressReporter(deps, { files: plan.files.length, bytes: plan.totalBytes });
        let summary;
        try {
          summary = await uploadFiles(ctx, plan, {
            concurrency: Math.max(1, opts.concurrency),
            partSize: Math.max(5, opts.partSizeMb) * 1024 * 1024,
            skipExisting: opts.skipExisting === true,
            onProgress: reporter.progress,
            onFile: (o, p) =>
              reporter.file(
                printable(
                  o.status === 'failed'
                    ? `failed ${o.path}: ${o.error}`
                    : `${o.status === 'exists' ? 'already there' : 'uploaded'} ${o.key}`,
                ),
                p,
              ),
          });
        } finally {
          reporter.stop();
        }
        if (opts.json) {
          printJson(io, summary);
        } else {
          const extra = [
            summary.failed > 0 ? `${summary.failed} failed` : '',
            summary.skipped.length > 0 ? `${summary.skipped.length} skipped` : '',
            summary.existing > 0 ? `${summary.existing} already there` : '',
          ]
            .filter(Boolean)
            .join(', ');
          io.out(
            `Uploaded ${summary.uploaded} of ${plan.files.length} files (${formatBytes(summary.bytesUploaded)}) to ${destination} ` +
              `in ${summary.seconds.toFixed(1)}s${extra ? `; ${extra}` : ''}`,
          );
          for (const f of summary.files.filter((o) => o.status === 'failed')) io.out(`  failed ${printable(`${f.path}: ${f.error}`)}`);
        }
        if (summary.failed > 0) {
          throw new CliError(
            `${summary.failed} of ${plan.files.length} files failed to upload; send the rest with the same command and --skip-existing (a new upload of a file already there is ingested again)`,
          );
        }
      },
    );
  withTargetOptions(cmd);
  withExamples(
    cmd,
    'npx pipeline upload ./exports/2026-11-23 --dataset orders',
    'npx pipeline upload a.ndjson b.ndjson.gz --dataset clicks --json',
    'npx pipeline upload ./exports --dataset orders --skip-existing   # finish an interrupted upload',
  );
}
