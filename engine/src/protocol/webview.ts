/**
 * Messages between the extension host and the workbench webview, inside the `Envelope` of
 * `envelope.ts`. Pure types and validators: the webview bundle and the extension both import this.
 *
 * Handshake: the webview sends the `ui/ready` event once its script runs; only then does the host
 * send `session/init`. Views added by later features plug in as new `ViewId`s and messages here.
 */
import type { ModelSummary } from '../onnx/summary';
import { InferenceRun, RunConfig } from '../schema/run';
import { TrainingRun, VariantsReport } from '../schema/training';
import { CompressionReport } from '../schema/compression';
import { MemoryPlan, PipelinePlan, SCHEDULES } from '../schema/parallel';
import type { SuggestionsReport } from '../schema/advice';
import type { ApplyResult } from '../schema/apply';
import type { TuningReport } from '../schema/tuning';
import type { TraceRun } from '../schema/trace';
import { runConfigFields } from '../schema/validate-run';
import { numberIn, object, oneOf, str, strUpTo, Validator } from '../schema/validate';
import { TwbError } from '../util/errors';
import { ErrorValue } from './envelope';
import { compressForm, CompressForm } from './compress';

export type { CompressForm } from './compress';

export const VIEW_IDS = ['overview', 'ops', 'timeline', 'memory', 'toggles', 'compare', 'quantization', 'suggestions', 'tuning', 'training', 'variants', 'pipeline', 'memory-plan'] as const;
export type ViewId = (typeof VIEW_IDS)[number];

/** The run configuration form (Toggles view): RunConfig's fields a user sets, plus the model. */
export type RunForm = Omit<RunConfig, 'dims' | 'seed'> & {
  /** Path to an .onnx file or `builtin:NAME`. */
  model: string;
};

/** One execution provider and whether it can run on this machine. */
export interface ProviderInfo {
  name: string;
  available: boolean;
  reason?: string;
}

type ValueView = { name: string; type: string; dims: Array<number | string> };

/** What the custom editor shows before anything runs: read from the file, no ONNX Runtime. */
export interface ModelSummaryView extends Omit<ModelSummary, 'externalFiles'> {
  name: string;
  source: string;
  sizeBytes: number;
  inputs: ValueView[];
  outputs: ValueView[];
}

/**
 * Where the webview is shown; decides which views and controls it offers. `trace`: the editor of a
 * profiler trace file (Overview, Ops, Timeline, Memory of the imported trace; nothing runs).
 */
export type SessionMode = 'profiler' | 'editor' | 'report' | 'trace';
export const SESSION_MODES: readonly SessionMode[] = ['profiler', 'editor', 'report', 'trace'];

// ---- host → webview events ------------------------------------------------------------------

export interface HostEvents {
  /** First message after `ui/ready`. */
  'session/init': {
    mode: SessionMode;
    /** False in an untrusted workspace: the webview disables running models and says why. */
    trusted: boolean;
    form: RunForm;
    providers: ProviderInfo[];
    /** Runs to show at once (kept runs, or the one run of a report). */
    runs: InferenceRun[];
    /** Compression reports to show in the Quantization view (kept ones, or the one opened). */
    compressions?: CompressionReport[];
    /** Training runs for the Training view (kept ones, or the one opened). */
    trainings?: TrainingRun[];
    /** Variant comparisons for the Variants view (kept ones, or the one opened). */
    variants?: VariantsReport[];
    /** Pipeline plans for the Pipeline view (kept ones, or the one opened). */
    pipelines?: PipelinePlan[];
    /** Memory plans for the Memory-plan view (kept ones, or the one opened). */
    memoryPlans?: MemoryPlan[];
    /** Suggestion reports for the Suggestions view (kept ones, or the one opened). */
    suggestions?: SuggestionsReport[];
    /** Results of applied suggestions, shown beside the cards they came from. */
    applied?: ApplyResult[];
    /** Tuning reports for the Tuning view (kept ones, or the one opened). */
    tunings?: TuningReport[];
    /** Imported profiler traces, shown by Overview, Ops, Timeline and Memory when one is selected. */
    traces?: TraceRun[];
    /** Model summary shown first in the custom editor. */
    summary?: ModelSummaryView;
    /** Set when the editor's file could not be read as a model. */
    error?: ErrorValue;
    /** View to open first. */
    view?: ViewId;
  };
  /** A finished run joins the list and becomes the selected one. */
  'run/added': { run: InferenceRun };
  /** Progress of the run started by the request `requestId`. */
  'run/progress': { requestId: number; phase: string; done: number; total: number; message: string };
  /** A finished quantization or pruning report joins the list and becomes the selected one. */
  'compress/added': { report: CompressionReport };
  /** A finished training run joins the list and becomes the selected one. */
  'training/added': { run: TrainingRun };
  /**
   * A training job started from a command is under way: the Training view draws its curves live.
   * `loss`/`accuracy` are the newest points (absent until the first step / eval).
   */
  'training/progress': { jobId: string; model: string; variant: string; step: number; steps: number; loss?: number; accuracy?: number; message: string };
  /**
   * The live job ended without a run to show (it failed, or was cancelled before its first step):
   * the Training view keeps its curves so far and says why.
   */
  'training/ended': { jobId: string; error: ErrorValue };
  /** A finished variants comparison joins the list and becomes the selected one. */
  'variants/added': { report: VariantsReport };
  /** A pipeline plan (planned, or measured on request) joins the list and becomes the selected one. */
  'pipeline/added': { plan: PipelinePlan };
  /** A memory plan joins the list and becomes the selected one (camel case: envelope names admit no hyphen). */
  'memoryPlan/added': { plan: MemoryPlan };
  /** A suggestions report (`twb suggest`, or made on `advice/suggest`) joins the list and becomes the selected one. */
  'suggestions/added': { report: SuggestionsReport };
  /** The measured outcome of applying a suggestion; the Suggestions view shows it beside the card of its run and suggestion id. */
  'apply/added': { result: ApplyResult };
  /** A tuning report (`twb tune`, or a tuning run from the command) joins the list and becomes the selected one. */
  'tuning/added': { report: TuningReport };
  /** An imported trace joins the list and becomes the document the Overview, Ops, Timeline and Memory views show. */
  'trace/added': { trace: TraceRun };
  /** Show two imported traces side by side in the Compare view (per-op and per-kernel deltas). */
  'traceCompare/show': { baseId: string; otherId: string };
  /** Show two runs side by side in the Compare view. */
  'compare/show': { baseId: string; otherId: string };
  /** Switch to a view (e.g. from a command). */
  'view/show': { view: ViewId };
}

// ---- webview → host requests and events ------------------------------------------------------

export interface WebviewRequests {
  /** Profile with the given form; responds with the new run's id once it has been added. */
  'run/start': { params: { form: RunForm }; result: { runId: string } };
  /**
   * Quantizes or prunes with the given form (the host picks the output file); progress arrives as
   * `run/progress` with this request's id, then the report as `compress/added`, then the response.
   */
  'compress/start': { params: { form: CompressForm }; result: { reportId: string } };
  /**
   * Runs the plan's model as a real pipeline (one ORT session per stage) with the shape the user set
   * in the Pipeline view; progress arrives as `run/progress` with this request's id, then the new
   * plan (with `measured`) as `pipeline/added`, then the response with its id.
   */
  'pipeline/measure': { params: PipelineMeasureParams; result: { planId: string } };
  /**
   * Applies one suggestion of a report shown in the Suggestions view to the run it was made for and
   * measures it (`twb apply`); progress arrives as `run/progress` with this request's id, then the
   * result as `apply/added`, then the response with its id.
   */
  'advice/apply': { params: { reportId: string; suggestionId: string }; result: { applyId: string } };
  /** Makes suggestions for a run shown in the panel (`twb suggest`); the report arrives as `suggestions/added`, then the response. */
  'advice/suggest': { params: { runId: string }; result: { reportId: string } };
  /**
   * Exports a tuning report shown in the Tuning view: the host asks which format (twb config, ORT
   * session options or snippets, the optimized best model, the HTML report) and where; responds
   * with the file written, or null when the user dismissed a prompt.
   */
  'tuning/export': { params: { reportId: string }; result: { path: string | null } };
  /**
   * Opens a trace's Python source frame in the editor at its line. The host looks for the file in
   * the workspace (the trace may come from another machine); responds with the file opened, or
   * null when no such file is in the workspace.
   */
  'source/open': { params: { file: string; line: number }; result: { path: string | null } };
  /** Writes a self-contained HTML report of a run; responds with the file path (or null if dismissed). */
  'report/export': { params: { runId: string }; result: { path: string | null } };
}

/** The Pipeline view's shape to measure: the plan it started from and the controls' values. */
export interface PipelineMeasureParams {
  planId: string;
  schedule: PipelinePlan['schedule'];
  /** Devices, P. */
  stages: number;
  /** Micro-batches per step, M. */
  microbatches: number;
  /** Chunks per device, V (interleaved: 2 or more; otherwise 1). */
  chunks: number;
  /** Time per hop between stages used for the simulation beside the measurement, microseconds. */
  commUs: number;
}

/** Bounds of the Pipeline view's controls, shared with the request check. */
export const PIPELINE_LIMITS = { stages: 64, microbatches: 1024, chunks: 16, commUs: 1e7 } as const;

export interface WebviewEvents {
  'ui/ready': Record<string, never>;
  /** An error inside the webview, for the output channel. */
  'ui/error': { message: string };
}

const { dims: _dims, seed: _seed, ...formFields } = runConfigFields;
const runForm = object<RunForm>({ ...formFields, model: str });

const requestValidators: { [M in keyof WebviewRequests]: Validator<WebviewRequests[M]['params']> } = {
  'run/start': object({ form: runForm }),
  'report/export': object({ runId: str }),
  'compress/start': object({ form: compressForm }),
  'advice/apply': object({ reportId: strUpTo(4096), suggestionId: strUpTo(100) }),
  'advice/suggest': object({ runId: strUpTo(4096) }),
  'tuning/export': object({ reportId: strUpTo(4096) }),
  'source/open': object({ file: strUpTo(4096), line: numberIn(1, 1e7, true) }),
  'pipeline/measure': object<PipelineMeasureParams>({
    planId: strUpTo(4096),
    schedule: oneOf(SCHEDULES),
    stages: numberIn(1, PIPELINE_LIMITS.stages, true),
    microbatches: numberIn(1, PIPELINE_LIMITS.microbatches, true),
    chunks: numberIn(1, PIPELINE_LIMITS.chunks, true),
    commUs: numberIn(0, PIPELINE_LIMITS.commUs),
  }),
};

const eventValidators: { [E in keyof WebviewEvents]: Validator<WebviewEvents[E]> } = {
  'ui/ready': () => ({}),
  'ui/error': object({ message: str }),
};

/** Validates the params of a request from the webview; throws a usage error naming the problem. */
export function validateWebviewRequest<M extends keyof WebviewRequests>(method: string, params: unknown): { method: M; params: WebviewRequests[M]['params'] } {
  const check = Object.hasOwn(requestValidators, method) ? (requestValidators as Record<string, Validator<unknown>>)[method] : undefined;
  if (!check) throw new TwbError('usage', `unknown webview request "${method}"; expected one of: ${Object.keys(requestValidators).join(', ')}`);
  return { method: method as M, params: check(params, method) as WebviewRequests[M]['params'] };
}

/** Validates an event from the webview; throws a usage error naming the problem. */
export function validateWebviewEvent<E extends keyof WebviewEvents>(event: string, params: unknown): { event: E; params: WebviewEvents[E] } {
  const check = Object.hasOwn(eventValidators, event) ? (eventValidators as Record<string, Validator<unknown>>)[event] : undefined;
  if (!check) throw new TwbError('usage', `unknown webview event "${event}"; expected one of: ${Object.keys(eventValidators).join(', ')}`);
  return { event: event as E, params: check(params, event) as WebviewEvents[E] };
}
