/** Links to the AWS console for what the CLI shows, so an operator can go from a line of output to the page. */

/** Console host of an ARN's partition (standard, China, GovCloud). */
function consoleHost(partition: string, region: string): string {
  if (partition === 'aws-cn') return `https://${region}.console.amazonaws.cn`;
  if (partition === 'aws-us-gov') return `https://console.amazonaws-us-gov.com`;
  return `https://${region}.console.aws.amazon.com`;
}

/** The Step Functions console page of one execution, from its ARN. */
export function executionConsoleUrl(executionArn: string): string {
  const [, partition, , region] = executionArn.split(':');
  if (!partition || !region) throw new Error(`not an execution ARN: ${executionArn}`);
  return `${consoleHost(partition, region)}/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}
