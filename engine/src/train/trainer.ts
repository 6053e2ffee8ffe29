/**
 * `trainModel`: trains a built-in transformer on a task with TensorFlow.js and returns the run as a
 * `kind: "training"` document — loss and accuracy curves, step time, a per-kernel profile of a few
 * steps by phase and layer, memory, the mixed-precision estimate, and optionally the trained model
 * as ONNX with ORT's logits checked against tfjs's.
 */
import * as path from 'node:path';
import type { Tensor, Tensor2D, Tf } from '../runtime/tfjs';
import { loadTf } from '../runtime/tfjs';
import { openSession } from '../runtime/ort';
import type { FeedTensor } from '../runtime/feeds';
import { presetSpec, validateSpec, TransformerSpec } from '../model/spec';
import { formatAttention, formatShareLayers, parseAttention, parseShareLayers } from '../model/variants';
import { buildTransformer, initialWeights } from '../model/transformer';
import { encodeModel } from '../onnx/codec';
import { writeFileAtomic } from '../util/atomic-write';
import { resultId } from '../util/result-id';
import { timingSummary } from '../util/stats';
import { TwbError } from '../util/errors';
import type { StepValue, TrainingRun, TrainTaskName } from '../schema/training';
import { TRAINING_SCHEMA_VERSION } from '../schema/training';
import type { JobOptions, SpecOverrides, TrainProgress, TrainRequest } from './request';
import { createTfTransformer, TfTransformer } from './tf-model';
import { AdamW, createAdamW } from './optimizer';
import { makeTask, TASK_DEFAULTS, TaskBatch, TrainSettings, TrainTask } from './tasks';
import { memoryBreakdown, recordStep, StepProbe, StepRecord, summarizeSteps } from './step-profile';
import { mixedPrecision } from './precision';
import { transformerFlops } from '../analysis/transformer-flops';
import { clampSpans, isSpanWeight, learnedSpans, spanPenalty, spanVariables } from './adaptive-span-tf';
import { mixerLengthWarning } from '../model/variants';

/** Steps at the start that are not timed: tfjs and wasm compile and allocate on first use. */
export const WARMUP_STEPS = 2;

/** Examples per forward pass when evaluating (forward only, so larger than a training batch). */
const EVAL_BATCH = 64;

/**
 * Default settings of a task for a model; the sequence never exceeds the model's position table.
 * Measured on the 2-core machine with wasm (tfjs 4.22): builtin:tiny-bert on count-compare reaches
 * 1.00 held-out accuracy in 100 steps (1.2 s per step, 2.4 min with evaluations); builtin:tiny-gpt
 * on sort reaches 0.98 in 150 steps (1.3 s per step, 3.5 min). Both pass the 0.9 bar by half-way.
 */
export function trainDefaults(spec: TransformerSpec, task: TrainTaskName): TrainSettings {
  const d = TASK_DEFAULTS[task];
  return { ...d, seq: Math.min(d.seq, spec.maxSeq) };
}

/** The preset with the request's overrides and structural options, checked. */
export function resolveSpec(model: string, overrides: SpecOverrides = {}, attention?: string, shareLayers?: string): TransformerSpec {
  const base = { ...presetSpec(model), ...overrides };
  const spec: TransformerSpec = { ...base, attention: parseAttention(attention), shareLayers: parseShareLayers(shareLayers, base.layers) };
  validateSpec(spec);
  return spec;
}

/** The task a request trains: as named, else char-lm for a text file, else the one that fits the model. */
export function taskOf(req: Pick<TrainRequest, 'task' | 'textFile'>, spec: TransformerSpec): TrainTaskName {
  return req.task ?? (req.textFile ? 'char-lm' : spec.kind === 'encoder' ? 'count-compare' : 'sort');
}

function settingsOf(req: TrainRequest, spec: TransformerSpec, task: TrainTaskName): TrainSettings {
  const d = trainDefaults(spec, task);
  const s: TrainSettings = {
    steps: req.steps ?? d.steps,
    batch: req.batch ?? d.batch,
    seq: req.seq ?? d.seq,
    lr: req.lr ?? d.lr,
    warmupSteps: req.warmupSteps ?? d.warmupSteps,
    weightDecay: req.weightDecay ?? d.weightDecay,
    clipNorm: req.clipNorm ?? d.clipNorm,
    evalEvery: req.evalEvery ?? d.evalEvery,
    evalExamples: req.evalExamples ?? d.evalExamples,
    profiledSteps: req.profiledSteps ?? d.profiledSteps,
  };
  for (const k of ['steps', 'batch', 'seq', 'evalEvery', 'evalExamples'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 1) throw new TwbError('usage', `${k} must be a positive integer, got ${s[k]}`);
  }
  for (const k of ['warmupSteps', 'profiledSteps'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 0) throw new TwbError('usage', `${k} must be a whole number ≥ 0, got ${s[k]}`);
  }
  if (!(s.lr > 0) || !Number.isFinite(s.lr)) throw new TwbError('usage', `lr must be a positive number, got ${s.lr}`);
  for (const k of ['weightDecay', 'clipNorm'] as const) {
    if (!(s[k] >= 0)) throw new TwbError('usage', `${k} must be a number ≥ 0, got ${s[k]}`);
  }
  return s;
}

/** Steps [start, end) that run under tf.profile: in the middle of the run, after the warm-up steps. */
export function profiledRange(steps: number, profiled: number): [number, number] {
  const n = Math.min(profiled, Math.max(0, steps - WARMUP_STEPS));
  const start = Math.min(steps - n, Math.max(WARMUP_STEPS, Math.floor((steps - n) / 2)));
  return [start, start + n];
}

/** Tensors of a batch's inputs (call inside tf.tidy). */
export function batchInputs(tf: Tf, b: TaskBatch): { ids: Tensor2D; keyMask?: Tensor2D } {
  const ids = tf.tensor2d(b.ids, [b.batch, b.seq], 'int32');
  return { ids, ...(b.keyMask ? { keyMask: tf.tensor2d(b.keyMask, [b.batch, b.seq]) } : {}) };
}

/**
 * One optimisation step: returns [task loss, pre-clip gradient norm] as a tensor; everything else is
 * freed. Adaptive span adds its penalty to what is differentiated (not to the loss reported, which
 * stays comparable across variants) and projects the spans back into [0, 1] after the update.
 */
export function trainStep(tf: Tf, model: TfTransformer, opt: AdamW, task: Pick<TrainTask, 'loss'>, b: TaskBatch, step: number, probe?: StepProbe): Tensor {
  const spans = spanVariables(model.variables);
  return tf.tidy(() => {
    const { ids, keyMask } = batchInputs(tf, b);
    let taskLoss: Tensor | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const loss = task.loss(tf, model.forward(ids, keyMask, probe?.hook), b);
      if (spans.length > 0) taskLoss = tf.keep(loss); // outlives variableGrads' own tidy; freed below
      const total = spans.length > 0 ? (tf.add(loss, spanPenalty(tf, spans)) as typeof loss) : loss;
      probe?.forwardDone();
      return total;
    }, [...model.variables.values()]);
    probe?.backwardDone();
    const norm = opt.apply(grads, step);
    clampSpans(tf, spans);
    const out = tf.stack([taskLoss ?? value, norm]);
    taskLoss?.dispose();
    return out;
  });
}

/** Reads a tensor's values and frees it (outside tf.tidy: tidy would walk the returned array). */
export function take(t: Tensor): Float32Array {
  const data = t.dataSync() as Float32Array;
  t.dispose();
  return data;
}

export async function trainModel(req: TrainRequest, opts: JobOptions<TrainProgress> = {}): Promise<TrainingRun> {
  const createdAt = new Date();
  const warnings: string[] = [];
  let spec = resolveSpec(req.model, req.specOverrides, req.attention, req.shareLayers);
  const taskName = taskOf(req, spec);
  const cfg = settingsOf(req, spec, taskName);
  const seed = req.seed ?? 0;
  if (cfg.seq > spec.maxSeq) {
    warnings.push(`--seq ${cfg.seq} is longer than the model's position table (${spec.maxSeq}); the table was extended to ${cfg.seq} rows`);
    spec = { ...spec, maxSeq: cfg.seq };
  }
  const task = makeTask(taskName, spec, cfg.seq, seed, req.textFile);
  if (spec.attention?.kind === 'mixer') warnings.push(mixerLengthWarning(spec, cfg.seq));
  const progress = (p: Omit<TrainProgress, 'steps'>) => opts.onProgress?.({ ...p, steps: cfg.steps });
  progress({ phase: 'load', step: 0, message: `loading tfjs (${req.backend ?? 'auto'})` });
  const rt = await loadTf(req.backend ?? 'auto');
  const { tf } = rt;

  const model = createTfTransformer(tf, spec, initialWeights(spec, seed));
  const opt = createAdamW(tf, model.variables, { ...cfg, totalSteps: cfg.steps });
  try {
    const evalSet = task.evalSet(cfg.evalExamples, EVAL_BATCH);
    const evaluate = () => {
      let correct = 0;
      let total = 0;
      for (const b of evalSet) {
        const r = task.accuracy(take(logitsOf(tf, model, b)), b);
        correct += r.correct;
        total += r.total;
      }
      return total > 0 ? correct / total : 0;
    };
    const loss: StepValue[] = [];
    const accuracy: StepValue[] = [];
    const timed: number[] = [];
    const all: number[] = [];
    const records: StepRecord[] = [];
    const [profStart, profEnd] = profiledRange(cfg.steps, cfg.profiledSteps);
    let cancelled = false;
    let latestAcc: number | undefined;
    for (let s = 0; s < cfg.steps; s++) {
      await new Promise((r) => setImmediate(r));
      if (opts.signal?.aborted) {
        cancelled = true;
        break;
      }
      const b = task.batch(s, cfg.batch);
      const profiled = s >= profStart && s < profEnd;
      const t0 = performance.now();
      let out: Tensor | undefined;
      if (profiled) records.push(await recordStep(tf, (probe) => (out = trainStep(tf, model, opt, task, b, s, probe))));
      else out = trainStep(tf, model, opt, task, b, s);
      const [lossValue] = take(out!);
      const ms = performance.now() - t0;
      all.push(ms);
      if (!profiled && s >= WARMUP_STEPS) timed.push(ms);
      loss.push({ step: s + 1, value: lossValue });
      if (!Number.isFinite(lossValue)) {
        warnings.push(`the loss became ${lossValue} at step ${s + 1}; training stopped (try a lower --lr)`);
        break;
      }
      if ((s + 1) % cfg.evalEvery === 0 || s + 1 === cfg.steps) {
        progress({ phase: 'eval', step: s + 1, loss: lossValue, message: `evaluating on ${cfg.evalExamples} held-out examples` });
        latestAcc = evaluate();
        accuracy.push({ step: s + 1, value: latestAcc });
      }
      progress({ phase: profiled ? 'profile' : 'train', step: s + 1, loss: lossValue, ...(latestAcc === undefined ? {} : { accuracy: latestAcc }), message: `step ${s + 1}/${cfg.steps} loss ${lossValue.toFixed(4)}` });
    }

    let onnx: TrainingRun['onnx'];
    if (req.saveOnnx && !cancelled) {
      progress({ phase: 'export', step: loss.length, message: `writing ${req.saveOnnx}` });
      onnx = await exportOnnx(tf, model, spec, seed, req.model, req.saveOnnx, evalSet[0]);
    }

    if (timed.length === 0 && all.length > 0) warnings.push(`too few steps to leave warm-up and profiled steps out: stepMs covers all ${all.length} steps`);
    const samples = timed.length > 0 ? timed : all;
    const stepMs = timingSummary(samples);
    const p50 = stepMs.p50;
    const summary = summarizeSteps(records);
    const weightsBytes = model.paramCount() * 4;
    const spans = learnedSpans(spec, new Map([...model.variables].filter(([name]) => isSpanWeight(name)).map(([name, x]) => [name, x.dataSync()])));
    const memory = memoryBreakdown(summary.peakBytes, weightsBytes, opt.optimizerStateBytes(), summary.timeline);
    return {
      schemaVersion: TRAINING_SCHEMA_VERSION,
      kind: 'training',
      id: resultId(createdAt, req.model, `train-${taskName}`),
      createdAt: createdAt.toISOString(),
      model: req.model,
      spec,
      variant: { attention: formatAttention(spec.attention), shareLayers: formatShareLayers(spec.shareLayers, spec.layers) },
      config: {
        task: taskName,
        ...(task.textFile ? { textFile: task.textFile } : {}),
        ...cfg,
        seed,
        backendRequested: req.backend ?? 'auto',
      },
      backend: rt.backend,
      backendAttempts: rt.attempts,
      env: rt.env,
      params: model.paramCount(),
      flopsPerStep: transformerFlops(spec, cfg.batch, cfg.seq).trainingStep,
      stepMs,
      tokensPerSecond: p50 > 0 ? (cfg.batch * cfg.seq * 1000) / p50 : 0,
      loss,
      accuracy,
      accuracyMetric: task.metric,
      ...(task.bar === undefined ? {} : { accuracyBar: task.bar }),
      ops: summary.ops,
      phases: summary.phases,
      memory,
      mixedPrecision: mixedPrecision(rt.backend, memory),
      ...(onnx ? { onnx } : {}),
      ...(spans ? { spans } : {}),
      ...(cancelled ? { cancelled: true } : {}),
      warnings,
    };
  } finally {
    opt.dispose();
    model.dispose();
  }
}

/** Logits of a batch, forward only. */
function logitsOf(tf: Tf, model: TfTransformer, b: TaskBatch): Tensor {
  return tf.tidy(() => {
    const { ids, keyMask } = batchInputs(tf, b);
    return model.forward(ids, keyMask);
  });
}

/**
 * Writes the trained weights through the ONNX builder (atomically) and runs one held-out batch
 * through ORT: the largest difference from tfjs's logits says the export computes the same model.
 */
async function exportOnnx(tf: Tf, model: TfTransformer, spec: TransformerSpec, seed: number, ref: string, file: string, b: TaskBatch): Promise<{ path: string; maxAbsDiff: number }> {
  const name = ref.replace(/^builtin:/, '');
  const bytes = encodeModel(buildTransformer(spec, { seed, name, weights: model.readWeights() }));
  const target = path.resolve(file);
  await writeFileAtomic(target, bytes);
  const expected = take(logitsOf(tf, model, b));
  const int64 = (a: ArrayLike<number>): FeedTensor => ({ type: 'int64', data: BigInt64Array.from(Array.from(a, (x) => BigInt(x))), dims: [b.batch, b.seq] });
  const feeds: Record<string, FeedTensor> = { input_ids: int64(b.ids), ...(spec.kind === 'encoder' ? { attention_mask: int64(b.keyMask ?? new Float32Array(b.ids.length).fill(1)) } : {}) };
  const session = await openSession(bytes, { executionProvider: 'cpu', threads: 0, optLevel: 'all' }, name);
  try {
    const got = (await session.fetch(feeds, ['logits'])).logits.data as Float32Array;
    let maxAbsDiff = 0;
    for (let i = 0; i < expected.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(expected[i] - got[i]));
    return { path: target, maxAbsDiff };
  } finally {
    await session.release();
  }
}
