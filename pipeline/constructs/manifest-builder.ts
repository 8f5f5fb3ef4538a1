import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_CONFIG } from '../../contracts/config';
import { IDEMPOTENCY_TABLE, STATE_TABLE_PREFIXES } from '../../contracts/table-schema';
import { IngestQueue } from './ingest-queue';
import { acknowledge, arnRef } from './nag';
import { acknowledgeManifestStarts, grantManifestStarts, pipelineFunction, PipelineLambdaProps } from './pipeline-lambda';

/** Timeout of the manifest builder; the ingest queue's visibility timeout is derived from it. */
export const BUILDER_TIMEOUT = Duration.seconds(60);
/** How long the event source gathers notifications before invoking the builder. */
export const BUILDER_BATCHING_WINDOW = Duration.seconds(5);
/** Notifications per invocation: enough to amortise the cold path, few enough to finish well within the timeout. */
export const BUILDER_BATCH_SIZE = 50;

/** The ingest queue's visibility timeout: six times the builder's timeout plus its batching window, as AWS advises. */
export function ingestVisibilityTimeout(): Duration {
  return Duration.seconds(6 * BUILDER_TIMEOUT.toSeconds() + BUILDER_BATCHING_WINDOW.toSeconds());
}

/** Properties of {@link ManifestBuilder}. */
export interface ManifestBuilderProps extends PipelineLambdaProps {
  /** Receives of a notification before it moves to the ingest dead-letter queue. @default DEFAULT_CONFIG.maxReceiveCount */
  readonly maxReceiveCount?: number;
  /** Builder invocations the event source may run at once. @default DEFAULT_CONFIG.builderMaxConcurrency */
  readonly maxConcurrency?: number;
}

/**
 * The manifest builder (SQS-triggered: puts each new file into exactly one manifest, seals full ones and starts
 * their conversion), with the queue it consumes: the ingest bucket's notifications and their dead-letter queue.
 */
export class ManifestBuilder extends Construct {
  /** SQS-triggered manifest builder. */
  public readonly lambdaFunction: nodejs.NodejsFunction;
  /** The ingest bucket's notifications, waiting for the builder. */
  public readonly ingestQueue: sqs.Queue;
  /** Notifications the builder failed on `maxReceiveCount` times; `pipeline dlq redrive` moves them back. */
  public readonly ingestDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ManifestBuilderProps) {
    super(scope, id);

    const ingest = new IngestQueue(this, 'IngestQueue', {
      ingestPrefix: props.ingestPrefix,
      acceptedSuffixes: props.acceptedSuffixes,
      maxReceiveCount: props.maxReceiveCount,
      ingestBucket: props.ingestBucket,
      visibilityTimeout: ingestVisibilityTimeout(),
    });
    this.ingestQueue = ingest.queue;
    this.ingestDeadLetterQueue = ingest.deadLetterQueue;

    this.lambdaFunction = pipelineFunction(this, 'Builder', props, {
      service: 'manifest-builder',
      entry: 'handlers/manifest-builder/index.ts',
      timeout: BUILDER_TIMEOUT,
      description: 'Puts each new ingest file into exactly one manifest; seals full manifests and starts their conversion',
    });
    this.lambdaFunction.addEventSource(
      new SqsEventSource(this.ingestQueue, {
        batchSize: BUILDER_BATCH_SIZE,
        maxBatchingWindow: BUILDER_BATCHING_WINDOW,
        reportBatchItemFailures: true,
        // Bounds the write rate on one dataset's OPEN item, and leaves the account's other concurrency to the
        // sweeper (docs/deploy.md, "Lambda concurrency").
        maxConcurrency: props.maxConcurrency ?? DEFAULT_CONFIG.builderMaxConcurrency,
      }),
    );

    const table = props.stateTable.tableArn;
    const { open, file, manifest, rejected } = STATE_TABLE_PREFIXES;
    // The builder opens manifests, writes files into them (FILE#, MANIFEST#.../F#), records rejections, seals and
    // starts: it reads and writes those items, never scans, deletes, or writes in batches.
    this.lambdaFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PlaceFiles',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
        resources: [table],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [open, file, manifest, rejected].map((prefix) => `${prefix}*`) },
        },
      }),
    );
    // Powertools deletes a record whose function failed, so the retry is not answered from it.
    this.lambdaFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'IdempotencyRecords',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [props.idempotencyTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${IDEMPOTENCY_TABLE.builderKeyPrefix}#*`] } },
      }),
    );
    // A file's content identity is its full-object checksum (I7): HeadObject with checksum mode, of the version the
    // notification names. HeadObject needs s3:GetObject, and s3:GetObjectVersion for a version id.
    const ingestKeys = `${props.ingestPrefix}*`;
    this.lambdaFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadIngestChecksums',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [props.ingestBucket.arnForObjects(ingestKeys)],
      }),
    );
    grantManifestStarts(this.lambdaFunction, props);
    acknowledgeManifestStarts(this, this.lambdaFunction, props);
    acknowledge(
      this.lambdaFunction.role!.node.tryFindChild('DefaultPolicy')!,
      'The builder reads the checksum (HeadObject) of any new object under the ingest prefix; keys are known only at run time.',
      `IAM5[Resource::${arnRef(props.ingestBucket)}/${props.ingestPrefix}*]`,
    );

    const { alerting } = props;
    alerting.alarmOnDeadLetterQueue(
      'IngestDlqAlarm',
      this.ingestDeadLetterQueue,
      'S3 notifications the manifest builder failed on reached the ingest DLQ: see them with `npx pipeline dlq`, fix the cause (builder logs), then `npx pipeline dlq redrive`.',
    );
    alerting.alarmOnLambdaErrors(
      'BuilderErrorsAlarm',
      this.lambdaFunction,
      'manifest builder',
      'Read its log group for level ERROR. The notifications it failed on are received again and reach the ingest DLQ after maxReceiveCount receives; ' +
        'once the cause is fixed, `npx pipeline dlq redrive` sends them through again (files already in a manifest are skipped).',
    );
    alerting.alarmOnLambdaThrottles('BuilderThrottlesAlarm', this.lambdaFunction, 'manifest builder');
    alerting.alarmOnLambdaDuration('BuilderDurationAlarm', this.lambdaFunction, 'manifest builder', BUILDER_TIMEOUT);
    alerting.alarmOnExecutionNameConflicts('manifest-builder', props.metricsNamespace ?? DEFAULT_CONFIG.metricsNamespace);
  }
}
