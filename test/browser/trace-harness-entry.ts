/**
 * Test-only page script for test/browser/trace.test.ts: the trace renderers without the app shell
 * (whose wiring is tested with the app). Reads the documents from the page's
 * `<script type="application/json" id="twb-trace-docs">` block and exposes `window.__traceShow`,
 * which renders one view of them the way the app's views will: charts refit on resize, the Timeline
 * mounted and unmounted. Frames the page asks to open are recorded in `window.__opened`.
 */
import '../../media/webview.css';
import '../../webview/src/styles/trace.css';
import '../../webview/src/components';
import type { TraceFrame, TraceRun } from '../../engine/src/schema/trace';
import type { TraceViewContext } from '../../webview/src/views/trace-context';
import { renderTraceCompare } from '../../webview/src/views/trace-compare';
import { renderTraceMemory } from '../../webview/src/views/trace-memory';
import { renderTraceOps } from '../../webview/src/views/trace-ops';
import { renderTraceOverview } from '../../webview/src/views/trace-overview';
import { createTraceTimeline } from '../../webview/src/views/trace-timeline';
import type { Fittable } from '../../webview/src/views/view';

export type TraceViewName = 'overview' | 'ops' | 'timeline' | 'memory' | 'compare';

declare global {
  interface Window {
    __opened: TraceFrame[];
    /** Renders `view` of document `doc` (Compare: `doc` against `other`); `host: false` leaves out openSource, as the offline report does. */
    __traceShow(view: TraceViewName, doc: number, opts?: { other?: number; host?: boolean }): void;
  }
}

const docs = JSON.parse(document.getElementById('twb-trace-docs')?.textContent ?? '[]') as TraceRun[];
const root = document.getElementById('app') as HTMLElement;
window.__opened = [];
let cleanup: (() => void) | undefined;
let charts: Fittable[] = [];
new ResizeObserver(() => charts.forEach((c) => c.fit())).observe(root);

window.__traceShow = (view, doc, opts = {}) => {
  cleanup?.();
  cleanup = undefined;
  charts = [];
  root.replaceChildren();
  const t = docs[doc];
  const ctx: TraceViewContext = opts.host === false ? {} : { openSource: (f) => window.__opened.push(f) };
  root.setAttribute('data-view', view);
  if (view === 'timeline') {
    const v = createTraceTimeline(t, ctx);
    v.mount(root);
    cleanup = () => v.unmount();
    return;
  }
  charts = view === 'overview' ? renderTraceOverview(root, t, ctx) : view === 'ops' ? renderTraceOps(root, t, ctx) : view === 'memory' ? renderTraceMemory(root, t) : renderTraceCompare(root, t, docs[opts.other ?? 1]);
  charts.forEach((c) => c.fit());
};
document.body.setAttribute('data-ready', 'true');
