/**
 * The clients and settings every operation gets: made once per command from the resolved target.
 * Operations take a {@link CliContext} rather than building clients, so tests pass mocked ones.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { clientConfig } from '../contracts/local-stack';
import { PipelineConfig, resolveConfig } from '../contracts/config';
import { TargetNotFoundError } from './errors';
import { PipelineTarget } from './target';

/** What an operation needs: the target, its clients, the pipeline's settings and a clock. */
export interface CliContext {
  readonly target: PipelineTarget;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly sfn: SFNClient;
  readonly ddb: DynamoDBDocumentClient;
  readonly config: PipelineConfig;
  /** The current time; tests pin it. */
  readonly now: () => Date;
}

/** Client settings for the target: the emulator's endpoint with the instance's key, or the SDK's defaults. */
export function clientSettings(target: PipelineTarget) {
  if (target.mode === 'local' && target.endpoint !== undefined) {
    if (target.credentials === undefined) throw new TargetNotFoundError('the local target has no access key: restart the local mode');
    // A stopped emulator should fail fast, not after the SDK's backoff.
    return { ...clientConfig({ endpoint: target.endpoint, region: target.region, ...target.credentials }), maxAttempts: 2 };
  }
  return { region: target.region };
}

/** Makes the clients of a target. */
export function createContext(target: PipelineTarget, config: PipelineConfig = resolveConfig()): CliContext {
  const settings = clientSettings(target);
  const { forcePathStyle, ...common } = settings as ReturnType<typeof clientSettings> & { forcePathStyle?: boolean };
  return {
    target,
    s3: new S3Client({ ...common, forcePathStyle }),
    sqs: new SQSClient(common),
    sfn: new SFNClient(common),
    ddb: DynamoDBDocumentClient.from(new DynamoDBClient(common), {
      marshallOptions: { removeUndefinedValues: true },
    }),
    config,
    now: () => new Date(),
  };
}
