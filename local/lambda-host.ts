/**
 * What the Lambda service gives a handler, reproduced for the local mode: the environment the stack sets,
 * a context object, and the handler module loaded only after that environment is in place.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import type { Context } from 'aws-lambda';
import { type LambdaService, type LambdaSettings, toCanaryEnvironment, toEnvironment } from '../contracts/lambda-environment';
import { alertSubjectPrefix, type PipelineConfig } from '../contracts/config';
import { componentCredentials, type LocalStack } from '../contracts/local-stack';
import { LOCAL_ACCOUNT, REPO_ROOT } from './layout';

/** Handler modules, relative to the repository root. */
const HANDLER_MODULES: Record<LambdaService, string> = {
  'manifest-builder': path.join('handlers', 'manifest-builder', 'index.ts'),
  sweeper: path.join('handlers', 'sweeper', 'index.ts'),
  canary: path.join('handlers', 'canary', 'index.ts'),
};

/** Timeout given to each invocation: the stack's builder timeout (BUILDER_TIMEOUT). */
export const LOCAL_TIMEOUT_MS = 60_000;

/**
 * The environment the stack sets on the Lambda (docs/architecture.md, "Lambda environment", written by the same
 * `toEnvironment`), plus what the Lambda service itself sets (its role's credentials: here the function's own key),
 * pointed at the emulator.
 */
export function lambdaEnvironment(fn: LambdaService, stack: LocalStack, config: PipelineConfig): Record<string, string> {
  const settings: LambdaSettings = {
    stateTable: stack.stateTable,
    idempotencyTable: stack.idempotencyTable,
    stateMachineArn: stack.stateMachineArn,
    curatedBucket: stack.curatedBucket,
    ingestBucket: stack.ingestBucket,
    alertTopicArn: stack.alertTopicArn,
    alertSubjectPrefix: alertSubjectPrefix(config.stage),
    ingestPrefix: config.ingestPrefix,
    acceptedSuffixes: config.acceptedSuffixes,
    batchSize: stack.batchSize,
    // The handlers count whole minutes; the local mode's wait is in seconds.
    maxWaitMinutes: Math.max(1, Math.ceil(stack.maxWaitSeconds / 60)),
    maxConcurrentRuns: stack.maxConcurrentRuns ?? config.glue.maxConcurrentRuns,
    idempotencyTtlSeconds: config.idempotencyTtlDays * 24 * 3600,
    maxObjectMb: config.maxObjectMb,
    maxShardsPerDataset: config.maxShardsPerDataset,
  };
  return {
    ...toEnvironment(settings, { service: fn, metricsNamespace: config.metricsNamespace, logLevel: config.logLevel }),
    ...runtimeEnvironment(fn, stack),
  };
}

/** The local canary's period and look-back, in seconds (the stack's are minutes: contracts/config.ts). */
export interface LocalCanarySettings {
  readonly everySeconds: number;
  readonly checkSeconds: number;
  readonly lookbackSeconds: number;
}

/** The canary's environment (its own, smaller one: `toCanaryEnvironment`), pointed at the emulator. */
export function canaryEnvironment(stack: LocalStack, config: PipelineConfig, canary: LocalCanarySettings): Record<string, string> {
  return {
    ...toCanaryEnvironment(
      { stateTable: stack.stateTable, ingestBucket: stack.ingestBucket, ingestPrefix: config.ingestPrefix, ...canary },
      { service: 'canary', metricsNamespace: config.metricsNamespace, logLevel: config.logLevel },
    ),
    ...runtimeEnvironment('canary', stack),
  };
}

/** What the Lambda service itself sets, pointed at the emulator. */
function runtimeEnvironment(fn: LambdaService, stack: LocalStack): Record<string, string> {
  // The function's own key, as Lambda hands a function its role's credentials: the emulator records its calls as its.
  const credentials = componentCredentials(stack, fn);
  return {
    POWERTOOLS_TRACE_ENABLED: 'false',
    AWS_ENDPOINT_URL: stack.endpoint,
    AWS_REGION: stack.region,
    AWS_DEFAULT_REGION: stack.region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_LAMBDA_FUNCTION_NAME: `${fn}-local`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
  };
}

/** A Lambda context for one invocation: the remaining time counts down from `timeoutMs`. */
export function lambdaContext(fn: LambdaService, region: string, timeoutMs: number = LOCAL_TIMEOUT_MS): Context {
  const deadline = Date.now() + timeoutMs;
  const functionName = `${fn}-local`;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${process.pid}`,
    // Never 0: Lambda would have killed the invocation by then, but here it runs on, and Powertools idempotency
    // skips the in-progress expiry when the remaining time is 0, which would block a crashed record's retry.
    getRemainingTimeInMillis: () => Math.max(1, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A Lambda handler as the pipeline's handlers export it. */
export type LambdaHandler<E, R> = (event: E, context: Context) => Promise<R>;

/**
 * Sets the Lambda environment on this process, then loads the handler module: Powertools and the clients read
 * the environment when the module loads, as they do in Lambda. The handler runs unmodified.
 */
export async function loadHandler<E, R>(
  fn: LambdaService,
  stack: LocalStack,
  config: PipelineConfig,
  environment: Record<string, string> = lambdaEnvironment(fn, stack, config),
): Promise<LambdaHandler<E, R>> {
  Object.assign(process.env, environment);
  const mod = (await import(path.join(REPO_ROOT, HANDLER_MODULES[fn]))) as { handler?: LambdaHandler<E, R> };
  if (typeof mod.handler !== 'function') throw new Error(`${HANDLER_MODULES[fn]} does not export a handler`);
  return mod.handler;
}
