/**
 * The console's manifest page model and page, from recorded responses: a PARTIAL manifest of a deployed stack,
 * one execution that converted two of three files, its Glue run, its Parquet, its quarantined lines.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetJobRunCommand, GlueClient } from '@aws-sdk/client-glue';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  DescribeStateMachineForExecutionCommand,
  GetExecutionHistoryCommand,
  HistoryEvent,
} from '@aws-sdk/client-sfn';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { ConsoleSources, glueRunIds, manifestPageModel, parseEmail, RangeReader } from '../../../../cli/console/model';
import { manifestPage } from '../../../../cli/console/pages';
import { cloudTarget, executionArn, testContext } from '../fixtures';

const ID = 'orders-20261123-000042';
const ARN = executionArn(ID);
const MARKUP_KEY = 'incoming/orders/<script>alert(1)</script>.ndjson';
const DEFINITION = readFileSync(path.join(__dirname, '..', '..', '..', '..', 'state-machines', 'convert-manifest.asl.json'), 'utf8');

const file = (key: string, versionId: string) => ({
  sk: `F#${key}#etag-${versionId}`,
  bucket: 'ingest-bucket',
  key,
  size: 100,
  eTag: `etag-${versionId}`,
  sequencer: versionId,
  versionId,
});
const RECORD = {
  pk: `MANIFEST#${ID}`,
  sk: 'META',
  manifestId: ID,
  dataset: 'orders',
  status: 'PARTIAL',
  ingestDate: '2026-11-23',
  fileCount: 3,
  totalBytes: 300,
  executionArn: ARN,
  executions: [ARN],
  linesIn: 12,
  rowsOut: 9,
  rowsQuarantined: 2,
  blankLines: 1,
  filesRead: 2,
  filesFailed: 1,
  failedFiles: JSON.stringify([{ key: MARKUP_KEY, versionId: 'vb', reason: 'missing', message: 'no such version' }]),
};

const t = (s: number) => new Date(Date.UTC(2026, 10, 23, 10, 0, s));
let id = 0;
const ev = (type: string, extra: Partial<HistoryEvent> = {}): HistoryEvent => ({
  id: ++id,
  type: type as HistoryEvent['type'],
  timestamp: t(id),
  ...extra,
});
const entered = (type: string, name: string, input = '{}') => ev(`${type}StateEntered`, { stateEnteredEventDetails: { name, input } });
const exited = (type: string, name: string, output = '{}') => ev(`${type}StateExited`, { stateExitedEventDetails: { name, output } });
const HISTORY: HistoryEvent[] = [
  ev('ExecutionStarted', { executionStartedEventDetails: { input: '{"manifestId":"orders-20261123-000042"}' } }),
  entered('Task', 'MarkRunning', '{"manifestId":"orders-20261123-000042"}'),
  ev('TaskScheduled'),
  ev('TaskSucceeded'),
  exited('Task', 'MarkRunning'),
  entered('Pass', 'PrepareConvert'),
  exited('Pass', 'PrepareConvert'),
  entered('Task', 'Convert'),
  ev('TaskScheduled'),
  ev('TaskSubmitted', { taskSubmittedEventDetails: { resource: 'startJobRun.sync', resourceType: 'glue', output: '{"JobRunId":"jr_1"}' } }),
  ev('TaskSucceeded', { taskSucceededEventDetails: { resource: 'startJobRun.sync', resourceType: 'glue', output: '{"Id":"jr_1"}' } }),
  exited('Task', 'Convert', '{"glue":{"jobRunId":"jr_1"}}'),
  entered('Choice', 'AnyFileFailed'),
  exited('Choice', 'AnyFileFailed'),
  entered('Task', 'RecordPartial'),
  ev('TaskScheduled'),
  ev('TaskSucceeded'),
  exited('Task', 'RecordPartial'),
  entered('Fail', 'Partial'),
  ev('ExecutionFailed', { executionFailedEventDetails: { error: 'Pipeline.Partial', cause: '1 of 3 files could not be read' } }),
];

function body(text: string) {
  const bytes = new Uint8Array(Buffer.from(text));
  return { transformToByteArray: async () => bytes } as never;
}

describe('the manifest page model of a deployed stack', () => {
  const ctx = testContext(cloudTarget);
  const sfn = mockClient(ctx.sfn);
  const ddb = mockClient(ctx.ddb);
  const s3 = mockClient(ctx.s3);
  const glue = new GlueClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const glueMock = mockClient(glue);
  const logs = new CloudWatchLogsClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const logsMock = mockClient(logs);
  const reads: [number, number][] = [];
  const sources: ConsoleSources = {
    ctx,
    glue,
    logs,
    parquetRows: async (read: RangeReader, size: number, limit: number) => {
      await read(size - 8, size);
      reads.push([size, limit]);
      return { columns: ['order_id', 'amount', '_source_file'], rows: [{ order_id: '<b>o-1</b>', amount: 3n, _source_file: 's3://x/a' }] };
    },
  };

  beforeEach(() => {
    for (const m of [sfn, ddb, s3, glueMock, logsMock]) m.reset();
    logsMock.on(GetLogEventsCommand).rejects(Object.assign(new Error('no stream'), { name: 'ResourceNotFoundException' }));
    logsMock
      .on(GetLogEventsCommand, { logGroupName: '/aws-glue/jobs/error', logStreamName: 'jr_1' })
      .resolves({ events: [{ message: 'INFO starting\n' }, { message: 'ERROR <b>boom</b>\n  at line 2\n' }] });
    reads.length = 0;
    ddb.on(GetCommand).resolves({ Item: RECORD });
    ddb
      .on(QueryCommand)
      .resolves({ Items: [file('incoming/orders/a.ndjson', 'va'), file(MARKUP_KEY, 'vb'), file('incoming/orders/c.ndjson', 'vc')] });
    sfn.on(DescribeExecutionCommand).rejects(Object.assign(new Error('no'), { name: 'ExecutionDoesNotExist' }));
    sfn.on(DescribeExecutionCommand, { executionArn: ARN }).resolves({ name: ID, status: 'FAILED', startDate: t(0), stopDate: t(30) });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: HISTORY });
    sfn.on(DescribeStateMachineForExecutionCommand).resolves({ definition: DEFINITION });
    glueMock.on(GetJobRunCommand).resolves({
      JobRun: {
        Id: 'jr_1',
        JobRunState: 'SUCCEEDED',
        ExecutionTime: 120,
        MaxCapacity: 10,
        LogGroupName: '/aws-glue/jobs',
        StartedOn: t(8),
        CompletedOn: t(11),
      },
    });
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(ListObjectsV2Command, { Prefix: `curated/orders/ingest_date=2026-11-23/manifest_id=${ID}/` }).resolves({
      Contents: [
        { Key: `curated/orders/ingest_date=2026-11-23/manifest_id=${ID}/_SUCCESS`, Size: 0 },
        { Key: `curated/orders/ingest_date=2026-11-23/manifest_id=${ID}/part-0.parquet`, Size: 5000 },
      ],
    });
    s3.on(ListObjectsV2Command, { Prefix: `quarantine/orders/manifest_id=${ID}/` }).resolves({
      Contents: [{ Key: `quarantine/orders/manifest_id=${ID}/part-0.json`, Size: 200 }],
    });
    s3.on(GetObjectCommand).resolves({ Body: body('PAR1') });
    s3.on(GetObjectCommand, { Key: `quarantine/orders/manifest_id=${ID}/part-0.json` }).resolves({
      Body: body(
        `${JSON.stringify({ source_file: 's3://ingest-bucket/incoming/orders/a.ndjson', source_version: 'va', line_number: 4, reason: 'invalid_json', line: '<img src=x onerror=alert(1)>' })}\n`,
      ),
    });
    s3.on(GetObjectCommand, { Key: `manifests/orders/${ID}.result.json` }).resolves({ Body: body('{"manifestId":"x","linesIn":12}') });
  });

  it('gathers the record, the files with their outcomes, the line check and the replay command', async () => {
    const page = await manifestPageModel(sources, ID);

    expect(page.manifest.pk).toBeUndefined();
    expect(page.files.map((f) => [f.key, f.outcome, f.reason])).toEqual([
      ['incoming/orders/<script>alert(1)</script>.ndjson', 'failed', 'missing'],
      ['incoming/orders/a.ndjson', 'converted', undefined],
      ['incoming/orders/c.ndjson', 'converted', undefined],
    ]);
    expect(page.lineCheck).toEqual({ linesIn: 12, rowsOut: 9, rowsQuarantined: 2, blankLines: 1, holds: true });
    expect(page.replayCommand).toBe(`npx pipeline replay ${ID}`);
    expect(page.outcomeDocument).toEqual({ key: `manifests/orders/${ID}.result.json`, text: '{"manifestId":"x","linesIn":12}' });
  });

  it('reads the execution with its definition, its events with their data, and its Glue run with DPU-seconds and links', async () => {
    const page = await manifestPageModel(sources, ID);
    const [execution] = page.executions;

    expect(execution.definition?.StartAt).toBe('MarkRunning');
    expect(execution.steps.find((s) => s.name === 'Partial')?.outcome).toBe('failed');
    expect(execution.events.find((e) => e.type === 'TaskStateEntered' && e.state === 'MarkRunning')?.data).toBe(
      '{"manifestId":"orders-20261123-000042"}',
    );
    expect(execution.events.at(-1)).toMatchObject({
      type: 'ExecutionFailed',
      state: 'Partial',
      data: 'Pipeline.Partial: 1 of 3 files could not be read',
    });
    // `pipeline status`'s summary reads it without data; the page's events with it.
    expect(sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input.includeExecutionData)).toEqual([false, true]);
    expect(execution.glueRuns).toEqual([
      expect.objectContaining({ runId: 'jr_1', state: 'SUCCEEDED', executionSeconds: 120, dpuSeconds: 1200, dpuSecondsEstimated: true }),
    ]);
    // The tail of the run's error stream, read from its end.
    expect(execution.glueRuns[0]).toMatchObject({
      logTail: ['INFO starting', 'ERROR <b>boom</b>', '  at line 2'],
      logNote: 'last lines of /aws-glue/jobs/error/jr_1',
    });
    expect(logsMock.commandCalls(GetLogEventsCommand)[0].args[0].input).toMatchObject({ startFromHead: false, limit: 40 });
    expect(execution.glueRuns[0].links.map((l) => l.url)).toEqual([
      'https://eu-west-1.console.aws.amazon.com/gluestudio/home?region=eu-west-1#/job/convert/run/jr_1',
      'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws-glue$252Fjobs$252Foutput/log-events/jr_1',
      'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws-glue$252Fjobs$252Ferror/log-events/jr_1',
    ]);
    expect(execution.consoleUrl).toBe(
      `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${ARN}`,
    );
  });

  it("previews the manifest's first Parquet file and its quarantined lines; in the cloud the alert is SNS's", async () => {
    const page = await manifestPageModel(sources, ID);

    expect(reads).toEqual([[5000, 20]]);
    // A small part file is read whole, once.
    expect(
      s3
        .commandCalls(GetObjectCommand)
        .filter((c) => c.args[0].input.Key?.endsWith('.parquet'))
        .map((c) => c.args[0].input.Range),
    ).toEqual([undefined]);
    expect(page.parquet).toMatchObject({
      objects: 1,
      columns: ['order_id', 'amount', '_source_file'],
      items: [{ order_id: '<b>o-1</b>', amount: '3' }],
    });
    expect(page.quarantine.items).toEqual([
      {
        sourceFile: 's3://ingest-bucket/incoming/orders/a.ndjson',
        sourceVersion: 'va',
        lineNumber: 4,
        reason: 'invalid_json',
        line: '<img src=x onerror=alert(1)>',
      },
    ]);
    expect(page.alert).toEqual({
      emails: [],
      topicArn: cloudTarget.alertTopicArn,
      link: expect.stringContaining('/sns/v3/home?region=eu-west-1#/topic/'),
    });
    expect(page.links.map((l) => l.label)).toEqual(['Parquet in S3', 'quarantine in S3', 'outcome document in S3', 'Glue table']);
  });

  it('reads a large Parquet object by ranges', async () => {
    const big = 20 * 1024 * 1024;
    s3.on(ListObjectsV2Command, { Prefix: `curated/orders/ingest_date=2026-11-23/manifest_id=${ID}/` }).resolves({
      Contents: [{ Key: `curated/orders/ingest_date=2026-11-23/manifest_id=${ID}/part-0.parquet`, Size: big }],
    });

    await manifestPageModel(sources, ID);

    expect(reads).toEqual([[big, 20]]);
    expect(
      s3
        .commandCalls(GetObjectCommand)
        .filter((c) => c.args[0].input.Key?.endsWith('.parquet'))
        .map((c) => c.args[0].input.Range),
    ).toEqual([`bytes=${big - 8}-${big - 1}`]);
  });

  it('renders the page with every value escaped and the failed state marked in the graph', async () => {
    const text = manifestPage(await manifestPageModel(sources, ID));

    expect(text).not.toMatch(/<script>alert|<img src=x|<b>o-1|<b>boom/);
    expect(text).toContain('ERROR &lt;b&gt;boom&lt;/b&gt;');
    expect(text).toContain('incoming/orders/&lt;script&gt;alert(1)&lt;/script&gt;.ndjson');
    expect(text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(text).toMatch(/<g class="state mark-failed type-Fail" data-state="Partial"/);
    expect(text).toMatch(/<g class="state mark-succeeded type-Task" data-state="Convert"/);
    expect(text).toMatch(/<g class="state mark-not-entered type-Succeed" data-state="Converted"/);
    expect(text).toContain('≤ 1200 DPU-seconds');
    expect(text).toContain(`<code id="replay-command">npx pipeline replay ${ID}</code>`);
    // The page's only script is the served file.
    expect(text.match(/<script[^>]*>/g)).toEqual(['<script src="/static/console.js" defer>']);
  });
});

describe('what the page model reads from histories and emails', () => {
  it('takes the Glue run ids from the Glue tasks submitted, once each', () => {
    const submitted = (resourceType: string, output: string): HistoryEvent => ({
      id: 1,
      type: 'TaskSubmitted',
      timestamp: new Date(),
      taskSubmittedEventDetails: { resource: 'r', resourceType, output },
    });

    expect(
      glueRunIds([
        submitted('glue', '{"JobRunId":"jr_1"}'),
        submitted('glue', '{"JobRunId":"jr_1"}'),
        submitted('glue', '{"JobRunId":"jr_2"}'),
        submitted('lambda', '{"JobRunId":"x"}'),
        submitted('glue', 'not json'),
      ]),
    ).toEqual(['jr_1', 'jr_2']);
  });

  it("reads an outbox email's subject (RFC 2047), date and quoted-printable body", () => {
    const mail = [
      'From: sns@local',
      'Subject: =?utf-8?q?Pipeline_alert=3A_orders-1_partly_converted_=E2=80=94_1_file?=',
      'Date: Mon, 23 Nov 2026 10:00:00 +0000',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Manifest orders-1 =E2=80=94 a very long line=',
      ' continued',
    ].join('\r\n');

    expect(parseEmail(mail)).toEqual({
      subject: 'Pipeline alert: orders-1 partly converted — 1 file',
      date: '2026-11-23T10:00:00.000Z',
      body: 'Manifest orders-1 — a very long line continued',
    });
  });
});
