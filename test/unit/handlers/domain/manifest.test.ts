import {
  ageSeconds,
  buildManifestDocument,
  compactDay,
  decideSlot,
  executionArnOf,
  executionInputOf,
  isDue,
  manifestIdOf,
  manifestKeyOf,
  nextOpening,
  parseManifestId,
  resultKeyOf,
  shardOfKey,
  shardOfManifest,
} from '../../../../handlers/domain/manifest';

const at = (iso: string) => new Date(iso);

describe('manifest ids', () => {
  test('<dataset>-<yyyymmdd>-<seq6>, parsed back', () => {
    const id = manifestIdOf('orders', '20261123', 42);
    expect(id).toBe('orders-20261123-000042');
    expect(parseManifestId(id)).toEqual({ dataset: 'orders', day: '20261123', seq: 42 });
    expect(parseManifestId('orders-20261123-000042-r1')).toBeUndefined();
  });

  test('a sequence outside 1..999999 is refused', () => {
    expect(() => manifestIdOf('orders', '20261123', 0)).toThrow(RangeError);
    expect(() => manifestIdOf('orders', '20261123', 1_000_000)).toThrow(RangeError);
  });

  test('the longest dataset keeps execution names within the 80 characters of Step Functions, replays included', () => {
    expect(`${manifestIdOf('a'.repeat(40), '20261123', 999_999)}-r99`.length).toBeLessThanOrEqual(80);
  });

  test('compactDay is the UTC day', () => {
    expect(compactDay(at('2026-11-23T23:59:59.999Z'))).toBe('20261123');
    expect(compactDay(at('2026-11-24T00:00:00.000Z'))).toBe('20261124');
  });
});

describe('nextOpening', () => {
  const now = at('2026-11-23T10:00:00Z');
  test('the first manifest of a dataset is sequence 1 of today', () => {
    expect(nextOpening('orders', undefined, now)).toEqual({ manifestId: 'orders-20261123-000001', day: '20261123', seq: 1 });
  });
  test('the same day counts on', () => {
    expect(nextOpening('orders', { day: '20261123', seq: 7 }, now).manifestId).toBe('orders-20261123-000008');
  });
  test('a new day starts at 1', () => {
    expect(nextOpening('orders', { day: '20261122', seq: 7 }, now).manifestId).toBe('orders-20261123-000001');
  });
  test('a clock behind the last opening keeps its later day, so ids never repeat', () => {
    expect(nextOpening('orders', { day: '20261124', seq: 3 }, now).manifestId).toBe('orders-20261124-000004');
  });
});

describe('decideSlot', () => {
  test('no open manifest: open one', () => {
    expect(decideSlot(undefined, 5)).toEqual({ step: 'open' });
    expect(decideSlot({ count: 0 }, 5)).toEqual({ step: 'open' });
  });
  test('room left: write at the current count', () => {
    expect(decideSlot({ manifestId: 'm', count: 4 }, 5)).toEqual({ step: 'write', manifestId: 'm', count: 4 });
  });
  test('full but still open (its last writer stopped): seal it first', () => {
    expect(decideSlot({ manifestId: 'm', count: 5 }, 5)).toEqual({ step: 'seal-full', manifestId: 'm' });
  });
});

describe('write shards', () => {
  const keys = Array.from({ length: 4000 }, (_, i) => `incoming/orders/2026/11/23/part-${String(i).padStart(6, '0')}.ndjson`);

  test('one shard (or none set): every key goes to shard 0', () => {
    expect(new Set(keys.map((k) => shardOfKey(k, 1)))).toEqual(new Set([0]));
    expect(shardOfKey(keys[7], 0)).toBe(0);
  });

  test('a key always goes to the same shard of a width, so a redelivery lands where the first delivery did', () => {
    for (const key of keys.slice(0, 50)) expect(shardOfKey(key, 5)).toBe(shardOfKey(`${key}`, 5));
    expect(shardOfKey('incoming/orders/é+ %.ndjson', 7)).toBe(shardOfKey('incoming/orders/é+ %.ndjson', 7));
  });

  test('keys that differ only in a counter spread evenly over the shards', () => {
    for (const width of [2, 3, 8]) {
      const perShard = Array.from({ length: width }, (_, s) => keys.filter((k) => shardOfKey(k, width) === s).length);
      for (const n of perShard) expect(Math.abs(n - keys.length / width)).toBeLessThan((keys.length / width) * 0.15);
    }
  });

  test("a manifest's shard is its META item's, 0 for one opened before shards", () => {
    expect(shardOfManifest({ shard: 3 })).toBe(3);
    expect(shardOfManifest({})).toBe(0);
    expect(shardOfManifest({ shard: 'x' })).toBe(0);
  });
});

describe('timing', () => {
  test('isDue once maxWaitMinutes passed', () => {
    expect(isDue('2026-11-23T10:00:00.000Z', at('2026-11-23T10:14:59.999Z'), 15)).toBe(false);
    expect(isDue('2026-11-23T10:00:00.000Z', at('2026-11-23T10:15:00.000Z'), 15)).toBe(true);
  });
  test('ageSeconds is never negative', () => {
    expect(ageSeconds('2026-11-23T10:00:00.000Z', at('2026-11-23T10:01:30.500Z'))).toBe(90);
    expect(ageSeconds('2026-11-23T10:00:00.000Z', at('2026-11-23T09:00:00.000Z'))).toBe(0);
  });
});

describe('locations', () => {
  test('manifest and result files live under manifests/<dataset>/', () => {
    expect(manifestKeyOf('orders', 'orders-20261123-000001')).toBe('manifests/orders/orders-20261123-000001.json');
    expect(resultKeyOf('orders', 'orders-20261123-000001')).toBe('manifests/orders/orders-20261123-000001.result.json');
  });
  test('execution ARN from the state machine ARN and the name', () => {
    expect(executionArnOf('arn:aws:states:eu-west-1:123456789012:stateMachine:convert', 'orders-20261123-000001')).toBe(
      'arn:aws:states:eu-west-1:123456789012:execution:convert:orders-20261123-000001',
    );
    expect(() => executionArnOf('arn:aws:lambda:eu-west-1:123456789012:function:x', 'n')).toThrow(/not a state machine ARN/);
  });
});

describe('manifest document and execution input', () => {
  const sealed = {
    manifestId: 'orders-20261123-000001',
    dataset: 'orders',
    ingestDate: '2026-11-23',
    openedAt: '2026-11-23T10:00:00.000Z',
    sealedAt: '2026-11-23T10:05:00.000Z',
    sealReason: 'full' as const,
  };
  const files = [
    { bucket: 'in', key: 'incoming/orders/c.ndjson', size: 3, eTag: 'e3', sequencer: 's3' },
    { bucket: 'in', key: 'incoming/orders/a b.ndjson', size: 1, eTag: 'e1', sequencer: 's1' },
    { bucket: 'in', key: 'incoming/orders/b.ndjson', size: 2, eTag: 'e2', sequencer: 's2' },
  ];

  test('files sorted by key, counts summed, the same bytes whatever the order read', () => {
    const doc = buildManifestDocument(sealed, files);
    expect(doc.files.map((f) => f.key)).toEqual(['incoming/orders/a b.ndjson', 'incoming/orders/b.ndjson', 'incoming/orders/c.ndjson']);
    expect(doc.files[0].uri).toBe('s3://in/incoming/orders/a b.ndjson');
    expect(doc).toMatchObject({ fileCount: 3, totalBytes: 6 });
    expect(JSON.stringify(buildManifestDocument(sealed, [...files].reverse()))).toBe(JSON.stringify(doc));
  });

  test('the execution input holds locations and counts, not the file list', () => {
    const input = executionInputOf(buildManifestDocument(sealed, files), 'curated');
    expect(input).toEqual({
      manifestId: 'orders-20261123-000001',
      dataset: 'orders',
      manifestUri: 's3://curated/manifests/orders/orders-20261123-000001.json',
      resultUri: 's3://curated/manifests/orders/orders-20261123-000001.result.json',
      resultKey: 'manifests/orders/orders-20261123-000001.result.json',
      ingestDate: '2026-11-23',
      fileCount: 3,
      totalBytes: 6,
    });
    expect(input.resultUri).toBe(`s3://curated/${input.resultKey}`);
  });
});
