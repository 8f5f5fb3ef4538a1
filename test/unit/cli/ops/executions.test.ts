import { HistoryEvent } from '@aws-sdk/client-sfn';
import { summariseHistory } from '../../../../cli/ops/executions';

const at = (s: number) => new Date(Date.UTC(2026, 10, 23, 10, 0, s));
let nextId = 0;
const ev = (type: string, s: number, extra: Partial<HistoryEvent> = {}): HistoryEvent => ({
  id: ++nextId,
  type: type as HistoryEvent['type'],
  timestamp: at(s),
  ...extra,
});
const entered = (type: string, name: string, s: number) => ev(`${type}StateEntered`, s, { stateEnteredEventDetails: { name } });
const exited = (type: string, name: string, s: number) => ev(`${type}StateExited`, s, { stateExitedEventDetails: { name } });
const taskFailed = (s: number, error: string, cause: string) =>
  ev('TaskFailed', s, { taskFailedEventDetails: { resourceType: 'glue', resource: 'startJobRun.sync', error, cause } });

describe('summariseHistory', () => {
  beforeEach(() => {
    nextId = 0;
  });

  it('shows retries with their errors, the caught failure, and the Fail state that ended the execution', () => {
    const events = [
      ev('ExecutionStarted', 0),
      entered('Task', 'MarkRunning', 0),
      ev('TaskScheduled', 0),
      ev('TaskSucceeded', 1),
      exited('Task', 'MarkRunning', 1),
      entered('Task', 'Convert', 1),
      ev('TaskScheduled', 1),
      taskFailed(2, 'Glue.ConcurrentRunsExceededException', 'too many runs'),
      ev('TaskScheduled', 5),
      taskFailed(6, 'States.TaskFailed', 'Path does not exist: s3://b/k'),
      ev('TaskScheduled', 9),
      taskFailed(10, 'States.TaskFailed', 'Path does not exist: s3://b/k'),
      exited('Task', 'Convert', 10),
      entered('Task', 'RecordFailure', 10),
      ev('TaskScheduled', 10),
      ev('TaskSucceeded', 11),
      exited('Task', 'RecordFailure', 11),
      entered('Fail', 'Failed', 11),
      ev('ExecutionFailed', 11, { executionFailedEventDetails: { error: 'States.TaskFailed', cause: 'Path does not exist: s3://b/k' } }),
    ];

    const { steps, executionError } = summariseHistory(events, 'FAILED');

    expect(steps.map((s) => [s.name, s.outcome, s.attempts])).toEqual([
      ['MarkRunning', 'succeeded', 1],
      ['Convert', 'caught', 3],
      ['RecordFailure', 'succeeded', 1],
      ['Failed', 'failed', 0],
    ]);
    expect(steps[1].retries.map((r) => r.error)).toEqual(['Glue.ConcurrentRunsExceededException', 'States.TaskFailed']);
    expect(steps[1].failure).toMatchObject({ error: 'States.TaskFailed', cause: 'Path does not exist: s3://b/k' });
    expect(steps[3].failure).toMatchObject({ error: 'States.TaskFailed' });
    expect(executionError?.error).toBe('States.TaskFailed');
  });

  it('counts retries of a task that succeeded in the end', () => {
    const events = [
      entered('Task', 'Convert', 0),
      ev('TaskScheduled', 0),
      taskFailed(1, 'Glue.ThrottlingException', 'slow down'),
      ev('TaskScheduled', 2),
      ev('TaskSucceeded', 3),
      exited('Task', 'Convert', 3),
    ];

    const { steps } = summariseHistory(events, 'SUCCEEDED');

    expect(steps[0]).toMatchObject({ outcome: 'succeeded', attempts: 2, failure: undefined });
    expect(steps[0].retries).toHaveLength(1);
  });

  it('shows the state an execution is in as running, and the one an uncaught error stopped as failed', () => {
    const running = summariseHistory([entered('Task', 'Convert', 0), ev('TaskScheduled', 0)], 'RUNNING');
    const timedOut = summariseHistory(
      [
        entered('Task', 'Convert', 0),
        ev('TaskScheduled', 0),
        ev('ExecutionTimedOut', 9, { executionTimedOutEventDetails: { error: 'States.Timeout', cause: 'too long' } }),
      ],
      'TIMED_OUT',
    );

    expect(running.steps[0].outcome).toBe('running');
    expect(timedOut.steps[0]).toMatchObject({ outcome: 'failed', failure: { error: 'States.Timeout', cause: 'too long' } });
  });
});
