/**
 * The streaming trace reader (issue #8 point 2): every real trace reads with the events and top-level
 * values plain JSON.parse finds (or is rejected saying what it is instead), the scanner gives the
 * same result however the text is cut into chunks, and cut-off, corrupt, cancelled, mis-named and
 * non-trace files behave as documented.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { locateJsonError } from '../../engine/src/trace/json-error';
import { ScanSummary, TraceScanner } from '../../engine/src/trace/json-scan';
import { readTraceEvents, TraceReadOptions, TraceReadResult } from '../../engine/src/trace/read-trace';
import { TwbError } from '../../engine/src/util/errors';
import { REALDATA } from './helpers/paths';

const TRACES = path.join(REALDATA, 'traces');
const NCCL = path.join(TRACES, 'hta/nccl_a100_rank0_nccl_data.json.gz');
const BIG = path.join(TRACES, 'hta/memory_events_v100_nccl_rank1_df_index_resolver.json.gz');
const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-trace-stream-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** What the real files must do besides reading: the two that are not chrome traces. */
const REJECTED: Record<string, RegExp> = {
  'hta/not_chrome_trace/simple_add_execution_trace_et.json.gz': /is not a trace: it is a PyTorch execution trace \(a top-level "nodes" list.*\); open the Kineto trace \(\*\.pt\.trace\.json\) recorded alongside it$/,
  'hta/not_chrome_trace/memory_timeline.raw.gz': /is not a trace: it is a memory-timeline export \(rows of \[time, action, bytes, category\] such as \[-1,1,37888,7\].*\); open the Kineto trace/,
};

function traceFiles(d: string): string[] {
  return readdirSync(d).flatMap((f) => {
    const p = path.join(d, f);
    return statSync(p).isDirectory() ? traceFiles(p) : [p];
  });
}
const files = existsSync(TRACES) ? traceFiles(TRACES).sort() : [];

/** The file's JSON text, gunzipped by its magic bytes. */
function jsonText(file: string): Buffer {
  const raw = readFileSync(file);
  return raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
}

interface Read {
  events: unknown[];
  meta: [string, unknown][];
  batches: number;
  result: TraceReadResult;
}

async function read(file: string, opts: Partial<TraceReadOptions> = {}): Promise<Read> {
  const events: unknown[] = [];
  const meta: [string, unknown][] = [];
  let batches = 0;
  const result = await readTraceEvents(file, {
    onEvents: (b) => {
      batches++;
      for (const e of b) events.push(e);
    },
    onMeta: (k, v) => meta.push([k, v]),
    ...opts,
  });
  return { events, meta, batches, result };
}

/** Runs the scanner over `text` cut at the given offsets. */
function scan(text: Buffer, cuts: number[], maxMetaBytes?: number): { events: unknown[]; meta: [string, unknown][]; summary: ScanSummary } {
  const events: unknown[] = [];
  const meta: [string, unknown][] = [];
  const s = new TraceScanner({ onEvents: (b) => events.push(...b), onMeta: (k, v) => meta.push([k, v]) }, { name: 'test.json', maxMetaBytes });
  let at = 0;
  for (const c of [...cuts, text.length]) {
    s.push(text.subarray(at, c));
    at = c;
  }
  return { events, meta, summary: s.end() };
}

async function rejection(p: Promise<unknown>): Promise<TwbError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof TwbError, `expected a TwbError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a rejection');
}

test('the real traces are there', () => {
  assert.ok(files.length >= 12, `expected the shared/realdata traces beside the checkout, found ${files.length} in ${TRACES}`);
});

for (const file of files) {
  const rel = path.relative(TRACES, file).split(path.sep).join('/');
  test(`reads ${rel} as JSON.parse does`, async () => {
    if (REJECTED[rel]) {
      let delivered = 0;
      const err = await rejection(readTraceEvents(file, { onEvents: (b) => (delivered += b.length) }));
      assert.equal(err.code, 'io');
      assert.match(err.message, REJECTED[rel]);
      assert.ok(!err.message.includes('\n'), 'one line');
      assert.equal(delivered, 0, 'nothing reaches the consumer');
      return;
    }
    const text = jsonText(file);
    const json = JSON.parse(text.toString('utf8')) as Record<string, unknown>;
    const expected = json.traceEvents as unknown[];
    const got = await read(file);
    assert.equal(got.result.events, expected.length);
    assert.equal(got.events.length, expected.length);
    // Every event of the small files, a sample of the big ones (deepEqual of 200k events is slow).
    const stride = expected.length > 5000 ? 997 : 1;
    for (let k = 0; k < expected.length; k += stride) assert.deepEqual(got.events[k], expected[k], `event ${k}`);
    assert.deepEqual(got.events[expected.length - 1], expected[expected.length - 1]);
    const metaKeys = Object.keys(json).filter((k) => k !== 'traceEvents');
    assert.deepEqual(got.meta.map(([k]) => k), metaKeys);
    for (const [k, v] of got.meta) assert.deepEqual(v, json[k], `top-level ${k}`);
    assert.equal(got.result.container, 'object');
    assert.equal(got.result.gzip, file.endsWith('.gz'));
    assert.equal(got.result.fileBytes, statSync(file).size);
    assert.equal(got.result.jsonBytes, text.length);
    assert.equal(got.result.truncated, undefined);
    assert.deepEqual(got.result.warnings, []);
  });
}

test('the top-level values arrive with their keys, e.g. the distributed info of the HTA NCCL trace', async () => {
  const got = await read(NCCL);
  const meta = new Map(got.meta);
  assert.deepEqual(meta.get('distributedInfo'), JSON.parse(jsonText(NCCL).toString('utf8')).distributedInfo);
  assert.equal((meta.get('distributedInfo') as { backend: string }).backend, 'nccl');
  assert.equal((meta.get('distributedInfo') as { rank: number }).rank, 0);
  assert.equal((meta.get('distributedInfo') as { world_size: number }).world_size, 2);
  assert.equal(meta.get('schemaVersion'), 1);
  assert.ok(got.batches > 5, `a 9 MiB trace comes in batches, got ${got.batches}`);
});

/** Events with everything that can confuse a byte scanner, in Kineto's layout and minified. */
const TRICKY_EVENTS = [
  { ph: 'X', cat: 'cpu_op', name: 'say "hi" \\ }] ,{', pid: 1, tid: '7', ts: 1.5, dur: 2 },
  { ph: 'X', name: 'µs → 🚀 emoji', args: { 'Input Dims': [[1, 2], [3]], nested: { list: [{ a: [1, { b: ']' }] }, { c: '}' }] } } },
  { ph: 'i', name: 'path C:\\dir\\', s: 'g', ts: 1669783687464181 },
  { ph: 'X', name: '},{ and },\n  { in a string', args: { x: '\\"' } },
  { ph: 'M', name: 'thread_name', args: { name: 'ÄÖÜ\u00e9\u4e2d\u6587' } },
  { ph: 'X', name: 'ab', args: { empty: {}, none: [], n: null, t: true, f: false, e: -1.5e-7 } },
];
const kinetoLayout = (events: unknown[], indent: string) => indent + events.map((e) => JSON.stringify(e)).join(`,\n${indent}`);
const TRICKY_OBJECT = Buffer.from(
  `{\n  "schemaVersion": 1,\n  "distributedInfo": {"backend": "nccl", "rank": 1, "world_size": 2},\n  "traceEvents": [\n${kinetoLayout([...TRICKY_EVENTS, ...TRICKY_EVENTS], '  ')}\n  ],\n  "deviceProperties": [\n  {"id": 0},\n  {"id": 1, "name": "]},{"}\n  ],\n  "traceName": "x\\"y"\n}\n`,
);
const TRICKY_MINIFIED = Buffer.from(JSON.stringify({ traceEvents: [...TRICKY_EVENTS, ...TRICKY_EVENTS, ...TRICKY_EVENTS], displayTimeUnit: 'ns' }));
const TRICKY_ARRAY = Buffer.from(`[\n${kinetoLayout([...TRICKY_EVENTS, ...TRICKY_EVENTS], '')}\n]\n`);

for (const [label, text] of [
  ['an indented object trace', TRICKY_OBJECT],
  ['a minified object trace', TRICKY_MINIFIED],
  ['an array trace (ONNX Runtime layout)', TRICKY_ARRAY],
] as const) {
  test(`the scanner gives the same events cut at every offset of ${label}`, () => {
    const json = JSON.parse(text.toString('utf8')) as unknown;
    const expectedEvents = Array.isArray(json) ? json : (json as { traceEvents: unknown[] }).traceEvents;
    const expectedMeta = Array.isArray(json) ? [] : Object.entries(json as object).filter(([k]) => k !== 'traceEvents');
    const totals = { fastBatches: 0, scannedBatches: 0, failedTrials: 0 };
    const check = (cuts: number[]) => {
      const got = scan(text, cuts);
      assert.deepEqual(got.events, expectedEvents, `cut at ${cuts.join(',')}`);
      assert.deepEqual(got.meta, expectedMeta, `cut at ${cuts.join(',')}`);
      assert.equal(got.summary.events, expectedEvents.length);
      assert.equal(got.summary.truncated, undefined);
      assert.equal(got.summary.container, Array.isArray(json) ? 'array' : 'object');
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += got.summary.stats[k];
    };
    for (let cut = 0; cut <= text.length; cut++) check([cut]);
    for (const size of [1, 2, 3, 5, 7, 64]) check(Array.from({ length: Math.ceil(text.length / size) - 1 }, (_, k) => (k + 1) * size));
    // Both ways of finding batches ran: the separator shortcut, and the byte loop after a failed shortcut.
    assert.ok(totals.fastBatches > 0, 'the separator shortcut was used');
    assert.ok(totals.scannedBatches > 0, 'the byte loop was used');
    if (text !== TRICKY_ARRAY) assert.ok(totals.failedTrials > 0, 'a separator inside a string or after the events made JSON.parse refuse a shortcut');
  });
}

test('a cut inside an event delivers the events before it and says where the cut is', async () => {
  const events = Array.from({ length: 20 }, (_, k) => ({ ph: 'X', name: `op ${k} µs`, ts: k * 10, dur: 5, args: { k } }));
  const head = '{"schemaVersion": 1, "traceEvents": [\n';
  const texts = events.map((e) => JSON.stringify(e));
  const startOf = (k: number) => Buffer.byteLength(head + texts.slice(0, k).map((t) => `${t},\n`).join(''));
  const full = `${head}${texts.join(',\n')}\n]}`;
  for (const k of [0, 1, 7, 19]) {
    const cutAt = startOf(k) + 9;
    const file = path.join(dir, `cut-${k}.json`);
    writeFileSync(file, Buffer.from(full).subarray(0, cutAt));
    const got = await read(file);
    assert.deepEqual(got.events, events.slice(0, k));
    assert.deepEqual(got.result.truncated, { atByte: startOf(k), detail: `the file ends at byte ${cutAt}, inside the event that starts at byte ${startOf(k)}; the ${k} events before it were read` });
  }
  // A clean cut after a comma (a trace whose writer stopped): every event, and the missing `]` noted.
  const clean = path.join(dir, 'cut-clean.json');
  writeFileSync(clean, Buffer.from(full).subarray(0, startOf(12)));
  const got = await read(clean);
  assert.deepEqual(got.events, events.slice(0, 12));
  assert.match(got.result.truncated?.detail ?? '', /ends after 12 events without closing the events array/);
  // The same for an unfinished array without the comma: the last, complete event counts.
  writeFileSync(clean, `[${texts.slice(0, 3).join(',')}`);
  assert.deepEqual((await read(clean)).events, events.slice(0, 3));
});

test('a gzip file cut in the middle reads as a truncated trace, not an error', async () => {
  const gz = readFileSync(NCCL);
  const file = path.join(dir, 'cut.json.gz');
  writeFileSync(file, gz.subarray(0, Math.floor(gz.length * 0.6)));
  const expected = (JSON.parse(jsonText(NCCL).toString('utf8')) as { traceEvents: unknown[] }).traceEvents;
  const got = await read(file);
  assert.ok(got.result.truncated, 'truncated is set');
  assert.ok(got.events.length > expected.length * 0.4 && got.events.length < expected.length, `${got.events.length} of ${expected.length} events`);
  assert.deepEqual(got.events[got.events.length - 1], expected[got.events.length - 1], 'the events read are the first ones of the trace');
  assert.ok(got.result.jsonBytes - got.result.truncated.atByte < 4096, 'the cut is inside the last event');
});

test('a corrupt byte is reported with its offset and what was expected there', async () => {
  const text = Buffer.from(jsonText(NCCL));
  const at = text.indexOf('"ph": "X"', Math.floor(text.length * 0.55)) + 4;
  assert.equal(text[at], 0x3a);
  text[at] = 0x3b; // ':' → ';'
  const file = path.join(dir, 'corrupt.json');
  writeFileSync(file, text);
  const err = await rejection(read(file));
  assert.equal(err.code, 'io');
  assert.equal(err.message, `"${file}" is not valid JSON at byte ${at}: expected ':' after the property name, found ';'`);
  // A stray quote flips which bytes are "inside strings" for the rest of the file.
  const quoted = Buffer.from(jsonText(NCCL));
  const q = quoted.indexOf('"cat"', Math.floor(quoted.length * 0.3));
  quoted[q + 4] = 0x61; // "cat" → "cata  (the key's closing quote is gone)
  writeFileSync(file, quoted);
  const err2 = await rejection(read(file));
  const byte = Number(/at byte (\d+):/.exec(err2.message)?.[1]);
  assert.ok(byte > q && byte < q + 100, `reported at ${byte}, damage at ${q}: ${err2.message}`);
});

test('locateJsonError finds the first error and says what was expected', () => {
  const cases: [string, number, RegExp][] = [
    ['{"a":x}', 5, /a value/],
    ['{"a":1}}', 7, /',' between values/],
    ['{"a":1},,{}', 8, /a value/],
    ['{"a":tru}', 5, /a value/],
    ['{"a":"\\q"}', 7, /after a backslash/],
    ['{"a":1]', 6, /',' or '}' after a property value/],
    ['[1 2]', 3, /',' or ']' after an array element/],
    ['{"µ" 1}', 5, /':' after the property name/],
    ['{"a":"b\nc"}', 7, /escaped control character/],
  ];
  for (const [text, at, expected] of cases) {
    const spot = locateJsonError(text);
    assert.ok(spot, text);
    assert.equal(spot.at, at, text);
    assert.match(spot.expected, expected, text);
  }
  assert.equal(locateJsonError('{"a":[1,{"b":"]}"}]},\n [true, null, -0.5e+3, "\\u00b5"]'), undefined);
});

test('cancelling mid-file stops reading, rejects with the cancellation error and closes the file', async () => {
  const ac = new AbortController();
  let delivered = 0;
  const err = await rejection(
    readTraceEvents(BIG, {
      onEvents: (b) => {
        delivered += b.length;
        if (delivered > 20000) ac.abort();
      },
      signal: ac.signal,
    }),
  );
  assert.equal(err.code, 'cancelled');
  assert.match(err.message, /reading the trace ".*memory_events.*" was cancelled/);
  assert.ok(delivered < 216092 / 2, `stopped early (${delivered} events delivered)`);
  // Linux lists the open descriptors in /proc; elsewhere this check is skipped.
  const open = (existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd') : []).map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return '';
    }
  });
  assert.ok(!open.includes(BIG), 'the trace file is closed');
  const before = new AbortController();
  before.abort();
  assert.equal((await rejection(readTraceEvents(BIG, { onEvents: () => {}, signal: before.signal }))).code, 'cancelled');
});

test('gzip is recognised by its magic bytes, not by the name', async () => {
  const disguised = path.join(dir, 'trace.json');
  copyFileSync(path.join(TRACES, 'hta/simple_add_kineto_trace.json.gz'), disguised);
  const got = await read(disguised);
  assert.equal(got.result.gzip, true);
  assert.equal(got.events.length, 111);
  const plain = path.join(dir, 'plain.json.gz');
  copyFileSync(path.join(TRACES, 'tensorflow_profiler/tf_trace_viewer_demo_trace.json'), plain);
  const got2 = await read(plain);
  assert.equal(got2.result.gzip, false);
  assert.equal(got2.events.length, 37);
});

test('progress is reported in compressed bytes, at most about every 1%', async () => {
  const seen: { bytesRead: number; fileBytes: number }[] = [];
  const got = await read(BIG, { onProgress: (p) => seen.push(p) });
  const size = statSync(BIG).size;
  assert.ok(seen.length >= 10 && seen.length <= 101, `${seen.length} progress calls`);
  assert.deepEqual(seen[seen.length - 1], { bytesRead: size, fileBytes: size });
  for (let k = 1; k < seen.length; k++) assert.ok(seen[k].bytesRead > seen[k - 1].bytesRead);
  assert.ok(got.result.jsonBytes > 15 * size, 'the events came from the inflated JSON');
});

test('files that are not traces are rejected saying what they look like', async () => {
  const cases: [string, string | Buffer, RegExp][] = [
    ['keys.json', '{"a": 1, "b": [1, 2], "c": {"d": 2}}', /is not a trace: it is a JSON object without a "traceEvents" array \(top-level keys: "a", "b", "c"\)$/],
    ['strings.json', '["a", "b"]', /is not a trace: it is a JSON array of strings, not of trace event objects$/],
    ['nested.json', '[[["x"]]]', /it is a JSON array of arrays/],
    ['number.json', ' 42\n', /it is a single JSON value \(a number\), not an object or array$/],
    ['true.json', 'true', /it is the single JSON value true/],
    ['empty.json', '', /is not a trace: the file is empty$/],
    ['blank.json', ' \n\t ', /the file holds only blanks$/],
    ['model.onnx', Buffer.from([0x08, 0x07, 0x12, 0x07, 0x70, 0x79, 0x74, 0x6f, 0x72, 0x63, 0x68, 0x1a, 0x03]), /it is binary data that looks like a protobuf message, such as an ONNX model/],
    ['ckpt.pt', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 8, 0]), /it is a zip archive/],
    ['notes.txt', 'hello, this is a trace?\nno', /it is text that is not JSON \(it starts with "hello, this is a trace\?"\)$/],
    ['events-string.json', '{"traceEvents": "none"}', /its "traceEvents" is a string, not an array of events$/],
    ['events-numbers.json', '{"traceEvents": [1, 2]}', /its "traceEvents" array holds numbers, not event objects$/],
    ['cut-object.json', '{"schemaVersion": 1, "devicePro', /the file ends at byte 31, inside a JSON object, before any "traceEvents" array \(top-level keys read: "schemaVersion"\)$/],
  ];
  for (const [name, content, message] of cases) {
    const file = path.join(dir, name);
    writeFileSync(file, content);
    const err = await rejection(read(file));
    assert.equal(err.code, 'io', name);
    assert.match(err.message, message, name);
    assert.ok(err.message.startsWith(`"${file}"`), `${name}: the message names the file`);
  }
  const missing = await rejection(read(path.join(dir, 'nope.json')));
  assert.match(missing.message, /cannot read the trace ".*nope\.json": no such file/);
  assert.match((await rejection(read(dir))).message, /is a folder, not a trace file/);
});

test('a big non-trace array is rejected from its first element, without reading it all', async () => {
  const file = path.join(dir, 'timeline.json');
  const row = '[12345, 1, 4096, 7], ';
  writeFileSync(file, `[${row.repeat(Math.ceil((20 << 20) / row.length))}[0, 0, 0, 0]]`);
  const progress: number[] = [];
  const err = await rejection(read(file, { onProgress: (p) => progress.push(p.bytesRead) }));
  assert.match(err.message, /memory-timeline export/);
  assert.deepEqual(progress, [], 'rejected within the first chunk (reading on would report progress every 1%)');
});

test('lenient where chrome://tracing is: BOM, trailing comma, empty events, array form', () => {
  const bom = scan(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"traceEvents": [{"ph": "X"}]}')]), [1, 2]);
  assert.deepEqual(bom.events, [{ ph: 'X' }]);
  const trailing = scan(Buffer.from('{"traceEvents": [{"a": 1}, {"b": 2},\n ], "x": 1}'), [25]);
  assert.deepEqual(trailing.events, [{ a: 1 }, { b: 2 }]);
  assert.deepEqual(trailing.meta, [['x', 1]]);
  const none = scan(Buffer.from('{"traceEvents": [], "displayTimeUnit": "ms"}'), []);
  assert.equal(none.summary.events, 0);
  assert.deepEqual(none.summary.warnings, ['the trace holds no events']);
  const arr = scan(Buffer.from('[{"cat" : "Session","name" :"model_run"},\n{"cat" : "Node"}\n]\n'), [3]);
  assert.equal(arr.summary.container, 'array');
  assert.equal(arr.events.length, 2);
  assert.throws(() => scan(Buffer.from('{"traceEvents": [{"a": 1}]} x'), []), /not valid JSON at byte 28: unexpected 'x' after the end of the top-level JSON value/);
  assert.throws(() => scan(Buffer.from('{"traceEvents": [{"a": 1}}]}'), []), /not valid JSON at byte 25: expected ',' or '\]' after an event, found '\}'/);
});

test('a top-level value larger than maxMetaBytes is skipped with a warning, the rest is kept', () => {
  const text = Buffer.from(`{"stackFrames": {"1": {"name": "${'f'.repeat(500)}"}}, "traceEvents": [{"ph": "X"}], "traceName": "t"}`);
  const got = scan(text, [100, 200, 300], 256);
  assert.deepEqual(got.meta, [['traceName', 't']]);
  assert.deepEqual(got.summary.warnings, ['skipped the top-level "stackFrames": its value is larger than 256 bytes (maxMetaBytes)']);
  assert.equal(got.events.length, 1);
});

test('damaged gzip data is an io error; an error thrown by the consumer comes back unchanged', async () => {
  const gz = Buffer.from(readFileSync(NCCL));
  for (let k = 0; k < 64; k++) gz[Math.floor(gz.length / 2) + k] ^= 0x5a;
  const file = path.join(dir, 'damaged.json.gz');
  writeFileSync(file, gz);
  const err = await rejection(read(file));
  assert.equal(err.code, 'io');
  assert.match(err.message, /^".*damaged\.json\.gz" is not (valid gzip data \(.+\); the file is corrupt|valid JSON at byte \d+)/);
  const bug = new RangeError('consumer bug');
  await assert.rejects(
    readTraceEvents(NCCL, {
      onEvents: () => {
        throw bug;
      },
    }),
    (e) => e === bug,
  );
});
