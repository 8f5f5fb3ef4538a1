import { MAX_KEY_BYTES, classifyObject, describeRejection, isValidDataset } from '../../../../handlers/domain/dataset';

const rules = { ingestPrefix: 'incoming/', acceptedSuffixes: ['.ndjson', '.jsonl', '.json', '.ndjson.gz'] };

describe('isValidDataset', () => {
  test.each(['orders', 'a', 'web_clicks_2', 'a'.repeat(40)])('%s is valid', (name) => expect(isValidDataset(name)).toBe(true));
  test.each(['', 'Orders', '2orders', '_orders', 'web-clicks', 'a'.repeat(41), 'café', 'a b'])('%j is not', (name) =>
    expect(isValidDataset(name)).toBe(false),
  );
});

describe('classifyObject', () => {
  test.each([
    ['incoming/orders/2026/11/a.ndjson', 'orders'],
    ['incoming/orders/a.ndjson.gz', 'orders'],
    ['incoming/web_clicks/deep/er/x y.jsonl', 'web_clicks'],
    // Folders whose names Spark's listing would skip are read: only the file's own name counts.
    ['incoming/orders/_tmp/.cache/a.ndjson', 'orders'],
    ['incoming/orders/t:[1]{2}*?.ndjson', 'orders'],
  ])('%s is accepted in dataset %s', (key, dataset) => {
    expect(classifyObject(key, 10, 'ObjectCreated:Put', rules)).toEqual({ action: 'accept', dataset });
  });

  test.each([
    ['outside the prefix', 'other/orders/a.ndjson', 10, 'ObjectCreated:Put', 'outside-prefix'],
    ['zero bytes', 'incoming/orders/a.ndjson', 0, 'ObjectCreated:Put', 'empty-object'],
    ['a folder marker', 'incoming/orders/', 0, 'ObjectCreated:Put', 'empty-object'],
    ['a deletion', 'incoming/orders/a.ndjson', 10, 'ObjectRemoved:Delete', 'not-object-created'],
  ])('%s is skipped', (_what, key, size, eventName, reason) => {
    expect(classifyObject(key, size, eventName, rules)).toEqual({ action: 'skip', reason });
  });

  test.each([
    ['no dataset folder', 'incoming/a.ndjson', 'no-dataset-segment'],
    ['an upper-case dataset', 'incoming/Orders/a.ndjson', 'invalid-dataset-name'],
    ['a dataset with a dash', 'incoming/web-clicks/a.ndjson', 'invalid-dataset-name'],
    ['a 41-character dataset', `incoming/${'a'.repeat(41)}/a.ndjson`, 'invalid-dataset-name'],
    ['another suffix', 'incoming/orders/a.csv', 'unaccepted-suffix'],
    ['an upper-case suffix', 'incoming/orders/a.NDJSON', 'unaccepted-suffix'],
    ['a parent segment into another dataset', 'incoming/orders/../payments/x.ndjson', 'unsafe-key'],
    ['a current-folder segment', 'incoming/orders/./x.ndjson', 'unsafe-key'],
    ['an empty segment', 'incoming/orders//x.ndjson', 'unsafe-key'],
    ['an empty dataset segment', 'incoming//x.ndjson', 'unsafe-key'],
    ['a control character', 'incoming/orders/x\u001b[2J.ndjson', 'unsafe-key'],
    ['a C1 control character', 'incoming/orders/x\u009b.ndjson', 'unsafe-key'],
    ['a file name beginning with _', 'incoming/orders/2026/_a.ndjson', 'hidden-name'],
    ['a file name beginning with .', 'incoming/orders/.a.ndjson', 'hidden-name'],
    ['a key whose manifest item would pass 1,024 bytes of sort key', `incoming/orders/${'é'.repeat(490)}.ndjson`, 'key-too-long'],
  ])('%s is rejected', (_what, key, reason) => {
    expect(classifyObject(key, 10, 'ObjectCreated:Put', rules)).toMatchObject({ action: 'reject', reason });
  });

  test('every reject reason has a readable text', () => {
    expect(describeRejection('unaccepted-suffix', rules)).toContain('.ndjson, .jsonl');
    expect(describeRejection('no-dataset-segment', rules)).toContain('incoming/');
    expect(describeRejection('invalid-dataset-name', rules)).toContain('40 characters');
    expect(describeRejection('unsafe-key', rules)).toContain('".."');
    expect(describeRejection('key-too-long', rules)).toContain(String(MAX_KEY_BYTES));
    expect(describeRejection('hidden-name', rules)).toContain('rename');
  });

  test('a hidden file name is rejected in its dataset, so its rejection is counted there', () => {
    expect(classifyObject('incoming/orders/_a.ndjson', 10, 'ObjectCreated:Put', rules)).toEqual({
      action: 'reject',
      reason: 'hidden-name',
      dataset: 'orders',
    });
  });

  test('an object larger than the cap is rejected as too-large in its dataset; one of exactly the cap is accepted', () => {
    const capped = { ...rules, maxObjectBytes: 5 * 1024 * 1024 };

    expect(classifyObject('incoming/orders/big.ndjson', 5 * 1024 * 1024 + 1, 'ObjectCreated:Put', capped)).toEqual({
      action: 'reject',
      reason: 'too-large',
      dataset: 'orders',
    });
    expect(classifyObject('incoming/orders/fits.ndjson', 5 * 1024 * 1024, 'ObjectCreated:Put', capped)).toEqual({
      action: 'accept',
      dataset: 'orders',
    });
    // Without a cap, size alone refuses nothing.
    expect(classifyObject('incoming/orders/big.ndjson', 5 * 1024 ** 4, 'ObjectCreated:Put', rules)).toEqual({
      action: 'accept',
      dataset: 'orders',
    });
    expect(describeRejection('too-large', capped)).toContain('5 MB');
    expect(describeRejection('too-large', capped)).toContain('maxObjectMb');
  });

  test('a key that is unsafe and too large is rejected for its key, which is the graver fault', () => {
    const capped = { ...rules, maxObjectBytes: 1 };

    expect(classifyObject('incoming/orders/../payments/x.ndjson', 2, 'ObjectCreated:Put', capped)).toMatchObject({
      action: 'reject',
      reason: 'unsafe-key',
    });
  });

  test('the longest key accepted keeps the manifest item sort key within 1,024 bytes with the longest eTag', () => {
    const key = `incoming/orders/${'a'.repeat(MAX_KEY_BYTES - 'incoming/orders/.ndjson'.length)}.ndjson`;
    const longestETag = `${'f'.repeat(32)}-10000`;

    expect(classifyObject(key, 10, 'ObjectCreated:Put', rules)).toEqual({ action: 'accept', dataset: 'orders' });
    expect(Buffer.byteLength(`F#${key}#${longestETag}`)).toBeLessThanOrEqual(1024);
  });
});
