import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { STATE_TABLE, STATE_TABLE_PREFIXES } from '../../contracts/table-schema';
import { grantPublishTo } from './alerting';
import { acknowledgeManifestStarts, grantManifestStarts, keepLogicalId, pipelineFunction, PipelineLambdaProps } from './pipeline-lambda';

/** Timeout of the sweeper: under the minute between its runs. */
export const SWEEPER_TIMEOUT = Duration.seconds(50);

/**
 * Logical ids of the sweeper's log group and dead-letter queue from when they were part of the ManifestBuilder
 * construct: kept, so its logs and undelivered runs stay where they are.
 */
const SWEEPER_LOGICAL_IDS = {
  logGroup: 'ManifestBuilderSweeperLogsE7ACFA26',
  deadLetterQueue: 'ManifestBuilderSweeperDeadLetterQueueE1A9520D',
} as const;

/** Properties of {@link Sweeper}. */
export interface SweeperProps extends PipelineLambdaProps {
  /** The alerts topic's key. */
  readonly alertKey: kms.IKey;
}

/**
 * The sweeper (every minute: seals manifests whose oldest file waited `maxWaitMinutes`, starts sealed manifests
 * that have no execution, records executions that ended without an outcome), with the dead-letter queue of its
 * failed runs.
 */
export class Sweeper extends Construct {
  /** The scheduled sweeper Lambda. */
  public readonly function: nodejs.NodejsFunction;
  /** Sweeper runs that failed (no retry: the next run does the same work) or could not be delivered by EventBridge. */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: SweeperProps) {
    super(scope, id);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    keepLogicalId(this.deadLetterQueue, SWEEPER_LOGICAL_IDS.deadLetterQueue);
    // Overlapping sweeps are harmless (every seal and start is conditional or idempotent), so no reserved
    // concurrency: it would fail deployment in accounts with the minimum concurrency quota.
    this.function = pipelineFunction(this, 'Function', props, {
      service: 'sweeper',
      entry: 'handlers/sweeper/index.ts',
      timeout: SWEEPER_TIMEOUT,
      description: 'Seals manifests whose oldest file waited too long; resumes sealed manifests that have no execution',
      // The next run a minute later does the same work, so a failed run is not retried; it goes to the DLQ,
      // whose alarm tells the operator the sweeper is failing.
      extra: { deadLetterQueue: this.deadLetterQueue, retryAttempts: 0, maxEventAge: Duration.minutes(2) },
    });
    keepLogicalId(this.node.findChild('FunctionLogs'), SWEEPER_LOGICAL_IDS.logGroup);

    new events.Rule(this, 'Schedule', {
      description: 'Runs the manifest sweeper every minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [
        new targets.LambdaFunction(this.function, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: Duration.minutes(2),
        }),
      ],
    });

    const table = props.stateTable.tableArn;
    const { open, manifest } = STATE_TABLE_PREFIXES;
    // The sweeper seals, starts and records ended executions (OPEN#, MANIFEST#), and is the only one that deletes:
    // a manifest opened and never written to.
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SealAndStart',
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
        resources: [table],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [open, manifest].map((prefix) => `${prefix}*`) } },
      }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PendingAndRunning',
        actions: ['dynamodb:Query'],
        resources: [STATE_TABLE.pendingIndex.name, STATE_TABLE.runningIndex.name, STATE_TABLE.alertsIndex.name].map(
          (index) => `${table}/index/${index}`,
        ),
        // Whether the condition key is the index's partition key or absent for an index query, these pass.
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['PENDING', 'RUNNING'] } },
      }),
    );
    grantManifestStarts(this.function, props);
    grantPublishTo(this.function, props.alertTopic, props.alertKey);
    acknowledgeManifestStarts(this, this.function, props);
  }
}
