import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { CANARY_ALARM_PERIOD_MINUTES, CANARY_CHECK_MINUTES, CANARY_DATASET, DEFAULT_CONFIG } from '../../contracts/config';
import { toCanaryEnvironment } from '../../contracts/lambda-environment';
import { STATE_TABLE_PREFIXES } from '../../contracts/table-schema';
import { acknowledge, arnRef } from './nag';
import { pipelineFunction, type PipelineLambdaProps } from './pipeline-lambda';

/** Name and dimension of the canary's metrics (docs/architecture.md, Metrics; the handler's `CANARY_METRIC`). */
export const CANARY_METRICS = { freshness: 'CanaryFreshnessSeconds', pendingAge: 'CanaryPendingAgeSeconds', service: 'canary' } as const;

/** Timeout of one check: well under the five minutes between two. */
export const CANARY_TIMEOUT = Duration.seconds(60);

/** Properties of {@link Canary}. */
export interface CanaryProps extends PipelineLambdaProps {
  /** Minutes between two canary files (`canary.everyMinutes`). */
  readonly everyMinutes: number;
  /** How far back a check looks (`canaryLookbackMinutes`). */
  readonly lookbackMinutes: number;
  /** Minutes a canary file may stay unconverted before the alarm fires (`canaryAlarmMinutes`). */
  readonly alarmMinutes: number;
}

/**
 * The canary (docs/architecture.md, "Canary"): a Lambda run every five minutes that uploads a tiny file into the
 * canary dataset every `everyMinutes` and publishes how long the pipeline took to convert it, with the alarm on a
 * canary file left unconverted too long (or on a canary that stopped reporting).
 */
export class Canary extends Construct {
  /** The scheduled canary Lambda. */
  public readonly lambdaFunction: nodejs.NodejsFunction;
  /** Seconds from a canary file's upload to its manifest's SUCCEEDED. */
  public readonly freshness: cloudwatch.Metric;
  /** Age of the oldest canary file not converted since the newest converted one, as the alarm reads it. */
  public readonly pendingAge: cloudwatch.Metric;
  /** The alarm on `pendingAge`. */
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: CanaryProps) {
    super(scope, id);
    const ingestPrefix = props.ingestPrefix ?? DEFAULT_CONFIG.ingestPrefix;
    const metricsNamespace = props.metricsNamespace ?? DEFAULT_CONFIG.metricsNamespace;
    const canaryKeys = `${ingestPrefix}${CANARY_DATASET}/*`;

    this.lambdaFunction = pipelineFunction(this, 'Function', props, {
      service: 'canary',
      entry: 'handlers/canary/index.ts',
      timeout: CANARY_TIMEOUT,
      description: `Uploads a canary file every ${props.everyMinutes} minutes and publishes how long its conversion took`,
      environment: toCanaryEnvironment(
        {
          stateTable: props.stateTable.tableName,
          ingestBucket: props.ingestBucket.bucketName,
          ingestPrefix,
          everySeconds: props.everyMinutes * 60,
          checkSeconds: CANARY_CHECK_MINUTES * 60,
          lookbackSeconds: props.lookbackMinutes * 60,
        },
        { service: 'canary', metricsNamespace, logLevel: props.logLevel ?? DEFAULT_CONFIG.logLevel },
      ),
      // A failed check is not retried: a retry of the same tick would count its freshness twice, and the next
      // check five minutes later measures again (the errors alarm tells of the failure).
      extra: { retryAttempts: 0, maxEventAge: Duration.minutes(CANARY_CHECK_MINUTES - 1) },
    });

    // Aligned on the clock (:00, :05, ...): the checks' ticks, and so the upload ticks and the freshness windows,
    // are multiples of the check period (handlers/domain/canary.ts).
    new events.Rule(this, 'Schedule', {
      description: `Runs the pipeline canary every ${CANARY_CHECK_MINUTES} minutes`,
      schedule: events.Schedule.cron({ minute: `0/${CANARY_CHECK_MINUTES}` }),
      targets: [
        new targets.LambdaFunction(this.lambdaFunction, { retryAttempts: 2, maxEventAge: Duration.minutes(CANARY_CHECK_MINUTES - 1) }),
      ],
    });

    // Its own files only: it uploads them, reads their checksum (HeadObject), and lists its day prefixes.
    this.lambdaFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CanaryFiles',
        actions: ['s3:PutObject', 's3:GetObject'],
        resources: [props.ingestBucket.arnForObjects(canaryKeys)],
      }),
    );
    this.lambdaFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListCanaryFiles',
        actions: ['s3:ListBucket'],
        resources: [props.ingestBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [canaryKeys] } },
      }),
    );
    // Read only: the canary files' records (FILE#) and their manifests' (MANIFEST#).
    const { file, manifest } = STATE_TABLE_PREFIXES;
    this.lambdaFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadCanaryRecords',
        actions: ['dynamodb:GetItem'],
        resources: [props.stateTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [file, manifest].map((prefix) => `${prefix}*`) } },
      }),
    );
    const policy = this.lambdaFunction.role!.node.tryFindChild('DefaultPolicy')!;
    acknowledge(
      policy,
      "The canary writes and reads only its own dataset's files, one per tick, named at run time.",
      `IAM5[Resource::${arnRef(props.ingestBucket)}/${canaryKeys}]`,
    );
    acknowledge(
      policy,
      'X-Ray PutTraceSegments and PutTelemetryRecords (active tracing) support no resource-level permissions.',
      'IAM5[Resource::*]',
    );
    acknowledge(
      this.lambdaFunction,
      'nodejs22.x is the runtime the design fixes (an LTS runtime supported by Lambda and Powertools); moving to a newer one is a deliberate upgrade, tested first.',
      'L1',
    );

    const metric = (metricName: string, period: Duration) =>
      new cloudwatch.Metric({
        namespace: metricsNamespace,
        metricName,
        dimensionsMap: { service: CANARY_METRICS.service },
        statistic: 'Maximum',
        period,
      });
    this.freshness = metric(CANARY_METRICS.freshness, Duration.minutes(CANARY_ALARM_PERIOD_MINUTES));
    this.pendingAge = metric(CANARY_METRICS.pendingAge, Duration.minutes(CANARY_ALARM_PERIOD_MINUTES));
    const { alerting } = props;
    this.alarm = alerting.alarmOnCanary(this.pendingAge, props.alarmMinutes, props.maxWaitMinutes ?? DEFAULT_CONFIG.maxWaitMinutes);
    alerting.alarmOnLambdaErrors(
      'CanaryErrorsAlarm',
      this.lambdaFunction,
      'canary',
      'Read its log group for level ERROR: a check that failed publishes no pending age (the canary alarm follows if it goes on), ' +
        'one that failed after its metrics did not upload its file. The next check runs five minutes later; nothing needs replaying.',
    );
  }
}
