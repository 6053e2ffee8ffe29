/**
 * Tuning: what an accuracy-budgeted search (`twb tune`, or Tune Model… in VS Code) tried and kept —
 * the headline, every trial on a Pareto plot of speedup against accuracy (size as point area), the
 * best configuration with its check on held-back examples, Export, the trials table, and how the
 * search was ordered and why it stopped.
 */
import type { TuningReport } from '../../../engine/src/schema/tuning';
import { describeBudget } from '../../../engine/src/tune/describe';
import { formatPercent } from '../../../engine/src/util/format';
import { card, emptyState, facts, h } from '../dom';
import { localTime } from '../model/run-label';
import { AppState, selectedTuning } from '../state';
import { chartSlot } from './chart-slot';
import { docPicker } from './doc-picker';
import { warningsCard } from './pipeline-sections';
import { bestCard, paretoFigure, paretoLegend, trialsTable, tuningHeadline } from './tuning-sections';
import { chartView, type Fittable, type View, type ViewContext } from './view';

function emptyTuning(s: AppState): HTMLElement {
  if (s.session?.mode === 'report') return emptyState('This report holds no tuning.');
  return emptyState(
    'No tunings yet.',
    h('p', {}, 'Run Transformer Workbench: Tune Model…, or on the command line ', h('code', {}, 'twb tune model.onnx --eval eval.json --max-accuracy-drop 0.01 --save'), ', then open it from the Runs view.'),
  );
}

/** Export…: the host asks for the format and the file; off in a static report (the kept files are not in it). */
function exportControl(r: TuningReport, s: AppState, ctx: ViewContext): HTMLElement | null {
  if (!r.best) return null;
  if (s.session?.mode === 'report') return h('p', { class: 'twb-dim' }, 'Export from VS Code or with ', h('code', {}, 'twb export tune.json --format twb|ort|ort-python|ort-js|ort-model|report'), '.');
  const status = h('span', { class: 'twb-dim twb-export-status', attrs: { role: 'status' } });
  const button = h('vscode-button', { attrs: { id: 'twb-tuning-export' } }, 'Export tuned config…');
  button.addEventListener('click', () => {
    if (button.hasAttribute('disabled')) return;
    button.setAttribute('disabled', '');
    status.textContent = 'Exporting…';
    void ctx.actions.exportTuning(r.id).then((n) => {
      button.removeAttribute('disabled');
      status.textContent = n.hint ? `${n.message} ${n.hint}` : n.message;
      status.classList.toggle('twb-error-text', n.kind === 'error');
    });
  });
  return h('div', { class: 'twb-header-actions twb-tuning-export' }, button, status);
}

function searchCard(r: TuningReport): HTMLElement {
  const c = r.config;
  return card(
    'Search',
    facts([
      ['model', h('span', { class: 'twb-mono' }, r.model.source)],
      ['budget', describeBudget(r.budget)],
      ['eval', `${r.eval.searchExamples} search + ${r.eval.heldBackExamples} held-back examples of ${r.eval.file}`],
      ['baseline', `accuracy ${formatPercent(r.baseline.accuracy)} (held back ${formatPercent(r.baseline.heldBackAccuracy)})${r.baseline.latencyMs === null ? '' : `, p50 ${r.baseline.latencyMs.toFixed(2)} ms`}`],
      ['timed', `batch ${c.batch} × seq ${c.seq} on ${c.executionProvider} (${c.threads} threads), ${c.runs} runs per model, seed ${c.seed}`],
      ['order', `${r.order.by === 'advisor' ? 'advisor' : 'search space'} — ${r.order.detail}`],
      ...r.skipped.map((sk): [string, string] => [`skipped ${sk.candidate}`, sk.reason]),
      ['stopped', `${r.stopped.reason}: ${r.stopped.detail}`],
    ]),
  );
}

function renderTuning(root: HTMLElement, s: AppState, ctx: ViewContext): Fittable[] {
  const r = selectedTuning(s);
  if (!r) {
    root.replaceChildren(emptyTuning(s));
    return [];
  }
  const plot = chartSlot((w) => paretoFigure(r, w));
  const picker = docPicker({ id: 'twb-tuning-picker', label: 'Tuning', items: s.tunings.map((t, i) => ({ value: t.id, label: `${i + 1}. ${t.model.name} · ${t.trials.length} trials · ${localTime(t.createdAt)}` })), current: r.id, onPick: (id) => ctx.store.update({ selectedTuningId: id }) });
  root.replaceChildren(
    h(
      'div',
      { class: 'twb-tuning', attrs: { 'data-tuning': r.id } },
      h('header', { class: 'twb-view-header twb-quant-header' }, h('div', {}, h('h1', {}, `Tuning: ${r.model.name}`), h('p', { class: 'twb-dim' }, `${describeBudget(r.budget)} · ${localTime(r.createdAt)}`)), picker),
      tuningHeadline(r),
      h('div', { class: 'twb-grid' }, card('Pareto front: speedup, accuracy and size', paretoLegend(r), plot.el), bestCard(r, exportControl(r, s, ctx))),
      card('Trials', trialsTable(r)),
      searchCard(r),
      warningsCard(r.warnings),
    ),
  );
  return [plot];
}

export function createTuningView(ctx: ViewContext): View {
  return chartView(
    (root, s) => renderTuning(root, s, ctx),
    (s, prev) => s.session !== prev.session || s.tunings !== prev.tunings || selectedTuning(s) !== selectedTuning(prev),
  );
}
