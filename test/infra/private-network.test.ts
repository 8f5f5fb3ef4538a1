/**
 * `-c network=private` (docs/security.md, "Private network"): the functions and the Glue job in private subnets with
 * no route to the internet, an endpoint for every service the code calls (derived here from the code and the template,
 * not from a copy of the list), security groups that let only HTTPS reach the endpoints, the job on a NETWORK
 * connection; and the public default without any of it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { GATEWAY_ENDPOINTS, INTERFACE_ENDPOINTS } from '../../pipeline/constructs/private-network';
import { REPO_ROOT, SynthesizedPipeline, logicalIdAt, synthPipeline } from './synth';

// With the canary on, so that its function is held to the private network too.
const PRIVATE = { alertEmail: 'ops@example.com', network: 'private', canary: { everyMinutes: 60 } };
const EXISTING_VPC = {
  ...PRIVATE,
  vpcId: 'vpc-0123456789abcdef0',
  privateSubnetIds: 'subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2',
  privateRouteTableIds: 'rtb-0aaaaaaaaaaaaaaa1,rtb-0bbbbbbbbbbbbbbb2',
  availabilityZones: 'eu-west-1a,eu-west-1b',
};

type Resources = Record<string, { Type: string; Properties: Record<string, any>; DependsOn?: string[]; Metadata?: Record<string, any> }>;

let publicPipeline: SynthesizedPipeline;
let privatePipeline: SynthesizedPipeline;
let existingPipeline: SynthesizedPipeline;
let validationWarnings: string[];
beforeAll(() => {
  publicPipeline = synthPipeline({ alertEmail: 'ops@example.com' });
  privatePipeline = synthPipeline(PRIVATE);
  // The CDK's CloudFormation validation prints what it finds unacknowledged (an existing subnet's literal zone).
  const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    existingPipeline = synthPipeline(EXISTING_VPC);
    validationWarnings = printed.mock.calls.map((call) => call.join(' ')).filter((text) => text.includes('CloudFormation Validate'));
  } finally {
    printed.mockRestore();
  }
});

const resources = (template: Template): Resources => template.toJSON().Resources as Resources;
const ofType = (template: Template, type: string) => Object.entries(resources(template)).filter(([, r]) => r.Type === type);
const ref = (id: string) => ({ Ref: id });
const groupId = (id: string) => ({ 'Fn::GetAtt': [id, 'GroupId'] });

/** Every VPC endpoint of the template: its service and type. */
function endpointsOf(template: Template): Array<{ id: string; service: string; type: string; properties: Record<string, any> }> {
  return ofType(template, 'AWS::EC2::VPCEndpoint').map(([id, r]) => {
    const name = r.Properties.ServiceName;
    const joined = name['Fn::Join'] ? (name['Fn::Join'][1] as unknown[]).filter((p) => typeof p === 'string').join('') : String(name);
    return { id, service: joined.split('.').pop()!, type: r.Properties.VpcEndpointType ?? 'Gateway', properties: r.Properties };
  });
}

/** Source files under `dir` with one of the extensions, leaving out tests, caches and dependencies. */
function sources(dir: string, extensions: string[]): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      return ['node_modules', '__pycache__', 'tests', 'test', 'jvm'].includes(entry.name) ? [] : sources(full, extensions);
    }
    return extensions.some((e) => entry.name.endsWith(e)) && !/\.test\.ts$/.test(entry.name) ? [full] : [];
  });
}

/** The host an AWS SDK for JavaScript client package resolves to in a region (its own endpoint rules). */
function sdkClientHost(pkg: string, region: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(pkg) as Record<string, unknown>;
  const [, Client] = Object.entries(module).find(
    ([name, value]) => /^[A-Z][A-Za-z0-9]*Client$/.test(name) && typeof value === 'function',
  )! as [string, new (config: object) => { config: { endpointProvider(params: object): { url: URL } }; destroy(): void }];
  const client = new Client({ region, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  try {
    return client.config.endpointProvider({ Region: region, UseFIPS: false, UseDualStack: false }).url.hostname;
  } finally {
    client.destroy();
  }
}

/**
 * The services the functions call from their code: the AWS SDK clients the handlers import, and the ones the
 * libraries they import depend on (Powertools' idempotency store is a DynamoDB client), each resolved to its host by
 * the SDK itself.
 */
function servicesTheHandlersCall(region: string): Set<string> {
  const packages = new Set<string>();
  for (const file of sources(path.join(REPO_ROOT, 'handlers'), ['.ts'])) {
    for (const [, specifier] of fs.readFileSync(file, 'utf8').matchAll(/^import\s+(?!type\b)[^;]*?\sfrom\s+'([^']+)'/gm)) {
      if (specifier.startsWith('@aws-sdk/client-')) packages.add(specifier);
      else if (specifier.startsWith('@aws-lambda-powertools/')) {
        const pkg = specifier.split('/').slice(0, 2).join('/');
        const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'node_modules', pkg, 'package.json'), 'utf8'));
        const subpath = specifier.slice(pkg.length + 1);
        for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
          // A peer dependency is used by the subpath named after it (`idempotency/dynamodb` needs client-dynamodb).
          if (dep.startsWith('@aws-sdk/client-') && (subpath === '' || dep.endsWith(`-${subpath}`))) packages.add(dep);
        }
      }
    }
  }
  return new Set([...packages].map((pkg) => sdkClientHost(pkg, region).split('.')[0]));
}

/** The services the Glue job's Python calls through boto3, each resolved to its host by botocore. */
function servicesTheJobCalls(region: string): Set<string> {
  const names = new Set<string>();
  for (const file of sources(path.join(REPO_ROOT, 'glue-scripts'), ['.py'])) {
    for (const [, name] of fs.readFileSync(file, 'utf8').matchAll(/boto3\.client\(\s*["']([a-z0-9-]+)["']/g)) names.add(name);
  }
  const python = path.join(REPO_ROOT, '.venv', 'bin', 'python');
  const script =
    'import boto3, json, sys; print(json.dumps([boto3.client(n, region_name=sys.argv[1]).meta.endpoint_url for n in sys.argv[2:]]))';
  // botocore's own endpoint, not an emulator's the environment may name.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_ENDPOINT_URL')));
  const result = spawnSync(python, ['-c', script, region, ...names], { encoding: 'utf8', env });
  if (result.status !== 0) throw new Error(result.stderr);
  return new Set((JSON.parse(result.stdout) as string[]).map((url) => new URL(url).hostname.split('.')[0]));
}

/** What the template turns on that calls a service from inside the VPC: tracing, the job's logs, metrics and key. */
function servicesTheTemplateTurnsOn(template: Template): Set<string> {
  const found = new Set<string>();
  for (const [, fn] of ofType(template, 'AWS::Lambda::Function')) {
    if (fn.Properties.VpcConfig !== undefined && fn.Properties.TracingConfig?.Mode === 'Active') found.add('xray');
  }
  for (const [, job] of ofType(template, 'AWS::Glue::Job')) {
    const args = job.Properties.DefaultArguments as Record<string, string>;
    if (args['--enable-metrics'] !== undefined) found.add('monitoring');
    // Glue 5 writes the job's output and error streams to CloudWatch Logs on every run; continuous logging adds more.
    found.add('logs');
    if (job.Properties.Connections !== undefined) found.add('glue');
  }
  for (const [, config] of ofType(template, 'AWS::Glue::SecurityConfiguration')) {
    const encryption = config.Properties.EncryptionConfiguration;
    if (
      encryption.CloudWatchEncryption?.CloudWatchEncryptionMode === 'SSE-KMS' ||
      encryption.JobBookmarksEncryption?.JobBookmarksEncryptionMode === 'CSE-KMS'
    ) {
      found.add('kms');
    }
  }
  return found;
}

/** Endpoints deployed although no code of the repository calls them, each with its reason in private-network.ts. */
const NOT_CALLED_BY_THE_CODE = ['sts'];

describe.each([
  ['a new VPC', () => privatePipeline],
  ['an existing VPC', () => existingPipeline],
])('network=private in %s', (_name, pipeline) => {
  test('every service the handlers, the Glue job and the template call has an endpoint, and no endpoint is there that nothing calls', () => {
    const { template } = pipeline();
    const region = 'eu-west-1';
    const called = new Set([...servicesTheHandlersCall(region), ...servicesTheJobCalls(region), ...servicesTheTemplateTurnsOn(template)]);
    const deployed = endpointsOf(template).map((e) => e.service);

    // What the derivation finds, so that a derivation that finds nothing fails here.
    expect([...servicesTheHandlersCall(region)].sort()).toEqual(expect.arrayContaining(['dynamodb', 's3', 'sns', 'states']));
    expect([...servicesTheJobCalls(region)].sort()).toEqual(['glue', 's3', 'states']);
    for (const service of called) expect({ service, endpoint: deployed.includes(service) }).toEqual({ service, endpoint: true });
    for (const service of deployed) {
      expect({ service, called: called.has(service) || NOT_CALLED_BY_THE_CODE.includes(service) }).toEqual({ service, called: true });
    }
    expect(new Set(deployed).size).toBe(deployed.length);
    expect(deployed.sort()).toEqual([...Object.keys(GATEWAY_ENDPOINTS), ...Object.keys(INTERFACE_ENDPOINTS)].sort());
  });

  test("S3 and DynamoDB through gateway endpoints on the subnets' route tables; the rest through interface endpoints in every subnet, private DNS on, behind the endpoints' group", () => {
    const { stack, template } = pipeline();
    const endpointsGroup = logicalIdAt(stack, 'Network/EndpointsGroup');
    const subnets = ofType(template, 'AWS::Lambda::Function').find(([, f]) => f.Properties.VpcConfig)![1].Properties.VpcConfig.SubnetIds;
    expect(subnets).toHaveLength(2);
    for (const endpoint of endpointsOf(template)) {
      if (endpoint.service in GATEWAY_ENDPOINTS) {
        expect(endpoint.type).toBe('Gateway');
        expect(endpoint.properties.RouteTableIds).toHaveLength(2);
      } else {
        expect(endpoint.type).toBe('Interface');
        expect(endpoint.properties.PrivateDnsEnabled).toBe(true);
        expect(endpoint.properties.SubnetIds).toEqual(subnets);
        expect(endpoint.properties.SecurityGroupIds).toEqual([groupId(endpointsGroup)]);
      }
    }
  });

  test('no NAT gateway, no internet gateway, no route out of the VPC but the gateway endpoints', () => {
    const { template } = pipeline();
    const types = new Set(Object.values(resources(template)).map((r) => r.Type));
    for (const type of [
      'AWS::EC2::NatGateway',
      'AWS::EC2::InternetGateway',
      'AWS::EC2::EgressOnlyInternetGateway',
      'AWS::EC2::VPCGatewayAttachment',
      'AWS::EC2::EIP',
    ]) {
      expect({ type, present: types.has(type) }).toEqual({ type, present: false });
    }
    // Routes the template adds (a gateway endpoint's routes are the endpoint's own, not AWS::EC2::Route).
    expect(ofType(template, 'AWS::EC2::Route')).toEqual([]);
    for (const [, subnet] of ofType(template, 'AWS::EC2::Subnet')) expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
  });

  test("every function of the pipeline runs in the private subnets in the functions' group, with the rights to its network interfaces before it is created", () => {
    const { stack, template } = pipeline();
    const functionsGroup = logicalIdAt(stack, 'Network/FunctionsGroup');
    const all = resources(template);
    const pipelineFunctions = ofType(template, 'AWS::Lambda::Function').filter(
      ([, f]) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME,
    );
    expect(pipelineFunctions.map(([, f]) => f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME).sort()).toEqual([
      'canary',
      'manifest-builder',
      'sweeper',
    ]);
    for (const [id, fn] of pipelineFunctions) {
      expect({ id, groups: fn.Properties.VpcConfig?.SecurityGroupIds }).toEqual({ id, groups: [groupId(functionsGroup)] });
      expect(fn.Properties.VpcConfig.SubnetIds).toHaveLength(2);
      const role = fn.Properties.Role['Fn::GetAtt'][0];
      const interfaces = Object.entries(all).find(
        ([, r]) =>
          r.Type === 'AWS::IAM::Policy' &&
          JSON.stringify(r.Properties.Roles) === JSON.stringify([ref(role)]) &&
          JSON.stringify(r.Properties.PolicyDocument).includes('ec2:CreateNetworkInterface'),
      );
      expect(interfaces).toBeDefined();
      expect(fn.DependsOn).toContain(interfaces![0]);
      // No AWS managed policy: the function's own statements instead of AWSLambdaVPCAccessExecutionRole.
      expect(all[role].Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  test("security groups: only HTTPS in to the endpoints and out of the functions and the job; all TCP only among the job's own workers", () => {
    const { stack, template } = pipeline();
    const [endpoints, functions, job] = ['EndpointsGroup', 'FunctionsGroup', 'JobGroup'].map((g) => logicalIdAt(stack, `Network/${g}`));
    const rules: Array<{ direction: string; group: string; from: number; to: number; protocol: string; peer: unknown }> = [];
    for (const [id, group] of ofType(template, 'AWS::EC2::SecurityGroup')) {
      for (const rule of group.Properties.SecurityGroupIngress ?? [])
        rules.push({
          direction: 'in',
          group: id,
          from: rule.FromPort,
          to: rule.ToPort,
          protocol: rule.IpProtocol,
          peer: rule.CidrIp ?? rule.SourceSecurityGroupId,
        });
      for (const rule of group.Properties.SecurityGroupEgress ?? [])
        rules.push({
          direction: 'out',
          group: id,
          from: rule.FromPort,
          to: rule.ToPort,
          protocol: rule.IpProtocol,
          peer: rule.CidrIp ?? rule.DestinationSecurityGroupId,
        });
    }
    for (const [, rule] of ofType(template, 'AWS::EC2::SecurityGroupIngress')) {
      const p = rule.Properties;
      rules.push({
        direction: 'in',
        group: p.GroupId['Fn::GetAtt'][0],
        from: p.FromPort,
        to: p.ToPort,
        protocol: p.IpProtocol,
        peer: p.SourceSecurityGroupId,
      });
    }
    for (const [, rule] of ofType(template, 'AWS::EC2::SecurityGroupEgress')) {
      const p = rule.Properties;
      rules.push({
        direction: 'out',
        group: p.GroupId['Fn::GetAtt'][0],
        from: p.FromPort,
        to: p.ToPort,
        protocol: p.IpProtocol,
        peer: p.DestinationSecurityGroupId,
      });
    }
    const https = { from: 443, to: 443, protocol: 'tcp' };
    const allTcp = { from: 0, to: 65535, protocol: 'tcp' };
    // The CDK's placeholder rule of a group with no egress (255.255.255.255/32, ICMP type 252) lets nothing out.
    const meaningful = rules.filter((r) => r.peer !== '255.255.255.255/32');
    expect(meaningful).toEqual(
      expect.arrayContaining([
        { direction: 'in', group: endpoints, ...https, peer: groupId(functions) },
        { direction: 'in', group: endpoints, ...https, peer: groupId(job) },
        { direction: 'out', group: functions, ...https, peer: '0.0.0.0/0' },
        { direction: 'out', group: job, ...https, peer: '0.0.0.0/0' },
        { direction: 'in', group: job, ...allTcp, peer: groupId(job) },
        { direction: 'out', group: job, ...allTcp, peer: groupId(job) },
      ]),
    );
    expect(meaningful).toHaveLength(6);
    expect(rules.filter((r) => r.group === endpoints && r.direction === 'out').map((r) => r.peer)).toEqual(['255.255.255.255/32']);
  });

  test("the Glue job runs on a NETWORK connection in a private subnet with the job's group; its role may read that connection and manage Glue's interfaces", () => {
    const { stack, template } = pipeline();
    const [connectionId, connection] = ofType(template, 'AWS::Glue::Connection')[0];
    const input = connection.Properties.ConnectionInput;
    expect(input.ConnectionType).toBe('NETWORK');
    const subnets = ofType(template, 'AWS::Lambda::Function').find(([, f]) => f.Properties.VpcConfig)![1].Properties.VpcConfig.SubnetIds;
    expect(subnets).toContainEqual(input.PhysicalConnectionRequirements.SubnetId);
    expect(input.PhysicalConnectionRequirements.SecurityGroupIdList).toEqual([groupId(logicalIdAt(stack, 'Network/JobGroup'))]);
    expect(input.PhysicalConnectionRequirements.AvailabilityZone).toBeDefined();
    const job = resources(template)[logicalIdAt(stack, 'ConversionWorkflow/Job')];
    expect(job.Properties.Connections).toEqual({ Connections: [ref(connectionId)] });

    const jobRole = job.Properties.Role['Fn::GetAtt'][0];
    const statements = ofType(template, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${jobRole}"`))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
    const getConnection = statements.find((s) => s.Action === 'glue:GetConnection')!;
    expect(JSON.stringify(getConnection.Resource)).toContain(connectionId);
    const tags = statements.find((s) => s.Sid === 'JobNetworkInterfaceTags')!;
    expect(tags.Condition).toEqual({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['aws-glue-service-resource'] } });
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a: string) => a.includes('*'))).toEqual([]);
  });
});

describe('network=private', () => {
  test('a new VPC spans two Availability Zones with one isolated subnet in each and logs its rejected flows', () => {
    const { template } = privatePipeline;
    expect(ofType(template, 'AWS::EC2::VPC')).toHaveLength(1);
    const zones = ofType(template, 'AWS::EC2::Subnet').map(([, s]) => JSON.stringify(s.Properties.AvailabilityZone));
    expect(new Set(zones).size).toBe(2);
    expect(ofType(template, 'AWS::EC2::FlowLog').map(([, f]) => f.Properties.TrafficType)).toEqual(['REJECT']);
  });

  test('an existing VPC is used as given in context: its subnets, their route tables and zones; nothing of it is created', () => {
    const { template } = existingPipeline;
    expect(ofType(template, 'AWS::EC2::VPC')).toEqual([]);
    expect(ofType(template, 'AWS::EC2::Subnet')).toEqual([]);
    for (const [, fn] of ofType(template, 'AWS::Lambda::Function').filter(([, f]) => f.Properties.VpcConfig)) {
      expect(fn.Properties.VpcConfig.SubnetIds).toEqual(EXISTING_VPC.privateSubnetIds.split(','));
    }
    for (const endpoint of endpointsOf(template)) {
      expect(endpoint.properties.VpcId).toBe(EXISTING_VPC.vpcId);
      if (endpoint.type === 'Gateway') expect(endpoint.properties.RouteTableIds).toEqual(EXISTING_VPC.privateRouteTableIds.split(','));
    }
    const [, connection] = ofType(template, 'AWS::Glue::Connection')[0];
    // The subnet's own zone, named in context: acknowledged for the CDK's validation and for cfn-lint, with the reason.
    expect(validationWarnings).toEqual([]);
    expect(connection.Metadata!['cfn-lint']).toEqual({ config: { ignore_checks: ['W3010'] } });
    expect(connection.Properties.ConnectionInput.PhysicalConnectionRequirements).toMatchObject({
      SubnetId: 'subnet-0aaaaaaaaaaaaaaa1',
      AvailabilityZone: 'eu-west-1a',
    });
  });
});

describe('network=public, the default', () => {
  test('nothing of the private network: no VPC resource, no function in a VPC, no Glue connection', () => {
    const { template, config } = publicPipeline;
    expect(config.network).toBe('public');
    expect(Object.values(resources(template)).filter((r) => r.Type.startsWith('AWS::EC2::'))).toEqual([]);
    expect(ofType(template, 'AWS::Lambda::Function').filter(([, f]) => f.Properties.VpcConfig !== undefined)).toEqual([]);
    expect(ofType(template, 'AWS::Glue::Connection')).toEqual([]);
    expect(ofType(template, 'AWS::Glue::Job')[0][1].Properties.Connections).toBeUndefined();
    const actions = JSON.stringify(ofType(template, 'AWS::IAM::Policy').map(([, p]) => p.Properties.PolicyDocument));
    expect(actions).not.toContain('ec2:');
    expect(actions).not.toContain('glue:GetConnection');
  });

  test('the private template is the public one plus the network: every public resource is still there with the same type', () => {
    const pub = resources(publicPipeline.template);
    const priv = resources(privatePipeline.template);
    for (const [id, r] of Object.entries(pub)) expect({ id, type: priv[id]?.Type }).toEqual({ id, type: r.Type });
  });
});
