import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { InferenceRun } from '../../engine/src/schema/run';
import { compareHeadline, compareOpTypes, defaultComparePair, flagDelta, kernelUsPerInference, profiledRunCount } from '../../webview/src/charts/compare';

const fixture = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '../fixtures', name), 'utf8')) as InferenceRun;
const tiny = fixture('tiny-gpt.run.json');
const noopt = fixture('tiny-gpt-noopt.run.json');

test('flags need both more than 5% and more than the absolute threshold', () => {
  assert.equal(flagDelta(100, 120, 10), 'regression');
  assert.equal(flagDelta(100, 80, 10), 'improvement');
  assert.equal(flagDelta(100, 104, 1), null, '4% is noise');
  assert.equal(flagDelta(100, 108, 10), null, '8 µs is noise');
  assert.equal(flagDelta(1000, 1040, 10), null, '40 µs but only 4%');
  assert.equal(flagDelta(0, 50, 10), 'regression', 'new time counts');
  assert.equal(flagDelta(50, 0, 10), 'improvement');
});

test('per-op-type deltas: per inference, sorted by absolute change, regressions flagged', () => {
  const rows = compareOpTypes(tiny, noopt);
  const types = new Set([...tiny.opTypes, ...noopt.opTypes].map((t) => `${t.domain}::${t.opType}`));
  assert.equal(rows.length, types.size);
  for (let i = 1; i < rows.length; i++) assert.ok(Math.abs(rows[i - 1].deltaUs) >= Math.abs(rows[i].deltaUs));
  const matmul = rows.find((r) => r.opType === 'MatMul' && r.domain === '');
  const a = tiny.opTypes.find((t) => t.opType === 'MatMul')?.totalUs ?? 0;
  const b = noopt.opTypes.find((t) => t.opType === 'MatMul')?.totalUs ?? 0;
  assert.ok(matmul && Math.abs(matmul.baseUs - a / 10) < 1e-9 && Math.abs(matmul.otherUs - b / 10) < 1e-9);
  const gone = rows.find((r) => r.opType === 'BiasGelu');
  assert.equal(gone?.only, 'base');
  assert.equal(gone?.flag, 'improvement');
  const added = rows.find((r) => r.opType === 'Erf');
  assert.equal(added?.only, 'other');
  assert.equal(added?.deltaFraction, Infinity);
  assert.equal(added?.flag, 'regression');
  for (const r of rows) {
    const expected = Math.abs(r.deltaUs) > 10 && (r.baseUs === 0 || Math.abs(r.deltaUs) / r.baseUs > 0.05) ? (r.deltaUs > 0 ? 'regression' : 'improvement') : null;
    assert.equal(r.flag, expected, r.opType);
  }
  assert.ok(rows.some((r) => r.flag === 'regression') && rows.some((r) => r.flag === 'improvement'));
});

test('runs with different numbers of profiled runs compare per inference', () => {
  const halved: InferenceRun = { ...tiny, id: 'half', opTypes: tiny.opTypes.map((t) => ({ ...t, totalUs: t.totalUs / 2 })), trace: { ...tiny.trace, runUs: tiny.trace.runUs.slice(0, 5) }, config: { ...tiny.config, profiledRuns: 5 } };
  assert.equal(profiledRunCount(halved), 5);
  assert.ok(Math.abs(kernelUsPerInference(halved) - kernelUsPerInference(tiny)) < 1e-9);
  assert.ok(compareOpTypes(tiny, halved).every((r) => Math.abs(r.deltaUs) < 1e-9 && r.flag === null));
});

test('headline: latency, kernel time and peak memory deltas; no memory row when unmeasured', () => {
  const rows = compareHeadline(tiny, noopt);
  assert.deepEqual(
    rows.map((r) => r.label),
    ['latency p50', 'latency p90', 'kernel time per inference', 'peak memory'],
  );
  const p50 = rows[0];
  assert.ok(Math.abs(p50.delta - (noopt.latencyMs.p50 - tiny.latencyMs.p50) * 1000) < 1e-6);
  assert.equal(p50.flag, 'improvement');
  assert.equal(rows[2].flag, 'regression');
  const gpu = { ...noopt, memory: { ...noopt.memory, unavailable: 'webgpu reports no memory' } };
  assert.equal(compareHeadline(tiny, gpu).length, 3);
});

test('default pair: the previous and the latest run', () => {
  assert.equal(defaultComparePair([tiny]), undefined);
  assert.deepEqual(defaultComparePair([tiny, noopt, { ...tiny, id: 'c' }]), { baseId: noopt.id, otherId: 'c' });
});
