/**
 * The trace analyses on small hand-made traces whose answers are known (issue #8 point 3): GPU
 * busy/idle as a union over streams, communication/computation overlap, launching ops through
 * correlation ids and through flow events, memory from `Total Allocated` and from 2021 `Bytes`
 * deltas, steps, Python source frames, the timeline cap, and what real files throw at an importer
 * (string pids, B/E pairs, missing `dur`, overlapping events, unknown categories).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeTrace } from '../../engine/src/trace/analyze';
import { TraceCollector } from '../../engine/src/trace/collect';
import type { TraceRun } from '../../engine/src/schema/trace';
import { validateTraceRun } from '../../engine/src/schema/validate-trace';

type Ev = Record<string, unknown>;
const NOW = new Date('2026-03-01T10:00:00Z');

/** Feeds events in small batches (as the stream reader does) and analyses them; the result must validate. */
function analyze(events: Ev[], meta: Record<string, unknown> = {}, opts: { container?: 'object' | 'array'; timelineCap?: number } = {}): TraceRun {
  const c = new TraceCollector();
  for (const [k, v] of Object.entries(meta)) c.onMeta(k, v);
  for (let i = 0; i < events.length; i += 3) c.onEvents(events.slice(i, i + 3));
  const run = analyzeTrace(c, { file: '/tmp/hand-made.json', container: opts.container ?? 'object', gzip: false, fileBytes: 1, jsonBytes: 1, events: events.length, warnings: [] }, NOW, { timelineCap: opts.timelineCap });
  return validateTraceRun(JSON.parse(JSON.stringify(run)));
}

const X = (name: string, cat: string | undefined, ts: number, dur: number, pid: unknown, tid: unknown, args?: Ev): Ev => ({ ph: 'X', name, ...(cat ? { cat } : {}), ts, dur, pid, tid, ...(args ? { args } : {}) });
const kernel = (name: string, ts: number, dur: number, stream: number, correlation?: number, device = 0) => X(name, 'kernel', ts, dur, device, stream, { device, stream, ...(correlation !== undefined ? { correlation } : {}) });
const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

test('GPU busy time is the union over streams; idle is the rest of the span; NCCL overlap is the intersection', () => {
  const run = analyze([
    kernel('gemm_a', 1000, 10, 7), // [1000, 1010)
    kernel('gemm_b', 1020, 10, 7), // [1020, 1030)
    kernel('elementwise', 1005, 10, 8), // [1005, 1015): overlaps gemm_a
    kernel('ncclKernel_AllReduce_RING_LL_Sum_float', 1008, 14, 9), // [1008, 1022)
    kernel('gemm_a', 5000, 100, 7, undefined, 1), // another device
    X('Memcpy HtoD (Pageable -> Device)', 'gpu_memcpy', 5200, 50, 1, 7, { device: 1 }),
  ]);
  const g = run.gpu!;
  assert.deepEqual(g.devices.map((d) => d.device), [0, 1]);
  const d0 = g.devices[0];
  near(d0.spanUs, 30, 'device 0 span');
  near(d0.busyUs, 30, 'device 0 busy: [1000,1022) ∪ [1020,1030)');
  near(d0.kernelUs, 44, 'device 0 summed kernel time');
  near(d0.idleUs, 0, 'device 0 idle');
  const d1 = g.devices[1];
  near(d1.spanUs, 250, 'device 1 span');
  near(d1.busyUs, 150, 'device 1 busy counts the memcpy');
  near(d1.utilization, 0.6, 'device 1 utilization');
  near(d1.kernelUs, 100, 'memcpy is not kernel time');
  near(g.spanUs, 4250, 'GPU span over devices');
  const c = run.communication!;
  near(c.commUs, 14, 'comm');
  near(c.computeUs, 15 + 10 + 100, 'compute: [1000,1015) ∪ [1020,1030) and device 1');
  near(c.overlapUs, 7 + 2, 'overlap: [1008,1015) + [1020,1022)');
  near(c.overlapShare, 9 / 14, 'overlap share');
  const nccl = run.kernels.find((k) => k.name.startsWith('nccl'))!;
  assert.equal(nccl.category, 'communication');
  assert.equal(run.kernels.find((k) => k.name.startsWith('Memcpy'))!.category, 'memcpy');
  const gemm = run.kernels.find((k) => k.name === 'gemm_a')!;
  assert.deepEqual([gemm.calls, gemm.totalUs, gemm.maxUs, gemm.meanUs], [2, 110, 100, 55]);
});

test('a trace without communication kernels has communication null; without GPU work, gpu null', () => {
  const gpuOnly = analyze([kernel('gemm', 0, 5, 7)]);
  assert.equal(gpuOnly.communication, null);
  assert.ok(gpuOnly.gpu);
  const cpuOnly = analyze([X('aten::mm', 'cpu_op', 0, 5, 1, 1)]);
  assert.equal(cpuOnly.gpu, null);
  assert.equal(cpuOnly.communication, null);
  assert.equal(cpuOnly.memory, undefined);
});

test('kernels find their launching op through the correlation id, or through ac2g flow events when the kernel has none', () => {
  const run = analyze([
    X('ProfilerStep#3', 'user_annotation', 100, 400, 10, 10),
    X('aten::linear', 'cpu_op', 110, 100, 10, 10),
    X('aten::addmm', 'cpu_op', 120, 80, 10, 10),
    X('cudaLaunchKernel', 'cuda_runtime', 130, 20, 10, 10, { correlation: 71 }),
    X('aten::relu', 'cpu_op', 250, 50, 10, 10),
    X('cudaLaunchKernel', 'cuda_runtime', 260, 10, 10, 10, { correlation: 72 }),
    X('cudaLaunchKernel', 'cuda_runtime', 320, 10, 10, 10, { correlation: 73 }), // only inside ProfilerStep#3
    kernel('gemm', 400, 30, 7, 71),
    kernel('relu_kernel', 440, 5, 7), // no correlation: the flow ties it
    { ph: 's', id: 72, pid: 10, tid: 10, ts: 260, cat: 'ac2g', name: 'ac2g' },
    { ph: 'f', id: 72, pid: 0, tid: 7, ts: 440, cat: 'ac2g', name: 'ac2g', bp: 'e' },
    kernel('fill', 450, 2, 7, 73),
    kernel('orphan', 460, 2, 7, 999),
  ]);
  const launcher = (name: string) => run.kernels.find((k) => k.name === name)!.launchers;
  assert.deepEqual(launcher('gemm'), [{ opType: 'aten::addmm', calls: 1, totalUs: 30 }]);
  assert.deepEqual(launcher('relu_kernel'), [{ opType: 'aten::relu', calls: 1, totalUs: 5 }]);
  assert.deepEqual(launcher('fill'), [{ opType: 'ProfilerStep*', calls: 1, totalUs: 2 }]);
  assert.deepEqual(launcher('orphan'), []);
  assert.ok(run.warnings.some((w) => /1 of 4 GPU activities could not be traced/.test(w)), run.warnings.join('\n'));
  // Host table: ProfilerStep#N are one row, like key_averages(); runtime calls are rows of their own.
  const op = (name: string) => run.opTypes.find((o) => o.opType === name)!;
  assert.deepEqual([op('ProfilerStep*').calls, op('ProfilerStep*').selfUs, op('ProfilerStep*').totalUs], [1, 400 - 100 - 50 - 10, 400]);
  assert.deepEqual([op('aten::linear').selfUs, op('aten::addmm').selfUs], [20, 60]);
  assert.deepEqual([op('cudaLaunchKernel').calls, op('cudaLaunchKernel').selfUs], [3, 40]);
  assert.deepEqual(run.steps, [{ name: 'ProfilerStep#3', step: 3, startUs: 0, durUs: 400 }]);
  near(run.opTypes.reduce((s, o) => s + o.selfShare, 0), 1, 'self shares sum to 1');
});

test('memory: Total Allocated when present; 2021 Bytes deltas summed per device and lifted when they go below zero', () => {
  const mem = (ts: number, bytes: number, total?: number, type = 1, id = 0, cat: string | undefined = 'cpu_instant_event') => ({ ph: 'i', s: 't', name: '[memory]', ...(cat ? { cat } : {}), pid: 1, tid: 1, ts, args: { 'Device Type': type, 'Device Id': id, Bytes: bytes, ...(total !== undefined ? { 'Total Allocated': total } : {}) } });
  const current = analyze([X('aten::empty', 'cpu_op', 0, 1, 1, 1), mem(10, 100, 1000), mem(20, 500, 1500), mem(30, -400, 1100), mem(15, 8, 8, 0, -1)]);
  const m = current.memory!;
  assert.equal(m.device, 'cuda:0');
  assert.equal(m.peakBytes, 1500);
  assert.equal(m.peakAtUs, 20);
  assert.deepEqual(m.devices, [{ device: 'cuda:0', peakBytes: 1500 }, { device: 'cpu', peakBytes: 8 }]);
  assert.deepEqual(m.timeline, [{ tUs: 10, bytes: 1000 }, { tUs: 20, bytes: 1500 }, { tUs: 30, bytes: 1100 }]);

  // 2021: no cat, no Total Allocated; frees of memory allocated before recording push the sum below 0.
  const old = analyze([mem(0, 100, undefined, 1, 0, undefined), mem(1, -300, undefined, 1, 0, undefined), mem(2, 50, undefined, 1, 0, undefined)]);
  assert.deepEqual(old.memory!.timeline.map((p) => p.bytes), [300, 0, 50]);
  assert.equal(old.memory!.peakBytes, 300);
  assert.ok(old.warnings.some((w) => /lifted/.test(w)));
});

test('the memory timeline keeps at most 4096 points and its peak survives the downsampling', () => {
  const events: Ev[] = [];
  let total = 0;
  for (let i = 0; i < 20_000; i++) {
    total += i === 12_345 ? 1_000_000 : i % 2 === 0 ? 64 : -64;
    if (i === 12_346) total -= 1_000_000;
    events.push({ ph: 'i', name: '[memory]', pid: 1, tid: 1, ts: i, args: { 'Device Type': 1, 'Device Id': 0, Bytes: 0, 'Total Allocated': total } });
  }
  const m = analyze(events).memory!;
  assert.ok(m.timeline.length <= 4096 && m.timeline.length > 1000, `${m.timeline.length} points`);
  assert.equal(m.peakBytes, Math.max(...m.timeline.map((p) => p.bytes)));
  assert.equal(m.peakAtUs, 12_345);
  assert.ok(m.timeline.some((p) => p.tUs === 12_345));
});

test('Python frames: each op gets its innermost user frame; torch and site-packages frames are skipped', () => {
  const run = analyze([
    X('train.py(40): <module>', 'python_function', 0, 1000, 5, 5),
    X('/home/me/proj/model.py(12): forward', 'python_function', 10, 500, 5, 5),
    X('torch/nn/modules/linear.py(114): forward', 'python_function', 20, 100, 5, 5),
    X('/usr/lib/python3/site-packages/foo/bar.py(3): helper', 'python_function', 25, 50, 5, 5),
    X('<built-in method addmm of type object at 0x7f>', 'python_function', 30, 10, 5, 5),
    X('aten::addmm', 'cpu_op', 31, 8, 5, 5),
    X('aten::relu', 'cpu_op', 600, 10, 5, 5),
    X('aten::relu', 'cpu_op', 700, 10, 5, 5),
    X('aten::add', 'cpu_op', 2000, 10, 5, 5),
  ]);
  const frameOf = (i: number) => run.frames[i];
  const sources = (name: string) => run.opTypes.find((o) => o.opType === name)!.sources?.map((s) => ({ ...frameOf(s.frame), calls: s.calls }));
  assert.deepEqual(sources('aten::addmm'), [{ file: '/home/me/proj/model.py', line: 12, fn: 'forward', calls: 1 }]);
  assert.deepEqual(sources('aten::relu'), [{ file: 'train.py', line: 40, fn: '<module>', calls: 2 }]);
  assert.equal(sources('aten::add'), undefined, 'outside every frame');
  assert.ok(!run.frames.some((f) => /torch\/|site-packages|built-in/.test(f.file)));
  // python_function events are frames, not ops.
  assert.ok(!run.opTypes.some((o) => o.opType.includes('.py(')));
  const t = run.timeline;
  const addmm = t.name.findIndex((n, i) => t.names[n] === 'aten::addmm' && t.frame[i] >= 0);
  assert.equal(run.frames[t.frame[addmm]].file, '/home/me/proj/model.py');
  assert.equal(t.depth[addmm], 5, 'the timeline nests python frames and ops together');
});

test('2021 traces: string tids, Call stack args, capitalised categories, flows on numeric tids', () => {
  const run = analyze(
    [
      X('aten::conv2d', 'Operator', 100, 50, 25738, '25738', { 'Call stack': '/env/lib/python3.7/site-packages/torch/nn/modules/conv.py(443): forward;resnet50_profiler_api.py(54): <module>' }),
      X('cudaLaunchKernel', 'Runtime', 110, 10, 25738, '25738', { correlation: 5, 'external id': 1 }),
      X('volta_scudnn_128x64_relu', 'Kernel', 200, 30, 0, 'stream 7', { device: 0, stream: 7, correlation: 5 }),
      X('Memset (Device)', 'Memset', 240, 1, 0, 'stream 7', { device: 0, correlation: 6 }),
      { ph: 's', id: 5, pid: 25738, tid: 25738, ts: 110, cat: 'async', name: 'launch' },
      { name: 'thread_name', ph: 'M', pid: 25738, tid: '25738', args: { name: 'thread 25738 (python)' } },
      { name: 'process_name', ph: 'M', pid: 25738, tid: 0, args: { name: 'python' } },
      { name: 'process_labels', ph: 'M', pid: 0, tid: 0, args: { labels: 'GPU 0' } },
    ],
    { schemaVersion: 1, deviceProperties: [{ id: 0, name: 'Tesla V100-DGXS-32GB', totalGlobalMem: 34084028416, computeMajor: 7, computeMinor: 0 }] },
  );
  assert.equal(run.source.format, 'kineto');
  assert.deepEqual(run.meta.devices, [{ id: 0, name: 'Tesla V100-DGXS-32GB', totalMemoryBytes: 34084028416, computeCapability: '7.0' }]);
  assert.equal(run.distributed, undefined);
  assert.deepEqual(run.kernels.find((k) => k.name.startsWith('volta'))!.launchers, [{ opType: 'aten::conv2d', calls: 1, totalUs: 30 }]);
  assert.equal(run.kernels.find((k) => k.name.startsWith('Memset'))!.category, 'memset');
  assert.deepEqual(run.opTypes.find((o) => o.opType === 'aten::conv2d')!.sources, [{ frame: 0, calls: 1 }]);
  assert.deepEqual(run.frames, [{ file: 'resnet50_profiler_api.py', line: 54, fn: '<module>' }]);
  assert.deepEqual(run.timeline.lanes, [
    { name: 'python · thread 25738 (python)', kind: 'cpu' },
    { name: 'GPU 0 · stream 7', kind: 'gpu' },
  ]);
});

test('generic chrome traces: B/E pairs per thread, string pids, instants, counters, float and nanosecond-fraction times', () => {
  const run = analyze(
    [
      { ph: 'B', name: 'outer', pid: 'renderer', tid: 'main', ts: 1.5 },
      { ph: 'B', name: 'inner', pid: 'renderer', tid: 'main', ts: 2.25 },
      { ph: 'E', pid: 'renderer', tid: 'main', ts: 3.0005 },
      { ph: 'B', name: 'other thread', pid: 'renderer', tid: 'io', ts: 2 },
      { ph: 'E', pid: 'renderer', tid: 'main', ts: 10.5 },
      { ph: 'E', pid: 'renderer', tid: 'main', ts: 11 }, // closes nothing
      { ph: 'X', name: 'no-dur', pid: 'renderer', tid: 'main', ts: 12 },
      { ph: 'i', name: 'mark', s: 'g', ts: 5 },
      { ph: 'C', name: 'heap', pid: 'renderer', ts: 4, args: { used: 10, free: 90 } },
      { ph: 'C', name: 'heap', pid: 'renderer', ts: 6, args: { used: 30, free: 70 } },
      { ph: 'P', name: 'sample', pid: 'renderer', tid: 'main', ts: 7 },
      { name: 'thread_name', ph: 'M', pid: 'renderer', tid: 'main', args: { name: 'CrRendererMain' } },
      { name: 'process_name', ph: 'M', pid: 'renderer', args: { name: 'Renderer' } },
      'not an object' as unknown as Ev,
    ],
    {},
    { container: 'array' },
  );
  assert.equal(run.source.format, 'chrome');
  const op = (name: string) => run.opTypes.find((o) => o.opType === name)!;
  near(op('outer').totalUs, 9, 'outer B/E');
  near(op('inner').totalUs, 0.7505, 'inner B/E');
  near(op('outer').selfUs, 9 - 0.7505, 'outer self');
  assert.equal(op('no-dur').totalUs, 0);
  assert.equal(run.opTypes.find((o) => o.opType === 'other thread'), undefined, 'a B without its E is not an op');
  for (const pattern of [/1 "E" events closed no open "B"/, /1 "B" events were never closed/, /1 complete \("X"\) events had no "dur"/, /1 trace events were not JSON objects/]) {
    assert.ok(run.warnings.some((w) => pattern.test(w)), `${pattern}: ${run.warnings.join('\n')}`);
  }
  assert.deepEqual(run.counters, [
    { name: 'heap · used', tUs: [2.5, 4.5], values: [10, 30] },
    { name: 'heap · free', tUs: [2.5, 4.5], values: [90, 70] },
  ]);
  assert.deepEqual(run.timeline.lanes.map((l) => l.name), ['Renderer · CrRendererMain', 'global']);
  near(run.spanUs, 12 - 1.5, 'span from the first event to the end of the last');
});

test('events that overlap without nesting are counted, not fatal; PyTorch\'s sibling rule decides their self times', () => {
  const run = analyze([X('a', 'cpu_op', 0, 10, 1, 1), X('b', 'cpu_op', 5, 10, 1, 1), X('c', 'cpu_op', 6, 2, 1, 1)]);
  const op = (name: string) => run.opTypes.find((o) => o.opType === name)!;
  assert.equal(op('a').selfUs, 10, 'b sticks out of a, so it is not its child');
  assert.equal(op('b').selfUs, 8);
  assert.ok(run.warnings.some((w) => /1 host events overlap an enclosing event only partly/.test(w)));
});

test('ops key_averages() filters out stay out of the table and leave their time to their parent', () => {
  const run = analyze([X('aten::to', 'cpu_op', 0, 10, 1, 1), X('aten::is_leaf', 'cpu_op', 1, 2, 1, 1), X('aten::_to_copy', 'cpu_op', 4, 5, 1, 1)]);
  assert.deepEqual(run.opTypes.map((o) => [o.opType, o.selfUs]), [['aten::to', 5], ['aten::_to_copy', 5]]);
});

test('past the cap the timeline keeps GPU work, then the outer host levels, and counts what it dropped', () => {
  const events: Ev[] = [X('ProfilerStep#1', 'user_annotation', 0, 1000, 1, 1)];
  for (let i = 0; i < 10; i++) events.push(X('aten::mm', 'cpu_op', 10 + i * 50, 40, 1, 1), X('aten::empty', 'cpu_op', 11 + i * 50, 1, 1, 1));
  for (let i = 0; i < 5; i++) events.push(kernel('gemm', 2000 + i * 10, 5, 7));
  const run = analyze(events, {}, { timelineCap: 12 });
  const t = run.timeline;
  assert.equal(t.lane.length, 12);
  assert.equal(t.dropped, events.length - 12);
  const kept = t.name.map((n) => t.names[n]);
  assert.equal(kept.filter((n) => n === 'gemm').length, 5, 'every kernel');
  assert.equal(kept.filter((n) => n === 'ProfilerStep#1').length, 1, 'depth 0');
  assert.equal(kept.filter((n) => n === 'aten::mm').length, 6, 'depth 1 fills the rest');
  assert.equal(kept.filter((n) => n === 'aten::empty').length, 0);
  assert.ok(run.warnings.some((w) => /timeline keeps 12 of 26 events/.test(w)));
  // The op table is not capped.
  assert.equal(run.opTypes.find((o) => o.opType === 'aten::empty')!.calls, 10);
});

test('ROCm traces: HIP runtime calls launch kernels on an AMD device', () => {
  const run = analyze(
    [
      X('aten::mm', 'cpu_op', 0, 100, 7, 7),
      X('hipLaunchKernel', 'cuda_runtime', 10, 5, 7, 7, { correlation: 1 }),
      X('Cijk_Ailk_Bljk_SB_MT64x64x16', 'kernel', 50, 20, 0, 1, { device: 0, correlation: 1 }),
    ],
    { deviceProperties: [{ id: 0, name: 'AMD Instinct MI250X', totalGlobalMem: 68702699520 }], distributedInfo: { rank: 3 } },
  );
  assert.deepEqual(run.meta.devices, [{ id: 0, name: 'AMD Instinct MI250X', totalMemoryBytes: 68702699520 }]);
  assert.deepEqual(run.distributed, { rank: 3, worldSize: null, backend: null });
  assert.deepEqual(run.kernels[0].launchers, [{ opType: 'aten::mm', calls: 1, totalUs: 20 }]);
  assert.equal(run.gpu!.devices[0].busyUs, 20);
});
