import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planMemory } from '../../engine/src/analysis/zero-memory';
import { PipelinePlan, TimelineBlock } from '../../engine/src/schema/parallel';
import { MAX_TIMELINE_BLOCKS, validateMemoryPlan, validatePipelinePlan } from '../../engine/src/schema/validate-parallel';
import { TwbError } from '../../engine/src/util/errors';

/** Two stages, GPipe, two micro-batches, one layer per stage: small and consistent. */
function pipelinePlan(): PipelinePlan {
  const block = (stage: number, microbatch: number, kind: TimelineBlock['kind'], startUs: number): TimelineBlock => ({ stage, microbatch, kind, chunk: 0, startUs, endUs: startUs + (kind === 'F' ? 10 : 20) });
  const layer = (i: number) => ({ name: `layer ${i}`, layer: i, forwardUs: 10, backwardUs: 20, weightGradUs: 10, activationBytes: 1024, paramBytes: 4096 });
  const stat = (stage: number) => ({ stage, layers: [[stage]], busyUs: 60, idleUs: 20, bubbleFraction: 0.25, peakInFlight: 2, activationBytes: 2048, paramBytes: 4096 });
  const timeline = [block(0, 0, 'F', 0), block(0, 1, 'F', 10), block(1, 0, 'F', 10), block(1, 1, 'F', 20), block(1, 1, 'B', 30), block(1, 0, 'B', 50), block(0, 1, 'B', 50), block(0, 0, 'B', 70)];
  return {
    schemaVersion: 1,
    kind: 'pipeline',
    id: '20260101T000000Z-tiny-gpt-pipeline',
    createdAt: '2026-01-01T00:00:00.000Z',
    model: 'builtin:tiny-gpt',
    batch: 1,
    seq: 16,
    costSource: { kind: 'uniform', from: 'builtin:tiny-gpt', estimated: ['backward = 2 × forward'] },
    schedule: 'gpipe',
    chunks: 1,
    stages: 2,
    microbatches: 2,
    commUs: 0,
    layers: [layer(0), layer(1)],
    stageStats: [stat(0), stat(1)],
    bubbleFraction: 0.25,
    makespanUs: 90,
    peakInFlight: 2,
    closedFormBubble: 1 / 3,
    timeline,
    measured: {
      phases: 'forward',
      bubbleFraction: 0.2,
      makespanUs: 40,
      timeline: timeline.filter((b) => b.kind === 'F'),
      simulated: { bubbleFraction: 0.25, makespanUs: 30, timeline: timeline.filter((b) => b.kind === 'F') },
      stageUs: [10, 10],
      commUs: 1.5,
      maxAbsDiff: 1e-6,
      batch: 1,
      seq: 16,
      executionProvider: 'cpu',
      threadsPerStage: 1,
    },
    warnings: [],
  };
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** A document the tests spoil in ways its type forbids (wrong types, missing fields). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Spoilable = Record<string, any>;

/** Asserts that validating `doc` fails with an io error whose message starts with `path`. */
function rejects(validate: (v: unknown) => unknown, doc: unknown, path: string): void {
  assert.throws(
    () => validate(doc),
    (e: unknown) => e instanceof TwbError && e.code === 'io' && e.message.startsWith(path),
    `expected an error at ${path}`,
  );
}

test('validatePipelinePlan accepts a well-formed plan (and one without a measurement)', () => {
  const plan = pipelinePlan();
  assert.equal(validatePipelinePlan(clone(plan)).id, plan.id);
  const { measured: _measured, ...simulatedOnly } = plan;
  assert.equal(validatePipelinePlan(clone(simulatedOnly)).timeline.length, 8);
});

test('validatePipelinePlan rejects a bad plan, naming the path', () => {
  const cases: Array<[(p: Spoilable) => void, string]> = [
    [(p) => (p.timeline[3].kind = 'X'), 'pipeline.timeline[3].kind: expected one of: F, B, W'],
    [(p) => (p.timeline[2].endUs = 5), 'pipeline.timeline[2]: endUs (5) is before startUs (10)'],
    [(p) => (p.schedule = 'pipedream'), 'pipeline.schedule: expected one of: gpipe, 1f1b, interleaved, zb-h1'],
    [(p) => (p.kind = 'memory-plan'), 'pipeline.kind'],
    [(p) => (p.stages = 0), 'pipeline.stages'],
    [(p) => (p.stageStats[1].bubbleFraction = 1.5), 'pipeline.stageStats[1].bubbleFraction'],
    [(p) => (p.stageStats[0].layers = [[7]]), 'pipeline.stageStats[0].layers[0][0]: layer 7 does not exist'],
    [(p) => p.stageStats.pop(), 'pipeline.stageStats: 1 entries for 2 stages'],
    [(p) => (p.layers[1].layer = 'one'), 'pipeline.layers[1].layer'],
    [(p) => (p.costSource.kind = 'guess'), 'pipeline.costSource.kind'],
    [(p) => (p.measured.phases = 'both'), 'pipeline.measured.phases'],
    [(p) => (p.measured.simulated.timeline[0].startUs = -1), 'pipeline.measured.simulated.timeline[0].startUs'],
    [(p) => delete p.warnings, 'pipeline.warnings'],
    [(p) => (p.batch = 0), 'pipeline.batch'],
  ];
  for (const [spoil, path] of cases) {
    const doc = clone(pipelinePlan()) as Spoilable;
    spoil(doc);
    rejects(validatePipelinePlan, doc, path);
  }
  rejects(validatePipelinePlan, { ...pipelinePlan(), schemaVersion: 2 }, 'pipeline document has schemaVersion 2');
  rejects(validatePipelinePlan, null, 'pipeline: expected an object');
});

test('validatePipelinePlan bounds the timeline', () => {
  const plan = pipelinePlan();
  // The same block object repeated: cheap to build, and the length is checked before the items.
  const huge = { ...plan, timeline: new Array(MAX_TIMELINE_BLOCKS + 1).fill(plan.timeline[0]) };
  rejects(validatePipelinePlan, huge, `pipeline.timeline: ${MAX_TIMELINE_BLOCKS + 1} items, more than the ${MAX_TIMELINE_BLOCKS} allowed`);
});

test('validateMemoryPlan accepts planMemory output and rejects a bad plan, naming the path', () => {
  const plan = planMemory({ params: 7.5e9, gpus: 64, zeroStage: 3, microBatch: 1, seq: 512, hidden: 1024, layers: 24, checkpointing: true }, 'builtin:gpt', new Date(0));
  assert.equal(validateMemoryPlan(clone(plan)).bytesPerGpu, plan.bytesPerGpu);
  const cases: Array<[(p: Spoilable) => void, string]> = [
    [(p) => (p.input.zeroStage = 5), 'memory-plan.input.zeroStage: expected one of: 0, 1, 2, 3'],
    [(p) => (p.input.gpus = 0.5), 'memory-plan.input.gpus'],
    [(p) => (p.input.checkpointing = 'yes'), 'memory-plan.input.checkpointing'],
    [(p) => p.curve[2].bytesPerGpu.pop(), 'memory-plan.curve[2].bytesPerGpu: expected 4 values'],
    [(p) => (p.byStage[1].breakdown.grads = -1), 'memory-plan.byStage[1].breakdown.grads'],
    [(p) => (p.byStage = [...p.byStage, ...p.byStage]), 'memory-plan.byStage: 8 items, more than the 4 allowed'],
    [(p) => (p.formulas = 'words'), 'memory-plan.formulas'],
    [(p) => (p.kind = 'pipeline'), 'memory-plan.kind'],
  ];
  for (const [spoil, path] of cases) {
    const doc = clone(plan) as Spoilable;
    spoil(doc);
    rejects(validateMemoryPlan, doc, path);
  }
  rejects(validateMemoryPlan, { ...clone(plan), schemaVersion: 0 }, 'memory-plan document has schemaVersion 0');
});
