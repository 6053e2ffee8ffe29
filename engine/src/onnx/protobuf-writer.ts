/**
 * The protobuf wire-format writer half of `protobuf.ts` (which re-exports it). Self-contained so the
 * two files do not import each other.
 */

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;
const TWO_32 = 4294967296;
const utf8Encoder = new TextEncoder();

/** Payloads at least this long are referenced, not copied, until {@link ProtoWriter.finish}. */
const COPY_LIMIT = 1024;

/**
 * Builds protobuf bytes. Output goes into a list of chunks (small values are copied into a growing
 * scratch chunk, large payloads are kept by reference) and {@link finish} concatenates them once, so
 * writing a model with multi-hundred-MB tensors copies each tensor exactly once. The same calls in
 * the same order always give the same bytes.
 */
export class ProtoWriter {
  private parts: Uint8Array[] = [];
  private partsSize = 0;
  private chunk: Uint8Array = new Uint8Array(0);
  private dv: DataView = new DataView(this.chunk.buffer);
  private used = 0;
  private nextChunkSize = 64;

  /** Writes a varint field: int32, int64, uint64 or enum (negative values take 10 bytes). */
  int64(field: number, value: number | bigint): void {
    this.key(field, VARINT);
    this.varint(value);
  }

  /** Writes a float field as a little-endian fixed32. */
  float(field: number, value: number): void {
    this.key(field, I32);
    this.fixed(value, 4);
  }

  /** Writes a double field as a little-endian fixed64. */
  double(field: number, value: number): void {
    this.key(field, I64);
    this.fixed(value, 8);
  }

  /** Writes a length-delimited bytes field; large payloads are referenced, not copied, until finish. */
  bytes(field: number, value: Uint8Array): void {
    this.key(field, LEN);
    this.varint(value.length);
    this.append(value);
  }

  /** Writes a string field as UTF-8. */
  string(field: number, value: string): void {
    this.bytes(field, utf8Encoder.encode(value));
  }

  /** Writes an embedded message whose content `fill` writes into a fresh writer. */
  message(field: number, fill: (w: ProtoWriter) => void): void {
    const child = new ProtoWriter();
    fill(child);
    child.flush();
    this.key(field, LEN);
    this.varint(child.partsSize);
    for (const part of child.parts) this.append(part);
  }

  /** Writes a packed repeated varint field; nothing when `values` is empty. */
  packedInt64(field: number, values: ArrayLike<number | bigint>): void {
    if (values.length === 0) return;
    this.message(field, (w) => {
      for (let i = 0; i < values.length; i++) w.varint(values[i]!);
    });
  }

  /** Writes a packed repeated float (fixed32) or double (fixed64) field; nothing when empty. */
  packedFloat(field: number, values: ArrayLike<number>, bytesEach: 4 | 8 = 4): void {
    if (values.length === 0) return;
    const n = values.length * bytesEach;
    this.key(field, LEN);
    this.varint(n);
    this.room(n);
    for (let i = 0; i < values.length; i++) this.fixed(values[i]!, bytesEach);
  }

  private fixed(value: number, bytes: 4 | 8): void {
    this.room(bytes);
    if (bytes === 4) this.dv.setFloat32(this.used, value, true);
    else this.dv.setFloat64(this.used, value, true);
    this.used += bytes;
  }

  /** Writes a field kept verbatim by a reader: `bytes` is the value (for LEN, without its length). */
  raw(field: number, wireType: number, bytes: Uint8Array): void {
    this.key(field, wireType);
    if (wireType === LEN) this.varint(bytes.length);
    this.append(bytes);
  }

  /** Concatenates everything written into one new buffer (never a view of an input). */
  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.partsSize);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  private key(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  /** Appends a varint; numbers must be safe integers, bigints are taken modulo 2^64. */
  varint(value: number | bigint): void {
    let lo: number;
    let hi: number;
    if (typeof value === 'bigint') {
      const u = BigInt.asUintN(64, value);
      lo = Number(u & 0xffffffffn);
      hi = Number(u >> 32n);
    } else {
      if (!Number.isSafeInteger(value)) throw new RangeError(`cannot write ${value} as a varint`);
      lo = value >>> 0;
      hi = Math.floor(value / TWO_32) >>> 0;
    }
    this.room(10);
    const c = this.chunk;
    while (hi !== 0 || lo > 0x7f) {
      c[this.used++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    c[this.used++] = lo;
  }

  private append(bytes: Uint8Array): void {
    if (bytes.length >= COPY_LIMIT) {
      this.flush();
      this.parts.push(bytes);
      this.partsSize += bytes.length;
      return;
    }
    this.room(bytes.length);
    this.chunk.set(bytes, this.used);
    this.used += bytes.length;
  }

  // Chunks start small (most messages are tiny) and double up to 64 KiB.
  private room(n: number): void {
    if (this.chunk.length - this.used >= n) return;
    this.flush();
    this.setChunk(new Uint8Array(Math.max(n, this.nextChunkSize)));
    this.nextChunkSize = Math.min(65536, this.nextChunkSize * 2);
  }

  // Moves the used part of the scratch chunk into `parts`; the rest of the chunk stays usable.
  private flush(): void {
    if (this.used === 0) return;
    this.parts.push(this.chunk.subarray(0, this.used));
    this.partsSize += this.used;
    this.setChunk(this.chunk.subarray(this.used));
  }

  private setChunk(chunk: Uint8Array): void {
    this.chunk = chunk;
    this.dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.used = 0;
  }
}
