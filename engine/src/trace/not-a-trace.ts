/**
 * Recognising files that are not chrome/Kineto traces and saying, in one line, what they look like
 * instead. The scanner asks as early as it can decide (first bytes, first top-level key, first array
 * element), so a 1 GB non-trace is rejected after its first chunk rather than read to the end.
 */
import { TwbError } from '../util/errors';

/** How many top-level keys a message lists before it elides the rest. */
const KEYS_SHOWN = 8;

/** The error for a file that is not a trace; `what` completes "…is not a trace: ". */
export function notATrace(name: string, what: string): TwbError {
  return new TwbError('io', `"${name}" is not a trace: ${what}`);
}

/**
 * PyTorch's execution trace (`ExecutionTraceObserver`) is a JSON object with a top-level `nodes`
 * list; Kineto writes the trace users want next to it.
 */
export const EXECUTION_TRACE =
  'it is a PyTorch execution trace (a top-level "nodes" list of graph nodes); open the Kineto trace (*.pt.trace.json) recorded alongside it';

/** A top-level key that settles the matter on its own, or undefined to keep reading. */
export function describeKey(key: string): string | undefined {
  return key === 'nodes' ? EXECUTION_TRACE : undefined;
}

/** A complete top-level object that never had `traceEvents`. */
export function describeObject(keys: readonly string[]): string {
  if (keys.length === 0) return 'it is an empty JSON object (a trace has a "traceEvents" array)';
  return `it is a JSON object without a "traceEvents" array (top-level keys: ${listKeys(keys)})`;
}

/** A file that ends inside its top-level object before any `traceEvents` key. */
export function describeCutObject(keys: readonly string[], atByte: number): string {
  const seen = keys.length ? ` (top-level keys read: ${listKeys(keys)})` : '';
  return `the file ends at byte ${atByte}, inside a JSON object, before any "traceEvents" array${seen}`;
}

/** `traceEvents` holds something other than an array; `firstByte` is its value's first byte. */
export function describeEventsValue(firstByte: number): string {
  return `its "traceEvents" is ${jsonKind(firstByte)}, not an array of events`;
}

/**
 * The first element of the events array (top-level array, or `traceEvents`) decides whether the
 * elements are trace events. Returns undefined for an event object.
 */
export function describeFirstElement(el: unknown, container: 'object' | 'array'): string | undefined {
  if (el !== null && typeof el === 'object' && !Array.isArray(el)) return undefined;
  if (container === 'array' && Array.isArray(el) && el.length > 0 && el.every((x) => typeof x === 'number')) {
    return `it is a memory-timeline export (rows of [time, action, bytes, category] such as ${JSON.stringify(el)}, written by torch.profiler's export_memory_timeline); open the Kineto trace (*.pt.trace.json) of the same run`;
  }
  const what = Array.isArray(el) ? 'arrays' : el === null ? 'nulls' : `${typeof el}s`;
  return container === 'array' ? `it is a JSON array of ${what}, not of trace event objects` : `its "traceEvents" array holds ${what}, not event objects`;
}

/** What a top-level JSON value starting with `b` is, as a noun phrase. */
function jsonKind(b: number): string {
  if (b === 0x22) return 'a string';
  if (b === 0x2d || (b >= 0x30 && b <= 0x39)) return 'a number';
  if (b === 0x74 || b === 0x66) return 'a boolean';
  if (b === 0x6e) return 'null';
  if (b === 0x7b) return 'an object';
  return 'not JSON';
}

/** Magic numbers of files people open by mistake, with what to call them. */
const MAGIC: { bytes: number[]; what: string }[] = [
  { bytes: [0x50, 0x4b, 0x03, 0x04], what: 'a zip archive (a PyTorch checkpoint saved with torch.save?)' },
  { bytes: [0x1f, 0x8b], what: 'gzip data inside gzip (the file was compressed twice)' },
  { bytes: [0x53, 0x51, 0x4c, 0x69, 0x74, 0x65, 0x20, 0x66], what: 'an SQLite database (an Nsight Systems export?)' },
  { bytes: [0x89, 0x48, 0x44, 0x46], what: 'an HDF5 file' },
  { bytes: [0xff, 0xfe], what: 'UTF-16 text; save the trace as UTF-8' },
  { bytes: [0xfe, 0xff], what: 'UTF-16 text; save the trace as UTF-8' },
];

/**
 * A file whose first non-blank byte cannot start a trace. `head` is its first bytes (up to 64,
 * blanks included); a protobuf message (ONNX model, TensorFlow xplane) starts with field 1 as a
 * varint, byte 0x08.
 */
export function describeBytes(head: Uint8Array): string {
  if (head.length === 0) return 'the file is empty';
  let i = 0;
  while (i < head.length && isBlank(head[i])) i++;
  if (i === head.length) return 'the file holds only blanks';
  for (const m of MAGIC) if (m.bytes.every((b, k) => head[i + k] === b)) return `it is ${m.what}`;
  if (head[i] === 0x08) return 'it is binary data that looks like a protobuf message, such as an ONNX model, not JSON';
  if (head[i] === 0x80 && head[i + 1] >= 2 && head[i + 1] <= 5) return 'it is a Python pickle, not JSON';
  const text = Buffer.from(head.subarray(i)).toString('utf8');
  const literal = /^(true|false|null)\b/.exec(text);
  if (literal) return `it is the single JSON value ${literal[1]}, not an object or array`;
  const kind = jsonKind(head[i]);
  if (kind === 'a string' || kind === 'a number') return `it is a single JSON value (${kind}), not an object or array`;
  const printable = [...head.subarray(i)].filter((b) => b >= 0x20 || b === 0x09 || b === 0x0a || b === 0x0d).length;
  if (printable >= 0.9 * (head.length - i)) return `it is text that is not JSON (it starts with ${JSON.stringify(text.split(/\r?\n/)[0].slice(0, 40))})`;
  const hex = [...head.subarray(i, i + 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return `it is binary data, not JSON (it starts with bytes ${hex})`;
}

/** JSON's four blanks; the UTF-8 byte-order mark is skipped separately by the scanner. */
export function isBlank(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function listKeys(keys: readonly string[]): string {
  const shown = keys.slice(0, KEYS_SHOWN).map((k) => JSON.stringify(k));
  return keys.length > KEYS_SHOWN ? `${shown.join(', ')}, …` : shown.join(', ');
}
