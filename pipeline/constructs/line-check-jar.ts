import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BundlingOutput, DockerImage } from 'aws-cdk-lib';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';

/** The Glue job's JVM helpers (glue-scripts/jvm), a Maven module. */
export const LINE_CHECK_DIR = path.join(__dirname, '..', '..', 'glue-scripts', 'jvm');
/** Where `make` (and Maven in the module) puts the jar; the local mode and the tests load it from here. */
export const LINE_CHECK_JAR_PATH = path.join(LINE_CHECK_DIR, 'build', 'pipeline-json.jar');
const JAR_NAME = path.basename(LINE_CHECK_JAR_PATH);

/** Every file the jar is built from: the module's pom.xml and src/main. */
function sources(): string[] {
  const main = path.join(LINE_CHECK_DIR, 'src', 'main');
  const files = (fs.readdirSync(main, { recursive: true }) as string[]).map((name) => path.join(main, name));
  return [path.join(LINE_CHECK_DIR, 'pom.xml'), ...files];
}

/** Whether the jar in the module's build folder is newer than every source of it (the rule `make` applies). */
export function lineCheckJarIsCurrent(): boolean {
  if (!fs.existsSync(LINE_CHECK_JAR_PATH)) return false;
  const built = fs.statSync(LINE_CHECK_JAR_PATH).mtimeMs;
  return sources().every((file) => fs.statSync(file).mtimeMs <= built);
}

/**
 * Builds the jar into `outputDir`: a copy of a current jar of the module's build folder, else `mvn package` (tests
 * skipped; `make test` runs them) on a private copy of the module, so that two synths at once never share a build
 * folder. Needs Java 17 and Maven on the path, nothing else of the repository's tooling.
 */
export function buildLineCheckJar(outputDir: string): void {
  if (lineCheckJarIsCurrent()) {
    fs.copyFileSync(LINE_CHECK_JAR_PATH, path.join(outputDir, JAR_NAME));
    return;
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-json-'));
  try {
    fs.copyFileSync(path.join(LINE_CHECK_DIR, 'pom.xml'), path.join(work, 'pom.xml'));
    fs.cpSync(path.join(LINE_CHECK_DIR, 'src', 'main'), path.join(work, 'src', 'main'), { recursive: true });
    // stdout stays clean: `cdk synth` writes the template there.
    const mvn = spawnSync('mvn', ['-q', '-B', 'package', '-DskipTests'], { cwd: work, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (mvn.error || mvn.status !== 0) {
      const why = mvn.error ? mvn.error.message : `${mvn.stdout}${mvn.stderr}`.trim().split('\n').slice(-20).join('\n');
      throw new Error(
        `building the Glue job's jar (glue-scripts/jvm) with Maven failed; the deploy needs Java 17 and Maven on the path:\n${why}`,
      );
    }
    fs.copyFileSync(path.join(work, 'build', JAR_NAME), path.join(outputDir, JAR_NAME));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The jar as a CDK asset built at synth time, so that a fresh clone deploys with `npm ci && npx cdk deploy` (the jar
 * is build output, not in git). Bundling is local (`tryBundle`, the CDK's local bundling): it builds with Maven or
 * fails with the reason, and never falls back to Docker, whose image below is therefore never pulled. The asset's
 * hash is its sources' (the build folder left out), so an unchanged module is not rebuilt in the same `cdk.out`.
 */
export function lineCheckJarAsset(scope: Construct, id: string): s3assets.Asset {
  return new s3assets.Asset(scope, id, {
    path: LINE_CHECK_DIR,
    exclude: ['build', 'src/test'],
    bundling: {
      image: DockerImage.fromRegistry('maven:3.9-eclipse-temurin-17'),
      outputType: BundlingOutput.ARCHIVED,
      local: {
        tryBundle(outputDir: string): boolean {
          buildLineCheckJar(outputDir);
          return true;
        },
      },
    },
  });
}
