import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledges AwsSolutions findings on one construct (and its children) with the reason a reviewer reads.
 * Each id is a rule, or a rule with one finding (`AwsSolutions-IAM5[Resource::...]`): cdk-nag v3 matches ids exactly.
 */
export function acknowledge(scope: IConstruct, reason: string, ...ids: string[]): void {
  Validations.of(scope).acknowledge(...ids.map((id) => ({ id: `AwsSolutions-${id}`, reason })));
}

/** How cdk-nag spells the ARN of a resource in a finding id: `<LogicalId.Arn>`. */
export function arnRef(resource: IConstruct): string {
  const cfn = (resource.node.defaultChild ?? resource) as CfnElement;
  return `<${Stack.of(resource).getLogicalId(cfn)}.Arn>`;
}
