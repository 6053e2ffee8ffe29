/**
 * Per-unit costs for the pipeline planner, read from the profiles the workbench already makes: an
 * ORT inference profile (forward measured; backward estimated), a tfjs training profile (forward and
 * backward measured per layer), or uniform costs. Units are the model's partitionable pieces in
 * order: `embed`, `layer 0` … `layer L−1`, `head` (engine/src/pipeline/units.ts cuts ONNX graphs the
 * same way).
 */
import type { CostSource, LayerCost } from '../../schema/parallel';
import type { InferenceRun } from '../../schema/run';
import type { TrainingRun } from '../../schema/training';
import { weightShapes } from '../../train/tf-model';
import { layerFromName } from '../../profile/graph-index';
import { TwbError } from '../../util/errors';

export interface UnitCosts {
  layers: LayerCost[];
  source: CostSource;
}

/** Backward costs about twice the forward (two matmuls per forward matmul), half of it the weight gradient. */
const BACKWARD_PER_FORWARD = 2;
const WEIGHT_GRAD_SHARE = 0.5;
const FLOAT_BYTES = 4;

const unitName = (layer: number | null, before: boolean) => (layer !== null ? `layer ${layer}` : before ? 'embed' : 'head');

interface Acc {
  layer: number | null;
  forwardUs: number;
  backwardUs: number;
  weightGradUs: number;
  activationBytes: number;
  paramBytes: number;
}

function orderUnits(acc: Map<string, Acc>): LayerCost[] {
  const rank = (a: Acc, name: string) => (a.layer !== null ? a.layer : name === 'embed' ? -1 : Infinity);
  return [...acc.entries()].sort(([na, a], [nb, b]) => rank(a, na) - rank(b, nb)).map(([name, a]) => ({ name, ...a }));
}

function accFor(acc: Map<string, Acc>, name: string, layer: number | null): Acc {
  let a = acc.get(name);
  if (!a) acc.set(name, (a = { layer, forwardUs: 0, backwardUs: 0, weightGradUs: 0, activationBytes: 0, paramBytes: 0 }));
  return a;
}

/**
 * From an ORT profile: forward = each unit's kernel time per profiled run; ops outside the layers go
 * to `embed` when their first kernel started before the first layer's, else to `head`. Backward is
 * estimated as 2× forward (half of it the weight gradient) and held activations as the unit's op
 * outputs in fp32.
 */
export function costsFromInferenceRun(run: InferenceRun): UnitCosts {
  if (run.ops.length === 0) throw new TwbError('bad-input', `run ${run.id} has no profiled ops to plan a pipeline from`);
  const runs = Math.max(1, run.config.profiledRuns);
  const firstStart = new Map<number, number>();
  run.trace.op.forEach((op, i) => {
    if (run.trace.run[i] === 0 && !firstStart.has(op)) firstStart.set(op, run.trace.startUs[i]);
  });
  const layerStarts = run.ops.map((o, i) => (o.layer !== null ? firstStart.get(i) : undefined)).filter((t): t is number => t !== undefined);
  const firstLayerStart = layerStarts.length ? Math.min(...layerStarts) : Infinity;
  const acc = new Map<string, Acc>();
  run.ops.forEach((o, i) => {
    const a = accFor(acc, unitName(o.layer, (firstStart.get(i) ?? Infinity) < firstLayerStart), o.layer);
    a.forwardUs += o.totalUs / runs;
    a.paramBytes += o.paramBytes;
    a.activationBytes += o.outputShapes.reduce((s, d) => s + d.reduce((x, y) => x * y, 1), 0) * FLOAT_BYTES;
  });
  for (const a of acc.values()) {
    a.backwardUs = a.forwardUs * BACKWARD_PER_FORWARD;
    a.weightGradUs = a.backwardUs * WEIGHT_GRAD_SHARE;
  }
  return {
    layers: orderUnits(acc),
    source: {
      kind: 'inference-profile',
      from: `${run.model.name} (run ${run.id}, batch ${run.config.batch} × seq ${run.config.seq})`,
      estimated: ['backward = 2 × the measured forward (ORT profiles inference only)', 'weight gradient (W) = half of backward', 'held activations = the outputs of each unit\'s ops in fp32'],
    },
  };
}

/**
 * From a tfjs training profile: forward and backward kernel time per layer and step, measured. The
 * weight gradient is half the backward MatMul time (dW and dX are matmuls of equal size). Kernels
 * outside the blocks (embeddings, head, loss) are split evenly between `embed` and `head`.
 */
export function costsFromTrainingRun(run: TrainingRun): UnitCosts {
  const steps = Math.max(1, run.config.profiledSteps);
  const acc = new Map<string, Acc>();
  const embed = accFor(acc, 'embed', null);
  const head = accFor(acc, 'head', null);
  for (let l = 0; l < run.spec.layers; l++) accFor(acc, `layer ${l}`, l);
  for (const o of run.ops) {
    if (o.phase === 'optimizer') continue;
    const us = o.totalUs / steps;
    const w = o.phase === 'backward' && /matmul/i.test(o.opType) ? us * WEIGHT_GRAD_SHARE : 0;
    const targets = o.layer === null ? [embed, head] : [accFor(acc, `layer ${o.layer}`, o.layer)];
    for (const a of targets) {
      const part = 1 / targets.length;
      if (o.phase === 'forward') a.forwardUs += us * part;
      else {
        a.backwardUs += us * part;
        a.weightGradUs += w * part;
      }
    }
  }
  for (const [name, shape] of weightShapes(run.spec)) {
    const layer = layerFromName(name);
    accFor(acc, layer !== null ? `layer ${layer}` : name.startsWith('embed') ? 'embed' : 'head', layer).paramBytes += shape.reduce((a, b) => a * b, 1) * FLOAT_BYTES;
  }
  // Shared layers (ALBERT) still hold their own activations; spread the measured total evenly.
  const perLayer = run.memory.activationsBytes / Math.max(1, run.spec.layers);
  for (const a of acc.values()) if (a.layer !== null) a.activationBytes = perLayer;
  return {
    layers: orderUnits(acc),
    source: {
      kind: 'training-profile',
      from: `${run.model} (training run ${run.id}, batch ${run.config.batch} × seq ${run.config.seq}, ${run.backend})`,
      estimated: ['weight gradient (W) = half of the backward MatMul time', 'kernels outside the blocks split evenly between embed and head', 'held activations = the measured activations at the peak, spread evenly over the layers'],
    },
  };
}

/** Every unit the same: 1 ms forward, 2 ms backward (1 ms of it W), 1 MiB of activations. */
export function uniformCosts(unitNames: readonly string[], from: string): UnitCosts {
  return {
    layers: unitNames.map((name) => {
      const m = /^layer (\d+)$/.exec(name);
      return { name, layer: m ? Number(m[1]) : null, forwardUs: 1000, backwardUs: 2000, weightGradUs: 1000, activationBytes: 1 << 20, paramBytes: 0 };
    }),
    source: { kind: 'uniform', from, estimated: ['every unit costs the same by request (--uniform): 1 ms forward, 2 ms backward (1 ms W), 1 MiB activations'] },
  };
}
