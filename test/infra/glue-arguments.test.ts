/** The Glue job's arguments have one home (pipeline/glue-arguments.ts): the stack, the local mode and the ASL agree. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveConfig } from '../../contracts/config';
import { PER_MANIFEST_ARGUMENTS, glueJobArguments } from '../../pipeline/glue-arguments';
import { REPO_ROOT, logicalIdAt, synthPipeline } from './synth';

const MB = 1024 * 1024;

describe('glueJobArguments', () => {
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
    });
  });

  test('the caps follow the config', () => {
    const args = glueJobArguments(resolveConfig({ glue: { maxDecompressedMb: 3, maxLineKb: 2 } }).glue, {
      curatedBucket: 'c',
      catalogDatabase: '',
    });

    expect(args['--max_decompressed_bytes']).toBe(String(3 * MB));
    expect(args['--max_line_bytes']).toBe('2048');
  });

  test('no argument is both a default and a per-manifest one', () => {
    const defaults = Object.keys(glueJobArguments(resolveConfig().glue, { curatedBucket: 'c', catalogDatabase: 'd' }));
    expect(defaults.filter((name) => (PER_MANIFEST_ARGUMENTS as readonly string[]).includes(name))).toEqual([]);
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
  test('passes only the per-manifest arguments to the job: everything else comes from its defaults', () => {
    const asl = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'state-machines', 'convert-manifest.asl.json'), 'utf8'));
    const passed = Object.keys(asl.States.Convert.Parameters.Arguments as Record<string, unknown>).map((name) => name.replace(/\.\$$/, ''));

    expect(passed.sort()).toEqual([...PER_MANIFEST_ARGUMENTS].sort());
  });
});
