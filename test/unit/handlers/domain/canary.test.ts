import {
  assess,
  canaryBody,
  canaryKey,
  checkTimeOf,
  dayPrefixesToList,
  isUploadTick,
  tickOfKey,
  type CanaryFile,
} from '../../../../handlers/domain/canary';
import { DATASET_PATTERN, classifyObject } from '../../../../handlers/domain/dataset';
import { CANARY_DATASET } from '../../../../contracts/config';

const at = (iso: string) => new Date(iso);

describe('ticks', () => {
  test("a check stands for the schedule's tick nearest to the event's time, else to now", () => {
    expect(checkTimeOf('2026-12-07T10:05:00Z', at('2026-12-07T10:05:41Z'), 300)).toEqual(at('2026-12-07T10:05:00Z'));
    // A delivery late by a minute and a retry keep the tick.
    expect(checkTimeOf('2026-12-07T10:04:59Z', at('2026-12-07T10:07:00Z'), 300)).toEqual(at('2026-12-07T10:05:00Z'));
    expect(checkTimeOf(undefined, at('2026-12-07T10:06:10Z'), 300)).toEqual(at('2026-12-07T10:05:00Z'));
    expect(checkTimeOf('not a time', at('2026-12-07T10:09:10Z'), 300)).toEqual(at('2026-12-07T10:10:00Z'));
  });

  test('an upload tick is a multiple of everySeconds since the epoch', () => {
    expect(isUploadTick(at('2026-12-07T10:00:00Z'), 3600)).toBe(true);
    expect(isUploadTick(at('2026-12-07T10:05:00Z'), 3600)).toBe(false);
    expect(isUploadTick(at('2026-12-07T10:05:00Z'), 300)).toBe(true);
    const ticks = Array.from({ length: 288 }, (_, i) => new Date(at('2026-12-07T00:00:00Z').getTime() + i * 300_000));
    expect(ticks.filter((t) => isUploadTick(t, 45 * 60))).toHaveLength(32);
  });
});

describe('keys and bodies', () => {
  test("a tick's key is in the canary dataset under its day, and names the tick back", () => {
    const tick = at('2026-12-07T10:05:00Z');
    const key = canaryKey('incoming/', tick);

    expect(key).toBe('incoming/pipeline_canary/2026-12-07/canary-20261207T100500Z.ndjson');
    expect(tickOfKey(key)).toEqual(tick);
    expect(tickOfKey('incoming/pipeline_canary/2026-12-07/other.ndjson')).toBeUndefined();
    expect(DATASET_PATTERN.test(CANARY_DATASET)).toBe(true);
  });

  test('the builder accepts the key as a file of the canary dataset', () => {
    const key = canaryKey('incoming/', at('2026-12-07T10:05:00Z'));
    const decision = classifyObject(key, canaryBody(at('2026-12-07T10:05:00Z')).length, 'ObjectCreated:Put', {
      ingestPrefix: 'incoming/',
      acceptedSuffixes: ['.ndjson'],
    });
    expect(decision).toEqual({ action: 'accept', dataset: CANARY_DATASET });
  });

  test('the same tick has the same bytes (a retried upload is a duplicate); each line says it is the canary', () => {
    const tick = at('2026-12-07T10:05:00Z');
    expect(canaryBody(tick)).toBe(canaryBody(new Date(tick.getTime())));
    expect(canaryBody(tick)).not.toBe(canaryBody(at('2026-12-07T10:10:00Z')));
    expect(JSON.parse(canaryBody(tick))).toEqual({ canary: true, tick: '2026-12-07T10:05:00.000Z' });
  });

  test('the day prefixes cover the lookback', () => {
    expect(dayPrefixesToList('incoming/', at('2026-12-07T01:00:00Z'), 3 * 3600)).toEqual([
      'incoming/pipeline_canary/2026-12-06/',
      'incoming/pipeline_canary/2026-12-07/',
    ]);
    expect(dayPrefixesToList('incoming/', at('2026-12-07T10:00:00Z'), 3600)).toEqual(['incoming/pipeline_canary/2026-12-07/']);
    expect(dayPrefixesToList('drop/', at('2026-12-07T10:00:00Z'), 2 * 86_400)).toHaveLength(3);
  });
});

describe('assess', () => {
  const check = at('2026-12-07T11:00:00Z');
  const now = at('2026-12-07T11:00:07Z');
  const file = (key: string, uploadedAt: string, convertedAt?: string): CanaryFile => ({
    key,
    uploadedAt: at(uploadedAt),
    convertedAt: convertedAt === undefined ? undefined : at(convertedAt),
  });

  test('freshness: each converted file once, in the window that ends a settle before the tick', () => {
    const files = [
      file('a', '2026-12-07T10:00:00Z', '2026-12-07T10:53:59Z'), // the previous check's window
      file('b', '2026-12-07T10:30:00Z', '2026-12-07T10:55:00Z'), // this window's first instant
      file('c', '2026-12-07T10:40:00Z', '2026-12-07T10:58:59Z'), // its last
      file('d', '2026-12-07T10:45:00Z', '2026-12-07T10:59:00Z'), // within the settle: the next check's
    ];
    expect(assess(files, check, now, 300).freshnessSeconds).toEqual([25 * 60, 18 * 60 + 59]);
    // Successive checks see every conversion exactly once.
    const seen = [0, 1, 2, 3].flatMap((i) => assess(files, new Date(check.getTime() + (i - 1) * 300_000), now, 300).freshnessSeconds);
    expect(seen.sort((x, y) => x - y)).toEqual([14 * 60, 18 * 60 + 59, 25 * 60, 53 * 60 + 59].sort((x, y) => x - y));
  });

  test('pending age: the oldest file not converted since the newest converted one; 0 when none', () => {
    const stuckBehind = [
      file('old-failed', '2026-12-07T08:00:00Z'),
      file('converted', '2026-12-07T09:00:00Z', '2026-12-07T09:20:00Z'),
      file('waiting', '2026-12-07T10:00:00Z'),
      file('newer', '2026-12-07T10:30:00Z'),
    ];
    const result = assess(stuckBehind, check, now, 300);
    expect(result.pendingAgeSeconds).toBe(3607);
    expect(result.pending).toEqual(['waiting', 'newer']);

    expect(assess([file('done', '2026-12-07T10:00:00Z', '2026-12-07T10:20:00Z')], check, now, 300).pendingAgeSeconds).toBe(0);
    expect(assess([], check, now, 300)).toEqual({ freshnessSeconds: [], pendingAgeSeconds: 0, pending: [] });
    // Nothing converted at all within the lookback: every file counts.
    expect(assess([file('x', '2026-12-07T08:00:00Z'), file('y', '2026-12-07T10:00:00Z')], check, now, 300).pendingAgeSeconds).toBe(
      3 * 3600 + 7,
    );
  });
});
