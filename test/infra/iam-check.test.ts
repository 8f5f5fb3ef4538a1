/**
 * The IAM check the end-to-end tests run on every call the components make (test/e2e/support/iam-check.ts): the
 * synthesized stack's policies resolved for the local mode and evaluated by the IAM policy evaluation library, here
 * on calls of the shapes the emulator records. The end-to-end tests run it on the calls they really made.
 */
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../../local/layout';
import { LOCAL_NAMES } from '../../local/provision';
import type { LocalStack } from '../../contracts/local-stack';
import {
  deniedCalls,
  describeDenial,
  iamModel,
  onBehalfCalls,
  pipelineForIamCheck,
  templateWithout,
  type IamCall,
  type IamModel,
} from '../e2e/support/iam-check';

const endpoint = 'http://127.0.0.1:4566';
const arn = (service: string, resource: string) => `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${resource}`;
const stack: LocalStack = {
  endpoint,
  region: LOCAL_REGION,
  accessKeyId: 'LKIAEXAMPLEEXAMPLE00',
  secretAccessKey: 'secret',
  ingestBucket: LOCAL_NAMES.ingestBucket,
  curatedBucket: LOCAL_NAMES.curatedBucket,
  ingestQueueUrl: `${endpoint}/${LOCAL_ACCOUNT}/${LOCAL_NAMES.ingestQueue}`,
  ingestDlqUrl: `${endpoint}/${LOCAL_ACCOUNT}/${LOCAL_NAMES.ingestDlq}`,
  stateTable: LOCAL_NAMES.stateTable,
  idempotencyTable: LOCAL_NAMES.idempotencyTable,
  stateMachineArn: arn('states', `stateMachine:${LOCAL_NAMES.stateMachine}`),
  glueJobName: LOCAL_NAMES.glueJob,
  glueDatabase: LOCAL_NAMES.glueDatabase,
  alertTopicArn: arn('sns', LOCAL_NAMES.alertTopic),
  outboxDir: '/tmp/outbox',
  batchSize: 200,
  maxWaitSeconds: 60,
};
const job = arn('glue', `job/${LOCAL_NAMES.glueJob}`);
const stateTable = arn('dynamodb', `table/${LOCAL_NAMES.stateTable}`);
const curated = `arn:aws:s3:::${LOCAL_NAMES.curatedBucket}`;
const ingest = `arn:aws:s3:::${LOCAL_NAMES.ingestBucket}`;

let model: IamModel;
beforeAll(() => {
  model = iamModel(pipelineForIamCheck(), stack);
});

const denied = async (calls: IamCall[], on: IamModel = model) => (await deniedCalls(on, calls)).map(describeDenial);

test("each component's policies are resolved for the local mode: its names, account and region, no intrinsic function left", () => {
  for (const role of Object.values(model.roles)) {
    expect(role.policies.length).toBeGreaterThan(0);
    expect(JSON.stringify(role.policies)).not.toMatch(/"(Ref|Fn::[A-Za-z]+)"/);
  }
  const stateMachine = JSON.stringify(model.roles['state-machine'].policies);
  expect(stateMachine).toContain(`"${job}"`);
  expect(stateMachine).toContain(`"${curated}/manifests/*.outcome.json"`);
  expect(JSON.stringify(model.roles['glue-job'].policies)).toContain(`"${ingest}/incoming/*"`);
});

test('the calls the components make are allowed, with the key conditions the policies test', async () => {
  const calls: IamCall[] = [
    { component: 'state-machine', action: 'glue:StartJobRun', resource: job },
    {
      component: 'state-machine',
      action: 'dynamodb:UpdateItem',
      resource: stateTable,
      context: { 'dynamodb:LeadingKeys': ['MANIFEST#m'] },
    },
    { component: 'state-machine', action: 's3:GetObject', resource: `${curated}/manifests/orders/m.outcome.json` },
    { component: 'manifest-builder', action: 's3:PutObject', resource: `${curated}/manifests/orders/m.json` },
    { component: 'manifest-builder', action: 's3:GetObjectVersion', resource: `${ingest}/incoming/orders/a.ndjson` },
    {
      component: 'sweeper',
      action: 'dynamodb:Query',
      resource: `${stateTable}/index/pending`,
      context: { 'dynamodb:LeadingKeys': ['PENDING'] },
    },
    { component: 'glue-job', action: 's3:ListBucketVersions', resource: ingest, context: { 's3:prefix': 'incoming/orders/a.ndjson' } },
    { component: 'glue-job', action: 'glue:UpdateTable', resource: arn('glue', `table/${LOCAL_NAMES.glueDatabase}/orders`) },
  ];

  expect(await denied(calls)).toEqual([]);
});

test("a call outside a component's policies is denied: another key prefix, a forged result file, a listing outside the prefix, no TLS", async () => {
  const calls: IamCall[] = [
    { component: 'state-machine', action: 'dynamodb:UpdateItem', resource: stateTable, context: { 'dynamodb:LeadingKeys': ['FILE#x'] } },
    { component: 'manifest-builder', action: 's3:PutObject', resource: `${curated}/manifests/orders/m.result.json` },
    { component: 'glue-job', action: 's3:ListBucket', resource: ingest },
    { component: 'sweeper', action: 'glue:StartJobRun', resource: job },
    // The ingest bucket's own policy refuses a request without TLS.
    { component: 'glue-job', action: 's3:GetObject', resource: `${ingest}/incoming/a.ndjson`, context: { 'aws:SecureTransport': 'false' } },
  ];

  const found = await denied(calls);
  expect(found).toHaveLength(calls.length);
  expect(found[1]).toMatch(/^manifest-builder: s3:PutObject on .*m\.result\.json: ExplicitlyDenied$/);
  expect(found[4]).toMatch(/^glue-job: s3:GetObject on .*: ExplicitlyDenied$/);
});

test('a call the emulator could not map is reported, never passed', async () => {
  expect(await denied([{ component: 'glue-job', action: 's3:POST', resource: curated, unmapped: 'S3 POST of a bucket' }])).toEqual([
    expect.stringContaining('could not tell what IAM authorizes: S3 POST of a bucket'),
  ]);
});

test("the calls services make on a component's behalf come from the template and AWS's documentation, and are allowed", async () => {
  const recorded: IamCall[] = [
    { component: 'state-machine', action: 'glue:StartJobRun', resource: job },
    { component: 'sweeper', action: 'sns:Publish', resource: stack.alertTopicArn },
  ];
  const added = onBehalfCalls(model, recorded);
  const names = added.map((c) => `${c.component} ${c.action}`);

  for (const expected of [
    'state-machine glue:GetJobRun',
    'state-machine glue:GetJobRuns',
    'state-machine glue:BatchStopJobRun',
    'state-machine logs:CreateLogDelivery',
    'state-machine xray:PutTraceSegments',
    'sweeper kms:GenerateDataKey',
    'sweeper kms:Decrypt',
    'manifest-builder sqs:ReceiveMessage',
    'manifest-builder sqs:DeleteMessage',
    'manifest-builder logs:PutLogEvents',
    'sweeper sqs:SendMessage',
    'canary logs:PutLogEvents',
    'glue-job s3:GetObject',
    'glue-job logs:PutLogEvents',
    'glue-job cloudwatch:PutMetricData',
  ]) {
    expect(names).toContain(expected);
  }
  for (const call of added) expect(call.onBehalf).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
  expect(added.find((c) => c.action === 'glue:BatchStopJobRun')?.resource).toBe(job);
  expect(added.filter((c) => c.component === 'glue-job' && c.action === 's3:GetObject')).toHaveLength(3);
  expect(await denied([...recorded, ...added])).toEqual([]);
});

test('removing a needed permission from a policy makes the check fail, naming the call', async () => {
  const pipeline = pipelineForIamCheck();
  const recorded: IamCall[] = [
    { component: 'state-machine', action: 'glue:StartJobRun', resource: job },
    { component: 'state-machine', action: 'glue:GetJobRun', resource: job },
  ];
  const without = iamModel(pipeline, stack, templateWithout(pipeline, 'state-machine', 'glue:BatchStopJobRun'));

  expect(await denied([...recorded, ...onBehalfCalls(without, recorded)], without)).toEqual([
    expect.stringMatching(
      /^state-machine: glue:BatchStopJobRun on .*job\/ndjson-to-parquet-local: ImplicitlyDenied \(on its behalf: .*connect-glue/,
    ),
  ]);
  expect(() => templateWithout(pipeline, 'sweeper', 'glue:StartJobRun')).toThrow(/no policy of the sweeper's role lists glue:StartJobRun/);
});
