/**
 * One training step under `tf.profile`, with every kernel attributed to a phase (forward,
 * backward, optimizer) and a transformer layer.
 *
 * tf.profile lists kernels in the order they finish, so a position in that list is a clock. The
 * model's BlockHook wraps the residual stream at each block's edges in an identity with a custom
 * gradient that notes the list's length when the forward pass reaches the edge and again when the
 * backward pass comes back through it. Backprop walks the tape in reverse, so a block's backward
 * kernels lie between the gradient of its end marker and the gradient of its start marker. The
 * caller marks where the loss is ready (forward → backward) and where the gradients are
 * (backward → optimizer). Kernels outside every block (embeddings, head, loss, optimizer) get layer
 * null.
 *
 * tf.profile also lists one entry per `tf.customGrad` call (named after the wrapped function, e.g.
 * `forward`); its time includes the kernels nested in it, so entries that are not registered
 * kernels are dropped after attribution.
 */
import type { ProfileInfo, Tensor, Tf } from '../runtime/tfjs';
import type { PhaseStat, TrainMemory, TrainMemoryPoint, TrainOpStat, TrainPhase } from '../schema/training';
import { TRAIN_PHASES } from '../schema/training';
import type { BlockHook } from './tf-model';

export interface StepProbe {
  /** Pass to the model's forward: marks the edges of every block, forward and backward. */
  hook: BlockHook;
  /** Call once the loss is computed: forward ends, backward begins. */
  forwardDone(): void;
  /** Call once the gradients are computed: backward ends, the optimizer begins. */
  backwardDone(): void;
}

type MarkKind = 'block-start' | 'block-end' | 'grad-block-end' | 'grad-block-start' | 'forward-done' | 'backward-done';

/** A boundary noted at position `at` of the profile's kernel list: it applies from that kernel on. */
export interface Mark {
  at: number;
  kind: MarkKind;
  layer?: number;
}

export interface RawKernel {
  name: string;
  /** Kernel time, microseconds. */
  timeUs: number;
  /** Bytes of tensors alive after the kernel (tfjs engine accounting). */
  bytes: number;
  /** False for tf.customGrad wrapper entries. */
  registered: boolean;
}

export interface StepRecord {
  kernels: RawKernel[];
  marks: Mark[];
  /** Highest bytes in use during the step. */
  peakBytes: number;
}

export interface AttributedKernel extends RawKernel {
  phase: TrainPhase;
  layer: number | null;
}

/** Runs `step` under tf.profile with a probe; the step must use the probe's hook and marks. */
export async function recordStep(tf: Tf, step: (probe: StepProbe) => void): Promise<StepRecord> {
  const marks: Mark[] = [];
  const state = tf.engine().state;
  const note = (kind: MarkKind, layer?: number) => marks.push({ at: state.activeProfile.kernels.length, kind, ...(layer === undefined ? {} : { layer }) });
  // A reshape to the same shape is the identity without a copy (an Identity kernel copies on wasm).
  const same = (x: Tensor) => tf.reshape(x, x.shape);
  const marker = (layer: number, edge: 'start' | 'end') =>
    tf.customGrad(((x: Tensor) => {
      if (edge === 'start') note('block-start', layer);
      const value = same(x);
      if (edge === 'end') note('block-end', layer);
      return {
        value,
        gradFunc: (dy: Tensor) => {
          if (edge === 'end') note('grad-block-end', layer);
          const dx = same(dy);
          if (edge === 'start') note('grad-block-start', layer);
          return [dx];
        },
      };
    }) as unknown as Parameters<Tf['customGrad']>[0]) as unknown as (x: Tensor) => Tensor;
  const probe: StepProbe = {
    hook: (x, layer, edge) => marker(layer, edge)(x),
    forwardDone: () => note('forward-done'),
    backwardDone: () => note('backward-done'),
  };
  let info: ProfileInfo;
  try {
    info = await tf.profile(() => {
      step(probe);
    });
  } catch (e) {
    // tf.profile leaves profiling on when its query throws (e.g. out of memory): every later kernel would be recorded.
    state.profiling = false;
    throw e;
  }
  const backend = tf.getBackend();
  const kernels = info.kernels.map((k) => ({
    name: k.name,
    timeUs: typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs * 1000 : 0,
    bytes: k.totalBytesSnapshot,
    registered: tf.getKernel(k.name, backend) !== undefined,
  }));
  return { kernels, marks, peakBytes: info.peakBytes };
}

/** Phase and layer of every registered kernel of a step, in order. */
export function attributeKernels(record: StepRecord): AttributedKernel[] {
  const out: AttributedKernel[] = [];
  let phase: TrainPhase = 'forward';
  let layer: number | null = null;
  let m = 0;
  record.kernels.forEach((k, i) => {
    for (; m < record.marks.length && record.marks[m].at <= i; m++) {
      const mark = record.marks[m];
      if (mark.kind === 'block-start' || mark.kind === 'grad-block-end') layer = mark.layer ?? null;
      else layer = null;
      if (mark.kind === 'forward-done') phase = 'backward';
      if (mark.kind === 'backward-done') phase = 'optimizer';
    }
    if (k.registered) out.push({ ...k, phase, layer });
  });
  return out;
}

export interface StepSummary {
  ops: TrainOpStat[];
  phases: PhaseStat[];
  /** Memory after each kernel of the first step. */
  timeline: TrainMemoryPoint[];
  peakBytes: number;
}

/** Most points a memory timeline keeps (the peak among them). */
export const MAX_TIMELINE_POINTS = 4000;

/** Kernel time by (op type, layer, phase) and by phase over the steps, and the first step's memory over time. */
export function summarizeSteps(records: readonly StepRecord[], maxPoints = MAX_TIMELINE_POINTS): StepSummary {
  const groups = new Map<string, TrainOpStat>();
  const phaseUs = new Map<TrainPhase, number>(TRAIN_PHASES.map((p) => [p, 0]));
  let total = 0;
  let timeline: TrainMemoryPoint[] = [];
  records.forEach((record, r) => {
    let t = 0;
    for (const k of attributeKernels(record)) {
      const key = `${k.name}|${k.layer}|${k.phase}`;
      const g = groups.get(key) ?? { opType: k.name, layer: k.layer, phase: k.phase, calls: 0, totalUs: 0, share: 0 };
      g.calls++;
      g.totalUs += k.timeUs;
      groups.set(key, g);
      phaseUs.set(k.phase, phaseUs.get(k.phase)! + k.timeUs);
      total += k.timeUs;
      t += k.timeUs;
      if (r === 0) timeline.push({ tUs: t, bytes: k.bytes, phase: k.phase });
    }
  });
  timeline = thin(timeline, maxPoints);
  const share = (us: number) => (total > 0 ? us / total : 0);
  const ops = [...groups.values()].map((g) => ({ ...g, share: share(g.totalUs) })).sort((a, b) => b.totalUs - a.totalUs);
  const phases = TRAIN_PHASES.map((phase) => ({ phase, totalUs: phaseUs.get(phase)!, share: share(phaseUs.get(phase)!) }));
  return { ops, phases, timeline, peakBytes: Math.max(0, ...records.map((r) => r.peakBytes)) };
}

/** At most `max` points: the highest of each run of consecutive points, so the peak stays. */
function thin(points: TrainMemoryPoint[], max: number): TrainMemoryPoint[] {
  if (points.length <= max) return points;
  const run = Math.ceil(points.length / max);
  const out: TrainMemoryPoint[] = [];
  for (let i = 0; i < points.length; i += run) {
    let best = points[i];
    for (let j = i + 1; j < Math.min(i + run, points.length); j++) if (points[j].bytes > best.bytes) best = points[j];
    out.push(best);
  }
  return out;
}

/**
 * Memory of a step: the peak, the weights and the optimizer's moments, and the rest at the peak,
 * counted as activations — the tensors kept for backward, gradients, inputs and temporaries.
 */
export function memoryBreakdown(peakBytes: number, weightsBytes: number, optimizerBytes: number, timeline: TrainMemoryPoint[]): TrainMemory {
  return { peakBytes, weightsBytes, optimizerBytes, activationsBytes: Math.max(0, peakBytes - weightsBytes - optimizerBytes), timeline };
}
