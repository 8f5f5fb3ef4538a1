/**
 * The conversion state machine's ASL file and its placeholders: the contract between the stack, which fills them
 * with `definitionSubstitutions`, and the local mode's provisioner, which fills them itself. No CDK.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The conversion state machine's ASL, the one source for the stack and the local mode. */
export const CONVERT_MANIFEST_ASL_PATH = path.join(__dirname, '..', 'state-machines', 'convert-manifest.asl.json');

/** Values of the ASL's `${Placeholders}` (docs/architecture.md, "ASL placeholders"). */
export interface ConvertManifestPlaceholders {
  /** Name of the state table. */
  readonly StateTableName: string;
  /** Name of the Glue conversion job. */
  readonly GlueJobName: string;
  /** ARN of the alerts topic. */
  readonly AlertTopicArn: string;
  /** Name of the curated bucket (Parquet, quarantine, manifest and result files). */
  readonly CuratedBucketName: string;
  /** Region, for the console URL of an execution. */
  readonly Region: string;
  /** Start of the alerts' subject, which names the stage: `alertSubjectPrefix` of contracts/config.ts. */
  readonly AlertSubjectPrefix: string;
}

/** Names of the placeholders, in the order the contract lists them. */
export const CONVERT_MANIFEST_PLACEHOLDERS: readonly (keyof ConvertManifestPlaceholders)[] = [
  'StateTableName',
  'GlueJobName',
  'AlertTopicArn',
  'CuratedBucketName',
  'Region',
  'AlertSubjectPrefix',
];

/**
 * The ASL text with the execution timeout set. The timeout is a number in ASL, which a text placeholder cannot
 * fill while keeping the file valid JSON, so it is set here from the config; the placeholders stay for
 * `definitionSubstitutions` (cloud) or {@link fillPlaceholders} (local mode).
 */
export function convertManifestDefinition(executionTimeoutMinutes: number): string {
  const asl = JSON.parse(fs.readFileSync(CONVERT_MANIFEST_ASL_PATH, 'utf8')) as Record<string, unknown>;
  asl.TimeoutSeconds = executionTimeoutMinutes * 60;
  return JSON.stringify(asl);
}

/** Replaces every `${Name}` of the ASL; throws on a placeholder with no value, so none reaches the emulator. */
export function fillPlaceholders(definition: string, values: ConvertManifestPlaceholders): string {
  return definition.replace(/\$\{([A-Za-z0-9]+)\}/g, (_match, name: string) => {
    const value = (values as unknown as Record<string, string | undefined>)[name];
    if (value === undefined) throw new Error(`ASL placeholder \${${name}} has no value`);
    // Values land inside JSON strings: escape them as JSON does.
    return JSON.stringify(value).slice(1, -1);
  });
}
