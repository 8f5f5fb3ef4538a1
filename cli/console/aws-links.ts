/**
 * Links from the console's pages to the AWS console, in cloud mode only: the execution (cli/console-url.ts), the
 * Glue job run, its CloudWatch log streams, the S3 prefixes, the SNS topic, the SQS queues.
 */
import { executionConsoleUrl } from '../console-url';

/** Console host of a region's partition (standard, China, GovCloud). */
function host(region: string): string {
  if (region.startsWith('cn-')) return `https://${region}.console.amazonaws.cn`;
  if (region.startsWith('us-gov-')) return 'https://console.amazonaws-us-gov.com';
  return `https://${region}.console.aws.amazon.com`;
}

/**
 * CloudWatch's console takes `/` in a log group or stream name as `$252F` (the `%2F` of the name, itself
 * percent-encoded with `$` for `%`), as the console's own links do.
 */
function cloudWatchName(name: string): string {
  return encodeURIComponent(encodeURIComponent(name)).replace(/%/g, '$');
}

export const awsLinks = {
  execution: executionConsoleUrl,
  glueRun: (region: string, jobName: string, runId: string) =>
    `${host(region)}/gluestudio/home?region=${region}#/job/${encodeURIComponent(jobName)}/run/${encodeURIComponent(runId)}`,
  logStream: (region: string, group: string, stream: string) =>
    `${host(region)}/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${cloudWatchName(group)}/log-events/${cloudWatchName(stream)}`,
  s3Prefix: (region: string, bucket: string, prefix: string) =>
    `https://s3.console.aws.amazon.com/s3/buckets/${encodeURIComponent(bucket)}?region=${region}&prefix=${encodeURIComponent(prefix)}`,
  topic: (region: string, topicArn: string) => `${host(region)}/sns/v3/home?region=${region}#/topic/${topicArn}`,
  queue: (region: string, queueUrl: string) => `${host(region)}/sqs/v3/home?region=${region}#/queues/${encodeURIComponent(queueUrl)}`,
  table: (region: string, table: string) =>
    `${host(region)}/glue/home?region=${region}#/v2/data-catalog/tables/view/${encodeURIComponent(table)}`,
};
