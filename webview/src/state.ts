/**
 * App state, how host events change it (a pure reducer), and a store that tells subscribers what
 * changed.
 */
import type { ErrorValue } from '../../engine/src/protocol/envelope';
import { VIEW_IDS, type HostEvents, type RunForm, type SessionMode, type ViewId } from '../../engine/src/protocol/webview';
import type { InferenceRun } from '../../engine/src/schema/run';
import type { CompressionReport } from '../../engine/src/schema/compression';
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
  kind?: 'profile' | 'compress';
}

/** A message shown under the run controls. */
export interface Notice {
  kind: 'error' | 'info';
  message: string;
  hint?: string;
}

export type Session = Omit<HostEvents['session/init'], 'runs' | 'form' | 'view' | 'compressions'>;

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
  return { runs: [], compressions: [], view: 'overview', form: INITIAL_FORM };
}

/**
 * Views offered in a mode: the offline report cannot run anything, so it has no Toggles, and it has
 * a Quantization view only when it carries compression reports.
 */
export function viewsFor(mode: SessionMode, hasCompressions = false): ViewId[] {
  return VIEW_IDS.filter((v) => !(mode === 'report' && (v === 'toggles' || (v === 'quantization' && !hasCompressions))));
}

/** The views of the current state (see `viewsFor`). */
export function viewsOf(s: Pick<AppState, 'session' | 'compressions'>): ViewId[] {
  return viewsFor(s.session?.mode ?? 'profiler', s.compressions.length > 0);
}

export function selectedReport(s: AppState): CompressionReport | undefined {
  return s.compressions.find((r) => r.id === s.selectedReportId) ?? s.compressions[s.compressions.length - 1];
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
      const { runs, form, view, compressions = [], ...session } = e.params;
      const views = viewsFor(session.mode, compressions.length > 0);
      const keep = s.selectedId && runs.some((r) => r.id === s.selectedId) ? s.selectedId : runs[runs.length - 1]?.id;
      const keepReport = s.selectedReportId && compressions.some((r) => r.id === s.selectedReportId) ? s.selectedReportId : compressions[compressions.length - 1]?.id;
      const pair = defaultComparePair(runs);
      return {
        session,
        runs: [...runs],
        selectedId: keep,
        compressions: [...compressions],
        selectedReportId: keepReport,
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
        job: s.job?.requestId === 0 ? undefined : s.job,
        compare: s.compare?.explicit ? s.compare : pair && { ...pair, explicit: false },
      };
    }
    case 'compress/added': {
      const report = e.params.report;
      return {
        compressions: [...s.compressions.filter((r) => r.id !== report.id), report],
        selectedReportId: report.id,
        job: s.job?.requestId === 0 ? undefined : s.job,
      };
    }
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
