/**
 * The row count and the top-level column names of a Parquet file, read from its footer alone: enough for
 * `pipeline smoke` to check the Glue job's output without a Parquet library or Python on the operator's machine.
 *
 * A Parquet file ends with its `FileMetaData`, serialised with Thrift's compact protocol, then the footer's length
 * (4 bytes, little-endian) and the magic `PAR1` (apache/parquet-format, README "File Format"). `FileMetaData` field 2
 * is the schema (`list<SchemaElement>`, the tree flattened depth first, the root first) and field 3 `num_rows`
 * (`i64`); in `SchemaElement`, field 4 is `name` and field 5 `num_children` (parquet-format
 * src/main/thrift/parquet.thrift). The compact protocol (apache/thrift doc/specs/thrift-compact-protocol.md): a field
 * header byte holds the field id delta (high nibble; 0 means a zigzag varint id follows) and the type (low nibble);
 * integers are zigzag varints; binary is a varint length then the bytes; a list header holds the size (high nibble,
 * 15 meaning a varint size follows) and the element type; a map is a varint size, then (when not empty) a byte of the
 * key and value types; booleans are in the field header, and one byte each inside a list.
 */

/** The footer's magic, at both ends of a Parquet file. */
const MAGIC = 'PAR1';

/** What the footer says. */
export interface ParquetFooter {
  readonly numRows: number;
  /** The names of the root's children, in the file's order. */
  readonly columns: string[];
}

/** Compact protocol types. */
const T = { TRUE: 1, FALSE: 2, I8: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12, UUID: 13 };

/** A reader over a Thrift compact-protocol buffer. */
class CompactReader {
  #pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  byte(): number {
    if (this.#pos >= this.buf.length) throw new Error('Parquet footer ends early');
    return this.buf[this.#pos++];
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (shift > 70n) throw new Error('Parquet footer holds a varint longer than 10 bytes');
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
  }

  zigzag(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  bytes(): Uint8Array {
    const length = Number(this.varint());
    if (this.#pos + length > this.buf.length) throw new Error('Parquet footer ends inside a binary value');
    const out = this.buf.subarray(this.#pos, this.#pos + length);
    this.#pos += length;
    return out;
  }

  skipBytes(n: number): void {
    if (this.#pos + n > this.buf.length) throw new Error('Parquet footer ends early');
    this.#pos += n;
  }

  /** The header of a list or set: its size and element type. */
  listHeader(): { size: number; type: number } {
    const b = this.byte();
    const short = b >> 4;
    return { size: short === 15 ? Number(this.varint()) : short, type: b & 0x0f };
  }

  /** Reads a struct's fields, handing each (id, type) to `onField`, which reads the value or returns false to skip it. */
  struct(onField: (id: number, type: number) => boolean): void {
    let last = 0;
    for (;;) {
      const header = this.byte();
      const type = header & 0x0f;
      if (type === 0) return;
      const delta = header >> 4;
      const id = delta === 0 ? Number(this.zigzag()) : last + delta;
      last = id;
      if (!onField(id, type)) this.skip(type, false);
    }
  }

  /** Skips a value of `type`; `inList` because a boolean element takes a byte, while a boolean field takes none. */
  skip(type: number, inList: boolean): void {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        if (inList) this.skipBytes(1);
        return;
      case T.I8:
        this.skipBytes(1);
        return;
      case T.I16:
      case T.I32:
      case T.I64:
        this.varint();
        return;
      case T.DOUBLE:
        this.skipBytes(8);
        return;
      case T.BINARY:
        this.bytes();
        return;
      case T.UUID:
        this.skipBytes(16);
        return;
      case T.LIST:
      case T.SET: {
        const { size, type: element } = this.listHeader();
        for (let i = 0; i < size; i++) this.skip(element, true);
        return;
      }
      case T.MAP: {
        const size = Number(this.varint());
        if (size === 0) return;
        const types = this.byte();
        for (let i = 0; i < size; i++) {
          this.skip(types >> 4, true);
          this.skip(types & 0x0f, true);
        }
        return;
      }
      case T.STRUCT:
        this.struct(() => false);
        return;
      default:
        throw new Error(`Parquet footer holds an unknown Thrift type ${type}`);
    }
  }
}

/** Where the footer (`FileMetaData`) lies in a file of `fileSize` bytes, from the file's last 8 bytes. */
export function footerRange(tail8: Uint8Array, fileSize: number): { start: number; length: number } {
  if (tail8.length !== 8 || Buffer.from(tail8.subarray(4)).toString('latin1') !== MAGIC)
    throw new Error('not a Parquet file (no PAR1 at its end)');
  const length = Buffer.from(tail8).readUInt32LE(0);
  const start = fileSize - 8 - length;
  if (start < MAGIC.length) throw new Error(`not a Parquet file (footer of ${length} bytes in a file of ${fileSize})`);
  return { start, length };
}

/** Parses a `FileMetaData` (the footer without its length and magic). */
export function parseFooter(metadata: Uint8Array): ParquetFooter {
  const r = new CompactReader(metadata);
  let numRows: number | undefined;
  const schema: { name: string; children: number }[] = [];
  r.struct((id, type) => {
    if (id === 3 && type === T.I64) {
      numRows = Number(r.zigzag());
      return true;
    }
    if (id === 2 && type === T.LIST) {
      const { size, type: element } = r.listHeader();
      for (let i = 0; i < size; i++) {
        if (element !== T.STRUCT) {
          r.skip(element, true);
          continue;
        }
        let name = '';
        let children = 0;
        r.struct((fid, ftype) => {
          if (fid === 4 && ftype === T.BINARY) name = Buffer.from(r.bytes()).toString('utf8');
          else if (fid === 5 && ftype === T.I32) children = Number(r.zigzag());
          else return false;
          return true;
        });
        schema.push({ name, children });
      }
      return true;
    }
    return false;
  });
  if (numRows === undefined || schema.length === 0) throw new Error('Parquet footer lacks num_rows or the schema');
  // The root's children are the columns; each subtree spans its element and its descendants.
  const columns: string[] = [];
  let i = 1;
  const skipSubtree = (): void => {
    const { children } = schema[i++];
    for (let c = 0; c < children; c++) skipSubtree();
  };
  for (let c = 0; c < schema[0].children && i < schema.length; c++) {
    columns.push(schema[i].name);
    skipSubtree();
  }
  return { numRows, columns };
}

/** Parses a whole Parquet file held in memory. */
export function parquetFooter(file: Uint8Array): ParquetFooter {
  const { start, length } = footerRange(file.subarray(file.length - 8), file.length);
  return parseFooter(file.subarray(start, start + length));
}
