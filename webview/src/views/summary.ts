/**
 * What the Overview shows before any run: the model summary read from the file (op counts, inputs,
 * outputs) with a prominent Profile button, or the error that kept the file from being read.
 */
import type { ModelSummaryView } from '../../../engine/src/protocol/webview';
import { formatBytes, formatCount } from '../../../engine/src/util/format';
import { card, emptyState, errorBox, facts, h } from '../dom';
import { AppState, canRun } from '../state';
import { jobPanel, UNTRUSTED_TEXT } from './progress';
import type { ViewContext } from './view';

export function renderSummary(root: HTMLElement, s: AppState, ctx: ViewContext): void {
  const session = s.session;
  if (session?.error) {
    root.append(h('div', { class: 'twb-overview' }, errorBox(session.error, session.mode === 'editor' ? 'This file could not be read as an ONNX model' : 'Nothing to show')));
    return;
  }
  const actions = session && session.mode !== 'report' ? profileActions(s, ctx) : null;
  if (!session?.summary) {
    root.append(emptyState(session?.mode === 'report' ? 'This report contains no runs.' : 'No runs yet. Profile a model to see where its time and memory go.', actions));
    return;
  }
  root.append(summary(session.summary, actions));
}

function profileActions(s: AppState, ctx: ViewContext): HTMLElement {
  const allowed = canRun(s);
  const button = h('vscode-button', { class: 'twb-profile', attrs: { 'data-action': 'profile' } }, 'Profile');
  button.disabled = !allowed || !!s.job;
  button.addEventListener('click', () => {
    if (!button.disabled) ctx.actions.startRun(ctx.store.state.form);
  });
  const f = s.form;
  return h(
    'div',
    { class: 'twb-profile-box' },
    h('div', { class: 'twb-job-row' }, button, h('span', { class: 'twb-dim' }, `${f.executionProvider} · opt ${f.optLevel} · batch ${f.batch} · seq ${f.seq} · ${f.runs} runs, ${f.profiledRuns} profiled (change these in Toggles)`)),
    allowed ? null : h('p', { class: 'twb-untrusted' }, UNTRUSTED_TEXT),
    jobPanel(s, ctx.actions),
  );
}

function dimsOf(dims: Array<number | string>): string {
  return dims.length ? dims.join(' × ') : 'scalar';
}

function ioTable(m: ModelSummaryView): HTMLElement {
  const row = (kind: string, r: ModelSummaryView['inputs'][number]) => h('tr', {}, h('td', { class: 'twb-dim' }, kind), h('td', { class: 'twb-mono' }, r.name), h('td', {}, r.type), h('td', { class: 'twb-mono' }, dimsOf(r.dims)));
  return h(
    'table',
    { class: 'twb-table twb-compact' },
    h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', {}, 'name'), h('th', {}, 'type'), h('th', {}, 'dims'))),
    h('tbody', {}, ...m.inputs.map((r) => row('input', r)), ...m.outputs.map((r) => row('output', r))),
  );
}

function summary(m: ModelSummaryView, actions: HTMLElement | null): HTMLElement {
  const counts = Object.entries(m.opCounts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const most = Math.max(1, ...counts.map((c) => c[1]));
  return h(
    'div',
    { class: 'twb-overview' },
    h('header', { class: 'twb-view-header' }, h('h1', {}, m.name), h('p', { class: 'twb-dim' }, `${m.source} · not profiled yet`)),
    actions,
    h(
      'div',
      { class: 'twb-grid' },
      card('Model', facts([['parameters', formatCount(m.params)], ['weights', formatBytes(m.weightsBytes)], ['size', formatBytes(m.sizeBytes)], ['opset', Object.entries(m.opsets).map(([d, v]) => `${d || 'ai.onnx'} ${v}`).join(', ') || String(m.opset)], ['IR version', String(m.irVersion)], ['producer', m.producer || '—'], ['nodes', String(m.nodeCount)]])),
      card('Inputs and outputs', ioTable(m)),
      card(
        `Op counts (${counts.length} op types)`,
        h(
          'div',
          { class: 'twb-bars' },
          ...counts.map(([op, n]) => h('div', { class: 'twb-bar-row' }, h('span', { class: 'twb-bar-label twb-mono', attrs: { title: op } }, op), h('span', { class: 'twb-bar-track' }, h('span', { class: 'twb-bar-fill', css: { width: `${((n / most) * 100).toFixed(2)}%` } })), h('span', { class: 'twb-bar-value' }, String(n)))),
        ),
      ),
    ),
  );
}
