/**
 * The host-op table reproduces PyTorch's own `key_averages()` (issue #8 point 3): the fixture is a
 * real torch trace of a small transformer encoder training for a few ProfilerStep#N, recorded by
 * scripts/make-torch-trace.py together with torch's key_averages() rows for the same run. Every op
 * name matches: the count exactly, self and total CPU time within the rounding the trace format
 * imposes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { validateTraceRun } from '../../engine/src/schema/validate-trace';
import { importTrace } from '../../engine/src/trace/import';

const FIXTURES = path.join(__dirname, '../fixtures/traces');

interface KeyAverage {
  name: string;
  count: number;
  self_cpu_time_total: number;
  cpu_time_total: number;
}

test('the import of a torch trace matches torch\'s key_averages() by op name: count, self CPU time, CPU time total', async () => {
  const run = validateTraceRun(JSON.parse(JSON.stringify(await importTrace(path.join(FIXTURES, 'torch-encoder-cpu.pt.trace.json.gz')))));
  const { rows } = JSON.parse(readFileSync(path.join(FIXTURES, 'torch-encoder-cpu.key_averages.json'), 'utf8')) as { rows: KeyAverage[] };
  assert.ok(rows.length > 50 && rows.some((r) => r.name === 'aten::addmm') && rows.some((r) => r.name === 'ProfilerStep*'));
  const byName = new Map(run.opTypes.map((o) => [o.opType, o]));
  assert.deepEqual([...byName.keys()].sort(), rows.map((r) => r.name).sort(), 'the same op names, ProfilerStep#N grouped as ProfilerStep*');
  for (const r of rows) {
    const o = byName.get(r.name)!;
    assert.equal(o.calls, r.count, `${r.name} count`);
    // The trace stores whole microseconds; torch's own sums may use finer clocks, so each event may
    // be up to 1 µs apart in duration and self time (its own and its children's roundings).
    const tolerance = r.count * 1 + 1e-9;
    assert.ok(Math.abs(o.selfUs - r.self_cpu_time_total) <= tolerance, `${r.name} self ${o.selfUs} vs ${r.self_cpu_time_total}`);
    assert.ok(Math.abs(o.totalUs - r.cpu_time_total) <= tolerance, `${r.name} total ${o.totalUs} vs ${r.cpu_time_total}`);
  }
  // Sorted by self time, like key_averages().table(sort_by="self_cpu_time_total").
  assert.equal(run.opTypes[0].opType, rows[0].name);
  assert.deepEqual(run.steps.map((s) => s.name), ['ProfilerStep#1', 'ProfilerStep#2', 'ProfilerStep#3']);
  assert.ok(run.steps.every((s, i) => i === 0 || s.startUs >= run.steps[i - 1].startUs + run.steps[i - 1].durUs), 'steps follow each other');
});
