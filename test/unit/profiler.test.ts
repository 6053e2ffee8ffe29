import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultDeps, profileInference, ProfileProgress } from '../../engine/src/profile/profiler';
import { parseOrtProfile } from '../../engine/src/profile/ort-profile';
import { buildTransformer } from '../../engine/src/model/transformer';
import { PRESETS } from '../../engine/src/model/spec';
import { InferenceRun } from '../../engine/src/schema/run';
import { validateRun } from '../../engine/src/schema/validate-run';

const near = (a: number, b: number, eps = 1e-9) => Math.abs(a - b) <= eps;
let run: InferenceRun;
let tmpRoot: string;
const progress: ProfileProgress[] = [];

before(async () => {
  tmpRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'twb-test-'));
  run = await profileInference(
    { model: 'builtin:tiny-gpt', seq: 16, batch: 2, warmup: 1, runs: 3, profiledRuns: 2, threads: 1 },
    defaultDeps({ tmpRoot, onProgress: (p) => progress.push(p) }),
  );
});

test('the Run document has the documented fields and validates', () => {
  assert.equal(validateRun(JSON.parse(JSON.stringify(run))).id, run.id);
  assert.equal(run.schemaVersion, 1);
  assert.equal(run.kind, 'inference');
  assert.equal(run.model.name, 'builtin:tiny-gpt');
  assert.equal(run.model.opset, 17);
  assert.equal(run.env.executionProvider, 'cpu');
  assert.equal(run.env.threads, 1);
  assert.match(run.env.ortVersion, /^1\.\d+/);
  assert.equal(run.latencyMs.samples.length, 3);
  assert.ok(run.latencyMs.p50 > 0 && run.latencyMs.p50 <= run.latencyMs.p90 && run.latencyMs.p90 <= run.latencyMs.max);
  assert.deepEqual(run.model.inputs.map((i) => [i.name, i.dims]), [['input_ids', [2, 16]]]);
});

test('op and op-type shares each sum to 1; calls equal the profiled runs', () => {
  assert.ok(near(run.ops.reduce((s, o) => s + o.share, 0), 1, 1e-9));
  assert.ok(near(run.opTypes.reduce((s, o) => s + o.share, 0), 1, 1e-9));
  for (const o of run.ops) assert.equal(o.calls, 2, o.node);
  assert.equal(run.trace.op.length, run.ops.reduce((s, o) => s + o.calls, 0));
  assert.equal(run.trace.runUs.length, 2);
  // Sorted by time, biggest first.
  for (let i = 1; i < run.ops.length; i++) assert.ok(run.ops[i - 1].totalUs >= run.ops[i].totalUs);
});

test('FLOPs match hand counts and GFLOP/s follow from the mean time', () => {
  const up = run.ops.find((o) => o.node === 'layer1/ffn/up');
  assert.ok(up, 'layer1/ffn/up is profiled under its own name');
  assert.equal(up.flops, 2 * 2 * 16 * 256 * 1024);
  assert.equal(up.layer, 1);
  assert.ok(near(up.gflops, up.flops / (up.meanUs * 1e3), 1e-6));
  const qk = run.ops.find((o) => o.node.startsWith('layer2/attn/qk_matmul'));
  assert.ok(qk);
  assert.equal(qk.flops, 2 * 2 * 4 * 16 * 16 * 64);
  const lm = run.ops.find((o) => o.node === 'head/lm_matmul');
  assert.equal(lm?.layer, null, 'the LM head belongs to no layer');
  // Per run: 4 layers × (4·2·B·S·256·256 + 2·2·B·S·256·1024 + 2·2·B·H·S·S·64) + head 2·B·S·256·1024.
  const b = 2, s = 16;
  const perLayer = 4 * 2 * b * s * 256 * 256 + 2 * 2 * b * s * 256 * 1024 + 2 * 2 * b * 4 * s * s * 64;
  assert.equal(run.compute.flops, 4 * perLayer + 2 * b * s * 256 * 1024);
});

test('fused nodes map back to their layer', () => {
  const fused = run.ops.filter((o) => !/^(layer\d|embed|head|mask|final_ln)/.test(o.node));
  assert.ok(fused.length > 0, 'ORT fuses GELU and scale at level all');
  for (const f of fused.filter((o) => /Gelu/.test(o.opType))) assert.notEqual(f.layer, null, f.node);
  assert.deepEqual([...new Set(run.ops.map((o) => o.layer).filter((l) => l !== null))].sort(), [0, 1, 2, 3]);
  assert.ok(near(run.layers.reduce((s, l) => s + l.share, 0), 1, 1e-9));
});

test('memory: timeline from ORT fields, peak at least the highest point, weights counted', () => {
  const m = run.memory;
  assert.equal(m.unavailable, undefined);
  assert.ok(m.timeline.length > 0);
  assert.ok(m.peakBytes >= Math.max(...m.timeline.map((p) => p.bytes)));
  assert.ok(new Set(m.timeline.map((p) => p.bytes)).size > 1, 'in-use memory changes over the run');
  // fp32 weights + int64 constants (zero, axis, split shape ×4, merge shape ×3, Trilu k).
  assert.equal(m.weightsBytes, run.model.params * 4 + 8 * (1 + 1 + 4 + 3 + 1));
  for (let i = 1; i < m.timeline.length; i++) assert.ok(m.timeline[i].tUs >= m.timeline[i - 1].tUs);
});

test('progress covers every phase and temporary files are cleaned up', async () => {
  assert.deepEqual([...new Set(progress.map((p) => p.phase))], ['load', 'warmup', 'latency', 'profile', 'analyze']);
  assert.deepEqual(await fs.readdir(tmpRoot), []);
});

test('optimization level "disabled" maps profile nodes 1:1 to the stored graph', async () => {
  const r = await profileInference({ model: 'builtin:tiny-bert', optLevel: 'disabled', seq: 8, warmup: 0, runs: 1, profiledRuns: 1 }, defaultDeps());
  const stored = buildTransformer(PRESETS['tiny-bert']).graph.node.map((n) => n.name).sort();
  assert.deepEqual(r.ops.map((o) => o.node).sort(), stored);
  assert.ok(r.ops.every((o) => o.fusedFrom === undefined));
});

test('cancellation stops the run with a cancelled error and leaves no files', async () => {
  const controller = new AbortController();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'twb-cancel-'));
  const p = profileInference(
    { model: 'builtin:tiny-gpt', seq: 8, warmup: 0, runs: 1000, profiledRuns: 1 },
    defaultDeps({ tmpRoot: dir, signal: controller.signal, onProgress: (e) => e.phase === 'latency' && e.done === 3 && controller.abort() }),
  );
  await assert.rejects(p, (e: Error & { code?: string }) => e.code === 'cancelled');
  assert.deepEqual(await fs.readdir(dir), []);
  await fs.rm(dir, { recursive: true });
});

test('a truncated ORT profile is refused with a clear message', () => {
  const text = JSON.stringify([{ cat: 'Session', name: 'model_run', ts: 1, dur: 5, ph: 'X', args: {} }]);
  assert.equal(parseOrtProfile(text).runs.length, 1);
  assert.throws(() => parseOrtProfile(text.slice(0, 30)), /not valid JSON .*truncated/);
  assert.throws(() => parseOrtProfile('{"a":1}'), /JSON array/);
});
