/**
 * The one home of the Glue job's arguments (docs/architecture.md, "Glue job arguments"). The stack and the local
 * mode's provisioner both set the job's default arguments from {@link glueJobArguments}; the state machine passes
 * only {@link PER_MANIFEST_ARGUMENTS}, so a setting changed here reaches every run, whoever starts it.
 *
 * Free of the CDK: the local mode imports it without loading aws-cdk-lib. Values may be CDK tokens (strings).
 */
import { PREFIXES, type GlueSettings } from '../contracts/config';

/** Where the job's outputs and inputs live, as the stack or the emulator names them. */
export interface GlueJobLocations {
  /** Name of the curated bucket (Parquet, quarantine, staging, schemas). */
  readonly curatedBucket: string;
  /** Glue Data Catalog database of the datasets; empty to skip the catalog. */
  readonly catalogDatabase: string;
}

/** The arguments that differ per manifest: the state machine's Convert state passes these and nothing else. */
export const PER_MANIFEST_ARGUMENTS = ['--manifest_uri', '--manifest_id', '--dataset', '--ingest_date', '--result_uri'] as const;

const MB = 1024 * 1024;

/** The job's default arguments: every argument of the script that is the same for every run. */
export function glueJobArguments(
  glue: Pick<GlueSettings, 'targetFileMb' | 'maxDecompressedMb' | 'maxLineKb'>,
  where: GlueJobLocations,
): Record<string, string> {
  const s3 = (prefix: string) => `s3://${where.curatedBucket}/${prefix}`;
  return {
    '--curated_path': s3(PREFIXES.curated),
    '--quarantine_path': s3(PREFIXES.quarantine),
    // A dataset with a schema file here is parsed with it instead of an inferred one (glue-scripts/README.md).
    '--schema_prefix': s3(PREFIXES.schemas),
    '--staging_path': s3(PREFIXES.staging),
    '--catalog_database': where.catalogDatabase,
    '--target_file_mb': String(glue.targetFileMb),
    // The script counts bytes; the config speaks in MB and KB, which is how people size them.
    '--max_decompressed_bytes': String(glue.maxDecompressedMb * MB),
    '--max_line_bytes': String(glue.maxLineKb * 1024),
  };
}
