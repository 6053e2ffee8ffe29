/**
 * `twb import` of an ONNX Runtime profile file (issue #8 points 1 and 6): the engine profiles
 * builtin:tiny-gpt keeping ORT's own profile file, the importer reads that file, and the two agree
 * on every op type's calls and total time — the same run seen through `twb profile` and `twb import`.
 * Read in ranges on several threads (parallel-read.ts), the file imports to the same document.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultDeps, profileInference } from '../../engine/src/profile/profiler';
import { validateTraceRun } from '../../engine/src/schema/validate-trace';
import { importTrace } from '../../engine/src/trace/import';
import { readInParallel } from '../../engine/src/trace/parallel-read';

const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-trace-ort-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('an imported ORT profile agrees with twb profile on op types: calls and total time', async () => {
  const file = path.join(dir, 'onnxruntime_profile_tiny-gpt.json');
  // No warm-up in the profiled session: twb profile leaves warm-up runs out of its tables, and an
  // imported file cannot tell which runs were warm-up.
  const run = await profileInference({ model: 'builtin:tiny-gpt', seq: 16, warmup: 0, runs: 1, profiledRuns: 3, threads: 1 }, defaultDeps({ keepOrtProfile: file }));
  const trace = validateTraceRun(JSON.parse(JSON.stringify(await importTrace(file))));
  assert.equal(trace.source.format, 'ort');
  assert.equal(trace.source.gzip, false);
  assert.ok(run.opTypes.length > 5, 'tiny-gpt runs several op types');
  const imported = new Map(trace.opTypes.map((o) => [o.opType, o]));
  assert.deepEqual([...imported.keys()].sort(), run.opTypes.map((o) => o.opType).sort());
  for (const o of run.opTypes) {
    const t = imported.get(o.opType)!;
    assert.equal(t.calls, o.calls, `${o.opType} calls`);
    assert.ok(Math.abs(t.totalUs - o.totalUs) < 1e-6 * Math.max(1, o.totalUs), `${o.opType} total ${t.totalUs} vs ${o.totalUs}`);
    assert.equal(t.selfUs, t.totalUs, 'ORT kernels do not nest');
  }
  // Independently from the file: kernel events inside model_run spans, by op_name.
  const events = JSON.parse(readFileSync(file, 'utf8')) as Array<{ cat?: string; name: string; ts: number; dur: number; args?: { op_name?: string } }>;
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  assert.equal(runs.length, 3);
  const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && runs.some((r) => e.ts >= r.ts && e.ts <= r.ts + r.dur));
  assert.equal(trace.opTypes.reduce((s, o) => s + o.calls, 0), kernels.length);
  assert.equal(trace.kernels.length, 0, 'a CPU ORT profile has no GPU kernels');
  assert.equal(trace.gpu, null);
  assert.ok(trace.timeline.lanes.some((l) => l.kind === 'cpu'));

  // ORT writes a top-level array; read in ranges on several threads it imports the same.
  const now = () => new Date('2026-11-29T12:00:00Z');
  const rangeBytes = Math.ceil(statSync(file).size / 10);
  assert.ok(await readInParallel(file, statSync(file).size, { parallel: { threads: 3, minBytes: 0, rangeBytes } }), 'the ranges are read in parallel');
  assert.deepEqual(await importTrace(file, { now, parallel: { threads: 3, minBytes: 0, rangeBytes } }), await importTrace(file, { now, parallel: { threads: 1 } }));
});
