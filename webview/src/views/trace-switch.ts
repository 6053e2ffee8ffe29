/**
 * Overview, Ops, Timeline, Memory and Compare show either the selected profile run or an imported
 * trace (`shownTrace`); this swaps the view inside a tab when the subject changes, so each half
 * stays a plain View that knows one kind of document.
 */
import type { TraceFrame, TraceRun } from '../../../engine/src/schema/trace';
import { AppState, comparedTraces, shownTrace } from '../state';
import { renderTraceCompare } from './trace-compare';
import type { TraceViewContext } from './trace-context';
import { renderTraceMemory } from './trace-memory';
import { renderTraceOps } from './trace-ops';
import { renderTraceOverview } from './trace-overview';
import { createTraceTimeline } from './trace-timeline';
import { chartView, type Fittable, type View, type ViewContext } from './view';

/** `forTrace` while `useTrace(state)`, else `forRun`; switching unmounts one and mounts the other. */
export function switchView(forRun: View, forTrace: View, useTrace: (s: AppState) => boolean): View {
  let root: HTMLElement | undefined;
  let active: View | undefined;
  return {
    mount(r, s) {
      root = r;
      active = useTrace(s) ? forTrace : forRun;
      active.mount(r, s);
    },
    update(s, prev) {
      const next = useTrace(s) ? forTrace : forRun;
      if (next === active || !root) return void active?.update(s, prev);
      active?.unmount();
      root.replaceChildren();
      active = next;
      active.mount(root, s);
    },
    unmount() {
      active?.unmount();
      active = undefined;
      root = undefined;
    },
  };
}

/**
 * Opening source frames through the host. A getter, because the session's mode arrives after the
 * views are made: in the offline report nothing answers, and frames show as plain text.
 */
export function traceContext(ctx: ViewContext, s: () => AppState): TraceViewContext {
  // The host says so itself when the file is not in the workspace.
  const open = (frame: TraceFrame) => void ctx.client.request('source/open', { file: frame.file, line: frame.line });
  return {
    get openSource() {
      return s().session?.mode === 'report' ? undefined : open;
    },
  };
}

const traceChanged = (s: AppState, prev: AppState) => s.session !== prev.session || shownTrace(s) !== shownTrace(prev);
const hasTrace = (s: AppState) => shownTrace(s) !== undefined;

/** A tab's view that renders the shown trace with `render` when there is one, else `forRun`. */
function traceTab(forRun: View, render: (root: HTMLElement, t: TraceRun) => Fittable[]): View {
  return switchView(
    forRun,
    chartView((root, s) => render(root, shownTrace(s)!), traceChanged),
    hasTrace,
  );
}

export const traceOverviewTab = (forRun: View, tctx: TraceViewContext): View => traceTab(forRun, (root, t) => renderTraceOverview(root, t, tctx));
export const traceOpsTab = (forRun: View, tctx: TraceViewContext): View => traceTab(forRun, (root, t) => renderTraceOps(root, t, tctx));
export const traceMemoryTab = (forRun: View): View => traceTab(forRun, (root, t) => renderTraceMemory(root, t));

/** The trace timeline keeps zoom state, so it is rebuilt only when another trace is shown. */
export function traceTimelineTab(forRun: View, tctx: TraceViewContext): View {
  let root: HTMLElement | undefined;
  let timeline: ReturnType<typeof createTraceTimeline> | undefined;
  let shown: TraceRun | undefined;
  const draw = (s: AppState) => {
    timeline?.unmount();
    shown = shownTrace(s);
    if (!root || !shown) return;
    root.replaceChildren();
    timeline = createTraceTimeline(shown, tctx);
    timeline.mount(root);
  };
  const forTrace: View = {
    mount(r, s) {
      root = r;
      draw(s);
    },
    update(s) {
      if (shownTrace(s) !== shown) draw(s);
    },
    unmount() {
      timeline?.unmount();
      timeline = shown = root = undefined;
    },
  };
  return switchView(forRun, forTrace, hasTrace);
}

/** Compare shows two traces' deltas once the host picked a pair, else the runs' comparison. */
export function traceCompareTab(forRun: View): View {
  const forTrace = chartView(
    (root, s) => {
      const [base, other] = comparedTraces(s)!;
      return renderTraceCompare(root, base, other);
    },
    (s, prev) => s.session !== prev.session || comparedTraces(s)?.[0] !== comparedTraces(prev)?.[0] || comparedTraces(s)?.[1] !== comparedTraces(prev)?.[1],
  );
  return switchView(forRun, forTrace, (s) => comparedTraces(s) !== undefined);
}
