import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, NagPack } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { ConfigOverrides } from '../../contracts/config';
import { synthPipeline } from './synth';

/** Both network modes, the private one in a new VPC and in an existing one: every acknowledgment of each is checked. */
const MODES: Array<[string, ConfigOverrides]> = [
  ['public network', { alertEmail: 'ops@example.com' }],
  ['private network, new VPC, with the canary', { alertEmail: 'ops@example.com', network: 'private', canary: { everyMinutes: 60 } }],
  [
    'private network, existing VPC',
    {
      alertEmail: 'ops@example.com',
      network: 'private',
      vpcId: 'vpc-0123456789abcdef0',
      privateSubnetIds: 'subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2',
      privateRouteTableIds: 'rtb-0aaaaaaaaaaaaaaa1,rtb-0bbbbbbbbbbbbbbb2',
      availabilityZones: 'us-east-1a,us-east-1b',
    },
  ],
];

/** Every acknowledgment recorded in the construct tree: rule id, reason, where. */
function acknowledgments(root: IConstruct): Array<{ id: string; reason: string; path: string }> {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          id: id.replace(/^annotation::/i, ''),
          reason,
          path: construct.node.path,
        })),
      ),
  );
}

describe('cdk-nag AwsSolutions pack', () => {
  test.each(MODES)('%s: no finding, error or warning, is left unacknowledged', (_mode, overrides) => {
    // Arrange
    const { app, stack } = synthPipeline(overrides);

    // Act
    const report = new AwsSolutionsChecks(app, { verbose: true }).validateScope(stack);

    // Assert
    const findings = report.violations.map(
      (v) => `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}: ${v.description}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  test('the pack does report what is not acknowledged', () => {
    // Arrange: the same stack with one wildcard policy nobody acknowledged.
    const { app, stack } = synthPipeline();
    const role = new iam.Role(stack, 'Unreviewed', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));

    // Act
    const report = new AwsSolutionsChecks(app).validateScope(stack);

    // Assert
    const rules = report.violations
      .filter((v) => v.violatingResources.some((r) => r.constructPath?.startsWith('IngestPipeline/Unreviewed')))
      .map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-IAM5[Action::s3:*]', 'AwsSolutions-IAM5[Resource::*]']));
    expect(report.success).toBe(false);
  });

  test.each(MODES)(
    '%s: every acknowledgment names one AwsSolutions rule and gives a reason, on a resource rather than the whole stack',
    (_mode, overrides) => {
      const { stack } = synthPipeline(overrides);
      const entries = acknowledgments(stack);
      expect(entries.length).toBeGreaterThan(0);
      for (const entry of entries) {
        // An AwsSolutions rule on a resource; or a rule of the CDK's CloudFormation validation, which the CDK itself
        // acknowledges for a new VPC (its `stack.availabilityZones`, its flow log) and we for an existing subnet's zone.
        expect(entry.id).toMatch(/^(AwsSolutions-[A-Z]+[0-9]+(\[.+\])?|CloudFormation-Validate::[EFW][0-9]{4})$/);
        expect(entry.reason.split(' ').length).toBeGreaterThanOrEqual(8);
        if (entry.id.startsWith('AwsSolutions-')) expect(entry.path).not.toBe(stack.node.path);
      }
      // Resource wildcards are acknowledged one by one (never all IAM5 findings of a policy at once).
      const iam5 = entries.filter((e) => e.id.startsWith('AwsSolutions-IAM5'));
      for (const entry of iam5) expect(entry.id).toMatch(/^AwsSolutions-IAM5\[(Action|Resource)::.+\]$/);
    },
  );

  test.each(MODES)(
    '%s: every acknowledgment silences a finding the pack reports on its resource: none is left over from an older policy',
    (_mode, overrides) => {
      // Arrange: record each finding the pack looks up and finds acknowledged (the rule id, and the resource it is on).
      const { app, stack } = synthPipeline(overrides);
      const silenced: Array<{ id: string; path: string }> = [];
      const prototype = NagPack.prototype as unknown as { isAcknowledged(resource: IConstruct, ruleId: string): boolean };
      // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the pack as `this`
      const original = prototype.isAcknowledged;
      const spy = jest.spyOn(prototype, 'isAcknowledged').mockImplementation(function (
        this: unknown,
        resource: IConstruct,
        ruleId: string,
      ) {
        const acknowledged = original.call(this, resource, ruleId);
        if (acknowledged) silenced.push({ id: ruleId, path: resource.node.path });
        return acknowledged;
      });

      // Act
      try {
        new AwsSolutionsChecks(app).validateScope(stack);
      } finally {
        spy.mockRestore();
      }

      // Assert: an acknowledgment on a construct is used by a finding on it or on a resource below it.
      const unused = acknowledgments(stack)
        .filter((entry) => entry.id.startsWith('AwsSolutions-'))
        .filter(
          (entry) => !silenced.some((hit) => hit.id === entry.id && (hit.path === entry.path || hit.path.startsWith(`${entry.path}/`))),
        );
      expect(unused.map((entry) => `${entry.id} at ${entry.path}`)).toEqual([]);
    },
  );
});
