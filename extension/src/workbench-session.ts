import * as vscode from 'vscode';
import { Envelope, ErrorValue, parseEnvelope } from '../../engine/src/protocol/envelope';
import { CompressForm, HostEvents, WebviewRequests, RunForm, SessionMode, validateWebviewEvent, validateWebviewRequest, ViewId } from '../../engine/src/protocol/webview';
import { CompressionReport } from '../../engine/src/schema/compression';
import { InferenceRun } from '../../engine/src/schema/run';
import { TrainingRun, VariantsReport } from '../../engine/src/schema/training';
import type { SweepRequest, TrainRequest } from '../../engine/src/train/request';
import type { MemoryPlan, PipelinePlan } from '../../engine/src/schema/parallel';
import type { PipelineRequest } from '../../engine/src/pipeline/planner';
import type { ProgressEvent } from '../../engine/src/protocol/engine';
import type { SuggestionsReport } from '../../engine/src/schema/advice';
import type { ApplyResult } from '../../engine/src/schema/apply';
import type { TuningReport } from '../../engine/src/schema/tuning';
import type { TraceRun } from '../../engine/src/schema/trace';
import type { TuneRequest } from '../../engine/src/tune/request';
import type { TrainJobOptions } from './training-service';
import type { CompressProgressEvent } from './compress-service';
import { toErrorValue } from '../../engine/src/util/errors';
import { describeFailure, ProfilerService } from './profiler-service';

export interface SessionDeps {
  profiler: ProfilerService;
  /** Lists execution providers for the Toggles form. */
  providers: () => Promise<HostEvents['session/init']['providers']>;
  exportReport: (run: InferenceRun) => Promise<string | null>;
  /** Quantizes or prunes as the form says (output file, overwrite question, trust: the service's). */
  compress: (form: CompressForm, opts: { signal?: AbortSignal; onProgress?: (p: CompressProgressEvent) => void }) => Promise<CompressionReport>;
  train: (request: TrainRequest, opts: TrainJobOptions) => Promise<TrainingRun>;
  sweep: (request: SweepRequest) => Promise<VariantsReport>;
  /** Plans (and measures) a pipeline through the engine; the plan is kept. */
  planPipeline: (request: PipelineRequest, opts: { signal?: AbortSignal; onProgress?: (p: ProgressEvent) => void }) => Promise<PipelinePlan>;
  /** The advisor's suggestions for a run (kept in the run store). */
  suggest: (run: InferenceRun | TraceRun, opts: { signal?: AbortSignal; onProgress?: (p: ProgressEvent) => void }) => Promise<SuggestionsReport>;
  /** Applies and measures one suggestion; for a config change, offers the new config as a diff to accept. */
  apply: (run: InferenceRun, report: SuggestionsReport, suggestionId: string, opts: { signal?: AbortSignal; onProgress?: (p: ProgressEvent) => void }) => Promise<ApplyResult>;
  /** Tunes a model under an accuracy budget (the report is kept in the run store). */
  tune: (request: TuneRequest, opts: { signal?: AbortSignal; onProgress?: (p: ProgressEvent) => void }) => Promise<TuningReport>;
  /** Asks for a format and a file and exports a tuning report there; null when dismissed. */
  exportTuning: (report: TuningReport) => Promise<string | null>;
  /** Opens a trace's source frame in the editor if the file is in the workspace; the path opened, or null. */
  openSource: (file: string, line: number) => Promise<string | null>;
  log: (message: string) => void;
}

/** Puts `doc` last (the one shown), replacing an earlier copy with the same id. */
function upsert<T extends { id: string }>(list: T[], doc: T): void {
  const i = list.findIndex((d) => d.id === doc.id);
  if (i >= 0) list.splice(i, 1);
  list.push(doc);
}

/** Request id used in `run/progress` for runs the host started (commands), not the webview. */
export const HOST_REQUEST_ID = 0;

/**
 * One webview showing the workbench app (the profiler panel or a model's custom editor): answers
 * its requests, validates everything it sends, and pushes runs and progress to it. Messages meant
 * for the webview before its `ui/ready` are held and sent with `session/init`.
 */
export class WorkbenchSession implements vscode.Disposable {
  private ready = false;
  private readonly runs: InferenceRun[] = [];
  private readonly compressions: CompressionReport[] = [];
  private readonly trainings: TrainingRun[] = [];
  private readonly variants: VariantsReport[] = [];
  private readonly pipelines: PipelinePlan[] = [];
  private readonly memoryPlans: MemoryPlan[] = [];
  private readonly suggestionReports: SuggestionsReport[] = [];
  private readonly applied: ApplyResult[] = [];
  private readonly tunings: TuningReport[] = [];
  private readonly traces: TraceRun[] = [];
  private pendingTraceCompare: HostEvents['traceCompare/show'] | undefined;
  private readonly inflight = new Map<number, AbortController>();
  private pendingView: ViewId | undefined;
  private pendingCompare: HostEvents['compare/show'] | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  form: RunForm;

  constructor(
    private readonly webview: vscode.Webview,
    private readonly mode: SessionMode,
    initialForm: RunForm,
    private readonly deps: SessionDeps,
    private readonly extra: () => Promise<Pick<HostEvents['session/init'], 'summary' | 'error' | 'traces'>> = async () => ({}),
  ) {
    this.form = initialForm;
    this.disposables.push(webview.onDidReceiveMessage((m) => void this.receive(m)));
    this.disposables.push(vscode.workspace.onDidGrantWorkspaceTrust(() => void this.sendInit()));
  }

  /** The newest run shown here. */
  get latestRun(): InferenceRun | undefined {
    return this.runs[this.runs.length - 1];
  }

  hasRunOf(model: string): boolean {
    return this.runs.some((r) => r.model.source === model);
  }

  addRun(run: InferenceRun): void {
    if (this.runs.some((r) => r.id === run.id)) return;
    this.runs.push(run);
    if (this.ready) this.post('run/added', { run });
  }

  /** A quantization or pruning report joins the Quantization view and becomes the one shown there. */
  addCompression(report: CompressionReport): void {
    upsert(this.compressions, report);
    if (this.ready) this.post('compress/added', { report });
  }

  /** A training run joins the Training view and becomes the one shown there. */
  addTraining(run: TrainingRun): void {
    upsert(this.trainings, run);
    if (this.ready) this.post('training/added', { run });
  }

  /** A variants comparison joins the Variants view and becomes the one shown there. */
  addVariants(report: VariantsReport): void {
    upsert(this.variants, report);
    if (this.ready) this.post('variants/added', { report });
  }

  /** A pipeline plan joins the Pipeline view and becomes the one shown there. */
  addPipeline(plan: PipelinePlan): void {
    upsert(this.pipelines, plan);
    if (this.ready) this.post('pipeline/added', { plan });
  }

  /** A memory plan joins the Memory-plan view and becomes the one shown there. */
  addMemoryPlan(plan: MemoryPlan): void {
    upsert(this.memoryPlans, plan);
    if (this.ready) this.post('memoryPlan/added', { plan });
  }

  /** A suggestions report joins the Suggestions view and becomes the one shown there. */
  addSuggestions(report: SuggestionsReport): void {
    upsert(this.suggestionReports, report);
    if (this.ready) this.post('suggestions/added', { report });
  }

  /** What an applied suggestion measured: shown on its card; the measured run or report joins its view. */
  addApplied(result: ApplyResult): void {
    upsert(this.applied, result);
    if (result.artifacts.changed) this.addRun(result.artifacts.changed);
    if (result.artifacts.report) this.addCompression(result.artifacts.report);
    if (this.ready) this.post('apply/added', { result });
  }

  /** An imported trace joins the panel and becomes what Overview, Ops, Timeline and Memory show. */
  addTrace(trace: TraceRun): void {
    upsert(this.traces, trace);
    if (this.ready) this.post('trace/added', { trace });
  }

  /** Shows two imported traces side by side in the Compare view (per-op and per-kernel deltas). */
  compareTraces(a: TraceRun, b: TraceRun): void {
    this.addTrace(a);
    this.addTrace(b);
    this.pendingTraceCompare = { baseId: a.id, otherId: b.id };
    if (this.ready) this.post('traceCompare/show', this.pendingTraceCompare);
  }

  /** A tuning report joins the Tuning view and becomes the one shown there. */
  addTuning(report: TuningReport): void {
    upsert(this.tunings, report);
    if (this.ready) this.post('tuning/added', { report });
  }

  /** Tunes on behalf of a command; the report opens in the Tuning view (which exists once one does). */
  async tune(request: TuneRequest): Promise<TuningReport> {
    const report = await this.deps.tune(request, { onProgress: (p) => this.ready && this.post('run/progress', { ...p, requestId: HOST_REQUEST_ID }) });
    this.addTuning(report);
    this.showView('tuning');
    return report;
  }

  /** Suggests optimizations for `run` on behalf of a command and shows them. */
  async suggest(run: InferenceRun): Promise<SuggestionsReport> {
    this.addRun(run);
    const report = await this.deps.suggest(run, { onProgress: (p) => this.ready && this.post('run/progress', { ...p, requestId: HOST_REQUEST_ID }) });
    this.addSuggestions(report);
    this.showView('suggestions');
    return report;
  }

  /** Plans a pipeline on behalf of a command; progress and the plan show in the Pipeline view. */
  async planPipeline(request: PipelineRequest): Promise<PipelinePlan> {
    const plan = await this.deps.planPipeline(request, { onProgress: (p) => this.ready && this.post('run/progress', { ...p, requestId: HOST_REQUEST_ID }) });
    // The Pipeline tab exists once a plan does, so the view is shown after the plan arrives.
    this.addPipeline(plan);
    this.showView('pipeline');
    return plan;
  }

  /** Trains on behalf of a command; the Training view draws the curves live. */
  async train(request: TrainRequest): Promise<TrainingRun> {
    this.showView('training');
    const jobId = `job-${Date.now()}`;
    const variant = `${request.attention ?? 'dense'}${request.shareLayers && request.shareLayers !== 'none' ? ` · share ${request.shareLayers}` : ''}`;
    let run: TrainingRun;
    try {
      run = await this.deps.train(request, {
        onTrainProgress: (p) => this.ready && this.post('training/progress', { jobId, model: request.model, variant, step: p.step, steps: p.steps, message: p.message, ...(p.loss !== undefined ? { loss: p.loss } : {}), ...(p.accuracy !== undefined ? { accuracy: p.accuracy } : {}) }),
      });
    } catch (e) {
      if (this.ready) this.post('training/ended', { jobId, error: describeFailure(e) as ErrorValue });
      throw e;
    }
    this.addTraining(run);
    return run;
  }

  /** Sweeps variants on behalf of a command; the result opens in the Variants view. */
  async sweep(request: SweepRequest): Promise<VariantsReport> {
    this.showView('variants');
    const report = await this.deps.sweep(request);
    this.addVariants(report);
    return report;
  }

  /** Compresses `form` on behalf of a command, showing progress in this webview's Quantization view. */
  async compress(form: CompressForm): Promise<CompressionReport> {
    this.showView('quantization');
    const report = await this.deps.compress(form, { onProgress: (p) => this.ready && this.post('run/progress', { ...p, requestId: HOST_REQUEST_ID }) });
    this.addCompression(report);
    return report;
  }

  compare(a: InferenceRun, b: InferenceRun): void {
    this.addRun(a);
    this.addRun(b);
    this.pendingCompare = { baseId: a.id, otherId: b.id };
    if (this.ready) this.post('compare/show', this.pendingCompare);
  }

  showView(view: ViewId): void {
    this.pendingView = view;
    if (this.ready) this.post('view/show', { view });
  }

  /** Profiles `form` on behalf of a command, showing progress in this webview too. */
  async profile(form: RunForm): Promise<InferenceRun> {
    this.form = form;
    const run = await this.deps.profiler.profile(form, { onProgress: (p) => this.ready && this.post('run/progress', { ...p, requestId: HOST_REQUEST_ID }) });
    this.addRun(run);
    return run;
  }

  private async receive(raw: unknown): Promise<void> {
    const msg = parseEnvelope(raw);
    if (typeof msg === 'string') return this.deps.log(`webview sent a malformed message: ${msg}`);
    if (msg.kind === 'cancel') return this.inflight.get(msg.id)?.abort();
    if (msg.kind === 'event') {
      try {
        const e = validateWebviewEvent(msg.event, msg.params);
        if (e.event === 'ui/ready') await this.sendInit();
        else this.deps.log(`webview: ${(e.params as { message: string }).message}`);
      } catch (err) {
        this.deps.log(`webview sent an invalid event: ${toErrorValue(err).message}`);
      }
      return;
    }
    if (msg.kind === 'request') await this.answer(msg.id, msg.method, msg.params);
  }

  /** Every request gets one response, also when validation or the work fails. */
  private async answer(id: number, method: string, params: unknown): Promise<void> {
    const controller = new AbortController();
    this.inflight.set(id, controller);
    try {
      const req = validateWebviewRequest(method, params);
      let ok: unknown;
      if (req.method === 'run/start') {
        const { form } = req.params as { form: RunForm };
        this.form = form;
        const run = await this.deps.profiler.profile(form, { signal: controller.signal, onProgress: (p) => this.post('run/progress', { ...p, requestId: id }) });
        this.addRun(run);
        ok = { runId: run.id };
      } else if (req.method === 'compress/start') {
        const { form } = req.params as { form: CompressForm };
        const report = await this.deps.compress(form, { signal: controller.signal, onProgress: (p) => this.post('run/progress', { ...p, requestId: id }) });
        this.addCompression(report);
        ok = { reportId: report.id };
      } else if (req.method === 'advice/suggest') {
        const { runId } = req.params as WebviewRequests['advice/suggest']['params'];
        const run = this.runs.find((r) => r.id === runId) ?? this.traces.find((t) => t.id === runId);
        if (!run) throw new Error(`no run or trace with id "${runId}" in this view`);
        const report = await this.deps.suggest(run, { signal: controller.signal, onProgress: (e) => this.post('run/progress', { ...e, requestId: id }) });
        this.addSuggestions(report);
        ok = { reportId: report.id };
      } else if (req.method === 'advice/apply') {
        const { reportId, suggestionId } = req.params as WebviewRequests['advice/apply']['params'];
        const report = this.suggestionReports.find((r) => r.id === reportId);
        if (!report) throw new Error(`no suggestions report with id "${reportId}" in this view`);
        const run = this.runs.find((r) => r.id === report.source.id);
        if (!run) throw new Error(`the run the suggestions were made for (${report.source.id}) is not in this view; open it first`);
        const result = await this.deps.apply(run, report, suggestionId, { signal: controller.signal, onProgress: (e) => this.post('run/progress', { ...e, requestId: id }) });
        this.addApplied(result);
        ok = { applyId: result.id };
      } else if (req.method === 'pipeline/measure') {
        const p = req.params as WebviewRequests['pipeline/measure']['params'];
        const base = this.pipelines.find((d) => d.id === p.planId);
        if (!base) throw new Error(`no pipeline plan with id "${p.planId}" in this view`);
        if (!base.modelSource) throw new Error(`plan "${base.id}" names no model to run; plan it from a model or a profile run to measure it`);
        const plan = await this.deps.planPipeline(
          { source: base.modelSource, schedule: p.schedule, chunks: p.chunks, stages: p.stages, microbatches: p.microbatches, commUs: p.commUs, uniform: base.costSource.kind === 'uniform', measure: true, batch: base.batch, seq: base.seq, executionProvider: 'cpu', seed: 0 },
          { signal: controller.signal, onProgress: (e) => this.post('run/progress', { ...e, requestId: id }) },
        );
        this.addPipeline(plan);
        ok = { planId: plan.id };
      } else if (req.method === 'source/open') {
        const { file, line } = req.params as WebviewRequests['source/open']['params'];
        ok = { path: await this.deps.openSource(file, line) };
      } else if (req.method === 'tuning/export') {
        const { reportId } = req.params as WebviewRequests['tuning/export']['params'];
        const report = this.tunings.find((r) => r.id === reportId);
        if (!report) throw new Error(`no tuning report with id "${reportId}" in this view`);
        ok = { path: await this.deps.exportTuning(report) };
      } else {
        const { runId } = req.params as { runId: string };
        const run = this.runs.find((r) => r.id === runId);
        if (!run) throw new Error(`no run with id "${runId}" in this view`);
        ok = { path: await this.deps.exportReport(run) };
      }
      this.send({ kind: 'response', id, ok });
    } catch (e) {
      this.send({ kind: 'response', id, err: describeFailure(e) as never });
    } finally {
      this.inflight.delete(id);
    }
  }

  private async sendInit(): Promise<void> {
    this.ready = true;
    const [providers, { traces: extraTraces = [], ...extra }] = await Promise.all([this.deps.providers().catch(() => []), this.extra()]);
    for (const t of extraTraces) upsert(this.traces, t);
    this.post('session/init', { mode: this.mode, trusted: vscode.workspace.isTrusted, form: this.form, providers, runs: this.runs, compressions: this.compressions, trainings: this.trainings, variants: this.variants, pipelines: this.pipelines, memoryPlans: this.memoryPlans, suggestions: this.suggestionReports, applied: this.applied, tunings: this.tunings, traces: this.traces, ...extra, ...(this.pendingView ? { view: this.pendingView } : {}) });
    if (this.pendingCompare) this.post('compare/show', this.pendingCompare);
    if (this.pendingTraceCompare) this.post('traceCompare/show', this.pendingTraceCompare);
  }

  private post<E extends keyof HostEvents>(event: E, params: HostEvents[E]): void {
    this.send({ kind: 'event', event, params });
  }

  private send(e: Envelope): void {
    void this.webview.postMessage(e);
  }

  dispose(): void {
    for (const c of this.inflight.values()) c.abort();
    for (const d of this.disposables) d.dispose();
  }
}
