import { Duration, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_CONFIG } from '../../contracts/config';
import { acknowledge } from './nag';

/** Properties of {@link IngestQueue}. */
export interface IngestQueueProps {
  /** The bucket whose `ObjectCreated` events feed the queue. */
  readonly ingestBucket: s3.IBucket;
  /** Visibility timeout; AWS asks for at least six times the consumer's timeout plus its batching window. */
  readonly visibilityTimeout: Duration;
  /** Key prefix of the objects whose creation is notified. @default DEFAULT_CONFIG.ingestPrefix */
  readonly ingestPrefix?: string;
  /** Key suffixes notified, one notification rule each; no two may overlap. @default DEFAULT_CONFIG.acceptedSuffixes */
  readonly acceptedSuffixes?: readonly string[];
  /** Receives of a notification before it moves to the dead-letter queue. @default DEFAULT_CONFIG.maxReceiveCount */
  readonly maxReceiveCount?: number;
}

/** Throws when two accepted suffixes overlap: S3 refuses notification rules whose filters overlap. */
export function assertDisjointSuffixes(suffixes: readonly string[]): void {
  for (const a of suffixes) {
    for (const b of suffixes) {
      if (a !== b && a.endsWith(b)) {
        throw new Error(`accepted suffixes "${a}" and "${b}" overlap: S3 cannot route both to the ingest queue`);
      }
    }
  }
}

/**
 * The queue of S3 `ObjectCreated` notifications for the manifest builder, and its dead-letter queue.
 * One notification rule per accepted suffix, each on the ingest prefix.
 */
export class IngestQueue extends Construct {
  /** Notifications waiting for the manifest builder. */
  public readonly queue: sqs.Queue;
  /** Notifications the builder failed on `maxReceiveCount` times; `pipeline dlq redrive` moves them back. */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: IngestQueueProps) {
    super(scope, id);
    const acceptedSuffixes = props.acceptedSuffixes ?? DEFAULT_CONFIG.acceptedSuffixes;
    assertDisjointSuffixes(acceptedSuffixes);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      // SSE-SQS rather than a KMS key: S3 can deliver to it without a key policy for s3.amazonaws.com.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? DEFAULT_CONFIG.maxReceiveCount },
    });

    const destination = new s3n.SqsDestination(this.queue);
    for (const suffix of acceptedSuffixes) {
      props.ingestBucket.addEventNotification(s3.EventType.OBJECT_CREATED, destination, {
        prefix: props.ingestPrefix ?? DEFAULT_CONFIG.ingestPrefix,
        suffix,
      });
    }
    // The CDK writes the notification configuration with a stack-wide custom resource Lambda it owns.
    for (const child of Stack.of(this).node.children) {
      if (child.node.id.startsWith('BucketNotificationsHandler')) {
        acknowledge(
          child,
          'CDK-owned custom resource that sets the bucket notification configuration at deploy time; its role has AWSLambdaBasicExecutionRole for its own logs and s3:PutBucketNotification, nothing on the data.',
          'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        );
      }
    }
  }
}
