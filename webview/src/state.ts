/**
 * App state, how host events change it (a pure reducer), and a store that tells subscribers what
 * changed.
 */
import type { ErrorValue } from '../../engine/src/protocol/envelope';
import { VIEW_IDS, type HostEvents, type RunForm, type SessionMode, type ViewId } from '../../engine/src/protocol/webview';
import type { InferenceRun } from '../../engine/src/schema/run';
import type { CompressionReport } from '../../engine/src/schema/compression';
import type { StepValue, TrainingRun, VariantsReport } from '../../engine/src/schema/training';
import type { MemoryPlan, PipelinePlan } from '../../engine/src/schema/parallel';
import type { SuggestionsReport } from '../../engine/src/schema/advice';
import type { ApplyResult } from '../../engine/src/schema/apply';
import type { TuningReport } from '../../engine/src/schema/tuning';
import type { TraceRun } from '../../engine/src/schema/trace';
import { defaultComparePair } from './charts/compare';
import type { HostEvent } from './messages';

/** A profile in progress. */
export interface Job {
  /** Id of the `run/start` request, or 0 when the host started the run itself (no cancel from here). */
  requestId: number;
  phase: string;
  done: number;
  total: number;
  message: string;
  cancelling: boolean;
  /** What runs: a profile, or a quantization/pruning run started from the Quantization view. Unknown for runs the host started. */
  kind?: 'profile' | 'compress' | 'pipeline' | 'apply' | 'suggest';
  /** For `apply`: the report and suggestion being applied (the card that shows the progress). */
  apply?: { reportId: string; suggestionId: string };
}

/** A message shown under the run controls. */
export interface Notice {
  kind: 'error' | 'info';
  message: string;
  hint?: string;
}

/** A training job the host started from a command, drawn live until its run arrives. */
export interface LiveTraining {
  jobId: string;
  model: string;
  variant: string;
  step: number;
  steps: number;
  message: string;
  /** Loss and held-out accuracy points received so far, by step. */
  loss: StepValue[];
  accuracy: StepValue[];
  /** Set when the job ended without a run: why (failure, or cancellation before any step). */
  ended?: Notice;
}

export type Session = Omit<HostEvents['session/init'], 'runs' | 'form' | 'view' | 'compressions' | 'trainings' | 'variants' | 'pipelines' | 'memoryPlans' | 'suggestions' | 'applied' | 'tunings' | 'traces'>;

export interface AppState {
  /** Undefined until `session/init` arrives. */
  session?: Session;
  runs: InferenceRun[];
  /** Run every view shows. */
  selectedId?: string;
  /** Quantization and pruning reports, oldest first. */
  compressions: CompressionReport[];
  /** Report the Quantization view shows. */
  selectedReportId?: string;
  /** Training runs, oldest first. */
  trainings: TrainingRun[];
  /** Run the Training view shows. */
  selectedTrainingId?: string;
  /** The training job under way, if the host reports one. */
  liveTraining?: LiveTraining;
  /** Variant comparisons, oldest first. */
  variantReports: VariantsReport[];
  /** Comparison the Variants view shows. */
  selectedVariantsId?: string;
  /** Pipeline plans, oldest first. */
  pipelines: PipelinePlan[];
  /** Plan the Pipeline view shows. */
  selectedPipelineId?: string;
  /** Memory plans, oldest first. */
  memoryPlans: MemoryPlan[];
  /** Plan the Memory-plan view shows. */
  selectedMemoryPlanId?: string;
  /** Suggestion reports, oldest first. */
  suggestionReports: SuggestionsReport[];
  /** Report the Suggestions view shows. */
  selectedSuggestionsId?: string;
  /** Results of applied suggestions, oldest first (one per id). */
  applied: ApplyResult[];
  /** Tuning reports, oldest first. */
  tunings: TuningReport[];
  /** Report the Tuning view shows. */
  selectedTuningId?: string;
  /** Imported profiler traces, oldest first. */
  traces: TraceRun[];
  /** Trace shown when `subject` is `trace`. */
  selectedTraceId?: string;
  /** What Overview, Ops, Timeline and Memory show: the selected profile run, or the selected imported trace. */
  subject: 'run' | 'trace';
  /** Two traces in the Compare view, once the user or host picked them. */
  traceCompare?: { baseId: string; otherId: string };
  view: ViewId;
  form: RunForm;
  /** Runs in the Compare view; `explicit` once the user or host picked them. */
  compare?: { baseId: string; otherId: string; explicit: boolean };
  job?: Job;
  /** Outcome of the last run request when it did not produce a run. */
  notice?: Notice;
}

export const INITIAL_FORM: RunForm = { model: '', executionProvider: 'cpu', threads: 0, optLevel: 'all', batch: 1, seq: 128, past: 0, warmup: 5, runs: 30, profiledRuns: 10 };

export function initialState(): AppState {
  return { runs: [], compressions: [], trainings: [], variantReports: [], pipelines: [], memoryPlans: [], suggestionReports: [], applied: [], tunings: [], traces: [], subject: 'run', view: 'overview', form: INITIAL_FORM };
}

/** Which kinds of documents a page holds, for deciding its views. */
export interface HeldDocuments {
  compressions?: boolean;
  trainings?: boolean;
  variants?: boolean;
  pipelines?: boolean;
  memoryPlans?: boolean;
  suggestions?: boolean;
  tunings?: boolean;
  /** Two traces to compare (the trace editor's Compare tab appears only then). */
  traceCompare?: boolean;
}

/**
 * Views offered in a mode: the offline report cannot run anything, so it has no Toggles, and it has
 * a Quantization view only when it carries compression reports. Training and Variants concern the
 * built-in models, not an opened .onnx file: outside the profiler panel they appear only with data.
 * Pipeline, Memory-plan and Tuning appear only with a document to show, in every mode: they are made
 * by a command or `twb pipeline` / `twb memory-plan` / `twb tune`, and the panel's tab bar is full
 * enough already. Suggestions: always in the panel (it offers to make them for the selected run),
 * elsewhere only with a report. A trace's editor shows what a trace has: Overview, Ops, Timeline,
 * Memory, the advisor's Suggestions for it, and Compare once a second trace is picked.
 */
export function viewsFor(mode: SessionMode, held: HeldDocuments = {}): ViewId[] {
  return VIEW_IDS.filter((v) => {
    if (mode === 'trace') return v === 'overview' || v === 'ops' || v === 'timeline' || v === 'memory' || v === 'suggestions' || (v === 'compare' && !!held.traceCompare);
    if (v === 'toggles') return mode !== 'report';
    if (v === 'quantization') return mode !== 'report' || !!held.compressions;
    if (v === 'training') return mode === 'profiler' || !!held.trainings;
    if (v === 'variants') return mode === 'profiler' || !!held.variants;
    if (v === 'pipeline') return !!held.pipelines;
    if (v === 'memory-plan') return !!held.memoryPlans;
    if (v === 'suggestions') return mode === 'profiler' || !!held.suggestions;
    if (v === 'tuning') return !!held.tunings;
    return true;
  });
}

/** The views of the current state (see `viewsFor`). */
export function viewsOf(s: Pick<AppState, 'session' | 'compressions' | 'trainings' | 'liveTraining' | 'variantReports' | 'pipelines' | 'memoryPlans' | 'suggestionReports' | 'tunings' | 'traceCompare'>): ViewId[] {
  return viewsFor(s.session?.mode ?? 'profiler', {
    compressions: s.compressions.length > 0,
    trainings: s.trainings.length > 0 || !!s.liveTraining,
    variants: s.variantReports.length > 0,
    pipelines: s.pipelines.length > 0,
    memoryPlans: s.memoryPlans.length > 0,
    suggestions: s.suggestionReports.length > 0,
    tunings: s.tunings.length > 0,
    traceCompare: !!s.traceCompare,
  });
}

export function selectedReport(s: AppState): CompressionReport | undefined {
  return s.compressions.find((r) => r.id === s.selectedReportId) ?? s.compressions[s.compressions.length - 1];
}

export function selectedTraining(s: AppState): TrainingRun | undefined {
  return s.trainings.find((r) => r.id === s.selectedTrainingId) ?? s.trainings[s.trainings.length - 1];
}

export function selectedVariants(s: AppState): VariantsReport | undefined {
  return s.variantReports.find((r) => r.id === s.selectedVariantsId) ?? s.variantReports[s.variantReports.length - 1];
}

export function selectedPipeline(s: AppState): PipelinePlan | undefined {
  return s.pipelines.find((p) => p.id === s.selectedPipelineId) ?? s.pipelines[s.pipelines.length - 1];
}

export function selectedMemoryPlan(s: AppState): MemoryPlan | undefined {
  return s.memoryPlans.find((p) => p.id === s.selectedMemoryPlanId) ?? s.memoryPlans[s.memoryPlans.length - 1];
}

export function selectedTuning(s: AppState): TuningReport | undefined {
  return s.tunings.find((r) => r.id === s.selectedTuningId) ?? s.tunings[s.tunings.length - 1];
}

export function selectedTrace(s: AppState): TraceRun | undefined {
  return s.traces.find((t) => t.id === s.selectedTraceId) ?? s.traces[s.traces.length - 1];
}

/** The trace Overview, Ops, Timeline and Memory show, when they show one rather than a run. */
export function shownTrace(s: AppState): TraceRun | undefined {
  return s.subject === 'trace' || s.runs.length === 0 ? selectedTrace(s) : undefined;
}

/** The two traces of the Compare view, when both are here. */
export function comparedTraces(s: AppState): [TraceRun, TraceRun] | undefined {
  const c = s.traceCompare;
  const base = c && s.traces.find((t) => t.id === c.baseId);
  const other = c && s.traces.find((t) => t.id === c.otherId);
  return base && other ? [base, other] : undefined;
}

export function selectedSuggestions(s: AppState): SuggestionsReport | undefined {
  return s.suggestionReports.find((r) => r.id === s.selectedSuggestionsId) ?? s.suggestionReports[s.suggestionReports.length - 1];
}

/** Id of the document to keep selected after a new list arrives: the current one if still there, else the newest. */
function keepSelected(current: string | undefined, docs: ReadonlyArray<{ id: string }>): string | undefined {
  return current && docs.some((d) => d.id === current) ? current : docs[docs.length - 1]?.id;
}

/** `docs` with `doc` last, replacing any document with its id. */
function withDoc<T extends { id: string }>(docs: readonly T[], doc: T): T[] {
  return [...docs.filter((d) => d.id !== doc.id), doc];
}

/** The live job after a `training/progress` event: a new job id starts new curves. */
export function advanceLive(live: LiveTraining | undefined, p: HostEvents['training/progress']): LiveTraining {
  const same = live?.jobId === p.jobId ? live : undefined;
  const append = (points: StepValue[], value: number | undefined) => {
    if (value === undefined) return points;
    // A repeated step replaces its point: the host may re-send the latest figures with a new message.
    const kept = points.length && points[points.length - 1].step >= p.step ? points.filter((q) => q.step < p.step) : points;
    return [...kept, { step: p.step, value }];
  };
  return {
    jobId: p.jobId,
    model: p.model,
    variant: p.variant,
    step: p.step,
    steps: p.steps,
    message: p.message,
    loss: append(same?.loss ?? [], p.loss),
    accuracy: append(same?.accuracy ?? [], p.accuracy),
  };
}

export function selectedRun(s: AppState): InferenceRun | undefined {
  return s.runs.find((r) => r.id === s.selectedId) ?? s.runs[s.runs.length - 1];
}

/** Whether this page may start runs: not in a report, and only in a trusted workspace. */
export function canRun(s: AppState): boolean {
  return !!s.session && s.session.mode !== 'report' && s.session.trusted;
}

/** The change a host event makes to the state. */
export function reduceHostEvent(s: AppState, e: HostEvent): Partial<AppState> {
  switch (e.event) {
    case 'session/init': {
      const { runs, form, view, compressions = [], trainings = [], variants = [], pipelines = [], memoryPlans = [], suggestions = [], applied = [], tunings = [], traces = [], ...session } = e.params;
      const views = viewsFor(session.mode, {
        compressions: compressions.length > 0,
        trainings: trainings.length > 0 || !!s.liveTraining,
        variants: variants.length > 0,
        pipelines: pipelines.length > 0,
        memoryPlans: memoryPlans.length > 0,
        suggestions: suggestions.length > 0,
        tunings: tunings.length > 0,
        traceCompare: !!s.traceCompare,
      });
      const pair = defaultComparePair(runs);
      return {
        session,
        runs: [...runs],
        selectedId: keepSelected(s.selectedId, runs),
        compressions: [...compressions],
        selectedReportId: keepSelected(s.selectedReportId, compressions),
        trainings: [...trainings],
        selectedTrainingId: keepSelected(s.selectedTrainingId, trainings),
        variantReports: [...variants],
        selectedVariantsId: keepSelected(s.selectedVariantsId, variants),
        pipelines: [...pipelines],
        selectedPipelineId: keepSelected(s.selectedPipelineId, pipelines),
        memoryPlans: [...memoryPlans],
        selectedMemoryPlanId: keepSelected(s.selectedMemoryPlanId, memoryPlans),
        suggestionReports: [...suggestions],
        selectedSuggestionsId: keepSelected(s.selectedSuggestionsId, suggestions),
        applied: applied.reduce<ApplyResult[]>(withDoc, []),
        tunings: [...tunings],
        selectedTuningId: keepSelected(s.selectedTuningId, tunings),
        traces: [...traces],
        selectedTraceId: keepSelected(s.selectedTraceId, traces),
        subject: traces.length > 0 && (runs.length === 0 || s.subject === 'trace') ? 'trace' : 'run',
        form,
        view: view && views.includes(view) ? view : views.includes(s.view) ? s.view : 'overview',
        compare: pair ? { ...pair, explicit: false } : undefined,
      };
    }
    case 'run/added': {
      const runs = [...s.runs.filter((r) => r.id !== e.params.run.id), e.params.run];
      const pair = defaultComparePair(runs);
      return {
        runs,
        selectedId: e.params.run.id,
        subject: 'run',
        job: s.job?.requestId === 0 ? undefined : s.job,
        compare: s.compare?.explicit ? s.compare : pair && { ...pair, explicit: false },
      };
    }
    case 'compress/added': {
      const report = e.params.report;
      return {
        compressions: withDoc(s.compressions, report),
        selectedReportId: report.id,
        job: s.job?.requestId === 0 ? undefined : s.job,
      };
    }
    case 'training/added':
      // The finished run replaces the live job that produced it.
      return { trainings: withDoc(s.trainings, e.params.run), selectedTrainingId: e.params.run.id, liveTraining: undefined };
    case 'training/progress':
      return { liveTraining: advanceLive(s.liveTraining, e.params) };
    case 'training/ended':
      return s.liveTraining?.jobId === e.params.jobId ? { liveTraining: { ...s.liveTraining, ended: noticeOf(e.params.error) } } : {};
    case 'variants/added':
      return { variantReports: withDoc(s.variantReports, e.params.report), selectedVariantsId: e.params.report.id };
    case 'pipeline/added':
      // A measured plan arrives before the response to its request, which ends that job.
      return { pipelines: withDoc(s.pipelines, e.params.plan), selectedPipelineId: e.params.plan.id, job: s.job?.requestId === 0 ? undefined : s.job };
    case 'memoryPlan/added':
      return { memoryPlans: withDoc(s.memoryPlans, e.params.plan), selectedMemoryPlanId: e.params.plan.id };
    case 'suggestions/added':
      return { suggestionReports: withDoc(s.suggestionReports, e.params.report), selectedSuggestionsId: e.params.report.id, job: s.job?.requestId === 0 ? undefined : s.job };
    case 'apply/added':
      // The result arrives before the response to `advice/apply`, which ends that job.
      return { applied: withDoc(s.applied, e.params.result), job: s.job?.requestId === 0 ? undefined : s.job };
    case 'trace/added':
      return { traces: withDoc(s.traces, e.params.trace), selectedTraceId: e.params.trace.id, subject: 'trace' };
    case 'traceCompare/show':
      return { traceCompare: { ...e.params }, view: 'compare' };
    case 'tuning/added':
      // A tuning the host ran ends that host job.
      return { tunings: withDoc(s.tunings, e.params.report), selectedTuningId: e.params.report.id, job: s.job?.requestId === 0 ? undefined : s.job };
    case 'run/progress': {
      const p = e.params;
      if (s.job && s.job.requestId === p.requestId) return { job: { ...s.job, phase: p.phase, done: p.done, total: p.total, message: p.message } };
      if (!s.job && p.requestId === 0) return { job: { requestId: 0, phase: p.phase, done: p.done, total: p.total, message: p.message, cancelling: false }, notice: undefined };
      return {};
    }
    case 'compare/show':
      return { compare: { ...e.params, explicit: true }, view: 'compare' };
    case 'view/show':
      return s.session && !viewsOf(s).includes(e.params.view) ? {} : { view: e.params.view };
  }
}

/** Error values from a failed request, as a notice (cancellation is not an error). */
export function noticeOf(err: ErrorValue): Notice {
  return err.code === 'cancelled' ? { kind: 'info', message: 'Run cancelled.' } : { kind: 'error', message: err.message, hint: err.hint };
}

export type Listener = (state: AppState, prev: AppState) => void;

export class Store {
  private current: AppState;
  private readonly listeners = new Set<Listener>();

  constructor(initial: AppState = initialState()) {
    this.current = initial;
  }

  get state(): AppState {
    return this.current;
  }

  /** Applies a change and notifies subscribers (in subscription order). */
  update(change: Partial<AppState> | ((s: AppState) => Partial<AppState>)): void {
    const prev = this.current;
    const patch = typeof change === 'function' ? change(prev) : change;
    if (Object.keys(patch).length === 0) return;
    this.current = { ...prev, ...patch };
    for (const l of [...this.listeners]) l(this.current, prev);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
