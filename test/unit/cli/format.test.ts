import {
  daysBetween,
  formatBytes,
  formatDuration,
  formatNumber,
  parseSince,
  readableCause,
  renderTable,
  truncate,
} from '../../../cli/format';
import { printable } from '../../../cli/printable';

const NOW = new Date('2026-11-23T12:00:00Z');

describe('parseSince', () => {
  it.each([
    ['30m', '2026-11-23T11:30:00.000Z'],
    ['24h', '2026-11-22T12:00:00.000Z'],
    ['7d', '2026-11-16T12:00:00.000Z'],
    ['2w', '2026-11-09T12:00:00.000Z'],
    ['2026-11-20', '2026-11-20T00:00:00.000Z'],
    ['2026-11-20T08:15:00Z', '2026-11-20T08:15:00.000Z'],
  ])('%s', (value, expected) => {
    expect(parseSince(value, NOW).toISOString()).toBe(expected);
  });

  it('refuses what is neither an age nor a date, and a time in the future', () => {
    expect(() => parseSince('yesterday', NOW)).toThrow(/neither an age .* nor an ISO date/);
    expect(() => parseSince('2026-12-01', NOW)).toThrow('is in the future');
  });
});

describe('daysBetween', () => {
  it('lists each UTC day from the day of since to today', () => {
    expect(daysBetween(new Date('2026-11-21T23:59:00Z'), NOW)).toEqual(['2026-11-21', '2026-11-22', '2026-11-23']);
    expect(daysBetween(new Date('2026-11-23T11:00:00Z'), NOW)).toEqual(['2026-11-23']);
  });
});

describe('rendering', () => {
  it('aligns table columns and prints empty cells as -', () => {
    expect(
      renderTable(
        ['ID', 'ROWS', 'STATUS'],
        [
          ['a', 10, 'OK'],
          ['bbbb', undefined, 'FAILED'],
        ],
      ),
    ).toBe(['ID    ROWS  STATUS', 'a     10    OK', 'bbbb  -     FAILED'].join('\n'));
  });

  it('formats sizes and durations', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(7340032)).toBe('7.0 MiB');
    expect(formatDuration(12_345)).toBe('12.3s');
    expect(formatDuration(185_000)).toBe('3m05s');
    expect(formatDuration(3_720_000)).toBe('1h02m');
  });
});

describe('readableCause', () => {
  it("shows the ErrorMessage of a failed Glue job run rather than the run's JSON", () => {
    const cause = JSON.stringify({
      Id: 'jr_1',
      Attempt: 0,
      JobName: 'j',
      JobRunState: 'FAILED',
      Arguments: { '--x': 'y' },
      ErrorMessage: 'Path does not exist: s3://b/k',
    });

    expect(readableCause(cause)).toBe('Glue job run FAILED: Path does not exist: s3://b/k');
  });

  it('keeps other causes as they are', () => {
    expect(readableCause('Path does not exist')).toBe('Path does not exist');
    expect(readableCause('{not json')).toBe('{not json');
    expect(readableCause('{"errorMessage":"Task timed out"}')).toBe('Task timed out');
    expect(readableCause(undefined)).toBeUndefined();
  });
});

describe('printable', () => {
  it('escapes C0 and C1 controls, DEL and bidirectional marks, and keeps the rest', () => {
    expect(printable('a\u001b[31mb\u0007\u007f\u009b\u202ec é/ü 日本')).toBe('a\\x1b[31mb\\x07\\x7f\\x9b\\u202ec é/ü 日本');
  });

  it('is applied to table cells and truncated lines', () => {
    expect(renderTable(['KEY'], [['x\u001b[2Jy']])).toBe('KEY\nx\\x1b[2Jy');
    expect(truncate('one\ntwo\u001b]0;t\u0007', 80)).toBe('one two\\x1b]0;t\\x07');
  });
});

describe('formatNumber', () => {
  it('separates thousands and gives exactly the digits asked', () => {
    expect(formatNumber(1234567.891)).toBe('1,234,568');
    expect(formatNumber(1234.5, 2)).toBe('1,234.50');
    expect(formatNumber(0.046, 1)).toBe('0.0');
  });
});
