/**
 * The log groups the Glue job writes to, as name patterns (`*` as IAM and `ArnLike` read it): the one list from which
 * the job role's log permissions and the job key's CloudWatch Logs grant are both made, so the names the job uses,
 * the names its role may write and the names the key encrypts are the same. No CDK: values may be CDK tokens.
 *
 * With a security configuration that encrypts CloudWatch Logs, Glue names the job's log groups after the security
 * configuration (and the role). AWS documents three forms, none of them for `--custom-logGroup-prefix` together with
 * a security configuration, so every form is allowed, each anchored on this stack's own names:
 * - Glue 5's custom prefix: `<prefix>/output` and `<prefix>/error` ("Logging for AWS Glue jobs",
 *   https://docs.aws.amazon.com/glue/latest/dg/monitor-continuous-logging.html); the stack creates both, with the
 *   continuous group of earlier versions, under the prefix.
 * - A log group with the security configuration's name appended, `<log group>-<security configuration>`, the
 *   default ones included (`/aws-glue/jobs/error-<security configuration>`): "Security configuration with
 *   continuous logging", https://docs.aws.amazon.com/glue/latest/dg/monitor-continuous-logging-enable.html.
 * - The role's and the security configuration's names in the group: `/aws-glue/jobs-<role>-<security
 *   configuration>/` (Glue API reference, `JobRun.LogGroupName`,
 *   https://docs.aws.amazon.com/glue/latest/dg/aws-glue-api-jobs-runs.html), and
 *   `/aws-glue/jobs/<security configuration>-role/<role>/`, a form seen for jobs with such a security configuration
 *   but not in AWS's guides.
 */

/** What the job's log group names are made of. */
export interface GlueLogNames {
  /** `--custom-logGroup-prefix`, carrying the stack name. */
  readonly prefix: string;
  /** The security configuration's name, carrying the stack name. */
  readonly securityConfigurationName: string;
  /** The job role's name (without its path). */
  readonly roleName: string;
}

/** The groups under the custom prefix that the stack creates, with its retention and key. */
export const GLUE_LOG_GROUPS = ['output', 'error', 'continuous'] as const;

/** Name patterns of every log group the job may write, per the forms above. */
export function glueLogGroupPatterns(n: GlueLogNames): string[] {
  const sc = n.securityConfigurationName;
  return [`${n.prefix}/*`, `/aws-glue/jobs/*-${sc}`, `/aws-glue/jobs-${n.roleName}-${sc}/*`, `/aws-glue/jobs/${sc}-role/${n.roleName}/*`];
}
