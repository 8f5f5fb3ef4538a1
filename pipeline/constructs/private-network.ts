/**
 * The private network of `-c network=private` (docs/security.md, "Private network"): subnets with no route to the
 * internet, where the functions and the Glue job run and reach AWS only through VPC endpoints; gateway endpoints for
 * S3 and DynamoDB, an interface endpoint for every other service they call, and security groups that let only HTTPS
 * reach the endpoints.
 */
import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge, nagText } from './nag';
import { retentionDays } from './log-retention';

/**
 * The services reached through a gateway endpoint (routes in the subnets' route tables; no hourly charge), with who
 * calls each from inside the VPC. test/infra/private-network.test.ts derives the services the code calls (the AWS SDK
 * clients of the handlers, the boto3 clients of the Glue job, what the template turns on) and holds these two lists to
 * them.
 */
export const GATEWAY_ENDPOINTS = {
  s3: 'the builder and the sweeper write manifest files; the job reads raw files and writes Parquet, quarantine and results',
  dynamodb: 'the builder and the sweeper keep the state table and the idempotency records',
} as const;

/**
 * The services reached through an interface endpoint (billed by the hour in each zone, and by the GB), with who calls
 * each. Not SQS: no code in the VPC calls it; the builder's event source mapping is Lambda's own poller ("Lambda polls
 * the queue and invokes your Lambda function synchronously", Lambda Developer Guide, "Using Lambda with Amazon SQS",
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html). Not Step Functions' own calls either: the state machine
 * does not run in the VPC.
 */
export const INTERFACE_ENDPOINTS = {
  states:
    'the builder and the sweeper start, list and describe executions of the conversion state machine; the job describes the execution that started it before its switch',
  sns: 'the sweeper announces executions that ended without recording an outcome on the alerts topic',
  glue: "the job records each dataset's schema and partitions in the Data Catalog (boto3 `glue`)",
  logs: "the job's output, error and continuous log streams",
  monitoring: "the job's metrics (`--enable-metrics`)",
  kms: "the job's security configuration encrypts with the job key (bookmarks client-side, logs through CloudWatch Logs)",
  // Not called by any code of the repository: Glue lists STS among the endpoints a job in a VPC without NAT needs
  // ("Connectivity / VPC Connection", https://docs.aws.amazon.com/glue/latest/dg/sap-odata-connectivity-vpc-connection.html:
  // "add necessary endpoints for different services like STS, AWS Glue").
  sts: "Glue's runtime in the job's VPC connection",
  xray: "the functions' active tracing",
} as const;

/** A service's endpoint name (`com.amazonaws.<region>.<name>`). */
export type EndpointService = keyof typeof GATEWAY_ENDPOINTS | keyof typeof INTERFACE_ENDPOINTS;

/** An existing VPC, described well enough to synthesize without an account (`Vpc.fromLookup` needs one). */
export interface ExistingVpc {
  readonly vpcId: string;
  /** Private subnets to run in, with the route table and the Availability Zone of each, in the same order. */
  readonly subnetIds: readonly string[];
  readonly routeTableIds: readonly string[];
  readonly availabilityZones: readonly string[];
}

/** Properties of {@link PrivateNetwork}. */
export interface PrivateNetworkProps {
  /** The VPC to use; @default a new VPC of two Availability Zones with isolated subnets only. */
  readonly existingVpc?: ExistingVpc;
  /** Retention of a new VPC's flow log, in days. */
  readonly logRetentionDays: number;
}

/** Where the functions and the Glue job run in `network=private`, and the endpoints they reach AWS through. */
export class PrivateNetwork extends Construct {
  public readonly vpc: ec2.IVpc;
  /** The private subnets, one per Availability Zone. */
  public readonly subnets: ec2.ISubnet[];
  /** The functions' group: HTTPS out, nothing in. */
  public readonly functionsSecurityGroup: ec2.SecurityGroup;
  /** The Glue job's group: all TCP among its own workers, HTTPS out. */
  public readonly jobSecurityGroup: ec2.SecurityGroup;
  /** The interface endpoints' group: HTTPS in from the functions and the job, nothing else. */
  public readonly endpointSecurityGroup: ec2.SecurityGroup;
  /** Every endpoint, by service. */
  public readonly endpoints: Record<EndpointService, ec2.GatewayVpcEndpoint | ec2.InterfaceVpcEndpoint>;

  constructor(scope: Construct, id: string, props: PrivateNetworkProps) {
    super(scope, id);
    const existing = props.existingVpc;
    if (existing === undefined) {
      // Isolated subnets only: no internet gateway, no NAT gateway, no route out of the VPC but the gateway
      // endpoints' (docs/security.md). DNS support and host names stay on (the CDK's default), which the interface
      // endpoints' private DNS names need.
      const vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: 0,
        subnetConfiguration: [{ name: 'Private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 20 }],
      });
      // Rejected traffic only: what tried to go where the groups do not let it, at a small fraction of all flows.
      vpc.addFlowLog('RejectedFlows', {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(
          new logs.LogGroup(this, 'RejectedFlowsLogs', { retention: retentionDays(props.logRetentionDays) }),
        ),
        trafficType: ec2.FlowLogTrafficType.REJECT,
      });
      this.vpc = vpc;
      this.subnets = vpc.isolatedSubnets;
    } else {
      // `Vpc.fromLookup` would need the account and region at synth ("Cannot retrieve value from context provider
      // vpc-provider since account/region are not specified at the stack level"); the attributes given in context
      // synthesize anywhere, the tests' included.
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: existing.vpcId,
        availabilityZones: [...existing.availabilityZones],
        isolatedSubnetIds: [...existing.subnetIds],
        isolatedSubnetRouteTableIds: [...existing.routeTableIds],
      });
      this.subnets = this.vpc.isolatedSubnets;
    }

    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointsGroup', {
      vpc: this.vpc,
      description: 'Interface endpoints of the ingest pipeline: HTTPS from its functions and its Glue job only',
      allowAllOutbound: false,
    });
    this.functionsSecurityGroup = new ec2.SecurityGroup(this, 'FunctionsGroup', {
      vpc: this.vpc,
      description: 'Lambdas of the ingest pipeline: HTTPS out to the VPC endpoints, nothing in',
      allowAllOutbound: false,
    });
    this.jobSecurityGroup = new ec2.SecurityGroup(this, 'JobGroup', {
      vpc: this.vpc,
      description: 'Glue job of the ingest pipeline: all TCP among its workers, HTTPS out to the VPC endpoints',
      allowAllOutbound: false,
    });
    // "To enable AWS Glue to communicate between its components, specify a security group with a self-referencing
    // inbound rule for all TCP ports", and outbound "a self-referencing rule of Type All TCP" (AWS Glue Developer Guide,
    // "Setting up networking for development for AWS Glue", https://docs.aws.amazon.com/glue/latest/dg/start-development-endpoint.html).
    this.jobSecurityGroup.addIngressRule(this.jobSecurityGroup, ec2.Port.allTcp(), 'Spark driver and executors of one run');
    this.jobSecurityGroup.addEgressRule(this.jobSecurityGroup, ec2.Port.allTcp(), 'Spark driver and executors of one run');
    for (const group of [this.functionsSecurityGroup, this.jobSecurityGroup]) {
      this.endpointSecurityGroup.addIngressRule(group, ec2.Port.tcp(443), 'HTTPS to the interface endpoints');
      // Any address on 443: the gateway endpoints' addresses are AWS's prefix lists for S3 and DynamoDB, whose ids an
      // account-agnostic template cannot name; the subnets have no route anywhere else but the VPC itself.
      group.addEgressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(443),
        'HTTPS to the interface endpoints and the S3 and DynamoDB gateway endpoints',
      );
    }

    const subnets: ec2.SubnetSelection = { subnets: this.subnets };
    const gateway = (name: keyof typeof GATEWAY_ENDPOINTS, service: ec2.GatewayVpcEndpointAwsService) =>
      new ec2.GatewayVpcEndpoint(this, `${name[0].toUpperCase()}${name.slice(1)}Gateway`, { vpc: this.vpc, service, subnets: [subnets] });
    const endpoints: Partial<Record<EndpointService, ec2.GatewayVpcEndpoint | ec2.InterfaceVpcEndpoint>> = {
      s3: gateway('s3', ec2.GatewayVpcEndpointAwsService.S3),
      dynamodb: gateway('dynamodb', ec2.GatewayVpcEndpointAwsService.DYNAMODB),
    };
    for (const name of Object.keys(INTERFACE_ENDPOINTS) as (keyof typeof INTERFACE_ENDPOINTS)[]) {
      endpoints[name] = new ec2.InterfaceVpcEndpoint(this, `${name[0].toUpperCase()}${name.slice(1)}Endpoint`, {
        vpc: this.vpc,
        service: new ec2.InterfaceVpcEndpointAwsService(name),
        subnets,
        securityGroups: [this.endpointSecurityGroup],
        // Only the groups above reach the endpoint (instead of the CDK's default of the whole VPC's CIDR on 443).
        open: false,
        // The SDKs' default host names (`states.<region>.amazonaws.com`) resolve to the endpoint inside the VPC.
        privateDnsEnabled: true,
      });
    }
    this.endpoints = endpoints as Record<EndpointService, ec2.GatewayVpcEndpoint | ec2.InterfaceVpcEndpoint>;
  }

  /**
   * Lets a Lambda's role create and remove the function's network interfaces in the subnets: the actions of
   * AWSLambdaVPCAccessExecutionRole without its logging, which the function's own policy grants on its log group
   * ("Giving Lambda functions access to resources in an Amazon VPC", https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html).
   * A separate policy the function waits for: Lambda refuses a VPC configuration its role cannot act on.
   */
  grantFunctionInterfaces(scope: Construct, id: string, role: iam.IRole): iam.Policy {
    const policy = new iam.Policy(scope, id, {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: 'FunctionNetworkInterfaces',
          // DescribeNetworkInterfaces "only works if it's allowed on all resources"; DeleteNetworkInterface needs every
          // interface Lambda may create, whose ids are known only when it does (same page).
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      ],
    });
    acknowledge(
      policy,
      "Lambda creates, describes and deletes the function's network interfaces with its role; DescribeNetworkInterfaces works only on every resource and the interfaces' ids are known only when Lambda creates them (Lambda Developer Guide, configuration-vpc).",
      'IAM5[Resource::*]',
    );
    return policy;
  }

  /**
   * Lets the Glue job's role set up its workers' network interfaces in the connection's subnet: the EC2 actions of
   * AWSGlueServiceRole (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSGlueServiceRole.html),
   * tags limited to Glue's own tag key as there.
   */
  grantJobInterfaces(scope: Construct, id: string, role: iam.IRole): iam.Policy {
    const stack = Stack.of(this);
    const taggable = ['network-interface', 'security-group', 'instance'].map((type) =>
      stack.formatArn({ service: 'ec2', resource: type, resourceName: '*' }),
    );
    const policy = new iam.Policy(scope, id, {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: 'JobNetworkInterfaces',
          actions: [
            'ec2:DescribeVpcEndpoints',
            'ec2:DescribeRouteTables',
            'ec2:CreateNetworkInterface',
            'ec2:DeleteNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSecurityGroups',
            'ec2:DescribeSubnets',
            'ec2:DescribeVpcAttribute',
          ],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'JobNetworkInterfaceTags',
          actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
          resources: taggable,
          conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['aws-glue-service-resource'] } },
        }),
      ],
    });
    acknowledge(
      policy,
      "Glue checks the connection's subnet, routes and endpoints and creates its workers' network interfaces with the job's role, as AWSGlueServiceRole allows; the describe actions support no resource-level permissions and the interfaces' ids are known only at run time.",
      'IAM5[Resource::*]',
    );
    acknowledge(
      policy,
      'Glue tags the network interfaces, groups and instances of a run with its own key only (aws:TagKeys aws-glue-service-resource), as AWSGlueServiceRole allows; their ids are known only at run time.',
      ...taggable.map((arn) => `IAM5[Resource::${nagText(this, arn)}]`),
    );
    return policy;
  }
}
