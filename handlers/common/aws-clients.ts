/** The AWS SDK clients the handlers use, made once per Lambda container. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';

/** Clients passed to the builder and the sweeper; tests and the local mode build their own. */
export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  /** The sweeper's alerts for executions that ended without recording an outcome. */
  readonly sns: SNSClient;
}

/**
 * Clients with the SDK's defaults. The SDK honours `AWS_ENDPOINT_URL` by itself; S3 then needs path-style
 * addressing, since an emulator on 127.0.0.1 has no per-bucket host names.
 */
export function createAwsClients(env: Readonly<Record<string, string | undefined>> = process.env): AwsClients {
  const endpointSet = Boolean(env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_S3);
  return {
    dynamodb: new DynamoDBClient({}),
    s3: new S3Client({ forcePathStyle: endpointSet }),
    sfn: new SFNClient({}),
    sns: new SNSClient({}),
  };
}
