import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_CONFIG } from '../../contracts/config';

/** Properties of {@link PipelineDashboard}. */
export interface PipelineDashboardProps {
  /** The manifest builder Lambda. */
  readonly builder: lambda.IFunction;
  /** The sweeper Lambda. */
  readonly sweeper: lambda.IFunction;
  /** Queue of S3 notifications. */
  readonly ingestQueue: sqs.IQueue;
  /** Dead-letter queue of the ingest queue. */
  readonly ingestDeadLetterQueue: sqs.IQueue;
  /** Dead-letter queue of the sweeper. */
  readonly sweeperDeadLetterQueue: sqs.IQueue;
  /** The conversion state machine. */
  readonly stateMachine: sfn.IStateMachine;
  /** The Glue conversion job. */
  readonly job: glue.IJob;
  /** The sweeper's gauge of the oldest manifest with no execution. */
  readonly oldestOpenManifest: cloudwatch.IMetric;
  /** Namespace of the Lambdas' metrics. @default DEFAULT_CONFIG.metricsNamespace */
  readonly metricsNamespace?: string;
  /** The sweeper's wait before it seals a manifest: twice it is where the oldest-manifest alarm fires. @default DEFAULT_CONFIG.maxWaitMinutes */
  readonly maxWaitMinutes?: number;
  /** The canary's metrics and where its alarm fires, when it is on. @default no canary row */
  readonly canary?: {
    readonly freshness: cloudwatch.Metric;
    readonly pendingAge: cloudwatch.Metric;
    readonly alarmMinutes: number;
  };
}

const PERIOD = Duration.minutes(5);

/** One page for the operator: files in, manifests sealed and converted, queues, Glue duration, stuck manifests. */
export class PipelineDashboard extends Construct {
  /** The CloudWatch dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PipelineDashboardProps) {
    super(scope, id);
    const maxWaitMinutes = props.maxWaitMinutes ?? DEFAULT_CONFIG.maxWaitMinutes;
    const pipelineMetric = (metricName: string, service: string, label: string, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: props.metricsNamespace ?? DEFAULT_CONFIG.metricsNamespace,
        metricName,
        dimensionsMap: { service },
        statistic,
        period: PERIOD,
        label,
      });
    const sum = { statistic: 'Sum', period: PERIOD };

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(24),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Files in',
        width: 12,
        left: [
          pipelineMetric('FilesAccepted', 'manifest-builder', 'accepted'),
          pipelineMetric('DuplicatesSkipped', 'manifest-builder', 'duplicate notifications'),
          pipelineMetric('FilesRejected', 'manifest-builder', 'rejected'),
          pipelineMetric('FilesSkipped', 'manifest-builder', 'skipped'),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Manifests sealed, succeeded, failed',
        width: 12,
        left: [
          new cloudwatch.MathExpression({
            expression: 'FILL(fullBuilder, 0) + FILL(fullSweeper, 0)',
            usingMetrics: {
              fullBuilder: pipelineMetric('ManifestsSealedFull', 'manifest-builder', 'sealed full (builder)'),
              fullSweeper: pipelineMetric('ManifestsSealedFull', 'sweeper', 'sealed full (sweeper)'),
            },
            label: 'sealed full',
            period: PERIOD,
          }),
          pipelineMetric('ManifestsSealedTimeout', 'sweeper', `sealed after ${maxWaitMinutes} min`),
          props.stateMachine.metricSucceeded({ ...sum, label: 'succeeded' }),
          props.stateMachine.metricFailed({ ...sum, label: 'failed' }),
          props.stateMachine.metricTimedOut({ ...sum, label: 'timed out' }),
          props.stateMachine.metricAborted({ ...sum, label: 'aborted' }),
        ],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Queues: waiting and dead-lettered messages',
        width: 12,
        left: [
          props.ingestQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: PERIOD, label: 'ingest queue' }),
          props.ingestDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
            statistic: 'Maximum',
            period: PERIOD,
            label: 'ingest DLQ',
          }),
          props.sweeperDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
            statistic: 'Maximum',
            period: PERIOD,
            label: 'sweeper DLQ',
          }),
        ],
        right: [
          props.ingestQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: PERIOD, label: 'oldest notification (s)' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Oldest manifest without an execution (s), manifests queued for capacity',
        width: 12,
        left: [
          props.oldestOpenManifest,
          pipelineMetric('OldestQueuedAgeSeconds', 'sweeper', 'oldest queued for a capacity slot (s)', 'Maximum'),
        ],
        leftAnnotations: [{ value: maxWaitMinutes * 60 * 2, label: 'alarm', color: '#d62728' }],
        right: [pipelineMetric('ManifestsQueued', 'sweeper', 'queued (waiting for a Glue run)', 'Maximum')],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Executions ended without an outcome, execution names used twice',
        width: 24,
        left: [
          pipelineMetric('EndedExecutionsRecorded', 'sweeper', 'recorded FAILED by the sweeper (timeout, abort, runtime error)'),
          pipelineMetric('ExecutionNameConflicts', 'manifest-builder', 'name conflicts (builder)'),
          pipelineMetric('ExecutionNameConflicts', 'sweeper', 'name conflicts (sweeper)'),
        ],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Conversion duration',
        width: 12,
        left: [
          props.job.metric('glue.driver.aggregate.elapsedTime', glue.MetricType.COUNT, {
            statistic: 'Average',
            period: PERIOD,
            label: 'Glue job run (ms)',
          }),
          props.stateMachine.metricTime({ statistic: 'Average', period: PERIOD, label: 'execution (ms)' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda errors and SealToStartMs',
        width: 12,
        left: [
          props.builder.metricErrors({ ...sum, label: 'builder errors' }),
          props.sweeper.metricErrors({ ...sum, label: 'sweeper errors' }),
        ],
        right: ['manifest-builder', 'sweeper'].map((service) =>
          pipelineMetric('SealToStartMs', service, `seal to start p90, ${service} (ms)`, 'p90'),
        ),
      }),
    );
    if (props.canary !== undefined) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Canary: seconds from upload to converted, age of the oldest canary file not converted',
          width: 24,
          left: [props.canary.freshness.with({ label: 'freshness (s), upload to SUCCEEDED' })],
          right: [props.canary.pendingAge.with({ label: 'oldest not converted (s)' })],
          rightAnnotations: [{ value: props.canary.alarmMinutes * 60, label: 'alarm', color: '#d62728' }],
        }),
      );
    }
  }
}
