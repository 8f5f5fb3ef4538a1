import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PipelineConfig } from '../config';

/** Name and dimensions of the sweeper's gauge of the oldest manifest that has no execution yet (docs/architecture.md, Metrics). */
export const OLDEST_OPEN_MANIFEST_METRIC = { metricName: 'OldestOpenManifestAgeSeconds', service: 'sweeper' } as const;

/** The builder's and the sweeper's count of execution names found used by another input (docs/architecture.md, Metrics). */
export const EXECUTION_NAME_CONFLICTS_METRIC = 'ExecutionNameConflicts';

/** Executions ending failed, timed out or aborted within an hour that make the failure-rate alarm fire. */
export const FAILURE_RATE_THRESHOLD = 5;

/** Properties of {@link Alerting}. */
export interface AlertingProps {
  /** The pipeline's settings (alert email, metrics namespace, max wait). */
  readonly config: PipelineConfig;
}

/**
 * The alerts topic (KMS-encrypted, email subscription) and the alarms that publish to it. Other constructs add
 * their alarms through the `alarmOn...` methods, so every alarm has the same action.
 */
export class Alerting extends Construct {
  /** Topic of every alert: alarms, the state machine's failure notice, execution status changes. */
  public readonly topic: sns.Topic;
  /** Key of the topic; CloudWatch and EventBridge may use it to publish. */
  public readonly key: kms.Key;
  private readonly action: cwActions.SnsAction;
  private readonly config: PipelineConfig;

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);
    this.config = props.config;
    const account = Stack.of(this).account;

    this.key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the ingest pipeline alerts topic',
      enableKeyRotation: true,
    });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Ingest pipeline alerts',
      masterKey: this.key,
      enforceSSL: true,
    });

    // CloudWatch alarms and EventBridge rules publish as their service principals; an encrypted topic needs
    // them allowed on both the topic and its key (the AWS-managed SNS key cannot be shared with them).
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
      const principal = new iam.ServicePrincipal(service);
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          principals: [principal],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': account } },
        }),
      );
      this.topic.addToResourcePolicy(
        new iam.PolicyStatement({
          actions: ['sns:Publish'],
          principals: [principal],
          resources: [this.topic.topicArn],
          conditions: { StringEquals: { 'aws:SourceAccount': account } },
        }),
      );
    }

    if (props.config.alertEmail !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.config.alertEmail));
    }
    this.action = new cwActions.SnsAction(this.topic);
  }

  /** Alarms as soon as a dead-letter queue holds a message; `advice` tells the operator what to do. */
  alarmOnDeadLetterQueue(id: string, queue: sqs.IQueue, advice: string): cloudwatch.Alarm {
    return this.add(id, {
      alarmDescription: advice,
      metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** Alarms on any error of a Lambda function. */
  alarmOnLambdaErrors(id: string, fn: lambda.IFunction, what: string): cloudwatch.Alarm {
    return this.add(id, {
      alarmDescription: `The ${what} Lambda reported errors: see its log group.`,
      metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /**
   * Alarms when conversions fail at a rate that points at a systemic cause. Each failed or partial manifest already
   * sends its own readable alert (the state machine's, or the sweeper's for an execution that timed out or was
   * aborted), so a per-execution alarm would only send a second, less readable message for the same failure.
   */
  alarmOnFailureRate(stateMachine: sfn.IStateMachine): cloudwatch.Alarm {
    const period = { period: Duration.hours(1), statistic: 'Sum' };
    return this.add('ConversionFailureRateAlarm', {
      alarmDescription:
        `${FAILURE_RATE_THRESHOLD} or more conversions ended failed, timed out or aborted within an hour: the cause is likely ` +
        'shared (the Glue job or its role, the source bucket, a schema). Each manifest\'s alert names its error; list them with ' +
        '`npx pipeline status --state failed`, fix the cause, then `npx pipeline replay --failed --since 2h`.',
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
        usingMetrics: {
          failed: stateMachine.metricFailed(period),
          timedOut: stateMachine.metricTimedOut(period),
          aborted: stateMachine.metricAborted(period),
        },
        period: Duration.hours(1),
        label: 'conversions ended badly',
      }),
      threshold: FAILURE_RATE_THRESHOLD,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** The sweeper's gauge of the oldest manifest with no execution yet. */
  oldestOpenManifestMetric(): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.config.metricsNamespace,
      metricName: OLDEST_OPEN_MANIFEST_METRIC.metricName,
      dimensionsMap: { service: OLDEST_OPEN_MANIFEST_METRIC.service },
      statistic: 'Maximum',
      period: Duration.minutes(5),
    });
  }

  /** Alarms when a manifest has waited twice `maxWaitMinutes` without an execution, or the sweeper stops reporting. */
  alarmOnOldestOpenManifest(): cloudwatch.Alarm {
    const threshold = this.config.maxWaitMinutes * 60 * 2;
    return this.add('OldestOpenManifestAlarm', {
      alarmDescription:
        `A manifest has waited more than ${threshold} s without an execution, or the sweeper stopped reporting: ` +
        'check the sweeper logs and `npx pipeline status`.',
      metric: this.oldestOpenManifestMetric(),
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // The sweeper reports on every run, every minute; no data means it is not running, which is an alert too.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
  }

  /**
   * Alarms when the builder or the sweeper found an execution of a manifest's name with another input (I3): a
   * manifest id was used twice (a restored state table, a reset OPEN# pointer). The manifest is not started.
   */
  alarmOnExecutionNameConflicts(): cloudwatch.Alarm[] {
    return (['manifest-builder', 'sweeper'] as const).map((service) =>
      this.add(`ExecutionNameConflictsAlarm${service === 'sweeper' ? 'Sweeper' : 'Builder'}`, {
        alarmDescription:
          'A manifest id was used twice: an execution of its name exists with another input, so the new manifest was not started. ' +
          'Compare the two with `npx pipeline status <manifestId>` and the execution in the console; see docs/architecture.md, "Execution names".',
        metric: new cloudwatch.Metric({
          namespace: this.config.metricsNamespace,
          metricName: EXECUTION_NAME_CONFLICTS_METRIC,
          dimensionsMap: { service },
          statistic: 'Sum',
          period: Duration.minutes(5),
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  private add(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, props);
    alarm.addAlarmAction(this.action);
    return alarm;
  }
}
