import {
  decideAfterLostSeal,
  decidePending,
  narrowedWidth,
  needsPointer,
  RESUME_GRACE_MS,
  type PendingManifest,
} from '../../../../handlers/domain/sweep';

const at = (iso: string) => new Date(iso);
const settings = { maxWaitMinutes: 5, batchSize: 3 };
const now = at('2026-11-23T10:10:00Z');
const open: PendingManifest = {
  manifestId: 'orders-20261123-000001',
  dataset: 'orders',
  status: 'OPEN',
  openedAt: '2026-11-23T10:00:00.000Z',
  pendingSk: '2026-11-23T10:00:00.000Z#orders-20261123-000001',
};
const pointer = (count: number, manifestId: string | undefined = open.manifestId) => ({ manifestId, count, day: '20261123', seq: 1 });

describe('decidePending', () => {
  test('a manifest gone, or whose execution was recorded since the index was read: skip', () => {
    expect(decidePending(undefined, undefined, now, settings)).toEqual({ step: 'skip' });
    expect(decidePending({ ...open, status: 'SEALED', pendingSk: undefined }, undefined, now, settings)).toEqual({ step: 'skip' });
  });

  test('an open manifest whose oldest file has not waited maxWaitMinutes: wait', () => {
    expect(decidePending({ ...open, openedAt: '2026-11-23T10:05:00.001Z' }, pointer(2), now, settings)).toEqual({ step: 'wait' });
  });

  test('an open manifest that is due: sealed for timeout, exactly at maxWaitMinutes too', () => {
    expect(decidePending(open, pointer(2), now, settings)).toEqual({ step: 'seal', reason: 'timeout' });
    expect(decidePending({ ...open, openedAt: '2026-11-23T10:05:00.000Z' }, pointer(1), now, settings)).toEqual({
      step: 'seal',
      reason: 'timeout',
    });
  });

  test('a due manifest whose pointer counts batchSize files (its writer stopped before sealing): sealed as full', () => {
    expect(decidePending(open, pointer(3), now, settings)).toEqual({ step: 'seal', reason: 'full' });
  });

  test('a due manifest no file ever entered (its opener stopped): discarded, never started', () => {
    expect(decidePending(open, pointer(0), now, settings)).toEqual({ step: 'discard' });
  });

  test('a pointer at 0 that names another manifest proves nothing: sealed for timeout', () => {
    expect(decidePending(open, pointer(0, 'orders-20261123-000002'), now, settings)).toEqual({ step: 'seal', reason: 'timeout' });
    expect(decidePending(open, undefined, now, settings)).toEqual({ step: 'seal', reason: 'timeout' });
  });

  test('a sealed manifest is left to its sealer for RESUME_GRACE_MS, then started', () => {
    const sealedAt = (msAgo: number) => new Date(now.getTime() - msAgo).toISOString();
    expect(decidePending({ ...open, status: 'SEALED', sealedAt: sealedAt(RESUME_GRACE_MS - 1) }, undefined, now, settings)).toEqual({
      step: 'wait',
    });
    expect(decidePending({ ...open, status: 'SEALED', sealedAt: sealedAt(RESUME_GRACE_MS) }, undefined, now, settings)).toEqual({
      step: 'start',
    });
  });

  test('a manifest started but whose execution is not recorded (MarkRunning leaves it pending): started again, which records it', () => {
    expect(decidePending({ ...open, status: 'RUNNING', sealedAt: '2026-11-23T10:06:00.000Z' }, undefined, now, settings)).toEqual({
      step: 'start',
    });
    expect(decidePending({ ...open, status: 'SEALED' }, undefined, now, settings)).toEqual({ step: 'start' });
  });
});

describe('needsPointer', () => {
  test("only an open manifest that is due needs its dataset's pointer read", () => {
    expect(needsPointer(open, now, settings)).toBe(true);
    expect(needsPointer({ ...open, openedAt: '2026-11-23T10:09:00.000Z' }, now, settings)).toBe(false);
    expect(needsPointer({ ...open, status: 'SEALED' }, now, settings)).toBe(false);
    expect(needsPointer({ ...open, pendingSk: undefined }, now, settings)).toBe(false);
    expect(needsPointer(undefined, now, settings)).toBe(false);
  });
});

describe('decideAfterLostSeal', () => {
  test('still open (a file was being written): wait for the next run', () => {
    expect(decideAfterLostSeal({ status: 'OPEN' }, now)).toBe('wait');
  });

  test('sealed a moment ago by someone else, who starts it: wait; sealed long ago: start', () => {
    expect(decideAfterLostSeal({ status: 'SEALED', sealedAt: '2026-11-23T10:09:30.000Z' }, now)).toBe('wait');
    expect(decideAfterLostSeal({ status: 'SEALED', sealedAt: '2026-11-23T10:08:00.000Z' }, now)).toBe('start');
  });

  test('gone or without a seal time: start, which says what is wrong', () => {
    expect(decideAfterLostSeal(undefined, now)).toBe('start');
    expect(decideAfterLostSeal({ status: 'SEALED' }, now)).toBe('start');
  });
});

describe('narrowedWidth', () => {
  test('each shard still written whose manifest timed out takes one shard off, down to 1', () => {
    expect(narrowedWidth(4, [2])).toBe(3);
    expect(narrowedWidth(4, [0, 1, 3])).toBe(1);
    expect(narrowedWidth(4, [0, 1, 2, 3])).toBe(1);
    expect(narrowedWidth(4, [1, 1])).toBe(3);
  });

  test('a shard at or beyond the width (left by an earlier narrowing) says nothing of the traffic', () => {
    expect(narrowedWidth(2, [2, 3])).toBeUndefined();
    expect(narrowedWidth(2, [1, 5])).toBe(1);
  });

  test('one shard, or no timeout: unchanged', () => {
    expect(narrowedWidth(1, [0])).toBeUndefined();
    expect(narrowedWidth(3, [])).toBeUndefined();
  });
});
