/**
 * Kernel calibration: before the advisor estimates what int8, int4, threads or a bigger batch would
 * buy, it times the kernels that decide it, on this machine, at the run's own product shapes: fp32
 * MatMul (+ bias Add) against the int8-dynamic, int8-static and int4 forms the passes emit, the
 * dominant product at the run's thread count against all cores, and at the run's batch against a
 * larger one. All forms of a shape run interleaved in short rounds (drift on a noisy machine hits
 * every form alike) and the figures are medians. A time budget keeps the whole at a few seconds.
 * An imported CPU trace records no shapes: for it one stand-in shape is timed.
 */
import * as os from 'node:os';
import type { BatchScaling, KernelCalibration, MatMulKernel, ThreadScaling } from '../schema/advice';
import type { InferenceRun } from '../schema/run';
import type { OptLevel } from '../schema/config';
import { openSession, ortVersion, Session, SessionSpec } from '../runtime/ort';
import type { FeedTensor } from '../runtime/feeds';
import { percentile } from '../util/stats';
import { throwIfAborted } from '../util/abort';
import { TwbError } from '../util/errors';
import { inferenceFacts, productShapes } from './facts';
import { fp32Model, kernelInput, kernelModels } from './kernel-models';
import { encodeModel } from '../onnx/codec';

/** Distinct product shapes timed (the largest shares); the rest borrow the nearest measured one. */
export const MAX_SHAPES = 4;
const MIN_SHAPE_SHARE = 0.01;
/** Batch the batch-size rule compares with. */
export const TARGET_BATCH = 8;
/** Timed runs per form before switching to the next form. */
const REPS = 2;
const MIN_ROUNDS = 2;
const MAX_ROUNDS = 20;

export interface CalibrationDeps {
  /** Monotonic milliseconds. */
  clock: () => number;
  now: () => Date;
  openSession: (model: Uint8Array, spec: SessionSpec, label: string) => Promise<Session>;
  /** Logical cores of this machine. */
  cores: number;
  /** Whole calibration, milliseconds (session creation aside). */
  budgetMs: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export function defaultCalibrationDeps(overrides: Partial<CalibrationDeps> = {}): CalibrationDeps {
  return {
    clock: () => performance.now(),
    now: () => new Date(),
    openSession: (model, spec, label) => openSession(model, spec, label),
    cores: os.availableParallelism(),
    budgetMs: 3000,
    ...overrides,
  };
}

interface Timed {
  session: Session;
  feeds: Record<string, FeedTensor>;
  samples: number[];
}

/**
 * Times the forms round by round: one untimed run after each switch (the previous session's idle
 * threads spin for a while and would bill this one), then REPS timed runs. Rounds fit the budget.
 */
async function interleave(forms: Timed[], budgetMs: number, deps: CalibrationDeps, what: string): Promise<{ us: number[]; samples: number }> {
  const once = async (f: Timed) => {
    throwIfAborted(deps.signal, 'kernel calibration');
    const t0 = deps.clock();
    await f.session.run(f.feeds);
    return (deps.clock() - t0) * 1000;
  };
  let roundUs = 0;
  for (const f of forms) {
    await once(f);
    roundUs += (await once(f)) * (REPS + 1);
  }
  const rounds = Math.max(MIN_ROUNDS, Math.min(MAX_ROUNDS, Math.floor((budgetMs * 1000) / Math.max(roundUs, 1))));
  for (let r = 0; r < rounds; r++) {
    deps.onProgress?.(`calibrating ${what}: round ${r + 1}/${rounds}`);
    for (const f of forms) {
      await once(f);
      for (let i = 0; i < REPS; i++) f.samples.push(await once(f));
    }
  }
  return { us: forms.map((f) => percentile(f.samples, 50)), samples: rounds * REPS };
}

/** Opens every model, runs `job`, releases them whatever happens. */
async function withSessions<T>(models: Uint8Array[], spec: SessionSpec, deps: CalibrationDeps, job: (s: Session[]) => Promise<T>): Promise<T> {
  const sessions: Session[] = [];
  try {
    for (const [i, m] of models.entries()) sessions.push(await deps.openSession(m, spec, `calibration kernel ${i}`));
    return await job(sessions);
  } finally {
    for (const s of sessions) await s.release();
  }
}

/** Threads the run's sessions used: the recorded count, or ORT's default (one per core) for 0. */
export function runThreads(run: InferenceRun, cores: number): number {
  return run.env.threads > 0 ? run.env.threads : run.config.threads > 0 ? run.config.threads : cores;
}

type ProductShape = Pick<MatMulKernel, 'input' | 'm' | 'k' | 'n' | 'bias' | 'share'>;

/** One product shape in its fp32, int8-dynamic, int8-static and int4 forms, interleaved. */
async function timeShape(s: ProductShape, spec: SessionSpec, budgetMs: number, deps: CalibrationDeps): Promise<MatMulKernel> {
  const models = await kernelModels({ input: s.input, n: s.n, bias: s.bias }, deps.signal);
  const list = [models.fp32, models.int8Dynamic, models.int8Static, models.int4].filter((m): m is Uint8Array => m !== null);
  const feeds = kernelInput(s.input);
  const timed = await withSessions(list, spec, deps, (sessions) =>
    interleave(sessions.map((session) => ({ session, feeds, samples: [] })), budgetMs, deps, `[${s.input.join('×')}]·[${s.k}×${s.n}]`),
  );
  const medians = timed.us;
  let next = 2;
  return {
    input: s.input,
    m: s.m,
    k: s.k,
    n: s.n,
    bias: s.bias,
    share: Math.min(1, s.share),
    fp32Us: medians[0],
    int8DynamicUs: medians[1],
    int8StaticUs: models.int8Static ? medians[next++] : null,
    int4Us: models.int4 ? medians[next++] : null,
    samples: timed.samples,
  };
}

/**
 * The product timed for an imported CPU trace, which records no shapes: a BERT-base projection
 * ([1×128×768]·[768×768] + bias, what nn.Linear(768, 768) runs on one 128-token sequence).
 */
export const TRACE_PROBE_SHAPE: ProductShape = { input: [1, 128, 768], m: 128, k: 768, n: 768, bias: true, share: 1 };

/**
 * The int8 kernel ratio for advice on an imported CPU trace: {@link TRACE_PROBE_SHAPE} timed in
 * its forms on all cores of this machine. The trace's own shapes and machine are unknown here,
 * which the rule that reads it says.
 */
export async function calibrateTraceKernels(runId: string, deps: CalibrationDeps): Promise<KernelCalibration> {
  const started = deps.clock();
  const spec: SessionSpec = { executionProvider: 'cpu', threads: deps.cores, optLevel: 'all' };
  deps.onProgress?.('calibrating kernels: a stand-in product shape');
  const kernel = await timeShape(TRACE_PROBE_SHAPE, spec, deps.budgetMs, deps);
  if (!(kernel.fp32Us > 0 && kernel.int8DynamicUs > 0)) throw new TwbError('internal', `kernel calibration measured no time for [${kernel.input.join('×')}]·[${kernel.k}×${kernel.n}]`);
  return {
    executionProvider: 'cpu',
    ortVersion: ortVersion(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: deps.cores,
    threads: deps.cores,
    optLevel: 'all',
    runId,
    createdAt: deps.now().toISOString(),
    matmul: [kernel],
    threadScaling: null,
    batchScaling: null,
    elapsedMs: deps.clock() - started,
  };
}

/** Measures the kernels the advisor's estimates need for `run`; throws `cancelled` when aborted. */
export async function calibrateKernels(run: InferenceRun, deps: CalibrationDeps): Promise<KernelCalibration> {
  const started = deps.clock();
  const threads = runThreads(run, deps.cores);
  const spec: SessionSpec = { executionProvider: 'cpu', threads, optLevel: run.config.optLevel as OptLevel };
  // Shapes under 1% of the run's time cannot move an estimate; they borrow the nearest measured one.
  const shapes = productShapes(inferenceFacts(run).products).filter((s, i) => i === 0 || s.share >= MIN_SHAPE_SHARE).slice(0, MAX_SHAPES);
  const dominant = shapes[0];
  const wantThreads = dominant !== undefined && threads !== deps.cores;
  const wantBatch = dominant !== undefined && run.config.batch < TARGET_BATCH && dominant.input.length >= 2 && dominant.input[0] === run.config.batch;
  // Most of the budget goes to the pass kernels; each scaling check gets a share of one shape.
  const parts = shapes.length + (wantThreads ? 0.5 : 0) + (wantBatch ? 0.5 : 0);
  const perShape = parts > 0 ? deps.budgetMs / parts : 0;

  const matmul: MatMulKernel[] = [];
  for (const [i, s] of shapes.entries()) {
    deps.onProgress?.(`calibrating kernels: shape ${i + 1}/${shapes.length}`);
    matmul.push(await timeShape(s, spec, perShape, deps));
  }

  let threadScaling: ThreadScaling | null = null;
  if (wantThreads) {
    const fp32 = encodeModel(fp32Model({ input: dominant.input, n: dominant.n, bias: dominant.bias }));
    const feeds = kernelInput(dominant.input);
    const a = await deps.openSession(fp32, spec, 'calibration threads');
    try {
      const { us } = await withSessions([fp32], { ...spec, threads: deps.cores }, deps, ([b]) =>
        interleave([{ session: a, feeds, samples: [] }, { session: b, feeds, samples: [] }], perShape / 2, deps, `threads ${threads} vs ${deps.cores}`),
      );
      threadScaling = { input: dominant.input, n: dominant.n, threads: [threads, deps.cores], us: [us[0], us[1]] };
    } finally {
      await a.release();
    }
  }

  let batchScaling: BatchScaling | null = null;
  if (wantBatch) {
    const scaledInput = [TARGET_BATCH, ...dominant.input.slice(1)];
    const small = encodeModel(fp32Model({ input: dominant.input, n: dominant.n, bias: dominant.bias }));
    const large = encodeModel(fp32Model({ input: scaledInput, n: dominant.n, bias: dominant.bias }));
    const { us } = await withSessions([small, large], spec, deps, ([a, b]) =>
      interleave([{ session: a, feeds: kernelInput(dominant.input), samples: [] }, { session: b, feeds: kernelInput(scaledInput), samples: [] }], perShape / 2, deps, `batch ${run.config.batch} vs ${TARGET_BATCH}`),
    );
    batchScaling = { input: dominant.input, n: dominant.n, batch: run.config.batch, scaledBatch: TARGET_BATCH, us: us[0], scaledUs: us[1] };
  }

  for (const k of matmul) {
    if (!(k.fp32Us > 0 && k.int8DynamicUs > 0)) throw new TwbError('internal', `kernel calibration measured no time for [${k.input.join('×')}]·[${k.k}×${k.n}]`);
  }
  return {
    executionProvider: 'cpu',
    ortVersion: ortVersion(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: deps.cores,
    threads,
    optLevel: run.config.optLevel,
    runId: run.id,
    createdAt: deps.now().toISOString(),
    matmul,
    threadScaling,
    batchScaling,
    elapsedMs: deps.clock() - started,
  };
}
