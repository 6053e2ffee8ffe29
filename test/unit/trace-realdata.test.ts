/**
 * Every trace in ../shared/realdata/traces imports, or is rejected saying what it is instead (issue
 * #8 point 8), and the figures of each import match what this test computes on its own from the
 * parsed JSON: event and kernel counts, devices, distributed info, steps, memory peak. On two real
 * traces the per-op self times and the launching op of kernels are recomputed here by simple,
 * independent means (integer nanoseconds, a walk up the ancestors; a linear search for the launcher).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { TraceRun } from '../../engine/src/schema/trace';
import { validateTraceRun } from '../../engine/src/schema/validate-trace';
import { importTrace } from '../../engine/src/trace/import';
import { TwbError } from '../../engine/src/util/errors';
import { REALDATA } from './helpers/paths';

const TRACES = path.join(REALDATA, 'traces');
type Ev = { ph?: string; cat?: string; name?: string; ts?: number; dur?: number; pid?: unknown; tid?: unknown; args?: Record<string, unknown> };
interface Parsed {
  events: Ev[];
  meta: Record<string, unknown>;
}

function parse(file: string): Parsed {
  const buf = readFileSync(file);
  const doc = JSON.parse((buf[0] === 0x1f ? gunzipSync(buf) : buf).toString('utf8'));
  if (Array.isArray(doc)) return { events: doc, meta: {} };
  const { traceEvents, ...meta } = doc;
  return { events: traceEvents, meta };
}

function listTraces(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const full = path.join(dir, f);
    return statSync(full).isDirectory() ? listTraces(full) : [full];
  });
}

const HOST_CATS = new Set(['cpu_op', 'Operator', 'user_annotation', 'cuda_runtime', 'Runtime', 'cuda_driver']);
const HIDDEN = new Set(['profiler::_record_function_enter', 'profiler::_record_function_enter_new', 'profiler::_record_function_exit', 'aten::is_leaf', 'aten::output_nr', 'aten::_version']);
const countCat = (p: Parsed, cats: string[]) => p.events.filter((e) => e.ph === 'X' && cats.includes(e.cat ?? '')).length;
const byCategory = (r: TraceRun, cats: string[]) => r.kernels.filter((k) => cats.includes(k.category)).reduce((s, k) => s + k.calls, 0);

/** Peak of the device the importer reports: Total Allocated where given, else the running sum of Bytes (lifted to ≥ 0). */
function memoryPeaks(p: Parsed): Map<string, number> {
  const series = new Map<string, Array<{ ts: number; bytes: number; total?: number }>>();
  for (const e of p.events) {
    if (e.name !== '[memory]') continue;
    const a = e.args!;
    const key = a['Device Type'] === 0 ? 'cpu' : `${a['Device Type'] === 1 ? 'cuda' : `type${a['Device Type']}`}:${a['Device Id']}`;
    if (!series.has(key)) series.set(key, []);
    series.get(key)!.push({ ts: e.ts!, bytes: a.Bytes as number, total: a['Total Allocated'] as number | undefined });
  }
  const peaks = new Map<string, number>();
  for (const [key, list] of series) {
    list.sort((a, b) => a.ts - b.ts);
    if (list.some((x) => x.total !== undefined)) peaks.set(key, Math.max(...list.map((x) => x.total ?? -Infinity)));
    else {
      let sum = 0;
      let lo = 0;
      let hi = 0;
      for (const x of list) {
        sum += x.bytes;
        lo = Math.min(lo, sum);
        hi = Math.max(hi, sum);
      }
      peaks.set(key, hi - lo);
    }
  }
  return peaks;
}

const imported = new Map<string, Promise<TraceRun>>();
const load = (file: string) => {
  if (!imported.has(file)) imported.set(file, importTrace(file).then((r) => validateTraceRun(JSON.parse(JSON.stringify(r)))));
  return imported.get(file)!;
};

test('every realdata trace imports with figures that match the JSON, or is rejected saying what it is', async () => {
  const files = listTraces(TRACES);
  assert.ok(files.length >= 12, `expected the realdata traces beside the checkout, found ${files.length} in ${TRACES}`);
  for (const file of files) {
    const rel = path.relative(TRACES, file);
    if (rel.includes('not_chrome_trace')) {
      const expected = rel.includes('execution_trace') ? /is not a trace: it is a PyTorch execution trace/ : /is not a trace: it is a memory-timeline export/;
      await assert.rejects(importTrace(file), (e: unknown) => e instanceof TwbError && e.code === 'io' && expected.test(e.message) && !e.message.includes('\n'), rel);
      continue;
    }
    const run = await load(file);
    const p = parse(file);
    assert.equal(run.source.events, p.events.length, `${rel}: events`);
    assert.equal(run.source.format, rel.startsWith('tensorflow') ? 'chrome' : 'kineto', `${rel}: format`);
    assert.equal(run.source.gzip, file.endsWith('.gz'), `${rel}: gzip`);
    assert.equal(byCategory(run, ['compute', 'communication']), countCat(p, ['kernel', 'Kernel']), `${rel}: kernels`);
    assert.equal(byCategory(run, ['memcpy']), countCat(p, ['gpu_memcpy', 'Memcpy']), `${rel}: memcpy`);
    assert.equal(byCategory(run, ['memset']), countCat(p, ['gpu_memset', 'Memset']), `${rel}: memset`);
    const hostEvents = p.events.filter((e) => e.ph === 'X' && HOST_CATS.has(e.cat ?? '') && !HIDDEN.has(e.name ?? '')).length;
    if (!rel.startsWith('tensorflow')) assert.equal(run.opTypes.reduce((s, o) => s + o.calls, 0), hostEvents, `${rel}: host events`);
    const steps = p.events.filter((e) => e.ph === 'X' && e.cat !== 'gpu_user_annotation' && /^ProfilerStep#\d+$/.test(e.name ?? '')).length;
    assert.equal(run.steps.length, steps, `${rel}: steps`);
    const devices = (p.meta.deviceProperties as Array<{ name: string }> | undefined) ?? [];
    assert.deepEqual(run.meta.devices.map((d) => d.name), devices.map((d) => d.name), `${rel}: devices`);
    const info = p.meta.distributedInfo as { rank: number; world_size?: number; backend?: string } | undefined;
    assert.deepEqual(run.distributed, info ? { rank: info.rank, worldSize: info.world_size ?? null, backend: info.backend ?? null } : undefined, `${rel}: distributed`);
    const peaks = memoryPeaks(p);
    if (peaks.size === 0) assert.equal(run.memory, undefined, `${rel}: no memory events`);
    else {
      assert.deepEqual(new Map(run.memory!.devices.map((d) => [d.device, d.peakBytes])), peaks, `${rel}: memory peaks`);
      assert.equal(run.memory!.peakBytes, Math.max(...[...peaks].filter(([d]) => d !== 'cpu').map(([, v]) => v)), `${rel}: accelerator peak`);
    }
    assert.equal(run.gpu === null, countCat(p, ['kernel', 'Kernel', 'gpu_memcpy', 'Memcpy', 'gpu_memset', 'Memset']) === 0, `${rel}: gpu`);
    assert.ok(run.timeline.lane.length > 0 && run.timeline.dropped === 0, `${rel}: timeline`);
  }
});

test('concrete figures: the 51 MiB NCCL trace, the 2021 ResNet-50 trace, the TensorFlow demo trace', async () => {
  const mem = await load(path.join(TRACES, 'hta/memory_events_v100_nccl_rank1_df_index_resolver.json.gz'));
  assert.deepEqual(mem.distributed, { rank: 1, worldSize: 2, backend: 'nccl' });
  assert.equal(mem.memory!.device, 'cuda:1');
  assert.equal(mem.memory!.peakBytes, 6629508096);
  assert.equal(mem.kernels.filter((k) => k.category === 'communication').reduce((s, k) => s + k.calls, 0), 2020);
  assert.ok(mem.communication && mem.communication.commUs > 0);
  assert.equal(mem.steps.length, 5);

  const resnet = await load(path.join(TRACES, 'kineto/resnet50_v100_worker0.1623143089861.pt.trace.json.gz'));
  assert.equal(resnet.memory!.device, 'cuda:0');
  assert.ok(resnet.warnings.every((w) => !/could not be traced/.test(w)), resnet.warnings.join('\n'));
  assert.ok(resnet.frames.some((f) => f.file === 'resnet50_profiler_api.py'), 'Call stack args give user frames');
  assert.ok(resnet.timeline.lanes.some((l) => l.name === 'GPU 0 · stream 7' && l.kind === 'gpu'));

  const tf = await load(path.join(TRACES, 'tensorflow_profiler/tf_trace_viewer_demo_trace.json'));
  const p = parse(path.join(TRACES, 'tensorflow_profiler/tf_trace_viewer_demo_trace.json'));
  // Lanes are named from thread_name metadata; a named thread without events (threadC) gets no lane.
  const busy = new Set(p.events.filter((e) => e.ph !== 'M').map((e) => e.tid));
  const threadNames = p.events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && busy.has(e.tid)).map((e) => (e.args!.name as string).trim());
  assert.deepEqual(threadNames, ['threadA', 'threadB']);
  for (const n of threadNames) assert.ok(tf.timeline.lanes.some((l) => l.name.endsWith(n)), `lane named ${n}`);
  const slices = p.events.filter((e) => e.ph === 'X').length + p.events.filter((e) => e.ph === 'B').length;
  assert.equal(tf.opTypes.reduce((s, o) => s + o.calls, 0), slices, 'X events and B/E pairs');
  assert.ok(tf.counters && tf.counters.length > 0, 'C events become counters');
});

/** Self times per op name, by integer nanoseconds and a walk up the ancestors (not the importer's stack). */
function independentSelfTimes(p: Parsed): Map<string, { calls: number; self: number; total: number }> {
  const host = p.events.filter((e) => e.ph === 'X' && HOST_CATS.has(e.cat ?? '') && !HIDDEN.has(e.name ?? ''));
  const t0 = Math.min(...host.map((e) => e.ts!));
  const threads = new Map<string, Array<{ s: number; e: number; name: string; i: number }>>();
  host.forEach((e, i) => {
    const key = `${String(e.pid)}/${String(e.tid)}`;
    const s = Math.round((e.ts! - t0) * 1000);
    if (!threads.has(key)) threads.set(key, []);
    threads.get(key)!.push({ s, e: s + Math.round(e.dur! * 1000), name: e.name!.startsWith('ProfilerStep#') ? 'ProfilerStep*' : e.name!, i });
  });
  const out = new Map<string, { calls: number; self: number; total: number }>();
  for (const list of threads.values()) {
    list.sort((a, b) => a.s - b.s || b.e - a.e || a.i - b.i);
    const parent = new Array<number>(list.length).fill(-1);
    const childNs = new Array<number>(list.length).fill(0);
    for (let k = 1; k < list.length; k++) {
      let j = k - 1;
      while (j >= 0 && !(list[j].s <= list[k].s && list[k].s < list[j].e && list[k].e <= list[j].e)) j = parent[j];
      parent[k] = j;
      if (j >= 0) childNs[j] += list[k].e - list[k].s;
    }
    list.forEach((x, k) => {
      const o = out.get(x.name) ?? { calls: 0, self: 0, total: 0 };
      o.calls++;
      o.self += (x.e - x.s - childNs[k]) / 1000;
      o.total += (x.e - x.s) / 1000;
      out.set(x.name, o);
    });
  }
  return out;
}

for (const rel of ['hta/nccl_a100_rank0_nccl_data.json.gz', 'kineto/resnet50_v100_worker0.1623143089861.pt.trace.json.gz']) {
  test(`per-op self and total times of ${path.basename(rel)} match an independent computation`, async () => {
    const file = path.join(TRACES, rel);
    const run = await load(file);
    const expected = independentSelfTimes(parse(file));
    assert.equal(run.opTypes.length, expected.size);
    for (const o of run.opTypes) {
      const x = expected.get(o.opType);
      assert.ok(x, `${o.opType} is a host op`);
      assert.equal(o.calls, x.calls, `${o.opType} calls`);
      // The test sums integer nanoseconds; the importer sums microsecond doubles: a few ns per call apart at most.
      const tolerance = 0.005 * o.calls + 1e-6;
      assert.ok(Math.abs(o.selfUs - x.self) <= tolerance, `${o.opType} self ${o.selfUs} vs ${x.self}`);
      assert.ok(Math.abs(o.totalUs - x.total) <= tolerance, `${o.opType} total ${o.totalUs} vs ${x.total}`);
    }
  });
}

test('launching ops of the NCCL trace match a linear search for the innermost op around each launch', async () => {
  const file = path.join(TRACES, 'hta/nccl_a100_rank0_nccl_data.json.gz');
  const run = await load(file);
  const p = parse(file);
  const ops = p.events.filter((e) => e.ph === 'X' && (e.cat === 'cpu_op' || e.cat === 'user_annotation'));
  const launchBy = new Map(p.events.filter((e) => e.cat === 'cuda_runtime').map((e) => [e.args!.correlation, e]));
  const expected = new Map<string, number>();
  for (const k of p.events.filter((e) => e.cat === 'kernel' || e.cat === 'gpu_memcpy' || e.cat === 'gpu_memset')) {
    const rt = launchBy.get(k.args!.correlation);
    if (!rt) continue;
    let best: Ev | undefined;
    for (const o of ops) {
      if (o.tid !== rt.tid || o.ts! > rt.ts! || o.ts! + o.dur! < rt.ts! + rt.dur!) continue;
      if (!best || o.ts! > best.ts! || (o.ts === best.ts && o.dur! < best.dur!)) best = o;
    }
    if (!best) continue;
    const key = `${k.name}\u0000${best.name!.startsWith('ProfilerStep#') ? 'ProfilerStep*' : best.name}`;
    expected.set(key, (expected.get(key) ?? 0) + 1);
  }
  let checked = 0;
  for (const k of run.kernels) {
    for (const l of k.launchers) {
      assert.equal(l.calls, expected.get(`${k.name}\u0000${l.opType}`), `${k.name} launched by ${l.opType}`);
      checked++;
    }
  }
  assert.ok(checked > 50, `${checked} launchers checked`);
  const nccl = run.kernels.find((k) => k.name.startsWith('ncclKernel_AllReduce'))!;
  assert.deepEqual(nccl.launchers.map((l) => l.opType), ['nccl:all_reduce']);
});
