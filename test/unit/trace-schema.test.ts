/**
 * The TraceRun validator: a document the importer wrote validates; broken ones are refused with a
 * message that names the bad path (unequal timeline columns, indices that point nowhere, unknown
 * enums, newer schema versions, runaway arrays).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeTrace } from '../../engine/src/trace/analyze';
import { TraceCollector } from '../../engine/src/trace/collect';
import type { TraceRun } from '../../engine/src/schema/trace';
import { parseTraceRun, validateTraceRun } from '../../engine/src/schema/validate-trace';
import { TwbError } from '../../engine/src/util/errors';

function sample(): TraceRun {
  const c = new TraceCollector();
  c.onMeta('distributedInfo', { rank: 0, world_size: 2, backend: 'nccl' });
  c.onEvents([
    { ph: 'X', cat: 'python_function', name: 'train.py(3): step', ts: 0, dur: 100, pid: 1, tid: 1 },
    { ph: 'X', cat: 'cpu_op', name: 'aten::mm', ts: 10, dur: 50, pid: 1, tid: 1 },
    { ph: 'X', cat: 'cuda_runtime', name: 'cudaLaunchKernel', ts: 20, dur: 5, pid: 1, tid: 1, args: { correlation: 1 } },
    { ph: 'X', cat: 'kernel', name: 'ncclKernel_AllReduce', ts: 30, dur: 40, pid: 0, tid: 7, args: { device: 0, correlation: 1 } },
    { ph: 'X', cat: 'kernel', name: 'gemm', ts: 40, dur: 40, pid: 0, tid: 8, args: { device: 0 } },
    { ph: 'i', name: '[memory]', ts: 15, pid: 1, tid: 1, args: { 'Device Type': 1, 'Device Id': 0, Bytes: 4, 'Total Allocated': 4 } },
  ]);
  return JSON.parse(JSON.stringify(analyzeTrace(c, { file: '/t/x.json', container: 'object', gzip: false, fileBytes: 10, jsonBytes: 10, events: 6, warnings: [] }, new Date('2026-03-01T00:00:00Z'))));
}

const rejects = (mutate: (d: TraceRun & Record<string, unknown>) => void, message: RegExp) => {
  const d = sample() as TraceRun & Record<string, unknown>;
  mutate(d);
  assert.throws(() => validateTraceRun(d), (e: unknown) => e instanceof TwbError && e.code === 'io' && message.test(e.message), String(message));
};

test('an imported document validates and round-trips through JSON text', () => {
  const d = sample();
  assert.equal(validateTraceRun(d), d);
  assert.deepEqual(parseTraceRun(JSON.stringify(d)), d);
  assert.equal(d.id, '20260301T000000Z-x-trace');
  assert.ok(d.memory && d.communication && d.gpu && d.frames.length === 1);
});

test('broken documents are refused, naming the bad path', () => {
  rejects((d) => (d.schemaVersion = 2 as 1), /schemaVersion 2; this version of the workbench reads 1/);
  rejects((d) => (d.kind = 'inference' as 'trace'), /trace\.kind: expected "trace"/);
  rejects((d) => (d.source.format = 'perfetto' as 'kineto'), /trace\.source\.format: expected one of: kineto, ort, chrome, got "perfetto"/);
  rejects((d) => d.timeline.startUs.pop(), /trace\.timeline\.startUs: \d+ values for \d+ events/);
  rejects((d) => (d.timeline.lane[0] = 99), /trace\.timeline\.lane\[0\]: lane 99 does not exist/);
  rejects((d) => (d.timeline.name[1] = 99), /trace\.timeline\.name\[1\]: name 99 does not exist/);
  rejects((d) => (d.timeline.frame[0] = 5), /trace\.timeline\.frame\[0\]: frame 5 does not exist/);
  rejects((d) => (d.opTypes[0].sources = [{ frame: 3, calls: 1 }]), /sources\[0\]\.frame: frame 3 does not exist/);
  rejects((d) => (d.kernels[0].category = 'copy' as 'memcpy'), /trace\.kernels\[0\]\.category: expected one of: compute, communication, memcpy, memset/);
  rejects((d) => (d.gpu!.devices[0].utilization = 1.5), /utilization: expected a number in \[0, 1\]/);
  rejects((d) => (d.memory!.timeline = Array.from({ length: 4097 }, () => ({ tUs: 0, bytes: 0 }))), /trace\.memory\.timeline: 4097 items, more than the 4096 allowed/);
  rejects((d) => delete (d as Partial<TraceRun>).steps, /trace\.steps: expected an array, got undefined/);
  rejects((d) => (d.distributed = { rank: 0, worldSize: 2, backend: 3 as unknown as string }), /trace\.distributed\.backend: expected a string/);
});
