import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryBreakdown, planMemory } from '../../engine/src/analysis/zero-memory';
import { MemoryPlanInput } from '../../engine/src/schema/parallel';
import { validateMemoryPlan } from '../../engine/src/schema/validate-parallel';
import { TwbError } from '../../engine/src/util/errors';

const GB = 1e9;
const base: MemoryPlanInput = { params: 7.5e9, gpus: 64, zeroStage: 0, checkpointing: false };

// Rajbhandari et al. 2020, Table 1: per-device memory (GB) of a 7.5B-parameter model with
// mixed-precision Adam (K = 12) for ZeRO stages 1 (Pos), 2 (Pos+g) and 3 (Pos+g+p); the first
// column is plain data parallelism (stage 0). Strings carry the paper's rounding.
const TABLE_1: Array<[number, [string, string, string, string]]> = [
  [1, ['120', '120', '120', '120']],
  [4, ['120', '52.5', '41.3', '30']],
  [16, ['120', '35.6', '21.6', '7.5']],
  [64, ['120', '31.4', '16.6', '1.88']],
  [256, ['120', '30.4', '15.4', '0.47']],
  [1024, ['120', '30.1', '15.1', '0.12']],
];

const decimals = (s: string): number => (s.includes('.') ? s.split('.')[1].length : 0);

test('ZeRO paper Table 1: 7.5B parameters, N = 1 … 1024, stages 0–3', () => {
  for (const [gpus, row] of TABLE_1) {
    row.forEach((paper, zeroStage) => {
      const got = memoryBreakdown({ ...base, gpus, zeroStage: zeroStage as 0 | 1 | 2 | 3 }).total / GB;
      assert.equal(got.toFixed(decimals(paper)), Number(paper).toFixed(decimals(paper)), `N=${gpus} stage ${zeroStage}: ${got} GB, paper ${paper}`);
    });
  }
});

test('the headline example: 64 GPUs -> 120 / 31.4 / 16.6 / 1.9 GB', () => {
  const plan = planMemory(base, '--params 7.5e9', new Date('2026-01-02T03:04:05Z'));
  assert.deepEqual(
    plan.byStage.map((s) => (s.bytesPerGpu / GB).toFixed(1)),
    ['120.0', '31.4', '16.6', '1.9'],
  );
  // Exact bytes: 16Ψ; 4Ψ + 12Ψ/64; 2Ψ + 14Ψ/64; 16Ψ/64.
  assert.deepEqual(
    plan.byStage.map((s) => s.bytesPerGpu),
    [120e9, 30e9 + 1.40625e9, 15e9 + 1.640625e9, 1.875e9],
  );
});

test('the breakdown partitions optimizer, then gradients, then parameters', () => {
  const at = (zeroStage: 0 | 1 | 2 | 3) => memoryBreakdown({ params: 1000, gpus: 4, zeroStage, checkpointing: false });
  assert.deepEqual(at(0), { params: 2000, grads: 2000, optimizer: 12000, activations: 0, total: 16000 });
  assert.deepEqual(at(1), { params: 2000, grads: 2000, optimizer: 3000, activations: 0, total: 7000 });
  assert.deepEqual(at(2), { params: 2000, grads: 500, optimizer: 3000, activations: 0, total: 5500 });
  assert.deepEqual(at(3), { params: 500, grads: 500, optimizer: 3000, activations: 0, total: 4000 });
  // Partitions are equal and padded: 10 parameters over 4 GPUs -> 3 each.
  assert.equal(memoryBreakdown({ params: 10, gpus: 4, zeroStage: 3, checkpointing: false }).total, 16 * 3);
});

test('activations: s·b·h·(34 + 5as/h) per layer, and full checkpointing', () => {
  // b = 2, s = 1024, h = 768, L = 12, a = 12, by hand:
  //   per layer 34·1024·2·768 + 5·12·1024²·2 = 53,477,376 + 125,829,120 = 179,306,496 bytes
  //   no checkpointing: 12 × 179,306,496 = 2,151,677,952
  //   checkpointing: 12 × 2·1024·2·768 + 179,306,496 = 37,748,736 + 179,306,496 = 217,055,232
  const act = { params: 1e8, gpus: 8, zeroStage: 1 as const, microBatch: 2, seq: 1024, hidden: 768, layers: 12, heads: 12 };
  assert.equal(memoryBreakdown({ ...act, checkpointing: false }).activations, 2_151_677_952);
  assert.equal(memoryBreakdown({ ...act, checkpointing: true }).activations, 217_055_232);
  // Heads default to hidden / 64 = 12 here, and the formulas say so.
  const { heads: _heads, ...noHeads } = act;
  assert.equal(memoryBreakdown({ ...noHeads, checkpointing: false }).activations, 2_151_677_952);
  const plan = planMemory({ ...noHeads, checkpointing: true }, 'builtin:bert', new Date(0));
  assert.ok(plan.formulas.some((f) => f.includes('round(h/64) = 12')), plan.formulas.join('\n'));
  assert.equal(plan.breakdown.activations, 217_055_232);
  assert.equal(plan.bytesPerGpu, plan.breakdown.params + plan.breakdown.grads + plan.breakdown.optimizer + 217_055_232);
  // Activations are per micro-batch and not divided by ZeRO: the same at every stage.
  assert.ok(plan.byStage.every((s) => s.breakdown.activations === 217_055_232));
});

test('activations are 0 with a warning naming the missing inputs', () => {
  const plan = planMemory({ ...base, microBatch: 4, hidden: 4096, checkpointing: false }, 'm', new Date(0));
  assert.equal(plan.breakdown.activations, 0);
  assert.ok(plan.warnings.some((w) => w.startsWith('Activations not counted: seq, layers missing')), plan.warnings.join('\n'));
  assert.ok(plan.formulas.some((f) => f.startsWith('Activations are left out (0 bytes): seq, layers not given')), plan.formulas.join('\n'));
});

test('planMemory: id, curve over 1…1024 plus the requested N, warnings', () => {
  const now = new Date('2026-03-04T05:06:07.890Z');
  const plan = planMemory({ ...base, gpus: 48, zeroStage: 2 }, 'builtin:gpt', now);
  assert.equal(plan.id, '20260304T050607Z-gpt-memory-plan');
  assert.equal(plan.createdAt, now.toISOString());
  assert.deepEqual(plan.curve.map((p) => p.gpus), [1, 2, 4, 8, 16, 32, 48, 64, 128, 256, 512, 1024]);
  const at48 = plan.curve.find((p) => p.gpus === 48);
  assert.deepEqual(at48?.bytesPerGpu, plan.byStage.map((s) => s.bytesPerGpu));
  assert.equal(plan.bytesPerGpu, plan.byStage[2].bytesPerGpu);
  // Memory never grows with more GPUs, and stage 0 never shrinks.
  for (let i = 1; i < plan.curve.length; i++) {
    plan.curve[i].bytesPerGpu.forEach((b, z) => assert.ok(b <= plan.curve[i - 1].bytesPerGpu[z]));
    assert.equal(plan.curve[i].bytesPerGpu[0], 120e9);
  }
  assert.deepEqual(planMemory({ ...base, gpus: 64 }, 'm', now).curve.length, 11);
  assert.deepEqual(plan.warnings.filter((w) => w.includes('ZeRO stage')), []);
  const single = planMemory({ ...base, gpus: 1, zeroStage: 3 }, 'm', now);
  assert.ok(single.warnings.some((w) => w.includes('with 1 GPU it saves nothing')), single.warnings.join('\n'));
  // The document passes its own validator.
  assert.equal(validateMemoryPlan(JSON.parse(JSON.stringify(plan))).id, plan.id);
});

test('bad input is a usage error naming the field', () => {
  const bad: Array<[Partial<MemoryPlanInput> & Record<string, unknown>, string]> = [
    [{ params: 0 }, 'params'],
    [{ params: 1.5 }, 'params'],
    [{ params: Number.NaN }, 'params'],
    [{ params: -3 }, 'params'],
    [{ gpus: 0 }, 'gpus'],
    [{ gpus: 2.5 }, 'gpus'],
    [{ zeroStage: 4 as never }, 'zeroStage'],
    [{ microBatch: 0 }, 'microBatch'],
    [{ seq: -1 }, 'seq'],
    [{ heads: 1.5 }, 'heads'],
    [{ checkpointing: 'yes' as never }, 'checkpointing'],
  ];
  for (const [patch, field] of bad) {
    const input = { ...base, ...patch } as MemoryPlanInput;
    assert.throws(
      () => planMemory(input, 'm', new Date(0)),
      (e: unknown) => e instanceof TwbError && e.code === 'usage' && e.message.startsWith(field),
      `${JSON.stringify(patch)} should be refused naming ${field}`,
    );
    assert.throws(() => memoryBreakdown(input), TwbError);
  }
});
