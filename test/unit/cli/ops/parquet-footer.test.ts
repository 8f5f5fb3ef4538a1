/**
 * The footer reader on files written by pyarrow (test/unit/cli/ops/parquet/, written with pyarrow's `write_table`): nested
 * columns, a map, a non-ASCII name, key-value metadata, more than 15 columns (a list's long header) and several
 * row groups.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { footerRange, parquetFooter, parseFooter } from '../../../../cli/ops/parquet-footer';

const file = (name: string) => new Uint8Array(readFileSync(path.join(__dirname, 'parquet', name)));

describe('parquetFooter', () => {
  it('reads the row count and the top-level columns, skipping nested ones', () => {
    expect(parquetFooter(file('nested.parquet'))).toEqual({ numRows: 3, columns: ['id', 'n', 'flag', 's', 'm', 'é_name'] });
  });

  it('reads a schema of more than 15 columns and a file of several row groups', () => {
    const footer = parquetFooter(file('wide.parquet'));
    expect(footer.numRows).toBe(40);
    expect(footer.columns).toEqual(Array.from({ length: 20 }, (_, i) => `c${String(i).padStart(2, '0')}`));
  });

  it('finds the footer from the last 8 bytes, as a ranged read does', () => {
    const bytes = file('nested.parquet');
    const { start, length } = footerRange(bytes.subarray(bytes.length - 8), bytes.length);
    expect(start + length).toBe(bytes.length - 8);
    expect(parseFooter(bytes.subarray(start, start + length)).numRows).toBe(3);
  });

  it('refuses what is not a Parquet file, and a footer cut short', () => {
    expect(() => parquetFooter(new TextEncoder().encode('{"not": "parquet"}\n'))).toThrow(/not a Parquet file/);
    const bytes = file('nested.parquet');
    const { start, length } = footerRange(bytes.subarray(bytes.length - 8), bytes.length);
    expect(() => parseFooter(bytes.subarray(start, start + Math.floor(length / 2)))).toThrow(/ends/);
  });
});
