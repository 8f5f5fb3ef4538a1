/** The Glue job's contract has one definition (contracts/glue-job.json): the stack, the local mode and the ASL agree with it. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveConfig } from '../../contracts/config';
import {
  FILE_FAILURE_REASONS,
  GLUE_JOB_ARGUMENTS,
  JOB_DEFAULT_ARGUMENTS,
  PER_MANIFEST_ARGUMENTS,
  glueJobArguments,
} from '../../contracts/glue-job';
import { REPO_ROOT, logicalIdAt, synthPipeline } from './synth';

const MB = 1024 * 1024;

describe('the contract', () => {
  test('names each argument once, as --name, and says who sets it', () => {
    const names = GLUE_JOB_ARGUMENTS.map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
    for (const a of GLUE_JOB_ARGUMENTS) {
      expect(a.name).toMatch(/^--[a-z][a-z_]*$/);
      expect(['stateMachine', 'jobDefaults', 'nobody']).toContain(a.setBy);
    }
    // The state machine passes every per-manifest argument on every run (ReadReplayOptions defaults the optional one).
    // The optional per-manifest arguments: a replay's choice (false when its input does not say) and the execution
    // that started the run (a run by hand has none), not the job's need.
    expect(GLUE_JOB_ARGUMENTS.filter((a) => a.setBy === 'stateMachine' && !a.required).map((a) => a.name)).toEqual([
      '--allow_missing_files',
      '--execution_arn',
    ]);
    expect(PER_MANIFEST_ARGUMENTS).toContain('--manifest_id');
    expect(JOB_DEFAULT_ARGUMENTS).toContain('--curated_path');
  });

  test('lists each reason a file fails once', () => {
    expect(new Set(FILE_FAILURE_REASONS).size).toBe(FILE_FAILURE_REASONS.length);
    expect(FILE_FAILURE_REASONS).toContain('missing');
  });
});

describe('glueJobArguments', () => {
  test("gives exactly the contract's job-default arguments", () => {
    const args = glueJobArguments(resolveConfig().glue, { curatedBucket: 'curated', catalogDatabase: 'db' });

    expect(Object.keys(args).sort()).toEqual([...JOB_DEFAULT_ARGUMENTS].sort());
  });

  test('every argument that is the same for every run, the two caps in bytes', () => {
    const args = glueJobArguments(resolveConfig().glue, { curatedBucket: 'curated', catalogDatabase: 'db' });

    expect(args).toEqual({
      '--curated_path': 's3://curated/curated/',
      '--quarantine_path': 's3://curated/quarantine/',
      '--schema_prefix': 's3://curated/schemas/',
      '--staging_path': 's3://curated/staging/',
      '--catalog_database': 'db',
      '--target_file_mb': '128',
      '--max_decompressed_bytes': String(2048 * MB),
      '--max_line_bytes': String(1024 * 1024),
      '--max_schema_fields': '1000',
    });
  });

  test('the caps follow the config', () => {
    const args = glueJobArguments(resolveConfig({ glue: { maxDecompressedMb: 3, maxLineKb: 2, maxSchemaFields: 40 } }).glue, {
      curatedBucket: 'c',
      catalogDatabase: '',
    });

    expect(args['--max_decompressed_bytes']).toBe(String(3 * MB));
    expect(args['--max_line_bytes']).toBe('2048');
    expect(args['--max_schema_fields']).toBe('40');
  });

  test('no argument is both a default and a per-manifest one', () => {
    const defaults = Object.keys(glueJobArguments(resolveConfig().glue, { curatedBucket: 'c', catalogDatabase: 'd' }));
    expect(defaults.filter((name) => PER_MANIFEST_ARGUMENTS.includes(name))).toEqual([]);
  });
});

describe('the stack', () => {
  test("sets the job's default arguments from glueJobArguments, with the configured caps", () => {
    const { stack, template, config } = synthPipeline({ glue: { maxDecompressedMb: 100, maxLineKb: 64, targetFileMb: 256 } });
    const curated = logicalIdAt(stack, 'Storage/Curated');
    const database = logicalIdAt(stack, 'ConversionWorkflow/Database');
    const job = template.toJSON().Resources[logicalIdAt(stack, 'ConversionWorkflow/Job')].Properties;
    // The same function with the template's references for the bucket and the database.
    const expected = glueJobArguments(config.glue, { curatedBucket: '@BUCKET@', catalogDatabase: '@DATABASE@' });

    for (const [name, value] of Object.entries(expected)) {
      const actual = job.DefaultArguments[name];
      if (value === '@DATABASE@') expect(actual).toEqual({ Ref: database });
      else if (value.startsWith('s3://@BUCKET@/'))
        expect(actual).toEqual({ 'Fn::Join': ['', ['s3://', { Ref: curated }, value.slice('s3://@BUCKET@'.length)]] });
      else expect({ name, actual }).toEqual({ name, actual: value });
    }
    expect(job.DefaultArguments['--max_decompressed_bytes']).toBe(String(100 * MB));
    expect(job.DefaultArguments['--max_line_bytes']).toBe(String(64 * 1024));
  });
});

describe('the local mode', () => {
  test('provisions the job with the same function, on its own bucket and database', async () => {
    const { glueDefaultArguments, LOCAL_NAMES } = await import('../../local/provision');
    const config = resolveConfig({ glue: { maxLineKb: 5 } });

    expect(glueDefaultArguments(config)).toEqual(
      glueJobArguments(config.glue, { curatedBucket: LOCAL_NAMES.curatedBucket, catalogDatabase: LOCAL_NAMES.glueDatabase }),
    );
  });
});

describe('the state machine', () => {
  test("passes the contract's per-manifest arguments and nothing else: everything else comes from the job's defaults", () => {
    const asl = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'state-machines', 'convert-manifest.asl.json'), 'utf8'));
    const passed = Object.keys(asl.States.Convert.Parameters.Arguments as Record<string, unknown>).map((name) => name.replace(/\.\$$/, ''));

    expect(passed.sort()).toEqual([...PER_MANIFEST_ARGUMENTS].sort());
  });
});
