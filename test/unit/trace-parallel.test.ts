/**
 * The parallel trace import (issue #8 point 7; engine/src/trace/parallel-read.ts): a plain-JSON
 * trace cut into ranges that this thread and worker threads read at once must import to exactly
 * the document one thread makes. Every real trace, unzipped, is imported both ways with small
 * ranges (many cuts, several workers) and compared whole; so are files made to defeat the cutting:
 * a cut-like `},{` inside a string right where a range would end, B/E pairs across a cut, values
 * after the events, a missing `]`, bad JSON in a late range, a cancel halfway.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import type { TraceRun } from '../../engine/src/schema/trace';
import { importTrace, ImportProgress } from '../../engine/src/trace/import';
import { cutIn, ParallelOptions, planRanges, readInParallel } from '../../engine/src/trace/parallel-read';
import type { FromRangeWorker, ToRangeWorker } from '../../engine/src/trace/range-workers';
import { TwbError } from '../../engine/src/util/errors';
import { REALDATA, REPO_ROOT } from './helpers/paths';

const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-trace-parallel-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const now = () => new Date('2026-11-29T12:00:00Z');
const ONE: ParallelOptions = { threads: 1 };
const BUNDLED_WORKER = path.join(REPO_ROOT, 'dist/trace-worker.js');

function traceFiles(d: string): string[] {
  return readdirSync(d).flatMap((f) => {
    const p = path.join(d, f);
    return statSync(p).isDirectory() ? (f === 'not_chrome_trace' ? [] : traceFiles(p)) : [p];
  });
}

/** The file unzipped into the temporary folder (gzip is never read in parallel). */
function plain(file: string): string {
  const buf = readFileSync(file);
  const out = path.join(dir, path.basename(file).replace(/\.gz$/, ''));
  writeFileSync(out, buf[0] === 0x1f ? gunzipSync(buf) : buf);
  return out;
}

/** Ranges of about a twelfth of the file: a dozen cuts, more than the threads, so each thread reads several. */
const small = (file: string, threads: number): ParallelOptions => ({ threads, minBytes: 0, rangeBytes: Math.max(256, Math.ceil(statSync(file).size / 12)) });

async function bothWays(file: string, par: ParallelOptions): Promise<{ one: TraceRun; many: TraceRun }> {
  const one = await importTrace(file, { now, parallel: ONE });
  const many = await importTrace(file, { now, parallel: par });
  return { one, many };
}

const TRACES = path.join(REALDATA, 'traces');
const realTraces = existsSync(TRACES) ? traceFiles(TRACES).sort() : [];

test('every real trace imports in parallel to exactly what one thread imports', { skip: realTraces.length === 0 && 'no realdata' }, async () => {
  const fixtures = [...realTraces, path.join(__dirname, '../fixtures/traces/torch-encoder-cpu.pt.trace.json.gz')];
  /** The one real trace made of B/E events, which is read on one thread. */
  const beginEnd = /tf_trace_viewer_demo_trace/;
  for (const gz of fixtures) {
    const file = plain(gz);
    const name = path.relative(REALDATA, gz);
    for (const threads of [2, 3]) {
      const par = small(file, threads);
      // Each file must really be read in parallel, not fall back quietly.
      const read = await readInParallel(file, statSync(file).size, { parallel: par });
      assert.equal(read === undefined, beginEnd.test(name), `${name} is read in parallel unless it has B/E events`);
      const { one, many } = await bothWays(file, par);
      assert.deepEqual(many, one, `${name}, ${threads} threads`);
    }
  }
});

/** A Kineto-like trace of `n` complete events, with optional extra text per event and around the array. */
function kinetoText(n: number, opts: { name?: (k: number) => string; head?: string; tail?: string; close?: boolean } = {}): string {
  const events = Array.from({ length: n }, (_, k) => {
    const name = opts.name?.(k) ?? `aten::op${k % 7}`;
    return `  {\n    "ph": "X", "cat": "cpu_op", "name": ${JSON.stringify(name)}, "pid": 1, "tid": ${1 + (k % 2)},\n    "ts": ${1000 + k * 10}, "dur": ${5 + (k % 3)}\n  }`;
  });
  return `{\n${opts.head ?? ''}  "traceEvents": [\n${events.join(',\n')}${opts.close === false ? '' : `\n  ]${opts.tail ?? ''}\n}`}`;
}

test('a cut-like "},{" inside a string where a range would end: refuted by the range, the import is still exact', async () => {
  // One line, as JSON.stringify writes it (a line break never sits inside a JSON string, so cuts
  // beside one are safe): every event's name holds the bytes a cut looks for.
  const file = path.join(dir, 'sneaky.json');
  const events = Array.from({ length: 3000 }, (_, k) => ({ ph: 'X', cat: 'cpu_op', name: `q},{q${k % 5}`, pid: 1, tid: 1, ts: 1000 + k * 10, dur: 5 }));
  const text = JSON.stringify({ traceEvents: events });
  writeFileSync(file, text);
  const size = statSync(file).size;
  const par = { threads: 2, minBytes: 0, rangeBytes: Math.ceil(size / 8) };
  const ranges = await planRanges(file, size, par.rangeBytes);
  assert.ok(ranges?.some((r) => text[r.start - 3] === 'q'), 'a cut was proposed inside a name');
  assert.equal(await readInParallel(file, size, { parallel: par }), undefined, 'a cut inside a string is found out, and the read falls back');
  const { one, many } = await bothWays(file, par);
  assert.deepEqual(many, one);
  assert.equal(one.opTypes.reduce((s, o) => s + o.calls, 0), 3000);
});

test('B/E pairs that straddle a cut, values after the events and a missing "]" import as on one thread', async () => {
  const be = path.join(dir, 'begin-end.json');
  const events = Array.from({ length: 2000 }, (_, k) => `{"ph": "${k % 2 ? 'E' : 'B'}", "name": "step", "pid": 1, "tid": 1, "ts": ${k * 10}}`);
  writeFileSync(be, `{"traceEvents": [\n${events.join(',\n')}\n]}`);
  const size = statSync(be).size;
  const par = { threads: 2, minBytes: 0, rangeBytes: Math.ceil(size / 6) };
  assert.equal(await readInParallel(be, size, { parallel: par }), undefined, 'B/E events are read on one thread');
  let { one, many } = await bothWays(be, par);
  assert.deepEqual(many, one);
  assert.equal(one.opTypes[0].calls, 1000);

  const tail = path.join(dir, 'tail.json');
  writeFileSync(tail, kinetoText(4000, { head: '  "schemaVersion": 1,\n', tail: ',\n  "distributedInfo": {"backend": "nccl", "rank": 3, "world_size": 8},\n  "traceName": "t"' }));
  ({ one, many } = await bothWays(tail, small(tail, 2)));
  assert.ok(await readInParallel(tail, statSync(tail).size, { parallel: small(tail, 2) }));
  assert.deepEqual(many, one);
  assert.deepEqual(many.distributed, { rank: 3, worldSize: 8, backend: 'nccl' });

  const cut = path.join(dir, 'cut.json');
  writeFileSync(cut, kinetoText(4000, { close: false }).slice(0, -40));
  ({ one, many } = await bothWays(cut, small(cut, 2)));
  assert.deepEqual(many, one);
  assert.match(one.source.truncated?.detail ?? '', /the 3999 events before it were read/, 'the cut is reported with the events of the whole file');
});

test('bad JSON in a late range fails with the message one thread gives', async () => {
  const file = path.join(dir, 'bad.json');
  const text = kinetoText(4000);
  const at = text.lastIndexOf('"dur"');
  writeFileSync(file, `${text.slice(0, at)}"dur": 5,, ${text.slice(at)}`);
  const message = async (par: ParallelOptions) => {
    try {
      await importTrace(file, { parallel: par });
    } catch (e) {
      assert.ok(e instanceof TwbError);
      return e.message;
    }
    assert.fail('bad JSON imported');
  };
  const one = await message(ONE);
  assert.match(one, /is not valid JSON at byte \d+/);
  assert.equal(await message(small(file, 2)), one);
});

test('progress of a parallel import reaches the file size; a cancel stops it with "cancelled"', async () => {
  const file = path.join(dir, 'progress.json');
  writeFileSync(file, kinetoText(20000));
  const size = statSync(file).size;
  const seen: ImportProgress[] = [];
  await importTrace(file, { parallel: small(file, 2), onProgress: (p) => seen.push(p) });
  assert.ok(seen.length > 1);
  assert.ok(seen.every((p) => p.fileBytes === size && p.bytesRead <= size));
  assert.equal(seen[seen.length - 1].bytesRead, size);

  const ac = new AbortController();
  const cancelled = importTrace(file, { parallel: small(file, 2), signal: ac.signal, onProgress: () => ac.abort() });
  await assert.rejects(cancelled, (e: unknown) => e instanceof TwbError && e.code === 'cancelled');
});

test('the bundled worker script reads a range (the CLI and the engine server load it from dist/)', { skip: !existsSync(BUNDLED_WORKER) && 'dist/ not built' }, async () => {
  const file = path.join(dir, 'bundled.json');
  writeFileSync(file, kinetoText(500));
  const ranges = (await planRanges(file, statSync(file).size, 4096))!;
  const w = new Worker(BUNDLED_WORKER);
  try {
    const answer = await new Promise<FromRangeWorker>((resolve, reject) => {
      w.on('message', (m: FromRangeWorker) => m.type !== 'progress' && resolve(m));
      w.on('error', reject);
      w.postMessage({ file, range: ranges[1] } satisfies ToRangeWorker);
    });
    assert.equal(answer.type, 'done');
    assert.ok(answer.type === 'done' && answer.summary.events > 0 && answer.part.events === answer.summary.events);
  } finally {
    await w.terminate();
  }
});

test('cutIn finds the comma between two objects, and only there', () => {
  assert.equal(cutIn(Buffer.from('"a": 1},\n  {"b"')), 7);
  assert.equal(cutIn(Buffer.from('1, 2, [3], {"x": 1} ,\t{')), 20);
  assert.equal(cutIn(Buffer.from('}, 1, {')), -1);
  assert.equal(cutIn(Buffer.from('},')), -1);
  // Events on lines of their own win over objects nested on one line (ONNX Runtime's args).
  assert.equal(cutIn(Buffer.from('"s": [{"a": 1},{"b": 2}]}},\n{"cat"')), 26);
});
