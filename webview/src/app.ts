/**
 * The app shell: connects the host, keeps the state, shows the tab bar with the run picker, and
 * mounts the active view. Starts with the `ui/ready` handshake and waits for `session/init`.
 */
import type { ViewId } from '../../engine/src/protocol/webview';
import { createActions } from './actions';
import { HostClient } from './client';
import { errorBox, h } from './dom';
import { createHost, HostWindow } from './host';
import { AppState, reduceHostEvent, Store, viewsOf } from './state';
import { createCompareView } from './views/compare';
import { createMemoryView } from './views/memory';
import { createMemoryPlanView } from './views/memory-plan';
import { createOpsView } from './views/ops';
import { createOverviewView } from './views/overview';
import { createPipelineView } from './views/pipeline';
import { createQuantizationView } from './views/quantization';
import { createRunPicker } from './views/run-picker';
import { createSuggestionsView } from './views/suggestions';
import { createTimelineView } from './views/timeline';
import { createTogglesView } from './views/toggles';
import { createTrainingView } from './views/training';
import { createTuningView } from './views/tuning';
import { createVariantsView } from './views/variants';
import { traceCompareTab, traceContext, traceMemoryTab, traceOpsTab, traceOverviewTab, traceTimelineTab } from './views/trace-switch';
import type { View, ViewContext } from './views/view';

const TITLES: Record<ViewId, string> = { overview: 'Overview', ops: 'Ops', timeline: 'Timeline', memory: 'Memory', toggles: 'Toggles', compare: 'Compare', quantization: 'Quantization', suggestions: 'Suggestions', tuning: 'Tuning', training: 'Training', variants: 'Variants', pipeline: 'Pipeline', 'memory-plan': 'Memory plan' };

export function startApp(app: HTMLElement): void {
  const host = createHost(window as unknown as HostWindow, () => document.getElementById('twb-boot')?.textContent ?? null, (m) => console.warn(`twb: ${m}`));
  const client = new HostClient(host);
  const store = new Store();
  const ctx: ViewContext = { store, client, actions: createActions(store, client) };
  const tctx = traceContext(ctx, () => store.state);
  const views: Record<ViewId, View> = {
    overview: traceOverviewTab(createOverviewView(ctx), tctx),
    ops: traceOpsTab(createOpsView(), tctx),
    timeline: traceTimelineTab(createTimelineView(), tctx),
    memory: traceMemoryTab(createMemoryView()),
    toggles: createTogglesView(ctx),
    compare: traceCompareTab(createCompareView(ctx)),
    quantization: createQuantizationView(ctx),
    suggestions: createSuggestionsView(ctx),
    tuning: createTuningView(ctx),
    training: createTrainingView(ctx),
    variants: createVariantsView(ctx),
    pipeline: createPipelineView(ctx),
    'memory-plan': createMemoryPlanView(ctx),
  };
  const report = (where: string, e: unknown) => client.reportError(`${where}: ${e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e)}`);
  window.addEventListener('error', (e) => report('uncaught error', e.error ?? e.message));
  window.addEventListener('unhandledrejection', (e) => report('unhandled rejection', e.reason));

  const picker = createRunPicker(store);
  const tabs = h('vscode-tabs', { class: 'twb-tabs' });
  const main = h('main', { class: 'twb-view', attrs: { id: 'twb-view' } });
  app.replaceChildren(h('p', { class: 'twb-loading' }, 'Waiting for the workbench…'));
  let tabViews: ViewId[] = [];
  let active: ViewId | undefined;

  const guard = (where: string, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      report(where, e);
      main.replaceChildren(errorBox({ message: e instanceof Error ? e.message : String(e), hint: 'The error was sent to the Transformer Workbench output channel.' }, `The ${where} failed`));
    }
  };

  const buildTabs = (s: AppState) => {
    tabViews = viewsOf(s);
    tabs.replaceChildren(...tabViews.map((v) => h('vscode-tab-header', { attrs: { slot: 'header', 'data-view': v } }, TITLES[v])), picker.el);
    app.replaceChildren(h('header', { class: 'twb-shell' }, tabs), main);
  };

  tabs.addEventListener('vsc-tabs-select', (e) => {
    const view = tabViews[(e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex];
    if (view && view !== store.state.view) store.update({ view });
  });

  store.subscribe((s, prev) => {
    if (!s.session) return;
    // The tab set depends on the mode and, outside the profiler panel, on which documents it carries.
    if (!prev.session || s.session.mode !== prev.session.mode || viewsOf(s).join() !== tabViews.join()) {
      buildTabs(s);
      if (active) views[active].unmount();
      active = undefined;
    }
    picker.update(s, prev.session ? prev : undefined);
    const index = tabViews.indexOf(s.view);
    if (index >= 0 && tabs.selectedIndex !== index) tabs.selectedIndex = index;
    if (active !== s.view) {
      if (active) views[active].unmount();
      active = s.view;
      main.replaceChildren();
      main.dataset.view = s.view;
      guard(`${s.view} view`, () => views[s.view].mount(main, s));
    } else guard(`${s.view} view`, () => views[s.view].update(s, prev));
  });

  client.onEvent((e) => store.update((s) => reduceHostEvent(s, e)));
  client.emit('ui/ready', {});
}
