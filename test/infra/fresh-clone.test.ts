import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './synth';

/**
 * The documented deploy (README, docs/deploy.md: `npm ci`, then `npx cdk deploy`) on a fresh clone: the committed
 * tree of HEAD and nothing else (no jar, no Python venv), with the repository's node_modules linked in for `npm ci`.
 * `cdk synth` is the deploy's first step; it builds every asset, the Glue job's jar with Maven among them.
 */
describe('a fresh clone', () => {
  let clone: string;
  beforeAll(() => {
    clone = fs.mkdtempSync(path.join(os.tmpdir(), 'fresh-clone-'));
    const archive = spawnSync('git', ['-C', REPO_ROOT, 'archive', '--format=tar', '-o', path.join(clone, 'head.tar'), 'HEAD'], {
      encoding: 'utf8',
    });
    expect(archive.stderr).toBe('');
    const untar = spawnSync('tar', ['-xf', 'head.tar'], { cwd: clone, encoding: 'utf8' });
    expect(untar.status).toBe(0);
    fs.rmSync(path.join(clone, 'head.tar'));
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
  });
  afterAll(() => fs.rmSync(clone, { recursive: true, force: true }));

  test('synthesizes the stack with `npx cdk synth`, building the Glue job jar it deploys', () => {
    expect(fs.existsSync(path.join(clone, 'glue-scripts', 'jvm', 'build'))).toBe(false);
    expect(fs.existsSync(path.join(clone, '.venv'))).toBe(false);
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
    const synth = spawnSync('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-c', 'alertEmail=ops@example.com'], {
      cwd: clone,
      encoding: 'utf8',
      env: { ...env, CDK_DISABLE_VERSION_CHECK: '1' },
      maxBuffer: 64 << 20,
    });
    expect(synth.stderr).not.toMatch(/Error/);
    expect(synth.status).toBe(0);

    const outdir = path.join(clone, 'cdk.out');
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'IngestPipeline.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging: string } }>;
    };
    const jars = Object.entries(manifest.files).filter(([, file]) => file.source.path.endsWith('.jar'));
    expect(jars).toHaveLength(1);
    const [hash, asset] = jars[0];
    // The job loads that object: its --extra-jars names the asset's key.
    const template = JSON.parse(fs.readFileSync(path.join(outdir, 'IngestPipeline.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: { DefaultArguments?: Record<string, unknown> } }>;
    };
    const jobs = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Glue::Job');
    expect(jobs).toHaveLength(1);
    expect(JSON.stringify(jobs[0].Properties.DefaultArguments!['--extra-jars'])).toContain(`/${hash}.jar`);
    expect(asset.source.packaging).toBe('file');
    const jar = fs.readFileSync(path.join(outdir, asset.source.path));
    expect(jar.subarray(0, 2).toString('latin1')).toBe('PK'); // a zip (a jar); its entry names are stored in clear
    for (const entry of ['pipeline/json/CheckLine.class', 'pipeline/json/ParseLine.class', 'pipeline/json/Ledger.class']) {
      expect(jar.includes(entry)).toBe(true);
    }
    expect(jar.includes('org/apache/spark/')).toBe(false); // Spark is the runtime's, not the jar's
  }, 600_000);
});
