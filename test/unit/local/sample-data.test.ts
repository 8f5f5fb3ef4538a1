import { generateDataset, totals } from '../../../local/sample-data';

describe('generateDataset', () => {
  const files = generateDataset({ dataset: 'orders', files: 8, minLines: 3, maxLines: 6, badEvery: 4, blankEvery: 2, seed: 9 });

  it('holds the numbers of good, bad and blank lines it reports', () => {
    for (const file of files) {
      const lines = file.body.replace(/\n$/, '').split('\n');
      const parsed = lines
        .filter((l) => l !== '')
        .map((l) => {
          try {
            return JSON.parse(l) as unknown;
          } catch {
            return undefined;
          }
        });
      expect(lines.filter((l) => l === '')).toHaveLength(file.blankLines);
      expect(parsed.filter((p) => p === undefined)).toHaveLength(file.badLines);
      expect(parsed.filter((p) => p !== undefined)).toHaveLength(file.goodLines);
    }
    expect(totals(files)).toMatchObject({ files: 8, badLines: 2, blankLines: 4 });
  });

  it('is the same on every run, with keys under the dataset prefix', () => {
    const again = generateDataset({ dataset: 'orders', files: 8, minLines: 3, maxLines: 6, badEvery: 4, blankEvery: 2, seed: 9 });

    expect(again).toEqual(files);
    expect(files.every((f) => f.key.startsWith('incoming/orders/'))).toBe(true);
  });

  it('gives the records of the second half of the files the newer field, as a producer adding one midway', () => {
    const fieldsOf = (body: string) =>
      body
        .split('\n')
        .filter((l) => l.startsWith('{') && l.endsWith('}'))
        .map((l) => Object.keys(JSON.parse(l) as object));

    expect(
      files
        .slice(0, 4)
        .flatMap((f) => fieldsOf(f.body))
        .some((keys) => keys.includes('channel')),
    ).toBe(false);
    expect(
      files
        .slice(4)
        .flatMap((f) => fieldsOf(f.body))
        .every((keys) => keys.includes('channel')),
    ).toBe(true);
  });
});
