import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CONVERT_MANIFEST_ASL_PATH,
  CONVERT_MANIFEST_PLACEHOLDERS,
  ConvertManifestPlaceholders,
  convertManifestDefinition,
  fillPlaceholders,
} from '../../pipeline/constructs/convert-manifest-definition';
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
  GlueDatabaseName: 'ingestpipelineconversionworkflowdatabase1a2b3c4d',
  AlertTopicArn: 'arn:aws:sns:eu-west-1:123456789012:IngestPipeline-AlertingTopic08189029-AbCdEfGhIjKl',
  CuratedBucketName: 'ingestpipeline-storagecurated8783ddc7-abcdefghijkl',
  TargetFileMb: '128',
  Region: 'eu-west-1',
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
    const next = [state.Next, state.Default, ...(state.Choices ?? []).map((c: State) => c.Next), ...(state.Catch ?? []).map((c: State) => c.Next)];
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
    expect(JSON.parse(convertManifestDefinition(45)).TimeoutSeconds).toBe(45 * 60);
  });

  test('Convert runs the Glue job synchronously with the documented arguments', () => {
    const convert = states.Convert;
    expect(convert.Resource).toBe('arn:aws:states:::glue:startJobRun.sync');
    const documented = [...sectionOf('Glue job arguments').matchAll(/`(--[a-z_]+)`/g)].map((m) => m[1]).filter((a) => a !== '--JOB_NAME');
    const passed = Object.keys(convert.Parameters.Arguments).map((k) => k.replace(/\.\$$/, ''));
    expect(new Set(passed)).toEqual(new Set(documented));
    expect(convert.Parameters.Arguments['--curated_path']).toBe(`s3://${REALISTIC.CuratedBucketName}/curated/`);
    expect(convert.Parameters.Arguments['--quarantine_path']).toBe(`s3://${REALISTIC.CuratedBucketName}/quarantine/`);
  });

  test('Convert retries throttling, concurrency and internal errors, then failed runs, with backoff and jitter', () => {
    const [transient, failedRun] = states.Convert.Retry as State[];
    expect(new Set(transient.ErrorEquals)).toEqual(
      new Set(['Glue.ConcurrentRunsExceededException', 'Glue.ThrottlingException', 'Glue.InternalServiceException']),
    );
    expect(failedRun.ErrorEquals).toEqual(['States.TaskFailed']);
    for (const retry of [transient, failedRun]) {
      expect(retry.BackoffRate).toBeGreaterThan(1);
      expect(retry.JitterStrategy).toBe('FULL');
      expect(retry.MaxAttempts).toBeGreaterThanOrEqual(2);
    }
  });

  test('every task on the success path catches States.ALL and leads to RecordFailure, then NotifyFailure, then Fail', () => {
    const successPath = ['MarkRunning', 'Convert', 'ReadResult', 'RecordSuccess'];
    for (const name of successPath) {
      const catchers = states[name].Catch as State[];
      expect(catchers).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], ResultPath: '$.error' })]);
      const handler = states[catchers[0].Next];
      expect(handler).toEqual(expect.objectContaining({ Type: 'Pass', Result: name, ResultPath: '$.failedState', Next: 'RecordFailure' }));
    }
    expect(reachable('RecordFailure')).toEqual(new Set(['RecordFailure', 'ComposeAlert', 'NotifyFailure', 'Failed']));
    expect(states.Failed.Type).toBe('Fail');
    expect(states[states.RecordSuccess.Next].Type).toBe('Succeed');
  });

  test('MarkRunning marks the manifest RUNNING with this execution and takes it off the pending index', () => {
    const p = states.MarkRunning.Parameters;
    expect(states.MarkRunning.Resource).toBe('arn:aws:states:::dynamodb:updateItem');
    expect(p.TableName).toBe(REALISTIC.StateTableName);
    expect(p.Key).toEqual({ pk: { 'S.$': "States.Format('MANIFEST#{}', $.manifestId)" }, sk: { S: 'META' } });
    expect(p.ExpressionAttributeValues[':running']).toEqual({ S: 'RUNNING' });
    expect(p.ExpressionAttributeValues[':executionArn']).toEqual({ 'S.$': '$$.Execution.Id' });
    const removed = (p.UpdateExpression as string).split(' REMOVE ')[1].split(',').map((n: string) => p.ExpressionAttributeNames[n.trim()]);
    expect(removed).toEqual(expect.arrayContaining(['pendingPk', 'pendingSk', 'error', 'cause', 'failedState']));
  });

  test('RecordSuccess copies the six counts of the result file as numbers', () => {
    const values = states.RecordSuccess.Parameters.ExpressionAttributeValues as Record<string, Record<string, string>>;
    for (const count of ['linesIn', 'rowsOut', 'rowsQuarantined', 'blankLines', 'outputFiles', 'outputBytes']) {
      expect(values[`:${count}`]).toEqual({ 'N.$': `States.JsonToString($.result.counts.${count})` });
    }
    expect(values[':succeeded']).toEqual({ S: 'SUCCEEDED' });
  });

  test('ReadResult reads the result file named in the contract, in the curated bucket', () => {
    expect(states.ReadResult.Parameters).toEqual({
      Bucket: REALISTIC.CuratedBucketName,
      'Key.$': "States.Format('manifests/{}/{}.result.json', $.dataset, $.manifestId)",
    });
  });

  test('a result whose lines do not add up (I5) fails the manifest', () => {
    const choice = states.AllLinesAccountedFor;
    expect(choice.Choices).toEqual([{ Variable: '$.lines.accounted', NumericEqualsPath: '$.result.counts.linesIn', Next: 'RecordSuccess' }]);
    expect(states[choice.Default].Next).toBe('RecordFailure');
  });

  test('the failure alert names the manifest, dataset, file count, error, cause, console URL and replay command', () => {
    const template = states.ComposeAlert.Result.template as string;
    const message = states.NotifyFailure.Parameters['Message.$'] as string;
    const args = message.slice(message.indexOf(',') + 1, -1).split(',').map((a) => a.trim());
    expect(args).toEqual(['$.manifestId', '$.dataset', '$.fileCount', '$.failedState', '$.error.Error', '$.error.Cause', '$$.Execution.Id', '$.manifestId']);
    expect(template.split('{}')).toHaveLength(args.length + 1);
    expect(template).toContain(
      `https://${REALISTIC.Region}.console.aws.amazon.com/states/home?region=${REALISTIC.Region}#/v2/executions/details/{}`,
    );
    expect(template).toContain('npx pipeline replay {}');
    expect(template.split('\n').length).toBeGreaterThan(5);
    expect(states.NotifyFailure.Parameters.TopicArn).toBe(REALISTIC.AlertTopicArn);
  });
});
