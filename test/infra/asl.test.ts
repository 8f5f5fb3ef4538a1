import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CONVERT_MANIFEST_ASL_PATH,
  CONVERT_MANIFEST_PLACEHOLDERS,
  ConvertManifestPlaceholders,
  convertManifestDefinition,
  fillPlaceholders,
} from '../../contracts/convert-manifest-asl';
import { endedOutcome, failureAlert } from '../../handlers/domain/ended-execution';
import {
  ALERT_SUBJECTS,
  CONVERT_RETRIES,
  DEFAULT_CONFIG,
  SNS_SUBJECT_MAX_CHARS,
  alertSubject,
  alertSubjectPrefix,
} from '../../contracts/config';
import { glueJobArguments, PER_MANIFEST_ARGUMENTS } from '../../contracts/glue-job';
import { REPO_ROOT } from './synth';

type Validator = (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };
// asl-validator ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const validateAsl = require('asl-validator') as Validator;

/** What the stack would substitute, in a real account, so ARN checks see realistic values. */
const REALISTIC: ConvertManifestPlaceholders = {
  StateTableName: 'IngestPipeline-StateTablesStateTable2CE6F615-1A2B3C4D5E6F',
  GlueJobName: 'ConversionWorkflowJob6862B80F-AbCdEfGhIjKl',
  AlertTopicArn: 'arn:aws:sns:eu-west-1:123456789012:IngestPipeline-AlertingTopic08189029-AbCdEfGhIjKl',
  CuratedBucketName: 'ingestpipeline-storagecurated8783ddc7-abcdefghijkl',
  Region: 'eu-west-1',
  AlertSubjectPrefix: 'Ingest pipeline',
};

const STATE_MACHINES_DIR = path.join(REPO_ROOT, 'state-machines');
const aslFiles = fs.readdirSync(STATE_MACHINES_DIR).filter((f) => f.endsWith('.asl.json'));
const architecture = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'architecture.md'), 'utf8');
const sectionOf = (heading: string) => architecture.split(`## ${heading}\n`)[1].split('\n## ')[0];

type State = Record<string, any>;
const definition = JSON.parse(fillPlaceholders(convertManifestDefinition(120), REALISTIC)) as { States: Record<string, State> };
const states = definition.States;

/** Every string anywhere in a JSON value. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...stringsOf(v)]);
  return [];
}

/** States reachable from `start` through Next, Default, Choices and Catch. */
function reachable(start: string): Set<string> {
  const seen = new Set<string>();
  const queue = [start];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const state = states[name];
    const next = [
      state.Next,
      state.Default,
      ...(state.Choices ?? []).map((c: State) => c.Next),
      ...(state.Catch ?? []).map((c: State) => c.Next),
    ];
    queue.push(...next.filter((n): n is string => typeof n === 'string'));
  }
  return seen;
}

describe('asl-validator', () => {
  test.each(aslFiles)('%s is valid once its placeholders are filled', (file) => {
    const text = fs.readFileSync(path.join(STATE_MACHINES_DIR, file), 'utf8');

    const result = validateAsl(JSON.parse(fillPlaceholders(text, REALISTIC)), { checkPaths: true, checkArn: true });

    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  test('the validator does reject a broken definition', () => {
    const broken = JSON.parse(JSON.stringify(definition)) as { States: Record<string, State> };
    broken.States.Convert.Next = 'NoSuchState';

    expect(validateAsl(broken, { checkPaths: true, checkArn: true }).isValid).toBe(false);
  });
});

describe('convert-manifest.asl.json', () => {
  test('uses exactly the placeholders of the contract, and each is filled', () => {
    const raw = fs.readFileSync(CONVERT_MANIFEST_ASL_PATH, 'utf8');
    const used = new Set([...raw.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]));
    const documented = new Set([...sectionOf('ASL placeholders').matchAll(/`\$\{([A-Za-z0-9]+)\}`/g)].map((m) => m[1]));
    expect(used).toEqual(new Set(CONVERT_MANIFEST_PLACEHOLDERS));
    expect(documented).toEqual(used);
    expect(fillPlaceholders(raw, REALISTIC)).not.toMatch(/\$\{/);
    expect(() => fillPlaceholders(raw, { ...REALISTIC, Region: undefined } as unknown as ConvertManifestPlaceholders)).toThrow(/Region/);
  });

  test('stays in JSONPath without filter expressions, which the local interpreter cannot run', () => {
    const text = JSON.stringify(definition);
    expect(text).not.toMatch(/"QueryLanguage"\s*:\s*"JSONata"/);
    for (const s of stringsOf(definition)) {
      expect(s).not.toContain('&&');
      expect(s).not.toContain('||');
      expect(s).not.toContain('[?(');
    }
  });

  test('the execution timeout comes from the setting', () => {
    expect(JSON.parse(convertManifestDefinition(400)).TimeoutSeconds).toBe(400 * 60);
  });

  test('Convert runs the Glue job synchronously with the per-manifest arguments; every argument of the job is documented', () => {
    const convert = states.Convert;
    expect(convert.Resource).toBe('arn:aws:states:::glue:startJobRun.sync');
    const documented = new Set([...sectionOf('Glue job arguments').matchAll(/`(--[a-z_]+)`/g)].map((m) => m[1]));
    const passed = Object.keys(convert.Parameters.Arguments).map((k) => k.replace(/\.\$$/, ''));
    expect(passed.sort()).toEqual([...PER_MANIFEST_ARGUMENTS].sort());
    const defaults = Object.keys(glueJobArguments(DEFAULT_CONFIG.glue, { curatedBucket: 'c', catalogDatabase: 'd' }));
    for (const argument of [...passed, ...defaults]) expect(documented).toContain(argument);
  });

  test('Convert retries throttling, concurrency and internal errors with backoff and jitter, as CONVERT_RETRIES says', () => {
    const [service] = states.Convert.Retry as State[];
    expect(states.Convert.Retry).toHaveLength(1);
    expect(new Set(service.ErrorEquals)).toEqual(
      new Set(['Glue.ConcurrentRunsExceededException', 'Glue.ThrottlingException', 'Glue.InternalServiceException']),
    );
    expect(service.JitterStrategy).toBe('FULL');
    expect({
      intervalSeconds: service.IntervalSeconds,
      backoffRate: service.BackoffRate,
      maxAttempts: service.MaxAttempts,
      maxDelaySeconds: service.MaxDelaySeconds,
    }).toEqual(CONVERT_RETRIES.serviceErrors);
    expect(states.PrepareConvert.Result).toEqual({ count: 0, waitSeconds: CONVERT_RETRIES.failedRuns.firstWaitSeconds });
    expect(states.RetryRunWithoutOutcome.Choices[0]).toEqual(
      expect.objectContaining({ Variable: '$.convertRetry.count', NumericGreaterThanEquals: CONVERT_RETRIES.failedRuns.retries }),
    );
    expect(JSON.stringify(states.DecideOutcome.Choices)).toContain(
      `{"Variable":"$.convertRetry.count","NumericLessThan":${CONVERT_RETRIES.failedRuns.retries}}`,
    );
  });

  test('retry, PARTIAL and FAILED are decided from the outcome document of this very run, never from a text', () => {
    expect(states.Convert.Catch[0]).toEqual({ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.error', Next: 'ConvertRunFailed' });
    expect(states.Convert.Next).toBe('ReadOutcome');
    // A failed run: its id from Glue's job run, then its outcome document, as after a successful run.
    expect(states.ConvertRunFailed.Choices).toEqual([{ Variable: '$.error.Cause', StringMatches: '{*', Next: 'ParseFailedRun' }]);
    expect(states.ConvertRunFailed.Default).toBe('RetryRunWithoutOutcome');
    expect(states.NoteFailedRun.Parameters).toEqual({ 'jobRunId.$': '$.glue.run.Id', 'jobRunState.$': '$.glue.run.JobRunState' });
    expect(states.NoteFailedRun.Next).toBe('ReadOutcome');
    expect(states.ReadOutcome.Parameters).toEqual({
      Bucket: REALISTIC.CuratedBucketName,
      'Key.$': "States.Format('manifests/{}/{}.outcome.json', $.dataset, $.manifestId)",
    });
    expect(states.ReadOutcome.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.outcomeError', Next: 'NoOutcome' }]);
    expect(states.IsOutcomeOfThisRun.Choices[0].And).toEqual(
      expect.arrayContaining([{ Variable: '$.outcome.doc.jobRunId', StringEqualsPath: '$.glue.jobRunId' }]),
    );
    expect(states.IsOutcomeOfThisRun.Default).toBe('NoOutcome');
    // No run without its own document succeeds; a failed one is retryable up to the limit.
    expect(states.NoOutcome.Choices).toEqual([{ Variable: '$.glue.jobRunState', StringEquals: 'SUCCEEDED', Next: 'OutcomeMissing' }]);
    expect(states.NoOutcome.Default).toBe('RetryRunWithoutOutcome');
    expect(states.RetryRunWithoutOutcome.Default).toBe('WaitBeforeConvertRetry');
    expect(reachable('WaitBeforeConvertRetry')).toContain('Convert');
    expect(states.DecideOutcome.Choices.map((c: State) => c.Next)).toEqual([
      'SumAccountedLines',
      'SumAccountedLines',
      'WaitBeforeConvertRetry',
      'OutcomeFailed',
    ]);
    expect(JSON.stringify(states.DecideOutcome.Choices[2])).toContain('{"Variable":"$.outcome.doc.retryable","BooleanEquals":true}');
    expect(states.DecideOutcome.Default).toBe('OutcomeMalformed');
    expect(states.OutcomeFailed.Parameters).toEqual({
      'Error.$': "States.Format('Pipeline.Job.{}', $.outcome.doc.reason)",
      'Cause.$': '$.outcome.doc.message',
    });
    // Nothing in the definition matches a pattern against a text that could carry a key or a line: the only
    // StringMatches left tells a JSON job run from another cause, and the alert's choice of its cause text.
    const matches = [...JSON.stringify(definition).matchAll(/"StringMatches":"([^"]*)"/g)].map((m) => m[1]);
    expect(matches).toEqual(['{*', '{*']);
  });

  test('every task on the success path catches States.ALL and leads to the alert, RecordFailure, NotifyFailure, then Fail', () => {
    const successPath = ['MarkRunning', 'Convert', 'RecordSuccess', 'RecordPartial'];
    for (const name of successPath) {
      const catchers = states[name].Catch as State[];
      const all = catchers.find((c) => c.ErrorEquals.includes('States.ALL'))!;
      expect(catchers[catchers.length - 1]).toBe(all);
      expect(all).toEqual(expect.objectContaining({ ResultPath: '$.error' }));
      const handler = states[all.Next];
      expect(handler).toEqual(expect.objectContaining({ Type: 'Pass', Result: name, ResultPath: '$.failedState', Next: 'AlertCause' }));
    }
    const alertCause = ['AlertCause', 'ReadRunError', 'HasRunErrorMessage', 'RunErrorAlertCause', 'PlainAlertCause'];
    expect(reachable('AlertCause')).toEqual(
      new Set([
        ...alertCause,
        ...[
          'ComposeAlert',
          'FormatFailureAlert',
          'RecordFailure',
          'ReleaseSlotAfterFailure',
          'NotifyFailure',
          'ClearFailureAlert',
          'Failed',
        ],
        ...['ClaimLost', 'FailureNotRecorded'],
      ]),
    );
    expect(states.Failed.Type).toBe('Fail');
    expect(states.RecordSuccess.Next).toBe('ReleaseSlotAfterSuccess');
    expect(states[states.ReleaseSlotAfterSuccess.Next].Type).toBe('Succeed');
  });

  test('once the outcome is recorded, the execution gives back its capacity slot, and goes on whatever that write does', () => {
    for (const [record, release, next] of [
      ['RecordSuccess', 'ReleaseSlotAfterSuccess', 'Converted'],
      ['RecordPartial', 'ReleaseSlotAfterPartial', 'NotifyPartial'],
      ['RecordFailure', 'ReleaseSlotAfterFailure', 'NotifyFailure'],
    ]) {
      expect(states[record].Next).toBe(release);
      const state = states[release];
      expect(state.Resource).toBe('arn:aws:states:::dynamodb:updateItem');
      expect(state.Parameters).toEqual({
        TableName: REALISTIC.StateTableName,
        Key: { pk: { S: 'SLOTS' }, sk: { S: 'META' } },
        ConditionExpression: 'attribute_exists(#holders.#me)',
        UpdateExpression: 'REMOVE #holders.#me',
        // The slot is held under the execution's name (a pure function of the manifest and the replay, I3).
        ExpressionAttributeNames: { '#holders': 'holders', '#me.$': '$$.Execution.Name' },
      });
      expect(state.ResultPath).toBeNull();
      // A slot not given back here is given back by the sweeper once the execution has ended.
      expect(state.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.releaseSlotError', Next: next }]);
      expect(state.Next).toBe(next);
    }
  });

  test('MarkRunning claims the manifest: refused while another execution holds it, retry-safe for this one', () => {
    const p = states.MarkRunning.Parameters;
    expect(states.MarkRunning.Resource).toBe('arn:aws:states:::dynamodb:updateItem');
    expect(p.TableName).toBe(REALISTIC.StateTableName);
    expect(p.Key).toEqual({ pk: { 'S.$': "States.Format('MANIFEST#{}', $.manifestId)" }, sk: { S: 'META' } });
    expect(p.ConditionExpression).toBe(
      'attribute_exists(pk) AND (#status <> :running OR #executionArn = :executionArn) AND attribute_not_exists(#alertPending)',
    );
    expect(p.ExpressionAttributeValues[':running']).toEqual({ S: 'RUNNING' });
    expect(p.ExpressionAttributeValues[':executionArn']).toEqual({ 'S.$': '$$.Execution.Id' });
    expect(p.ExpressionAttributeValues[':runningPk']).toEqual({ S: 'RUNNING' });
    const removed = (p.UpdateExpression as string)
      .split(' REMOVE ')[1]
      .split(',')
      .map((n: string) => p.ExpressionAttributeNames[n.trim()]);
    expect(removed).toEqual(expect.arrayContaining(['error', 'cause', 'failedState']));
    // The output in place keeps its counts and status until a run replaces it (I4): a failed replay leaves them.
    for (const kept of ['linesIn', 'rowsOut', 'rowsQuarantined', 'blankLines', 'outputFiles', 'filesRead', 'filesFailed', 'failedFiles']) {
      expect(removed).not.toContain(kept);
    }
    expect(p.UpdateExpression).not.toMatch(/outputStatus|outputLocation/);
    // The claim moves the manifest from the pending index to the running one: in exactly one until final.
    expect(removed).toEqual(expect.arrayContaining(['pendingPk', 'pendingSk']));
    expect(p.UpdateExpression).toContain('#runningPk = :runningPk');
    expect(states.MarkRunning.Catch[0]).toEqual(
      expect.objectContaining({ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], Next: 'ManifestBusy' }),
    );
    expect(states.ManifestBusy.Type).toBe('Fail');
  });

  test('the Record states write only while this execution holds the manifest, and leave the running index', () => {
    for (const name of ['RecordSuccess', 'RecordPartial', 'RecordFailure']) {
      const p = states[name].Parameters;
      expect(p.ConditionExpression).toBe('#executionArn = :me');
      expect(p.ExpressionAttributeValues[':me']).toEqual({ 'S.$': '$$.Execution.Id' });
      expect(p.UpdateExpression).toContain('REMOVE #runningPk, #runningSk');
      expect(states[name].Catch[0]).toEqual(
        expect.objectContaining({ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], Next: 'ClaimLost' }),
      );
    }
  });

  test('a replacement is recorded only by a run that succeeded; a failed run leaves the output, its status and counts (I4)', () => {
    for (const [name, status] of [
      ['RecordSuccess', 'SUCCEEDED'],
      ['RecordPartial', 'PARTIAL'],
    ]) {
      const p = states[name].Parameters;
      expect(p.UpdateExpression).toContain('#outputStatus = :');
      expect(p.UpdateExpression).toContain('#lastRunStatus = :');
      expect(p.ExpressionAttributeNames['#outputStatus']).toBe('outputStatus');
      expect(Object.values(p.ExpressionAttributeValues)).toContainEqual({ S: status });
      expect(p.ExpressionAttributeValues[':outputLocation']).toEqual({ 'S.$': '$.outcome.doc.outputLocation' });
      expect(p.ExpressionAttributeValues[':quarantineLocation']).toEqual({ 'S.$': '$.outcome.doc.quarantineLocation' });
    }
    // The job switches the output in only while this execution runs: an orphan of an aborted one switches nothing.
    expect(states.Convert.Parameters.Arguments['--execution_arn.$']).toBe('$$.Execution.Id');
    const failure = states.RecordFailure.Parameters;
    // The first run's failure is FAILED; a replay's failure restores the status of the output in place.
    expect(failure.UpdateExpression).toContain('SET #status = if_not_exists(#outputStatus, :failed), #lastRunStatus = :failed');
    for (const count of ['linesIn', 'rowsOut', 'outputFiles', 'outputLocation', 'failedFiles']) {
      expect(Object.values(failure.ExpressionAttributeNames)).not.toContain(count);
    }
  });

  test('the outbox: each alert is written with the final status, published until SNS accepts it, then cleared', () => {
    for (const [record, notify, clear, end] of [
      ['RecordFailure', 'NotifyFailure', 'ClearFailureAlert', 'Failed'],
      ['RecordPartial', 'NotifyPartial', 'ClearPartialAlert', 'Partial'],
    ]) {
      const p = states[record].Parameters;
      const set = (p.UpdateExpression as string).split(' REMOVE ')[0];
      for (const attribute of ['alertSubject', 'alertMessage', 'alertPending', 'alertSk']) {
        const name = Object.keys(p.ExpressionAttributeNames).find((n) => p.ExpressionAttributeNames[n] === attribute)!;
        expect(set).toContain(`${name} = `);
      }
      expect(p.ExpressionAttributeValues[':alertPending']).toEqual({ S: 'PENDING' });
      expect(p.ExpressionAttributeValues[':alertSubject']).toEqual({ 'S.$': '$.alert.subject' });
      expect(p.ExpressionAttributeValues[':alertMessage']).toEqual({ 'S.$': '$.alert.message' });
      expect(states[states[record].Next].Next).toBe(notify);
      // What is published is exactly what the record holds.
      expect(states[notify].Parameters).toEqual({
        TopicArn: REALISTIC.AlertTopicArn,
        'Subject.$': '$.alert.subject',
        'Message.$': '$.alert.message',
      });
      expect(states[notify].Retry).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 6 })]);
      // SNS never accepting it ends the execution with the alert pending: the sweeper publishes it.
      expect(states[notify].Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: end })]);
      expect(states[notify].Next).toBe(clear);
      expect(states[clear].Parameters.ConditionExpression).toBe('#executionArn = :me AND attribute_exists(#alertPending)');
      expect(states[clear].Parameters.UpdateExpression).toBe('SET #alertSentAt = :sentAt REMOVE #alertPending, #alertSk');
      expect(states[clear].Next).toBe(end);
    }
    // A RecordFailure that fails (not a lost claim) sends nothing: the sweeper records the outcome and its one alert.
    expect(states.RecordFailure.Catch[1]).toEqual(expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'FailureNotRecorded' }));
    expect(states.FailureNotRecorded.Type).toBe('Fail');
    // A new execution waits until the previous outcome's alert is out, so no alert is overwritten before it is sent.
    expect(states.MarkRunning.Parameters.ConditionExpression).toContain('attribute_not_exists(#alertPending)');
  });

  test('every DynamoDB task retries throttling and transient service errors', () => {
    const dynamoTasks = Object.keys(states).filter((name) => String(states[name].Resource).includes(':dynamodb:'));
    expect(dynamoTasks).toEqual(expect.arrayContaining(['MarkRunning', 'RecordSuccess', 'ReleaseSlotAfterSuccess', 'ClearFailureAlert']));
    for (const name of dynamoTasks) {
      const errors = (states[name].Retry as State[]).flatMap((r) => r.ErrorEquals);
      expect(errors).toEqual(
        expect.arrayContaining([
          'DynamoDB.ThrottlingException',
          'DynamoDB.InternalServerErrorException',
          'DynamoDB.AmazonDynamoDBException',
        ]),
      );
    }
  });

  /** The eight counts of the job's outcome document, which the Record states copy. */
  const OUTCOME_COUNTS = ['linesIn', 'rowsOut', 'rowsQuarantined', 'blankLines', 'outputFiles', 'outputBytes', 'filesRead', 'filesFailed'];

  test('RecordSuccess and RecordPartial copy the eight counts of the result file as numbers', () => {
    for (const name of ['RecordSuccess', 'RecordPartial']) {
      const values = states[name].Parameters.ExpressionAttributeValues as Record<string, Record<string, string>>;
      for (const count of OUTCOME_COUNTS) {
        expect(values[`:${count}`]).toEqual({ 'N.$': `States.JsonToString($.outcome.doc.counts.${count})` });
      }
    }
    expect(states.RecordSuccess.Parameters.ExpressionAttributeValues[':succeeded']).toEqual({ S: 'SUCCEEDED' });
    expect(states.RecordPartial.Parameters.ExpressionAttributeValues[':partial']).toEqual({ S: 'PARTIAL' });
  });

  test('an outcome document without its counts goes to RecordFailure through a Choice, never to an intrinsic that cannot be caught', () => {
    expect(states.ReadOutcome.Next).toBe('IsOutcomeOfThisRun');
    expect(reachable('OutcomeMalformed')).toContain('RecordFailure');
    for (const choice of states.DecideOutcome.Choices.slice(0, 2)) {
      const checked = JSON.stringify(choice);
      for (const count of OUTCOME_COUNTS) {
        expect(checked).toContain(`{"Variable":"$.outcome.doc.counts.${count}","IsNumeric":true}`);
      }
    }
  });

  test('a manifest with unreadable files ends PARTIAL, with one alert naming them', () => {
    expect(states.AnyFileFailed.Choices).toEqual([
      { Variable: '$.outcome.doc.counts.filesFailed', NumericGreaterThan: 0, Next: 'ComposePartialAlert' },
    ]);
    expect(reachable('ComposePartialAlert')).toEqual(
      new Set([
        ...[
          'ComposePartialAlert',
          'FormatPartialAlert',
          'RecordPartial',
          'ReleaseSlotAfterPartial',
          'NotifyPartial',
          'ClearPartialAlert',
          'Partial',
        ],
        'ReleaseSlotAfterFailure',
        ...['ClaimLost', 'RecordPartialFailed', 'AlertCause', 'ReadRunError', 'HasRunErrorMessage', 'RunErrorAlertCause'],
        ...['PlainAlertCause', 'ComposeAlert', 'FormatFailureAlert', 'RecordFailure', 'NotifyFailure', 'ClearFailureAlert'],
        ...['Failed', 'FailureNotRecorded'],
      ]),
    );
    // The first few failed files (the outcome document's list) and where the full list is.
    expect(states.FormatPartialAlert.Parameters['message.$']).toContain('States.JsonToString($.outcome.doc.failedFiles)');
    expect(states.FormatPartialAlert.Parameters['message.$']).toContain('$.resultUri');
  });

  test('a result whose lines do not add up (I5) fails the manifest', () => {
    const choice = states.AllLinesAccountedFor;
    expect(choice.Choices).toEqual([
      { Variable: '$.lines.accounted', NumericEqualsPath: '$.outcome.doc.counts.linesIn', Next: 'AnyFileFailed' },
    ]);
    expect(reachable(choice.Default)).toContain('RecordFailure');
    expect(reachable(choice.Default)).not.toContain('RecordSuccess');
  });

  test('the failure alert names the manifest, dataset, file count, error, cause, console URL and replay command', () => {
    const template = states.ComposeAlert.Result.template as string;
    const message = states.FormatFailureAlert.Parameters['message.$'] as string;
    const args = message
      .slice(message.indexOf(',') + 1, -1)
      .split(',')
      .map((a) => a.trim());
    expect(args).toEqual([
      '$.manifestId',
      '$.dataset',
      '$.fileCount',
      '$.failedState',
      '$.error.Error',
      '$.alertCause.text',
      '$$.Execution.Id',
      '$.manifestId',
    ]);
    // The cause is the Glue run's error message when the run failed, else the error's cause as it is.
    expect(states.RunErrorAlertCause.Parameters).toEqual({ 'text.$': '$.glueRun.run.ErrorMessage' });
    expect(states.PlainAlertCause.Parameters).toEqual({ 'text.$': '$.error.Cause' });
    expect(template.split('{}')).toHaveLength(args.length + 1);
    expect(template).toContain(
      `https://${REALISTIC.Region}.console.aws.amazon.com/states/home?region=${REALISTIC.Region}#/v2/executions/details/{}`,
    );
    expect(template).toContain('npx pipeline replay {}');
    expect(template.split('\n').length).toBeGreaterThan(5);
    expect(states.NotifyFailure.Parameters.TopicArn).toBe(REALISTIC.AlertTopicArn);
  });

  test("the sweeper's alert for an execution that ended without an outcome has the layout of NotifyFailure's", () => {
    const outcome = endedOutcome({ status: 'TIMED_OUT' }, 'Convert', new Date('2026-11-30T12:00:00Z'))!;
    const arn = 'arn:aws:states:eu-west-1:123456789012:execution:convert:orders-20261130-000001';
    const values = [
      'orders-20261130-000001',
      'orders',
      '12',
      outcome.failedState,
      outcome.error,
      outcome.cause,
      arn,
      'orders-20261130-000001',
    ];
    let expected = states.ComposeAlert.Result.template as string;
    for (const value of values) expected = expected.replace('{}', value);

    const alert = failureAlert({
      manifestId: values[0],
      dataset: 'orders',
      fileCount: 12,
      outcome,
      executionArn: arn,
      region: REALISTIC.Region,
      subjectPrefix: REALISTIC.AlertSubjectPrefix,
    });

    expect(alert.message).toBe(expected);
    expect(alert.subject).toBe(states.FormatFailureAlert.Parameters.subject);
  });

  test('every alert the state machine publishes has a subject SNS accepts, whatever the stage, dataset or manifest', () => {
    // The longest stage; the subject holds no value of the execution (a 200-character dataset name cannot lengthen it).
    const prefix = alertSubjectPrefix('s'.repeat(20));
    const filled = JSON.parse(fillPlaceholders(convertManifestDefinition(120), { ...REALISTIC, AlertSubjectPrefix: prefix })) as {
      States: Record<string, State>;
    };
    const publishes = Object.entries(filled.States).filter(([, s]) => s.Resource === 'arn:aws:states:::sns:publish');

    // Each publishes the subject its outcome record holds, which the Format state before the record made.
    expect(publishes.map(([name, s]) => [name, s.Parameters['Subject.$']]).sort()).toEqual([
      ['NotifyFailure', '$.alert.subject'],
      ['NotifyPartial', '$.alert.subject'],
    ]);
    for (const [format, what] of [
      ['FormatFailureAlert', 'failed'],
      ['FormatPartialAlert', 'partial'],
    ] as const) {
      const parameters = filled.States[format].Parameters;
      expect(parameters['subject.$']).toBeUndefined();
      expect(parameters.subject).toBe(alertSubject(prefix, what));
      expect(parameters.subject.length).toBeLessThanOrEqual(SNS_SUBJECT_MAX_CHARS);
    }
    expect(Object.keys(ALERT_SUBJECTS).sort()).toEqual(['failed', 'partial']);
  });
});
