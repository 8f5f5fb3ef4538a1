import { oneLineReason, UsageError } from '../../../cli/errors';

describe('oneLineReason', () => {
  it('says the local mode is not running when its emulator refuses the connection', () => {
    const refused = Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' });

    expect(oneLineReason(refused, 'http://127.0.0.1:4566')).toBe(
      'cannot reach the local emulator at http://127.0.0.1:4566: is the local mode running? (npx pipeline local start)',
    );
  });

  it('keeps the AWS error code in front of the message, on one line', () => {
    const denied = Object.assign(new Error('User is not authorized\nto perform states:StartExecution'), {
      name: 'AccessDeniedException',
      $metadata: {},
    });

    expect(oneLineReason(denied)).toBe('AccessDeniedException: User is not authorized');
    expect(oneLineReason(new UsageError('bad --since'))).toBe('bad --since');
  });
});
