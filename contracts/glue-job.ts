/**
 * The Glue job's contract: its arguments and the reasons a file of a manifest is not converted, defined once in
 * contracts/glue-job.json, against which glue-scripts/tests/test_contracts.py checks the job (docs/architecture.md,
 * "Glue job arguments: one home"). The stack and the local mode's provisioner both set the job's default arguments from
 * {@link glueJobArguments}; the state machine passes only {@link PER_MANIFEST_ARGUMENTS}, so a setting changed here
 * reaches every run, whoever starts it.
 *
 * Free of the CDK: the local mode imports it without loading aws-cdk-lib. Values may be CDK tokens (strings).
 */
import { PREFIXES, type GlueSettings } from './config';
import contract from './glue-job.json';

/** Who passes an argument: the state machine per manifest, the job's default arguments, or no one in the pipeline. */
export type ArgumentSetter = 'stateMachine' | 'jobDefaults' | 'nobody';

/** One argument of the job, as `--name`. */
export interface GlueJobArgument {
  readonly name: string;
  readonly setBy: ArgumentSetter;
  /** The job refuses to run without it. */
  readonly required: boolean;
}

/** Every argument the job reads. */
export const GLUE_JOB_ARGUMENTS: readonly GlueJobArgument[] = contract.arguments.map((a) => ({
  name: a.name,
  setBy: a.setBy as ArgumentSetter,
  required: a.required,
}));

const namesSetBy = (setter: ArgumentSetter): readonly string[] => GLUE_JOB_ARGUMENTS.filter((a) => a.setBy === setter).map((a) => a.name);

/** The arguments that differ per manifest: the state machine's Convert state passes these and nothing else. */
export const PER_MANIFEST_ARGUMENTS = namesSetBy('stateMachine');

/** The arguments that are the same for every run: the keys of {@link glueJobArguments}. */
export const JOB_DEFAULT_ARGUMENTS = namesSetBy('jobDefaults');

/** Why a file of a manifest is not converted: `reason` of an entry of the result file's `failedFiles`. */
export type FileFailureReason = (typeof contract.fileFailureReasons)[number];

/** Every {@link FileFailureReason} the job gives. */
export const FILE_FAILURE_REASONS: readonly FileFailureReason[] = contract.fileFailureReasons;

/**
 * Why a run ended as its outcome document says (docs/architecture.md, "Outcome document"): `none` (SUCCEEDED),
 * `files_unreadable` (PARTIAL), the others FAILED; a FAILED manifest's `error` is `Pipeline.Job.<reason>`.
 */
export type OutcomeReason = (typeof contract.outcomeReasons)[number];

/** Every {@link OutcomeReason} the job gives. */
export const OUTCOME_REASONS: readonly OutcomeReason[] = contract.outcomeReasons;

/** Where the job's outputs and inputs live, as the stack or the emulator names them. */
export interface GlueJobLocations {
  /** Name of the curated bucket (Parquet, quarantine, staging, schemas). */
  readonly curatedBucket: string;
  /** Glue Data Catalog database of the datasets; empty to skip the catalog. */
  readonly catalogDatabase: string;
}

const MB = 1024 * 1024;

/** The job's default arguments: each of {@link JOB_DEFAULT_ARGUMENTS}. */
export function glueJobArguments(
  glue: Pick<GlueSettings, 'targetFileMb' | 'maxDecompressedMb' | 'maxLineKb' | 'maxSchemaFields'>,
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
    '--max_schema_fields': String(glue.maxSchemaFields),
  };
}
