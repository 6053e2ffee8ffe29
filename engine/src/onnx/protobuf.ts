/**
 * A minimal protobuf wire-format reader (the writer is in `protobuf-writer.ts`, re-exported here),
 * enough for ONNX models. No dependencies and no
 * generated code: `codec.ts` maps field numbers to the types in `types.ts` by hand.
 *
 * The reader never copies payloads: bytes fields come back as `subarray` views of the input, so a
 * multi-GB model costs only its structure to decode. Every error names the byte offset (relative to
 * the buffer given to the reader) so a corrupt file can be inspected with a hex dump.
 */
import { TwbError } from '../util/errors';

export { ProtoWriter } from './protobuf-writer';

/** Protobuf wire types. Groups (3, 4) are deprecated and never used by ONNX. */
export const WireType = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;

const TWO_32 = 4294967296;
const utf8Decoder = new TextDecoder('utf-8');

function varintName(lengthOf: number): string {
  return lengthOf < 0 ? 'varint (field tag)' : lengthOf > 0 ? `varint (length of field ${lengthOf})` : 'varint';
}

function corrupt(message: string): TwbError {
  return new TwbError('invalid-model', message);
}

/** One field's key, as read by {@link ProtoReader.readTag}. */
export interface Tag {
  field: number;
  wireType: number;
  /** Offset of the tag itself, for error messages. */
  at: number;
}

/** Reads protobuf fields from `buf[pos, end)`; offsets in errors are indices into `buf`. */
export class ProtoReader {
  // The last varint, as two unsigned 32-bit halves: avoids a bigint per varint on the hot path.
  private lo = 0;
  private hi = 0;
  private dv: DataView | undefined;

  constructor(
    readonly buf: Uint8Array,
    public pos = 0,
    readonly end = buf.length,
  ) {}

  /** True when every byte up to `end` has been consumed. */
  done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a field key; throws on field number 0 or a wire type ONNX cannot contain. */
  readTag(): Tag {
    const at = this.pos;
    const key = this.readUint32At(at, -1);
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (field === 0) throw corrupt(`invalid field number 0 at byte ${at}`);
    if (wireType !== 0 && wireType !== 1 && wireType !== 2 && wireType !== 5) {
      throw corrupt(`unsupported wire type ${wireType} for field ${field} at byte ${at}`);
    }
    return { field, wireType, at };
  }

  /**
   * Reads a varint into lo/hi. `lengthOf` is the field whose length this is (-1: a field tag, 0: a
   * value); it is a number, not a message, so the hot path builds no strings.
   */
  private varint(lengthOf = 0): void {
    const start = this.pos;
    const { buf, end } = this;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw corrupt(`truncated ${varintName(lengthOf)} at byte ${start}`);
      const b = buf[this.pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi = (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    throw corrupt(`${varintName(lengthOf)} longer than 10 bytes at byte ${start}`);
  }

  private readUint32At(at: number, lengthOf: number): number {
    this.varint(lengthOf);
    if (this.hi !== 0) throw corrupt(`${varintName(lengthOf)} at byte ${at} is larger than 32 bits`);
    return this.lo;
  }

  /** A varint as a signed 64-bit integer. */
  readInt64(): bigint {
    this.varint();
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo));
  }

  /** A varint as an unsigned 64-bit integer. */
  readUint64(): bigint {
    this.varint();
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /**
   * A varint as a signed int64 (also right for int32 and enums, which protobuf sign-extends to 10
   * bytes) returned as a `number`; throws when it is outside ±2^53, where a number would round.
   */
  readInt64Number(): number {
    const at = this.pos;
    this.varint();
    const value = (this.hi | 0) * TWO_32 + this.lo;
    if (!Number.isSafeInteger(value)) {
      const exact = BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo));
      throw corrupt(`integer ${exact} at byte ${at} is too large for a JS number`);
    }
    return value;
  }

  private need(n: number, what: string): number {
    const at = this.pos;
    if (n > this.end - at) {
      throw corrupt(`truncated ${what} at byte ${at} (needs ${n} bytes, ${this.end - at} left)`);
    }
    this.pos += n;
    return at;
  }

  /** A fixed32 field read as a little-endian float32. */
  readFloat(): number {
    this.dv ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    return this.dv.getFloat32(this.need(4, 'fixed32'), true);
  }

  /** A fixed64 field read as a little-endian float64. */
  readDouble(): number {
    this.dv ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    return this.dv.getFloat64(this.need(8, 'fixed64'), true);
  }

  /** The payload of the length-delimited field `tag`, as a view into the buffer (never a copy). */
  readBytes(tag: Tag): Uint8Array {
    const len = this.readUint32At(this.pos, tag.field);
    const left = this.end - this.pos;
    if (len > left) {
      const field = `length-delimited field ${tag.field} at byte ${tag.at}`;
      throw corrupt(`${field} runs past end of buffer (needs ${len} bytes, ${left} left)`);
    }
    const start = this.pos;
    this.pos += len;
    return this.buf.subarray(start, this.pos);
  }

  /** A length-delimited field decoded as UTF-8. */
  readString(tag: Tag): string {
    return utf8Decoder.decode(this.readBytes(tag));
  }

  /** A reader over an embedded message; offsets stay relative to the same buffer. */
  readMessage(tag: Tag): ProtoReader {
    const bytes = this.readBytes(tag);
    return new ProtoReader(this.buf, this.pos - bytes.length, this.pos);
  }

  /** Skips a field's value; returns the raw value bytes (for LEN: the payload without its length). */
  skip(tag: Tag): Uint8Array {
    const start = this.pos;
    switch (tag.wireType) {
      case WireType.VARINT:
        this.varint();
        return this.buf.subarray(start, this.pos);
      case WireType.I64:
        return this.buf.subarray(this.need(8, 'fixed64'), this.pos);
      case WireType.I32:
        return this.buf.subarray(this.need(4, 'fixed32'), this.pos);
      default:
        return this.readBytes(tag);
    }
  }

  /** Fails a field whose wire type is not the one its schema says. */
  expect(tag: Tag, wireType: number, message: string): void {
    if (tag.wireType !== wireType) {
      throw corrupt(
        `${message} field ${tag.field} at byte ${tag.at} has wire type ${tag.wireType}, expected ${wireType}`,
      );
    }
  }

  /** Appends a repeated float (`width` 4) or double (8) field's values, packed or not. */
  readRepeatedFloat(tag: Tag, out: number[], width: 4 | 8): void {
    if (tag.wireType !== WireType.LEN) {
      this.expect(tag, width === 4 ? WireType.I32 : WireType.I64, 'repeated');
      out.push(width === 4 ? this.readFloat() : this.readDouble());
      return;
    }
    // Packed floats can number in the millions: read them straight from one DataView.
    const bytes = this.readBytes(tag);
    if (bytes.length % width !== 0) {
      const field = `packed field ${tag.field} at byte ${tag.at}`;
      throw corrupt(`${field} has ${bytes.length} bytes, not a multiple of ${width}`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let k = out.length;
    out.length += bytes.length / width;
    if (width === 4) for (let i = 0; i < bytes.length; i += 4) out[k++] = view.getFloat32(i, true);
    else for (let i = 0; i < bytes.length; i += 8) out[k++] = view.getFloat64(i, true);
  }

  /**
   * Reads one occurrence of a repeated scalar field, calling `one` per value. Writers may emit it
   * packed (one LEN field) or one field per value, and a conforming parser must accept both.
   */
  readRepeated(tag: Tag, scalarWire: number, one: (r: ProtoReader) => void): void {
    if (tag.wireType === WireType.LEN) {
      const inner = this.readMessage(tag);
      while (!inner.done()) one(inner);
    } else {
      this.expect(tag, scalarWire, 'repeated');
      one(this);
    }
  }
}
