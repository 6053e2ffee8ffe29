/**
 * AdamW for the tfjs trainer, with the learning-rate schedule and global-norm gradient clipping.
 * The arithmetic follows PyTorch's `torch.optim.AdamW` and `clip_grad_norm_`, so a step here and a
 * step there agree number for number:
 *
 *   g  ← g · min(1, clipNorm / (‖g‖ + 1e-6))          (‖g‖ over all gradients together)
 *   m  ← β1·m + (1−β1)·g,   v ← β2·v + (1−β2)·g²
 *   w  ← w·(1 − lr·λ) − lr · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε)
 *
 * Weight decay λ is decoupled (applied to the weight, not the gradient) and skipped for biases and
 * LayerNorm scales, chosen by name: decaying them pulls LayerNorm towards zero output and biases
 * towards zero for no regularising benefit (the GPT-2/BERT recipe). Adaptive span's parameters
 * are not decayed either (their own penalty regularises them) and learn at SPAN_LR_SCALE × lr.
 */
import type { NamedTensorMap, Scalar, Tensor, Tf, Variable } from '../runtime/tfjs';
import { isSpanWeight, SPAN_LR_SCALE } from './adaptive-span-tf';

export interface LrSchedule {
  /** Peak learning rate. */
  lr: number;
  /** Steps of linear warm-up from lr/warmupSteps to lr. */
  warmupSteps: number;
  /** Steps of the whole run; the last one (index totalSteps−1) runs at 10% of lr. */
  totalSteps: number;
}

export interface AdamWConfig extends LrSchedule {
  weightDecay: number;
  /** Global gradient-norm bound; 0 or Infinity: no clipping. */
  clipNorm: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** The floor of the cosine decay, as a fraction of the peak learning rate. */
export const FINAL_LR_FRACTION = 0.1;

/**
 * Learning rate of step `step` (0-based): linear warm-up to `lr` over `warmupSteps`, then cosine
 * decay from `lr` to 10% of it at the last step.
 */
export function learningRate(step: number, s: LrSchedule): number {
  if (step < s.warmupSteps) return (s.lr * (step + 1)) / s.warmupSteps;
  const span = s.totalSteps - 1 - s.warmupSteps;
  if (span <= 0) return s.lr;
  const progress = Math.min(1, (step - s.warmupSteps) / span);
  return s.lr * (FINAL_LR_FRACTION + (1 - FINAL_LR_FRACTION) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** Whether weight decay applies to the weight of this ONNX initializer name (not biases, LayerNorm scales or spans). */
export function decays(name: string): boolean {
  return !/\/(bias|scale)$/.test(name) && !isSpanWeight(name);
}

/** The multiple of the schedule's learning rate a weight learns at, by ONNX initializer name. */
export function lrScale(name: string): number {
  return isSpanWeight(name) ? SPAN_LR_SCALE : 1;
}

export interface AdamW {
  /**
   * Clips `grads` (keyed by tf variable name, as `tf.variableGrads` returns them) and updates every
   * variable with the learning rate of step `step`, disposing each gradient once used. Returns the
   * global gradient norm before clipping, a scalar the caller reads or disposes. Call inside `tf.tidy`.
   */
  apply(grads: NamedTensorMap, step: number): Scalar;
  /** Bytes of the two fp32 moments of every weight. */
  optimizerStateBytes(): number;
  dispose(): void;
}

export function createAdamW(tf: Tf, variables: ReadonlyMap<string, Variable>, cfg: AdamWConfig): AdamW {
  const beta1 = cfg.beta1 ?? 0.9;
  const beta2 = cfg.beta2 ?? 0.999;
  const epsilon = cfg.epsilon ?? 1e-8;
  const zeros = (w: Variable): Variable => {
    const z = tf.zerosLike(w);
    const moment = tf.variable(z, false);
    z.dispose();
    return moment;
  };
  const slots = [...variables].map(([name, w]) => ({ w, decay: decays(name), scale: lrScale(name), m: zeros(w), v: zeros(w) }));
  let updates = 0;

  const apply = (grads: NamedTensorMap, step: number): Scalar => {
    const gradOf = (w: Variable): Tensor => {
      const g = grads[w.name];
      if (!g) throw new Error(`no gradient for variable ${w.name}`);
      return g;
    };
    const norm = tf.sqrt(tf.addN(slots.map((s) => tf.tidy(() => tf.sum(tf.square(gradOf(s.w))))))) as Scalar;
    const clip = cfg.clipNorm > 0 && Number.isFinite(cfg.clipNorm);
    const coef = clip ? tf.minimum(tf.div(cfg.clipNorm, tf.add(norm, 1e-6)), 1) : undefined;
    updates++;
    const lr = learningRate(step, cfg);
    const bc1 = 1 - beta1 ** updates;
    const bc2 = 1 - beta2 ** updates;
    // One weight at a time, freeing its temporaries and its gradient as soon as it is updated:
    // otherwise the optimizer's temporaries for all weights at once set the step's peak memory.
    for (const s of slots) {
      tf.tidy(() => {
        const g = coef ? tf.mul(gradOf(s.w), coef) : gradOf(s.w);
        s.m.assign(tf.add(tf.mul(s.m, beta1), tf.mul(g, 1 - beta1)));
        s.v.assign(tf.add(tf.mul(s.v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const denom = tf.add(tf.sqrt(tf.div(s.v, bc2)), epsilon);
        const update = tf.div(tf.div(s.m, bc1), denom);
        const decayed = s.decay && cfg.weightDecay > 0 ? tf.mul(s.w, 1 - lr * cfg.weightDecay) : s.w;
        s.w.assign(tf.sub(decayed, tf.mul(update, lr * s.scale)));
      });
      gradOf(s.w).dispose();
    }
    coef?.dispose();
    return norm;
  };

  return {
    apply,
    optimizerStateBytes: () => slots.reduce((a, s) => a + (s.m.size + s.v.size) * 4, 0),
    dispose: () => {
      for (const s of slots) {
        s.m.dispose();
        s.v.dispose();
      }
    },
  };
}
