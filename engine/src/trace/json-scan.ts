/**
 * The byte-level scanner behind trace import (issue #8): fed a trace's JSON in chunks of any size,
 * it hands the elements of the events array (`traceEvents`, or a top-level array) to a consumer in
 * batches and every other top-level key with its value, keeping only the current batch in memory.
 *
 * Objects are never built byte by byte in JS: the scanner only finds where elements end, then parses
 * a chunk's worth of complete elements with one `JSON.parse('[' + slice + ']')`. Finding the ends by
 * a byte loop costs about half of what JSON.parse does, so the common case skips it: once the bytes
 * between two events are known (Kineto writes `},\n  {`, ONNX Runtime `},\n{`), the last such
 * separator in a chunk is a likely element end, and JSON.parse itself checks it. For valid JSON that
 * check is exact: a cut inside a string or inside an event leaves `'[' + slice + ']'` unterminated or
 * unbalanced, so it fails. When it fails (a separator inside a string, or bad JSON), the byte loop
 * runs over that chunk, and after a few failures it is used alone. Pure: no I/O.
 */
import { isAscii } from 'node:buffer';
import { TwbError } from '../util/errors';
import { describeBytes, describeCutObject, describeEventsValue, describeFirstElement, describeKey, describeObject, isBlank, notATrace } from './not-a-trace';
import { foundChar, locateJsonError } from './json-error';

export interface ScanHandlers {
  /** Batches of elements of the events array, in file order. */
  onEvents(events: unknown[]): void;
  /** Each other top-level key with its parsed value, as soon as the value has been read. */
  onMeta?(key: string, value: unknown): void;
}

export interface ScanOptions {
  /** What messages call the input (the file path). */
  name: string;
  /** Largest top-level non-event value kept for onMeta, bytes; bigger ones are skipped with a warning. */
  maxMetaBytes?: number;
  /**
   * Start inside the events array at byte `at`, just after the comma between two events (a range
   * of the file read on its own, parallel-read.ts); the first event has been checked by whoever
   * read the start of the file.
   */
  resume?: { at: number; container: 'object' | 'array' };
}

export interface ScanSummary {
  container: 'object' | 'array';
  /** Bytes of JSON text scanned. */
  jsonBytes: number;
  /** Elements delivered through onEvents. */
  events: number;
  /** Set when the input ends before the events array closes. `atByte`: where the unread part starts. */
  truncated?: { atByte: number; detail: string };
  warnings: string[];
  /** How the batches were found: by the separator shortcut, by the byte loop; shortcuts JSON.parse refused. */
  stats: { fastBatches: number; scannedBatches: number; failedTrials: number };
}

export const DEFAULT_MAX_META_BYTES = 16 * 1024 * 1024;
/** No real event comes near this; an "event" this long means the string/depth state went wrong. */
const MAX_EVENT_BYTES = 64 * 1024 * 1024;
/** Events longer than this get their bytes checked as they grow (see checkLongEvent). */
const LONG_EVENT_BYTES = 1024 * 1024;
const MAX_KEY_BYTES = 64 * 1024;
/** Failed shortcuts after which the byte loop is used alone (each failure costs one extra JSON.parse). */
const MAX_FAILED_TRIALS = 4;
const HEAD_BYTES = 64;
/** Boundaries flushed one by one while the separator is unknown (it is learnt from the first one that has a `}` and a `{` in the chunk). */
const MAX_LEARN_TRIES = 8;

const QUOTE = 0x22, BSLASH = 0x5c, COMMA = 0x2c, COLON = 0x3a;
const LBRACE = 0x7b, RBRACE = 0x7d, LBRACKET = 0x5b, RBRACKET = 0x5d;
const BOM = [0xef, 0xbb, 0xbf];

// Where the scanner is in the top-level structure.
const START = 0, HEAD = 1, KEY_OR_END = 2, KEY = 3, AFTER_KEY = 4, VALUE_START = 5, VALUE = 6, AFTER_EVENTS = 7, EVENTS = 8, DONE = 9;

/** ASCII is by far the common case, and latin1 decoding of it is ~5× faster than UTF-8 decoding. */
function decode(b: Buffer): string {
  return isAscii(b) ? b.toString('latin1') : b.toString('utf8');
}

export class TraceScanner {
  private mode = START;
  /** Absolute offset of the current chunk's first byte. */
  private base = 0;
  // Byte-loop state, valid at the scan position (carried across chunks).
  private depth = 0;
  private inStr = false;
  private esc = false;
  /** Bytes of the unfinished key, value or batch from earlier chunks, and where they start (absolute). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingAt = 0;
  private checkAt = LONG_EVENT_BYTES;
  private head = Buffer.alloc(0);
  private container: 'object' | 'array' = 'object';
  private key = '';
  private readonly keys: string[] = [];
  private sawEvents = false;
  private firstChecked = false;
  private events = 0;
  private metaSkipped = false;
  /** The bytes between two events (`}` … `{`), learnt from the first boundary the byte loop finds. */
  private sep?: Buffer;
  private sepComma = 0;
  private learnTries = 0;
  private truncated?: { atByte: number; detail: string };
  private readonly warnings: string[] = [];
  private readonly stats = { fastBatches: 0, scannedBatches: 0, failedTrials: 0 };
  private readonly maxMetaBytes: number;

  constructor(
    private readonly handlers: ScanHandlers,
    private readonly opts: ScanOptions,
  ) {
    this.maxMetaBytes = opts.maxMetaBytes ?? DEFAULT_MAX_META_BYTES;
    if (opts.resume) {
      this.base = opts.resume.at;
      this.head = Buffer.alloc(HEAD_BYTES);
      this.firstChecked = true;
      this.enterEvents(opts.resume.container, 0);
    }
  }

  /** Scans the next chunk; throws TwbError('io') on bad JSON or on a file that is not a trace. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.head.length < HEAD_BYTES) this.head = Buffer.concat([this.head, buf.subarray(0, HEAD_BYTES - this.head.length)]);
    let i = 0;
    while (i < buf.length) i = this.step(buf, i);
    this.base += buf.length;
    if (this.mode === HEAD && this.head.length >= HEAD_BYTES) throw notATrace(this.opts.name, describeBytes(this.head));
  }

  /** Call once the input has ended: settles a cut-off events array and reports what was read. */
  end(): ScanSummary {
    const name = this.opts.name;
    if (this.mode === START || this.mode === HEAD) throw notATrace(name, describeBytes(this.head));
    if (this.mode === EVENTS) this.endInsideEvents();
    else if (this.mode !== DONE) {
      if (!this.sawEvents) throw notATrace(name, describeCutObject(this.keys, this.base));
      this.warnings.push(`the file ends at byte ${this.base} inside the top-level object, after the events${this.mode === VALUE ? ` (in the value of "${this.key}")` : ''}`);
    }
    if (this.events === 0 && !this.truncated) this.warnings.push('the trace holds no events');
    return { container: this.container, jsonBytes: this.base, events: this.events, ...(this.truncated ? { truncated: this.truncated } : {}), warnings: this.warnings, stats: this.stats };
  }

  /**
   * Call instead of `end` when the input was a range of the file that stops just before the comma
   * between two events: delivers the last events and reports what was read. Throws when the range
   * did not stop there (outside the events array, inside an event or a string): JSON.parse of the
   * rest fails then, by the argument in this file's header.
   */
  cut(): ScanSummary {
    if (this.mode !== EVENTS) throw new TwbError('internal', `the range ending at byte ${this.base} does not end inside the events array`);
    const text = this.takeText(Buffer.alloc(0), 0, 0);
    if (blankText(text)) throw new TwbError('internal', `the range ending at byte ${this.base} ends after a comma, not an event`);
    this.deliver(this.parse(text, this.pendingAt));
    return { container: this.container, jsonBytes: this.base, events: this.events, warnings: this.warnings, stats: this.stats };
  }

  private step(buf: Buffer, i: number): number {
    switch (this.mode) {
      case EVENTS:
        return this.inEvents(buf, i);
      case VALUE:
        return this.inValue(buf, i);
      case KEY:
        return this.inKey(buf, i);
      case HEAD:
        return buf.length;
    }
    const n = buf.length;
    while (i < n && (isBlank(buf[i]) || (this.mode === START && this.base + i < 3 && buf[i] === BOM[this.base + i]))) i++;
    if (i === n) return n;
    const c = buf[i];
    switch (this.mode) {
      case START:
        if (c === LBRACE) this.mode = KEY_OR_END;
        else if (c === LBRACKET) return this.enterEvents('array', i + 1);
        else this.mode = HEAD;
        return i + 1;
      case KEY_OR_END:
        if (c === RBRACE) return this.objectEnd(i);
        if (c !== QUOTE) throw this.bad(this.base + i, `expected a key string or '}' in the top-level object, found ${found(c)}`);
        this.mode = KEY;
        this.pendingAt = this.base + i + 1;
        return i + 1;
      case AFTER_KEY:
        if (c !== COLON) throw this.bad(this.base + i, `expected ':' after the key "${this.key}", found ${found(c)}`);
        this.mode = VALUE_START;
        return i + 1;
      case VALUE_START:
        if (this.key === 'traceEvents' && !this.sawEvents) {
          if (c !== LBRACKET) throw notATrace(this.opts.name, describeEventsValue(c));
          return this.enterEvents('object', i + 1);
        }
        this.mode = VALUE;
        this.depth = 0;
        this.inStr = false;
        this.metaSkipped = false;
        this.pendingAt = this.base + i;
        return i;
      case AFTER_EVENTS:
        if (c === COMMA) this.mode = KEY_OR_END;
        else if (c === RBRACE) return this.objectEnd(i);
        else throw this.bad(this.base + i, `expected ',' or '}' after the "traceEvents" array, found ${found(c)}`);
        return i + 1;
      default: // DONE
        throw this.bad(this.base + i, `unexpected ${found(c)} after the end of the top-level JSON value`);
    }
  }

  private objectEnd(i: number): number {
    if (!this.sawEvents) throw notATrace(this.opts.name, describeObject(this.keys));
    this.mode = DONE;
    return i + 1;
  }

  private inKey(buf: Buffer, i: number): number {
    for (let j = i; j < buf.length; j++) {
      if (this.esc) this.esc = false;
      else if (buf[j] === BSLASH) this.esc = true;
      else if (buf[j] === QUOTE) {
        const raw = this.takeText(buf, i, j);
        try {
          this.key = JSON.parse(`"${raw}"`) as string;
        } catch {
          throw this.bad(this.pendingAt, `the top-level key ${JSON.stringify(raw.slice(0, 40))} is not a valid JSON string`);
        }
        if (this.keys.length < 100) this.keys.push(this.key);
        const verdict = this.sawEvents ? undefined : describeKey(this.key);
        if (verdict) throw notATrace(this.opts.name, verdict);
        this.mode = AFTER_KEY;
        return j + 1;
      }
    }
    this.stash(buf, i);
    if (this.pendingBytes > MAX_KEY_BYTES) throw this.bad(this.pendingAt, 'a top-level key longer than 64 KiB starts here');
    return buf.length;
  }

  /** A top-level value other than the events: kept (up to maxMetaBytes) and parsed once it ends. */
  private inValue(buf: Buffer, i: number): number {
    const j = this.skip(buf, i);
    if (j < 0) {
      if (!this.metaSkipped) {
        this.stash(buf, i);
        if (this.pendingBytes > this.maxMetaBytes) {
          this.clearPending();
          this.metaSkipped = true;
        }
      }
      return buf.length;
    }
    if (buf[j] === RBRACKET) throw this.bad(this.base + j, `expected ',' or '}' after the value of "${this.key}", found ']'`);
    if (this.metaSkipped) this.warnings.push(`skipped the top-level "${this.key}": its value is larger than ${this.maxMetaBytes} bytes (maxMetaBytes)`);
    else {
      const text = this.takeText(buf, i, j);
      if (blankText(text)) throw this.bad(this.base + j, `expected a value for "${this.key}", found ${found(buf[j])}`);
      this.handlers.onMeta?.(this.key, this.parse(text, this.pendingAt)[0]);
    }
    this.mode = KEY_OR_END;
    return buf[j] === COMMA ? j + 1 : this.objectEnd(j);
  }

  private enterEvents(container: 'object' | 'array', i: number): number {
    this.container = container;
    this.sawEvents = true;
    this.mode = EVENTS;
    this.depth = 0;
    this.inStr = false;
    this.esc = false;
    this.pendingAt = this.base + i;
    return i;
  }

  private inEvents(buf: Buffer, i: number): number {
    const n = buf.length;
    /** Start of the part of this chunk not yet delivered (pending bytes come before it). */
    let from = i;
    if (this.sep && this.stats.failedTrials < MAX_FAILED_TRIALS) {
      const at = buf.lastIndexOf(this.sep, n - this.sep.length);
      if (at >= from) {
        const comma = at + this.sepComma;
        let batch: unknown[] | undefined;
        try {
          batch = JSON.parse(`[${this.peekText(buf, from, comma)}]`) as unknown[];
        } catch {
          this.stats.failedTrials++;
        }
        if (batch) {
          this.clearPending();
          this.stats.fastBatches++;
          this.deliver(batch);
          this.depth = 0;
          this.inStr = false;
          this.esc = false;
          from = i = comma + 1;
          this.pendingAt = this.base + from;
        }
      }
    }
    let last = -1;
    for (;;) {
      const j = this.skip(buf, i);
      if (j < 0) break;
      if (buf[j] === COMMA) {
        last = j;
        i = j + 1;
        // Flushing at the very first boundaries checks the first event early and learns the
        // separator, so that the shortcut can start with the next chunk.
        if (!this.firstChecked || (!this.sep && this.learnTries++ < MAX_LEARN_TRIES)) from = this.flush(buf, from, j);
        continue;
      }
      if (buf[j] === RBRACE) throw this.bad(this.base + j, "expected ',' or ']' after an event, found '}'");
      // The array's `]`. A trailing comma before it is tolerated, as chrome://tracing does.
      const end = last >= from && blank(buf, last + 1, j) ? last : j;
      const text = this.takeText(buf, from, Math.max(from, end));
      if (!blankText(text)) this.deliver(this.parse(text, this.pendingAt));
      this.mode = this.container === 'object' ? AFTER_EVENTS : DONE;
      return j + 1;
    }
    if (last >= from) from = this.flush(buf, from, last);
    this.stash(buf, from);
    if (this.pendingBytes > this.checkAt) this.checkLongEvent();
    return n;
  }

  /** Parses and delivers the events before the boundary comma at `comma`; returns where the next batch starts. */
  private flush(buf: Buffer, from: number, comma: number): number {
    const at = this.pendingAt;
    const text = this.takeText(buf, from, comma);
    this.stats.scannedBatches++;
    this.deliver(this.parse(text, at));
    if (!this.sep && this.firstChecked) this.learnSeparator(buf, comma);
    this.pendingAt = this.base + comma + 1;
    return comma + 1;
  }

  private deliver(batch: unknown[]): void {
    if (batch.length === 0) return;
    if (!this.firstChecked) {
      const verdict = describeFirstElement(batch[0], this.container);
      if (verdict) throw notATrace(this.opts.name, verdict);
      this.firstChecked = true;
    }
    this.events += batch.length;
    this.handlers.onEvents(batch);
  }

  private endInsideEvents(): void {
    const at = this.pendingAt;
    const text = this.takeText(Buffer.alloc(0), 0, 0);
    const cut = (detail: string, atByte: number) => (this.truncated = { atByte, detail });
    if (blankText(text)) return void cut(`the file ends after ${this.events} events without closing the events array`, this.base);
    if (this.depth === 0 && !this.inStr) {
      let batch: unknown[] | undefined;
      try {
        batch = JSON.parse(`[${text}]`) as unknown[];
      } catch {
        // a cut inside a number or literal: dropped like any partial event
      }
      if (batch) {
        this.deliver(batch);
        return void cut(`the file ends after ${this.events} events without closing the events array`, this.base);
      }
    }
    const start = at + (/^[ \t\r\n]*/.exec(text)?.[0].length ?? 0);
    cut(`the file ends at byte ${this.base}, inside the event that starts at byte ${start}; the ${this.events} events before it were read`, start);
  }

  /**
   * An event that spans chunk after chunk is rare; a stray quote that flips the string state looks
   * like one. Checking the bytes so far (at 1, 2, 4… MiB) finds such damage where it is instead of
   * when the state happens to recover.
   */
  private checkLongEvent(): void {
    const text = this.peekText(Buffer.alloc(0), 0, 0);
    const spot = locateJsonError(text);
    // Within the last few characters the "error" may just be a number or literal cut by the chunk end.
    if (spot && spot.at < text.length - 64) this.parse(text, this.pendingAt);
    if (this.pendingBytes > MAX_EVENT_BYTES) throw new TwbError('io', `"${this.opts.name}": the event at byte ${this.pendingAt} is longer than 64 MiB; the file looks corrupt`);
    this.checkAt *= 2;
  }

  /** Remembers the bytes around the boundary comma if they are `}` blanks `,` blanks `{` inside this chunk. */
  private learnSeparator(buf: Buffer, comma: number): void {
    let p = comma - 1;
    while (p >= 0 && comma - p < 32 && isBlank(buf[p])) p--;
    let q = comma + 1;
    while (q < buf.length && q - comma < 32 && isBlank(buf[q])) q++;
    if (p < 0 || q >= buf.length || buf[p] !== RBRACE || buf[q] !== LBRACE) return;
    this.sep = Buffer.from(buf.subarray(p, q + 1));
    this.sepComma = comma - p;
  }

  /**
   * The byte loop: from `i`, the index of the first `,` `]` or `}` outside strings at depth 0, or
   * -1 at the end of the chunk with the state saved for the next one. Depth counts both bracket
   * kinds; mismatched pairs are left to JSON.parse.
   */
  private skip(buf: Buffer, i: number): number {
    const n = buf.length;
    let depth = this.depth;
    let inStr = this.inStr;
    if (this.esc) {
      this.esc = false;
      i++;
    }
    while (i < n) {
      const c = buf[i];
      if (inStr) {
        if (c === QUOTE) inStr = false;
        else if (c === BSLASH && ++i === n) this.esc = true;
      } else if (c === QUOTE) inStr = true;
      else if (c === LBRACE || c === LBRACKET) depth++;
      else if (c === RBRACE || c === RBRACKET || c === COMMA) {
        if (depth === 0) {
          this.depth = depth;
          this.inStr = inStr;
          return i;
        }
        if (c !== COMMA) depth--;
      }
      i++;
    }
    this.depth = depth;
    this.inStr = inStr;
    return -1;
  }

  /** JSON.parse of a run of comma-separated values, with the byte offset and expectation on failure. */
  private parse(text: string, at: number): unknown[] {
    try {
      return JSON.parse(`[${text}]`) as unknown[];
    } catch (e) {
      const spot = locateJsonError(text);
      if (!spot) throw this.bad(at, (e as Error).message);
      throw this.bad(at + Buffer.byteLength(text.slice(0, spot.at)), `expected ${spot.expected}, found ${foundChar(text, spot.at)}`);
    }
  }

  private bad(at: number, what: string): TwbError {
    return new TwbError('io', `"${this.opts.name}" is not valid JSON at byte ${at}: ${what}`);
  }

  /**
   * Pending bytes followed by `buf[from, to)`, decoded; pending is kept. The bulk in `buf` is decoded
   * in place rather than copied behind the pending bytes; the cut is put at the first ASCII byte,
   * where no UTF-8 sequence can be split.
   */
  private peekText(buf: Buffer, from: number, to: number): string {
    if (!this.pending.length) return decode(buf.subarray(from, to));
    let k = from;
    while (k < to && buf[k] >= 0x80) k++;
    return decode(Buffer.concat([...this.pending, buf.subarray(from, k)])) + decode(buf.subarray(k, to));
  }

  /** Like peekText, and pending is emptied. */
  private takeText(buf: Buffer, from: number, to: number): string {
    const text = this.peekText(buf, from, to);
    this.clearPending();
    return text;
  }

  private stash(buf: Buffer, from: number): void {
    if (from >= buf.length) return;
    this.pending.push(buf.subarray(from));
    this.pendingBytes += buf.length - from;
  }

  private clearPending(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.checkAt = LONG_EVENT_BYTES;
  }
}

function blank(b: Buffer, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (!isBlank(b[k])) return false;
  return true;
}

function blankText(s: string): boolean {
  return !/[^ \t\r\n]/.test(s);
}

function found(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}
