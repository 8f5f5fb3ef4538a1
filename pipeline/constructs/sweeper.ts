import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_CONFIG } from '../../contracts/config';
import { STATE_TABLE, STATE_TABLE_PREFIXES } from '../../contracts/table-schema';
import { grantPublishTo, OLDEST_OPEN_MANIFEST_METRIC, OLDEST_QUEUED_METRIC, queuedAgeAlarmSeconds } from './alerting';
import { acknowledgeManifestStarts, grantManifestStarts, pipelineFunction, PipelineLambdaProps } from './pipeline-lambda';

/** Properties of {@link Sweeper}. */
export interface SweeperProps extends PipelineLambdaProps {
  /** The Glue job's timeout, from which the queued-age alarm's threshold is made. @default DEFAULT_CONFIG.glue.timeoutMinutes */
  readonly glueTimeoutMinutes?: number;
}

/** Timeout of the sweeper: under the minute between its runs. */
export const SWEEPER_TIMEOUT = Duration.seconds(50);

/**
 * The sweeper (every minute: records executions that ended without an outcome and gives back their capacity slots,
 * seals manifests whose oldest file waited `maxWaitMinutes`, starts the start queue's oldest executions into free
 * slots), with the dead-letter queue of its failed runs.
 */
export class Sweeper extends Construct {
  /** The scheduled sweeper Lambda. */
  public readonly lambdaFunction: nodejs.NodejsFunction;
  /** Sweeper runs that failed (no retry: the next run does the same work) or could not be delivered by EventBridge. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The sweeper's gauge of the oldest manifest with no execution yet (docs/architecture.md, Metrics). */
  public readonly oldestOpenManifest: cloudwatch.Metric;
  /** The sweeper's gauge of the oldest execution waiting in the start queue for a capacity slot. */
  public readonly oldestQueued: cloudwatch.Metric;

  constructor(scope: Construct, id: string, props: SweeperProps) {
    super(scope, id);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // Overlapping sweeps are harmless (every seal and start is conditional or idempotent), so no reserved
    // concurrency: it would fail deployment in accounts with the minimum concurrency quota.
    this.lambdaFunction = pipelineFunction(this, 'Function', props, {
      service: 'sweeper',
      entry: 'handlers/sweeper/index.ts',
      timeout: SWEEPER_TIMEOUT,
      description: 'Seals manifests whose oldest file waited too long; resumes sealed manifests that have no execution',
      // The next run a minute later does the same work, so a failed run is not retried; it goes to the DLQ,
      // whose alarm tells the operator the sweeper is failing.
      extra: { deadLetterQueue: this.deadLetterQueue, retryAttempts: 0, maxEventAge: Duration.minutes(2) },
    });

    new events.Rule(this, 'Schedule', {
      description: 'Runs the manifest sweeper every minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [
        new targets.LambdaFunction(this.lambdaFunction, {
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
    this.lambdaFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SealAndStart',
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
        resources: [table],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [open, manifest].map((prefix) => `${prefix}*`) } },
      }),
    );
    this.lambdaFunction.addToRolePolicy(
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
    grantManifestStarts(this.lambdaFunction, props);
    grantPublishTo(this.lambdaFunction, props.alerting.topic, props.alerting.key);
    acknowledgeManifestStarts(this, this.lambdaFunction, props);

    const metricsNamespace = props.metricsNamespace ?? DEFAULT_CONFIG.metricsNamespace;
    // The sweeper's age gauges: the largest value of each 5-minute period.
    const gauge = (metric: { metricName: string; service: string }) =>
      new cloudwatch.Metric({
        namespace: metricsNamespace,
        metricName: metric.metricName,
        dimensionsMap: { service: metric.service },
        statistic: 'Maximum',
        period: Duration.minutes(5),
      });
    this.oldestOpenManifest = gauge(OLDEST_OPEN_MANIFEST_METRIC);
    const { alerting } = props;
    alerting.alarmOnDeadLetterQueue(
      'SweeperDlqAlarm',
      this.deadLetterQueue,
      'Sweeper runs failed (see the sweeper log group); each next run redoes the same work, so once the cause is fixed the messages can be purged.',
    );
    alerting.alarmOnLambdaErrors(
      'SweeperErrorsAlarm',
      this.lambdaFunction,
      'sweeper',
      'Read its log group for level ERROR. Each run redoes the work of the failed one a minute later, so nothing needs replaying once the cause is fixed; ' +
        'meanwhile manifests are not sealed on time (see the oldest-open-manifest alarm).',
    );
    alerting.alarmOnLambdaThrottles('SweeperThrottlesAlarm', this.lambdaFunction, 'sweeper');
    alerting.alarmOnLambdaDuration('SweeperDurationAlarm', this.lambdaFunction, 'sweeper', SWEEPER_TIMEOUT);
    alerting.alarmOnOldestOpenManifest(this.oldestOpenManifest, props.maxWaitMinutes ?? DEFAULT_CONFIG.maxWaitMinutes);
    this.oldestQueued = gauge(OLDEST_QUEUED_METRIC);
    alerting.alarmOnOldestQueued(this.oldestQueued, queuedAgeAlarmSeconds(props.glueTimeoutMinutes ?? DEFAULT_CONFIG.glue.timeoutMinutes));
    alerting.alarmOnExecutionNameConflicts('sweeper', metricsNamespace);
  }
}
