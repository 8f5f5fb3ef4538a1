import { ArnFormat, Duration, Lazy, Stack } from 'aws-cdk-lib';
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

/** Name and dimensions of the sweeper's gauge of the oldest manifest that has no execution yet (docs/architecture.md, Metrics). */
export const OLDEST_OPEN_MANIFEST_METRIC = { metricName: 'OldestOpenManifestAgeSeconds', service: 'sweeper' } as const;

/** Name and dimensions of the sweeper's gauge of the oldest execution waiting in the start queue (docs/architecture.md, Metrics). */
export const OLDEST_QUEUED_METRIC = { metricName: 'OldestQueuedAgeSeconds', service: 'sweeper' } as const;

/**
 * The queued age past which the start queue is not moving as it should: two of the Glue job's longest runs
 * (`glue.timeoutMinutes`), at least an hour. Within it, a queued manifest has seen at least two slots turn over.
 */
export function queuedAgeAlarmSeconds(glueTimeoutMinutes: number): number {
  return Math.max(60, 2 * glueTimeoutMinutes) * 60;
}

/** The builder's and the sweeper's count of execution names found used by another input (docs/architecture.md, Metrics). */
export const EXECUTION_NAME_CONFLICTS_METRIC = 'ExecutionNameConflicts';

/** Executions ending failed, timed out or aborted within an hour that make the failure-rate alarm fire. */
export const FAILURE_RATE_THRESHOLD = 5;

/** Share of a Lambda's timeout whose crossing by the longest invocation raises the duration alarm. */
export const DURATION_ALARM_SHARE = 0.8;

/** Properties of {@link Alerting}. */
export interface AlertingProps {
  /** The stack's name: every alarm's name starts with it, so two stages' alarms never share a name. */
  readonly stackName: string;
  /** Address subscribed to the topic by email. @default no subscription */
  readonly alertEmail?: string;
  /** The pipeline's stage, named in the alert emails' sender. @default no stage: `Ingest pipeline alerts` */
  readonly stage?: string;
}

/**
 * Lets a role publish to the encrypted alerts topic: `sns:Publish` on the topic and a data key of its key, nothing
 * more (`grantPublish` adds `kms:GenerateDataKey*`, every data-key variant).
 */
export function grantPublishTo(grantee: iam.IGrantable, topic: sns.ITopic, key: kms.IKey): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ sid: 'PublishAlerts', actions: ['sns:Publish'], resources: [topic.topicArn] }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ sid: 'EncryptAlerts', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }),
  );
}

/**
 * The alerts topic (KMS-encrypted, email subscription) and the alarms that publish to it. The construct that owns
 * a watched resource adds its alarm through the `alarmOn...` methods, so every alarm has the same action, a name that
 * starts with the stack's, and is one of the sources the topic accepts.
 *
 * An alarm notifies when it enters ALARM and at no other transition: no OK action (a recovery is visible on the
 * alarm and the dashboard; an email for it would double every incident) and no INSUFFICIENT_DATA action. CloudWatch
 * runs an action once per state change, so an alarm that stays in ALARM sends one message, however long it lasts.
 */
export class Alerting extends Construct {
  /** Topic of every alert: alarms, the state machine's failure notice, the sweeper's notice of ended executions. */
  public readonly topic: sns.Topic;
  /** Key of the topic; this stack's alarms may use it to publish. */
  public readonly key: kms.Key;
  private readonly action: cwActions.SnsAction;
  private readonly stackName: string;
  private readonly alarmNames: string[] = [];

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);
    this.stackName = props.stackName;
    const account = Stack.of(this).account;

    this.key = new kms.Key(this, 'TopicKey', {
      description: `Encrypts the ingest pipeline alerts topic of stack ${props.stackName}`,
      enableKeyRotation: true,
    });
    this.topic = new sns.Topic(this, 'Topic', {
      // The sender's name in every alert email: with a stage, the reader sees which copy is speaking.
      displayName: props.stage === undefined ? 'Ingest pipeline alerts' : `Ingest pipeline ${props.stage} alerts`,
      masterKey: this.key,
      enforceSSL: true,
    });

    // CloudWatch alarms publish as the service principal; an encrypted topic needs it allowed on both the topic
    // and its key. Only this stack's alarms, by ARN: any other alarm of the account (or of another stage) is
    // refused. The ARNs are built from the alarms' names, which the stack sets, so the key's policy does not
    // depend on the alarms (which depend on the topic, which depends on the key). No EventBridge rule publishes
    // here, so events.amazonaws.com is not allowed at all. By name, so the list does not depend on the order in
    // which the constructs add their alarms.
    const alarmArns = () =>
      [...this.alarmNames].sort().map((alarmName) =>
        Stack.of(this).formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: alarmName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      );
    const fromThisStacksAlarms = {
      StringEquals: { 'aws:SourceAccount': account },
      ArnEquals: { 'aws:SourceArn': Lazy.list({ produce: alarmArns }) },
    };
    const cloudwatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AlarmsOfThisStack',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        principals: [cloudwatch],
        resources: ['*'],
        conditions: fromThisStacksAlarms,
      }),
    );
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AlarmsOfThisStack',
        actions: ['sns:Publish'],
        principals: [cloudwatch],
        resources: [this.topic.topicArn],
        conditions: fromThisStacksAlarms,
      }),
    );

    if (props.alertEmail !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alertEmail));
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

  /** Alarms on any error of a Lambda function; `advice` tells the operator what to do. */
  alarmOnLambdaErrors(id: string, fn: lambda.IFunction, what: string, advice: string): cloudwatch.Alarm {
    return this.add(id, {
      alarmDescription: `The ${what} Lambda reported errors. ${advice}`,
      metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** Alarms when Lambda refused to run a function for lack of concurrency (account or function limit). */
  alarmOnLambdaThrottles(id: string, fn: lambda.IFunction, what: string): cloudwatch.Alarm {
    return this.add(id, {
      alarmDescription:
        `Lambda throttled the ${what}: the account's (or the function's) concurrency is used up, so its work waits or is retried. ` +
        'Find what else uses the concurrency (Lambda console, ConcurrentExecutions of the account), raise the Regional quota or reserve concurrency for it; ' +
        'nothing is lost meanwhile: notifications wait in the ingest queue and the sweeper runs again a minute later.',
      metric: fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** Alarms when the longest invocation in five minutes took more than {@link DURATION_ALARM_SHARE} of the timeout. */
  alarmOnLambdaDuration(id: string, fn: lambda.IFunction, what: string, timeout: Duration): cloudwatch.Alarm {
    const threshold = Math.round(timeout.toMilliseconds() * DURATION_ALARM_SHARE);
    return this.add(id, {
      alarmDescription:
        `An invocation of the ${what} took more than ${threshold / 1000} s of its ${timeout.toSeconds()} s timeout: next it may time out and redo its work. ` +
        'Look at its log group and X-Ray traces for the slow call (DynamoDB throttling or contention on one dataset, a slow Step Functions API); ' +
        'if the load grew, the timeout or the batch size in pipeline/constructs/manifest-builder.ts may need to change.',
      metric: fn.metricDuration({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold,
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
        "shared (the Glue job or its role, the source bucket, a schema). Each manifest's alert names its error; list them with " +
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

  /**
   * Alarms when a manifest has waited twice `maxWaitMinutes` without an execution (`oldestOpenManifest`, the
   * sweeper's gauge), or the sweeper stops reporting.
   */
  alarmOnOldestOpenManifest(oldestOpenManifest: cloudwatch.IMetric, maxWaitMinutes: number): cloudwatch.Alarm {
    const threshold = maxWaitMinutes * 60 * 2;
    return this.add('OldestOpenManifestAlarm', {
      alarmDescription:
        `A manifest has waited more than ${threshold} s without an execution, or the sweeper stopped reporting: ` +
        'check the sweeper logs and `npx pipeline status`.',
      metric: oldestOpenManifest,
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // The sweeper reports on every run, every minute; no data means it is not running, which is an alert too.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
  }

  /**
   * Alarms when a canary file has stayed unconverted more than `alarmMinutes` (`pendingAge`, the canary's gauge,
   * maximum over its period), or the canary stopped reporting: it publishes every five minutes, so a period with no
   * datum means it did not run, which breaches too.
   */
  alarmOnCanary(pendingAge: cloudwatch.IMetric, alarmMinutes: number, maxWaitMinutes: number): cloudwatch.Alarm {
    const threshold = alarmMinutes * 60;
    return this.add('CanaryAlarm', {
      alarmDescription:
        `No canary file was converted within ${alarmMinutes} minutes of its upload (maxWaitMinutes ${maxWaitMinutes} plus the margin), ` +
        "or the canary stopped reporting: producers' files are likely waiting too. " +
        'Run `npx pipeline status --dataset pipeline_canary --since 2h` to see where the canary files stopped (no manifest: the builder or the ingest queue; ' +
        'OPEN or SEALED: the sweeper; RUNNING: Step Functions and Glue), and docs/operations.md, "The canary alarm".',
      metric: pendingAge,
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // The canary reports every five minutes; no data in a period of three checks means it is not running.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
  }

  /**
   * Alarms when the oldest execution of the start queue has waited more than `thresholdSeconds` for a capacity slot
   * (`oldestQueued`, the sweeper's gauge): the slots do not turn over (runs hang, the sweeper fails) or the backlog
   * is more than `glue.maxConcurrentRuns` can clear in that time. Missing data is the oldest-open-manifest alarm's.
   */
  alarmOnOldestQueued(oldestQueued: cloudwatch.IMetric, thresholdSeconds: number): cloudwatch.Alarm {
    return this.add('OldestQueuedManifestAlarm', {
      alarmDescription:
        `A manifest has waited more than ${thresholdSeconds} s in the start queue for one of the glue.maxConcurrentRuns capacity slots. ` +
        '`npx pipeline status --since 24h` shows what runs and what is queued. If executions have run far longer than usual, look at their ' +
        "Glue runs (stuck or slow: stop them, the sweeper gives their slots back); if the sweeper's error alarm is on, fix that first (it starts the queue). " +
        'If it is a large backlog (a backfill), it clears by itself in turn: raise glue.maxConcurrentRuns (and the Glue quotas) to clear it sooner. ' +
        'A replay that must not wait can jump the queue: `npx pipeline replay <manifestId> --now`.',
      metric: oldestQueued,
      threshold: thresholdSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /**
   * Alarms when the builder or the sweeper (`service`) found an execution of a manifest's name with another input
   * (I3): a manifest id was used twice (a restored state table, a reset OPEN# pointer). The manifest is not started.
   */
  alarmOnExecutionNameConflicts(service: 'manifest-builder' | 'sweeper', metricsNamespace: string): cloudwatch.Alarm {
    return this.add(`ExecutionNameConflictsAlarm${service === 'sweeper' ? 'Sweeper' : 'Builder'}`, {
      alarmDescription:
        'A manifest id was used twice: an execution of its name exists with another input, so the new manifest was not started. ' +
        'Compare the two with `npx pipeline status <manifestId>` and the execution in the console; see docs/architecture.md, "Execution names".',
      metric: new cloudwatch.Metric({
        namespace: metricsNamespace,
        metricName: EXECUTION_NAME_CONFLICTS_METRIC,
        dimensionsMap: { service },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  private add(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarmName = `${this.stackName}-${id}`;
    const alarm = new cloudwatch.Alarm(this, id, { ...props, alarmName });
    alarm.addAlarmAction(this.action);
    this.alarmNames.push(alarmName);
    return alarm;
  }
}
