/**
 * Where the CLI points: a running local mode (`.local/stack.json`) or a deployed stack (its CloudFormation
 * outputs). Both give the same names, so every operation runs the same code against either.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand, Output } from '@aws-sdk/client-cloudformation';
import { DEFAULT_STATE_DIR, localPaths } from '../contracts/local-stack';
import { TargetNotFoundError, UsageError } from './errors';

/** The resources of one pipeline, as the CLI uses them. */
export interface PipelineTarget {
  /** `local`: the emulator of the local mode; `cloud`: a deployed stack. */
  readonly mode: 'local' | 'cloud';
  readonly region: string;
  /** Endpoint of the emulator; undefined in the cloud (the SDK's own endpoints). */
  readonly endpoint?: string;
  /** Name of the deployed stack; undefined in the local mode. */
  readonly stackName?: string;
  /** State directory of the local mode; undefined in the cloud. */
  readonly stateDir?: string;
  /** The local mode instance's access key (the only one its emulator answers to); undefined in the cloud. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly ingestBucket: string;
  readonly curatedBucket: string;
  readonly ingestQueueUrl: string;
  readonly ingestDlqUrl: string;
  /** The DLQ of failed sweeper runs; only deployed stacks have one. */
  readonly sweeperDlqUrl?: string;
  readonly stateTable: string;
  readonly idempotencyTable: string;
  readonly stateMachineArn: string;
  readonly glueJobName: string;
  readonly glueDatabase: string;
  readonly alertTopicArn: string;
}

/** How the operator chose the target on the command line. */
export interface TargetOptions {
  /** Use the local mode even when a stack name is also known. */
  readonly local?: boolean;
  /** State directory of the local mode. @default `<repository>/.local` */
  readonly stateDir?: string;
  /** Name of the deployed stack. @default the `PIPELINE_STACK_NAME` environment variable */
  readonly stackName?: string;
  /** Region of the deployed stack. @default the SDK's usual resolution (AWS_REGION, profile) */
  readonly region?: string;
}

/** The fields of the target, each with its name in `stack.json` and in the stack's outputs. */
const FIELDS = [
  ['ingestBucket', 'IngestBucket'],
  ['curatedBucket', 'CuratedBucket'],
  ['ingestQueueUrl', 'IngestQueueUrl'],
  ['ingestDlqUrl', 'IngestDlqUrl'],
  ['stateTable', 'StateTable'],
  ['idempotencyTable', 'IdempotencyTable'],
  ['stateMachineArn', 'StateMachineArn'],
  ['glueJobName', 'GlueJobName'],
  ['glueDatabase', 'GlueDatabase'],
  ['alertTopicArn', 'AlertTopicArn'],
] as const;

type ResourceFields = Omit<PipelineTarget, 'mode' | 'region' | 'endpoint' | 'stackName' | 'stateDir' | 'sweeperDlqUrl' | 'credentials'>;

/** Builds the local target from the parsed content of `stack.json`. */
export function targetFromLocalStack(stack: unknown, stackFile: string): PipelineTarget {
  const s = (stack ?? {}) as Record<string, unknown>;
  const wanted = ['endpoint', 'region', 'accessKeyId', 'secretAccessKey', ...FIELDS.map(([local]) => local)];
  const missing = wanted.filter((k) => typeof s[k] !== 'string' || s[k] === '');
  if (missing.length > 0) {
    throw new TargetNotFoundError(`${stackFile} lacks ${missing.join(', ')}: restart the local mode`);
  }
  const fields = Object.fromEntries(FIELDS.map(([local]) => [local, s[local] as string])) as unknown as ResourceFields;
  return {
    mode: 'local',
    region: s.region as string,
    endpoint: s.endpoint as string,
    stateDir: path.dirname(stackFile),
    credentials: { accessKeyId: s.accessKeyId as string, secretAccessKey: s.secretAccessKey as string },
    ...fields,
  };
}

/**
 * Finds an output by its key. CDK names a stack-level `CfnOutput` exactly as given; one declared inside a
 * construct gets the construct path in front and an 8-character hash behind, so both are accepted.
 */
function findOutput(outputs: readonly Output[], name: string): string | undefined {
  const exact = outputs.find((o) => o.OutputKey === name);
  if (exact?.OutputValue) return exact.OutputValue;
  const nested = outputs.filter((o) => o.OutputKey !== undefined && new RegExp(`${name}(?:[0-9A-F]{8})?$`).test(o.OutputKey));
  return nested.length === 1 ? nested[0].OutputValue : undefined;
}

/** Builds the cloud target from the outputs of the deployed stack. */
export function targetFromStackOutputs(stackName: string, region: string, outputs: readonly Output[]): PipelineTarget {
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const [local, output] of FIELDS) {
    const value = findOutput(outputs, output);
    if (value === undefined) missing.push(output);
    else values[local] = value;
  }
  if (missing.length > 0) {
    throw new TargetNotFoundError(`stack ${stackName} has no output ${missing.join(', ')}: is it the pipeline's stack, fully deployed?`);
  }
  return {
    mode: 'cloud',
    region,
    stackName,
    sweeperDlqUrl: findOutput(outputs, 'SweeperDlqUrl'),
    ...(values as unknown as ResourceFields),
  };
}

/** Reads the local target from a state directory; throws when the local mode has not been started there. */
export function readLocalTarget(stateDir: string): PipelineTarget {
  const { stackFile } = localPaths(stateDir);
  if (!existsSync(stackFile)) {
    throw new TargetNotFoundError(`the local mode is not running (no ${stackFile}); start it with: npx pipeline local start`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(stackFile, 'utf8'));
  } catch (err) {
    throw new TargetNotFoundError(`${stackFile} is not valid JSON (${(err as Error).message}): restart the local mode`);
  }
  return targetFromLocalStack(parsed, stackFile);
}

/** Reads the cloud target from the outputs of `stackName`. */
export async function readStackTarget(stackName: string, cfn: CloudFormationClient): Promise<PipelineTarget> {
  let outputs: Output[];
  try {
    const res = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = res.Stacks?.[0]?.Outputs ?? [];
  } catch (err) {
    const e = err as Error;
    if (e.name === 'ValidationError' && /does not exist/.test(e.message)) {
      throw new TargetNotFoundError(`stack ${stackName} does not exist in this account and region`);
    }
    throw err;
  }
  const region = await cfn.config.region();
  return targetFromStackOutputs(stackName, region, outputs);
}

/**
 * Picks the target: `--local` or `--state-dir` choose the local mode; else `--stack-name` (or
 * `PIPELINE_STACK_NAME`) a deployed stack; else the local mode when its `stack.json` exists.
 */
export async function resolveTarget(
  opts: TargetOptions,
  env: NodeJS.ProcessEnv = process.env,
  makeCfn: (region?: string) => CloudFormationClient = (region) => new CloudFormationClient(region ? { region } : {}),
  defaultStateDir: string = DEFAULT_STATE_DIR,
): Promise<PipelineTarget> {
  const stackName = opts.stackName ?? (env.PIPELINE_STACK_NAME || undefined);
  const wantsLocal = opts.local === true || opts.stateDir !== undefined;
  if (wantsLocal && opts.stackName !== undefined) {
    throw new UsageError('choose one target: --local/--state-dir or --stack-name');
  }
  const stateDir = opts.stateDir ?? defaultStateDir;
  if (wantsLocal) return readLocalTarget(stateDir);
  if (stackName !== undefined) return readStackTarget(stackName, makeCfn(opts.region));
  if (existsSync(localPaths(stateDir).stackFile)) return readLocalTarget(stateDir);
  throw new TargetNotFoundError(
    'no pipeline to talk to: pass --stack-name <name> for a deployed stack, or start the local mode (npx pipeline local start)',
  );
}
