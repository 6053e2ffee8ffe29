/**
 * Methods and events of the engine process (extension ⇄ engine over IPC, in `Envelope`s).
 * Pure types and validators; `server/server.ts` implements them, `extension/src/engine-client.ts` calls them.
 */
import { ProfileRequest } from '../schema/config';
import { CompressionReport } from '../schema/compression';
import { InferenceRun } from '../schema/run';
import { TRAIN_TASKS, TrainingRun, VariantsReport } from '../schema/training';
import { runConfigFields, validateRun } from '../schema/validate-run';
import { arrayUpTo, bool, numberIn, object, oneOf, optional, str, strUpTo, Validator } from '../schema/validate';
import { parseAttention } from '../model/variants';
import type { BackendChoice } from '../runtime/tfjs';
import type { PipelineProgress, PipelineRequest } from '../pipeline/planner';
import type { PipelinePlan } from '../schema/parallel';
import type { SuggestionsReport } from '../schema/advice';
import type { ApplyResult } from '../schema/apply';
import type { TuningReport } from '../schema/tuning';
import type { TraceRun } from '../schema/trace';
import { validateTraceRun } from '../schema/validate-trace';
import { validateTuningReport } from '../schema/validate-tuning';
import { TUNING_EXPORT_FORMATS, TuningExportFormat } from '../export/tuning-formats';
import type { TuneRequest } from '../tune/request';
import type { TuneProgress } from '../tune/tuner';
import { validateSuggestionsReport } from '../schema/validate-advice';
import { SCHEDULES } from '../schema/parallel';
import type { SpecOverrides, SweepProgress, SweepRequest, TrainProgress, TrainRequest } from '../train/request';
import { TwbError } from '../util/errors';
import { ModelSummaryView, ProviderInfo } from './webview';
import { compressRunRequest, CompressRunRequest } from './compress';

export interface EngineRequests {
  /** Liveness and versions; starts nothing heavy. */
  'engine/hello': { params: Record<string, never>; result: { version: string; pid: number; node: string } };
  /** Which execution providers can run here (probes each once). */
  'providers/list': { params: Record<string, never>; result: ProviderInfo[] };
  /** Reads a model file (or builds a built-in) and describes it without running it. */
  'model/summary': { params: { model: string }; result: ModelSummaryView };
  /** Profiles inference; emits `profile/progress` events tagged with this request's id. */
  'profile/run': { params: { request: Partial<ProfileRequest> & { model: string } }; result: InferenceRun };
  /** Quantizes or prunes a model, writes it to `request.out` and measures both; emits `compress/progress` events tagged with this request's id. */
  'compress/run': { params: { request: CompressRunRequest }; result: CompressionReport };
  /** Trains a built-in model with TensorFlow.js; emits `train/progress` events tagged with this request's id. Cancelled: the run so far, `cancelled: true`. */
  'train/run': { params: { request: TrainRequest }; result: TrainingRun };
  /** Compares structural variants with a sequence-length sweep; emits `sweep/progress` events tagged with this request's id. */
  'sweep/run': { params: { request: SweepRequest }; result: VariantsReport };
  /** Plans a pipeline (and with `measure`, runs it); emits `pipeline/progress` events tagged with this request's id. */
  'pipeline/plan': { params: { request: PipelineRequest }; result: PipelinePlan };
  /** The advisor's suggestions for a run (kernels timed here first); emits `advice/progress`. */
  'advice/suggest': { params: { run: InferenceRun | TraceRun; calibrate: boolean }; result: SuggestionsReport };
  /** Applies one suggestion of `report` to `run` and measures it; records the estimate's error under `cwd`/.twb; emits `advice/progress`. */
  'advice/apply': { params: { run: InferenceRun; report: SuggestionsReport; suggestionId: string; cwd: string }; result: ApplyResult };
  /**
   * Accuracy-aware auto-tuning (`twb tune`); emits `tune/progress`. Cancelling stops the search
   * after the trial in flight and still answers with the report so far (`stopped.reason: cancelled`).
   */
  'tune/run': { params: { request: TuneRequest }; result: TuningReport };
  /**
   * Writes one export of a tuning report to `out` (`twb export tune.json --format F`); `base`
   * resolves relative paths in the report. Answers with what to tell the user. In the engine
   * because `ort-model` loads the best model in ONNX Runtime.
   */
  'tune/export': { params: { report: TuningReport; format: TuningExportFormat; out: string; base: string }; result: { message: string } };
  /**
   * Imports a profiler trace (Kineto, ONNX Runtime profile, chrome trace; plain or gzip), streamed;
   * emits `trace/progress`; cancellable.
   */
  'trace/import': { params: { file: string }; result: TraceRun };
  /** Renders a self-contained HTML report of a run. */
  'report/render': { params: { run: InferenceRun }; result: { html: string } };
}

/** Progress of a long request, tagged with its id. */
export interface ProgressEvent {
  requestId: number;
  phase: string;
  done: number;
  total: number;
  message: string;
}

export interface EngineEvents {
  'profile/progress': ProgressEvent;
  /** Progress of a `compress/run` request (phases: load, transform, write, latency, analyze, profile). */
  'compress/progress': ProgressEvent;
  /** Progress of a `train/run` request. */
  'train/progress': TrainProgress & { requestId: number };
  /** Progress of a `sweep/run` request. */
  'sweep/progress': SweepProgress & { requestId: number };
  /** Progress of an `advice/suggest` or `advice/apply` request. */
  'advice/progress': { requestId: number; message: string };
  /** Progress of a `trace/import` request: bytes of the file read (compressed bytes for gzip). */
  'trace/progress': { requestId: number; bytesRead: number; fileBytes: number };
  /** Progress of a `tune/run` request. */
  'tune/progress': TuneProgress & { requestId: number };
  /** Progress of a `pipeline/plan` request. */
  'pipeline/progress': PipelineProgress & { requestId: number };
  'log/write': { level: 'info' | 'warn' | 'error'; message: string };
}

export type EngineMethod = keyof EngineRequests;

const empty: Validator<Record<string, never>> = (v, at) => {
  if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) throw new TwbError('usage', `${at}: expected no parameters`);
  return {};
};

/** Every RunConfig field optional (the engine fills defaults), the model required. */
const profileRequest = object({
  ...Object.fromEntries(Object.entries(runConfigFields).map(([k, check]) => [k, optional(check as Validator<unknown>)])),
  attention: optional(strUpTo(64)),
  shareLayers: optional(strUpTo(16)),
  model: str,
}) as unknown as Validator<Partial<ProfileRequest> & { model: string }>;

// ---- train/run and sweep/run: every field checked and bounded before a job starts ----------------

/** Longest path accepted, characters. */
const MAX_PATH = 4096;

function nonEmpty(max: number): Validator<string> {
  const check = strUpTo(max);
  return (v, at) => {
    const s = check(v, at);
    if (!s.trim()) throw new TwbError('io', `${at}: expected a non-empty string`);
    return s;
  };
}

const int = (lo: number, hi: number) => numberIn(lo, hi, true);

// Typed as a record so that a backend added to BackendChoice must be added here too.
const BACKENDS: Record<BackendChoice, true> = { auto: true, tensorflow: true, webgpu: true, wasm: true, cpu: true };
const backend = oneOf(Object.keys(BACKENDS) as BackendChoice[]);

const SHARE_LAYERS = /^(none|all|[1-9]\d{0,2})$/;

/** `--attention` spelling, checked by the same parser the CLI uses; its message names the syntax. */
const attention: Validator<string> = (v, at) => {
  const s = strUpTo(64)(v, at);
  try {
    parseAttention(s);
  } catch (e) {
    throw new TwbError('io', `${at}: ${(e as Error).message}`);
  }
  return s;
};

const shareLayers: Validator<string> = (v, at) => {
  const s = strUpTo(16)(v, at);
  if (!SHARE_LAYERS.test(s)) throw new TwbError('io', `${at}: expected none, all or a group size N, got ${JSON.stringify(s)}`);
  return s;
};

/** A sweep variant: an attention spelling, optionally `+share:none|all|N`. */
const variantLabel: Validator<string> = (v, at) => {
  const s = strUpTo(80)(v, at);
  const [attn, share, ...rest] = s.split('+share:');
  attention(attn, at);
  if (rest.length > 0 || (share !== undefined && !SHARE_LAYERS.test(share))) {
    throw new TwbError('io', `${at}: expected ATTENTION or ATTENTION+share:none|all|N, got ${JSON.stringify(s)}`);
  }
  return s;
};

const specOverrides = object<SpecOverrides>({
  layers: optional(int(1, 64)),
  hidden: optional(int(1, 8192)),
  heads: optional(int(1, 256)),
  ffn: optional(int(1, 65536)),
  vocab: optional(int(2, 1 << 20)),
  maxSeq: optional(int(1, 1 << 16)),
});

const common = {
  model: nonEmpty(256),
  specOverrides: optional(specOverrides),
  task: optional(oneOf(TRAIN_TASKS)),
  batch: optional(int(1, 4096)),
  seq: optional(int(1, 1 << 16)),
  seed: optional(int(0, 2 ** 32 - 1)),
  backend: optional(backend),
};

const trainRequest = object<TrainRequest>({
  ...common,
  textFile: optional(nonEmpty(MAX_PATH)),
  steps: optional(int(1, 1_000_000)),
  lr: optional(numberIn(0, 1)),
  warmupSteps: optional(int(0, 1_000_000)),
  weightDecay: optional(numberIn(0, 1)),
  clipNorm: optional(numberIn(0, 1e6)),
  attention: optional(attention),
  shareLayers: optional(shareLayers),
  evalEvery: optional(int(1, 1_000_000)),
  evalExamples: optional(int(1, 100_000)),
  profiledSteps: optional(int(1, 100)),
  saveOnnx: optional(nonEmpty(MAX_PATH)),
});

const sweepRequest = object<SweepRequest>({
  ...common,
  variants: optional(arrayUpTo(variantLabel, 32)),
  seqs: optional(arrayUpTo(int(1, 1 << 16), 32)),
  trainSteps: optional(int(0, 1_000_000)),
  pointBudgetMs: optional(numberIn(1, 3_600_000)),
});

const pipelineRequest = object<PipelineRequest>({
  source: nonEmpty(MAX_PATH),
  schedule: oneOf(SCHEDULES),
  stages: int(1, 64),
  microbatches: int(1, 4096),
  chunks: int(1, 16),
  commUs: numberIn(0, 1e8),
  uniform: bool,
  measure: bool,
  batch: int(1, 4096),
  seq: int(1, 1 << 16),
  executionProvider: strUpTo(32),
  seed: int(0, 2 ** 32 - 1),
});

const fraction = numberIn(0, 1);

const tuneRequest = object<TuneRequest>({
  model: nonEmpty(MAX_PATH),
  evalFile: nonEmpty(MAX_PATH),
  outDir: nonEmpty(MAX_PATH),
  maxAccuracyDrop: optional(fraction),
  minTop1Agreement: optional(fraction),
  trials: optional(int(1, 1000)),
  patience: optional(int(1, 1000)),
  batch: optional(int(1, 4096)),
  seq: optional(int(1, 1 << 16)),
  threads: optional(int(0, 1024)),
  executionProvider: optional(strUpTo(32)),
  seed: optional(int(0, 2 ** 32 - 1)),
  runs: optional(int(1, 10_000)),
  heldBack: optional(fraction),
  candidates: optional(arrayUpTo(strUpTo(64), 64)),
  keepAll: optional(bool),
  advisor: optional(bool),
  calibrationFile: optional(nonEmpty(MAX_PATH)),
});

export const engineParamValidators: { [M in EngineMethod]: Validator<EngineRequests[M]['params']> } = {
  'engine/hello': empty,
  'providers/list': empty,
  'model/summary': object({ model: str }),
  'profile/run': object({ request: profileRequest }),
  'compress/run': object({ request: compressRunRequest }),
  'train/run': object({ request: trainRequest }),
  'sweep/run': object({ request: sweepRequest }),
  'pipeline/plan': object({ request: pipelineRequest }),
  'advice/suggest': object({ run: (v): InferenceRun | TraceRun => ((v as { kind?: unknown } | null)?.kind === 'trace' ? validateTraceRun(v) : validateRun(v)), calibrate: bool }),
  'advice/apply': object({ run: (v) => validateRun(v), report: (v) => validateSuggestionsReport(v), suggestionId: strUpTo(64), cwd: nonEmpty(MAX_PATH) }),
  'tune/run': object({ request: tuneRequest }),
  'trace/import': object({ file: nonEmpty(MAX_PATH) }),
  'tune/export': object({ report: (v) => validateTuningReport(v), format: oneOf(TUNING_EXPORT_FORMATS), out: nonEmpty(MAX_PATH), base: nonEmpty(MAX_PATH) }),
  'report/render': object({ run: (v) => validateRun(v) }),
};
