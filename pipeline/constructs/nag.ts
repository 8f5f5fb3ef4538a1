import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledges AwsSolutions findings on one construct (and its children) with the reason a reviewer reads.
 * Each id is a rule, or a rule with one finding (`AwsSolutions-IAM5[Resource::...]`): cdk-nag v3 matches ids exactly.
 */
export function acknowledge(scope: IConstruct, reason: string, ...ids: string[]): void {
  Validations.of(scope).acknowledge(...ids.map((id) => ({ id: `AwsSolutions-${id}`, reason })));
}

/**
 * How cdk-nag spells a value in a finding id: tokens resolved, `Fn::Join` joined, `{ Ref: X }` as `<X>` (pseudo
 * parameters too: `<AWS::Partition>`), `{ Fn::GetAtt: [X, Y] }` as `<X.Y>`.
 */
export function nagText(scope: IConstruct, value: string): string {
  const render = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const o = v as { Ref?: string; 'Fn::GetAtt'?: [string, string]; 'Fn::Join'?: [string, unknown[]] };
    if (o.Ref !== undefined) return `<${o.Ref}>`;
    if (o['Fn::GetAtt'] !== undefined) return `<${o['Fn::GetAtt'][0]}.${o['Fn::GetAtt'][1]}>`;
    if (o['Fn::Join'] !== undefined) return o['Fn::Join'][1].map(render).join(o['Fn::Join'][0]);
    throw new Error(`cannot spell ${JSON.stringify(v)} as cdk-nag does`);
  };
  return render(Stack.of(scope).resolve(value));
}

/** How cdk-nag spells the ARN of a resource in a finding id: `<LogicalId.Arn>`. */
export function arnRef(resource: IConstruct): string {
  const cfn = (resource.node.defaultChild ?? resource) as CfnElement;
  return `<${Stack.of(resource).getLogicalId(cfn)}.Arn>`;
}
