import { MAX_CAUSE_CHARS, endedOutcome, failureAlert } from '../../../../handlers/domain/ended-execution';
import { SNS_SUBJECT_MAX_CHARS, alertSubject, alertSubjectPrefix } from '../../../../contracts/config';

const now = new Date('2026-11-30T12:00:00.000Z');
const stopDate = new Date('2026-11-30T11:59:00.000Z');

describe('endedOutcome', () => {
  test('nothing to record while the execution runs', () => {
    expect(endedOutcome({ status: 'RUNNING' }, 'Convert', now)).toBeUndefined();
    expect(endedOutcome({ status: 'PENDING_REDRIVE' }, 'Convert', now)).toBeUndefined();
  });

  test('a timeout, an abort and a runtime error each give their error, the last state and the stop time', () => {
    expect(endedOutcome({ status: 'TIMED_OUT', stopDate }, 'Convert', now)).toEqual({
      error: 'States.Timeout',
      cause: 'The execution timed out in state Convert.',
      failedState: 'Convert',
      finishedAt: '2026-11-30T11:59:00.000Z',
    });
    expect(endedOutcome({ status: 'ABORTED' }, undefined, now)).toMatchObject({
      error: 'Execution.Aborted',
      failedState: 'unknown',
      finishedAt: now.toISOString(),
    });
    expect(endedOutcome({ status: 'FAILED', error: 'States.Runtime', cause: 'bad path' }, 'ReadResult', now)).toMatchObject({
      error: 'States.Runtime',
      cause: 'bad path',
      failedState: 'ReadResult',
    });
  });

  test('a long cause is cut to a safe length', () => {
    const outcome = endedOutcome({ status: 'FAILED', error: 'X', cause: 'y'.repeat(5000) }, 'Convert', now)!;

    expect(outcome.cause).toHaveLength(MAX_CAUSE_CHARS);
  });
});

describe('failureAlert', () => {
  test('names the manifest, dataset, file count, state, error, console link and replay command', () => {
    const outcome = endedOutcome({ status: 'TIMED_OUT', stopDate }, 'Convert', now)!;
    const arn = 'arn:aws:states:eu-west-1:1:execution:convert:orders-20261130-000001';

    const alert = failureAlert({
      manifestId: 'orders-20261130-000001',
      dataset: 'orders',
      fileCount: 12,
      outcome,
      executionArn: arn,
      region: 'eu-west-1',
      subjectPrefix: 'Ingest pipeline dev',
    });

    expect(alert.subject).toBe('Ingest pipeline dev: manifest failed');
    expect(alert.message).toContain('Manifest orders-20261130-000001 of dataset orders (12 files) was not converted.');
    expect(alert.message).toContain('Failed state: Convert\nError: States.Timeout\n');
    expect(alert.message).toContain(`https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${arn}`);
    expect(alert.message).toContain('npx pipeline replay orders-20261130-000001');
  });
});

describe('the alert subject stays within what SNS publishes', () => {
  const outcome = endedOutcome({ status: 'ABORTED' }, 'Convert', new Date('2026-11-30T12:00:00Z'))!;

  it('with a 200-character dataset name and the longest stage, under 100 characters; the id is in the message', () => {
    const dataset = 'd'.repeat(200);
    const manifestId = `${dataset}-20261130-000001`;
    const alert = failureAlert({
      manifestId,
      dataset,
      fileCount: 1,
      outcome,
      executionArn: `arn:aws:states:eu-west-1:1:execution:convert:${manifestId}`,
      region: 'eu-west-1',
      subjectPrefix: alertSubjectPrefix('s'.repeat(20)),
    });

    expect(alert.subject.length).toBeLessThanOrEqual(SNS_SUBJECT_MAX_CHARS);
    expect(SNS_SUBJECT_MAX_CHARS).toBeLessThan(100);
    expect(alert.subject).toBe(`Ingest pipeline ${'s'.repeat(20)}: manifest failed`);
    expect(alert.message).toContain(`Manifest ${manifestId} of dataset ${dataset}`);
  });

  it('cuts a prefix that would pass the limit, and puts no line break in the subject', () => {
    const subject = alertSubject(`Ingest\npipeline ${'x'.repeat(200)}`, 'partial');

    expect(subject).toHaveLength(SNS_SUBJECT_MAX_CHARS);
    expect(subject).not.toMatch(/[\n\r]/);
    expect(subject.endsWith('…')).toBe(true);
  });
});
