import * as logs from 'aws-cdk-lib/aws-logs';

const ALLOWED = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** CloudWatch Logs accepts only some retention periods: the smallest one that keeps logs at least `days`. */
export function retentionDays(days: number): logs.RetentionDays {
  const match = ALLOWED.find((allowed) => allowed >= days);
  return match ?? logs.RetentionDays.TEN_YEARS;
}
