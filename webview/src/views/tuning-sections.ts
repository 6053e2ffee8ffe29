/**
 * The Tuning view's parts: the headline figures, the Pareto plot with its legend, the best trial
 * with its held-back check and kept files, and the trials table. Every figure is measured by the
 * tuning (the plot's point sizes are file sizes, not estimates).
 */
import type { Trial, TuningReport } from '../../../engine/src/schema/tuning';
import { describeChange } from '../../../engine/src/tune/describe';
import { formatBytes, formatPercent } from '../../../engine/src/util/format';
import { paretoChart } from '../charts/pareto';
import { Child, h, hideTooltip, s, showTooltip } from '../dom';
import { stat } from './pipeline-sections';

const HEIGHT = 300;
const BOX = { top: 28, right: 24, bottom: 40, left: 64 };

const pct = (x: number | null) => (x === null ? '—' : formatPercent(x));
const times = (x: number | null) => (x === null ? '—' : `${x.toFixed(2)}×`);
const ms = (x: number | null) => (x === null ? '—' : `${x.toFixed(2)} ms`);

export function bestTrial(r: TuningReport): Trial | undefined {
  return r.trials.find((t) => t.id === r.best);
}

export function tuningHeadline(r: TuningReport): HTMLElement {
  const best = bestTrial(r);
  const inBudget = r.trials.filter((t) => t.withinBudget).length;
  return h(
    'div',
    { class: 'twb-stats twb-tuning-stats' },
    stat('trials', String(r.trials.length), `${inBudget} within budget · ${r.pareto.length} on the front`, 'twb-tuning-trials'),
    stat('best', best ? best.id : 'none', best ? describeChange(best.change) : 'no trial met the budget', 'twb-tuning-best-id'),
    stat('speedup', best ? times(best.speedup) : '—', best ? `${ms(best.latencyMs)} vs ${ms(best.originalLatencyMs)} timed beside it` : `original p50 ${ms(r.baseline.latencyMs)}`, 'twb-tuning-speedup'),
    stat('size', best?.sizeBytes ? formatBytes(best.sizeBytes) : formatBytes(r.baseline.sizeBytes), best?.sizeBytes ? `${(r.baseline.sizeBytes / best.sizeBytes).toFixed(2)}× smaller than ${formatBytes(r.baseline.sizeBytes)}` : 'the original'),
    stat('accuracy', best ? pct(best.accuracy) : pct(r.baseline.accuracy), best ? `search part; original ${pct(r.baseline.accuracy)}` : 'the original, search part'),
    stat('stopped', r.stopped.reason, `${(r.elapsedMs / 1000).toFixed(1)} s in all`),
  );
}

/** Swatches of the plot's marks. */
export function paretoLegend(r: TuningReport): HTMLElement {
  const item = (cls: string, label: string) => h('span', {}, h('span', { class: `twb-pareto-swatch ${cls}` }), label);
  return h(
    'div',
    { class: 'twb-legend twb-pareto-legend' },
    item('twb-pareto-front', 'on the Pareto front'),
    item('twb-pareto-within', 'within budget, dominated'),
    item('twb-pareto-over', 'over budget'),
    item('twb-pareto-baseline', 'original'),
    r.budget.maxAccuracyDrop !== null ? h('span', {}, h('span', { class: 'twb-swatch-line twb-pareto-floor-swatch' }), `accuracy floor (drop ≤ ${formatPercent(r.budget.maxAccuracyDrop)})`) : null,
    h('span', { class: 'twb-dim' }, 'area ∝ file size'),
  );
}

export function paretoFigure(r: TuningReport, width: number): SVGSVGElement {
  const c = paretoChart(r, { ...BOX, width, height: HEIGHT });
  const bottom = HEIGHT - BOX.bottom;
  const right = width - BOX.right;
  const svg = s(
    'svg',
    { class: 'twb-pareto', attrs: { width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, role: 'img', 'aria-label': `accuracy against speedup of ${c.points.length} trials; ${r.pareto.length} on the Pareto front` } },
    ...c.yTicks.map((t) => s('g', { class: 'twb-tick' }, s('line', { attrs: { x1: BOX.left, x2: right, y1: t.at, y2: t.at } }), s('text', { attrs: { x: BOX.left - 8, y: t.at + 4, 'text-anchor': 'end' } }, t.label))),
    ...c.xTicks.map((t) => s('g', { class: 'twb-tick' }, s('line', { attrs: { x1: t.at, x2: t.at, y1: BOX.top, y2: bottom } }), s('text', { attrs: { x: t.at, y: bottom + 16, 'text-anchor': 'middle' } }, t.label))),
    s('text', { class: 'twb-tick twb-axis-name', attrs: { x: (BOX.left + right) / 2, y: bottom + 33, 'text-anchor': 'middle' } }, 'speedup over the original, timed beside it (→ faster)'),
    s('text', { class: 'twb-tick twb-axis-name', attrs: { x: 4, y: 12 } }, 'accuracy, search part'),
  );
  if (c.floorY !== undefined) svg.append(s('line', { class: 'twb-pareto-floor', attrs: { x1: BOX.left, x2: right, y1: c.floorY, y2: c.floorY } }));
  if (c.frontPath) svg.append(s('path', { class: 'twb-pareto-front-line', attrs: { d: c.frontPath } }));
  const base = s('circle', { class: 'twb-pareto-point twb-pareto-baseline', attrs: { cx: c.baseline.px, cy: c.baseline.py, r: c.baseline.r, tabindex: 0, 'data-trial': 'original' } });
  base.addEventListener('mousemove', (e) => showTooltip(['original', ['speedup', '1.00×'], ['accuracy', pct(r.baseline.accuracy)], ['size', formatBytes(r.baseline.sizeBytes)]], e.clientX, e.clientY));
  base.addEventListener('mouseleave', hideTooltip);
  svg.append(base);
  // Larger files first, so a small point on top of a big one stays reachable.
  for (const p of [...c.points].sort((a, b) => b.r - a.r)) {
    const trial = r.trials.find((t) => t.id === p.id)!;
    const dot = s('circle', { class: `twb-pareto-point twb-pareto-${p.status}${p.best ? ' twb-pareto-best' : ''}`, attrs: { cx: p.px, cy: p.py, r: p.r, tabindex: 0, 'data-trial': p.id } });
    dot.addEventListener('mousemove', (e) =>
      showTooltip([`${p.id}${p.best ? ' (best)' : ''}`, ['change', describeChange(trial.change)], ['speedup', times(p.speedup)], ['accuracy', pct(p.accuracy)], ['size', formatBytes(p.sizeBytes)], ['budget', trial.withinBudget ? 'within' : (trial.reason ?? 'over')]], e.clientX, e.clientY),
    );
    dot.addEventListener('mouseleave', hideTooltip);
    svg.append(dot);
    if (p.best) svg.append(s('text', { class: 'twb-pareto-best-label', attrs: { x: p.px + p.r + 4, y: p.py - p.r } }, 'best'));
  }
  return svg;
}

const STATUS_TEXT: Record<Trial['status'], string> = { ok: 'within', 'over-budget': 'over', failed: 'failed' };

export function trialsTable(r: TuningReport): HTMLElement {
  const front = new Set(r.pareto);
  const num = (v: Child) => h('td', { class: 'twb-num' }, v);
  return h(
    'div',
    { class: 'twb-table-wrap' },
    h(
      'table',
      { class: 'twb-table twb-tuning-trials' },
      h(
        'thead',
        {},
        h('tr', {}, ...['#', 'trial', 'change', 'speedup', 'latency', 'original', 'size', 'accuracy', 'drop', 'top-1', 'budget', 'front'].map((c, i) => h('th', i >= 3 && i <= 9 ? { class: 'twb-num' } : {}, c))),
      ),
      h(
        'tbody',
        {},
        ...r.trials.map((t, i) =>
          h(
            'tr',
            { class: `twb-trial-${t.status}${t.id === r.best ? ' twb-trial-best' : ''}`, attrs: { 'data-trial': t.id, title: t.reason ?? '' } },
            num(String(i + 1)),
            h('td', { class: 'twb-mono' }, t.id, t.id === r.best ? h('span', { class: 'twb-badge twb-badge-measured twb-best-badge' }, 'best') : null),
            h('td', {}, describeChange(t.change)),
            num(times(t.speedup)),
            num(ms(t.latencyMs)),
            num(ms(t.originalLatencyMs)),
            num(t.sizeBytes === null ? '—' : formatBytes(t.sizeBytes)),
            num(pct(t.accuracy)),
            num(pct(t.accuracyDrop)),
            num(pct(t.top1Agreement)),
            h('td', { class: `twb-trial-status twb-trial-status-${t.status}` }, STATUS_TEXT[t.status]),
            h('td', {}, front.has(t.id) ? '★' : ''),
          ),
        ),
      ),
    ),
    h('p', { class: 'twb-dim twb-tuning-note' }, 'Latency: p50 of the trial\'s model and of the original timed beside it in the same trial; trials compare by speedup because the machine\'s load drifts between them. Accuracy, drop and top-1 are on the search part of the eval file.'),
    ...r.trials.filter((t) => t.reason).map((t) => h('p', { class: 'twb-tuning-reason', attrs: { 'data-trial': t.id } }, h('span', { class: 'twb-mono' }, t.id), `: ${t.reason}`)),
  );
}

/** The best trial, its held-back check and the files kept, with the Export button. */
export function bestCard(r: TuningReport, exportControl: HTMLElement | null): HTMLElement {
  const best = bestTrial(r);
  if (!best) return h('section', { class: 'twb-card twb-tuning-best' }, h('h2', {}, 'Best configuration'), h('p', {}, 'No trial met the accuracy budget, so nothing was kept. Loosen the budget (--max-accuracy-drop) or try other candidates (--candidates).'));
  const held = r.bestHeldBack;
  const rows: Array<[string, Child]> = [
    ['change', describeChange(best.change)],
    ['speedup', `${times(best.speedup)} (${ms(best.latencyMs)} vs ${ms(best.originalLatencyMs)})`],
    ['size', best.sizeBytes === null ? '—' : formatBytes(best.sizeBytes)],
    ['search part', `accuracy ${pct(best.accuracy)}, drop ${pct(best.accuracyDrop)}, top-1 agreement ${pct(best.top1Agreement)}`],
    [
      'held-back check',
      held
        ? h('span', { class: held.withinBudget ? 'twb-tuning-held-ok' : 'twb-error-text' }, `accuracy ${pct(held.accuracy)} vs ${pct(r.baseline.heldBackAccuracy)} for the original on ${r.eval.heldBackExamples} examples never searched (drop ${pct(held.accuracyDrop)}, top-1 ${pct(held.top1Agreement)}) — ${held.withinBudget ? 'within budget' : 'OVER budget'}`)
        : 'not run',
    ],
    ['model', r.bestModel ? h('code', {}, r.bestModel) : 'not kept'],
    ['config', r.bestConfig ? h('code', {}, r.bestConfig) : 'not kept'],
  ];
  if (r.bestConfig) rows.push(['re-measure', h('code', {}, `twb profile --config ${r.bestConfig}`)]);
  return h(
    'section',
    { class: 'twb-card twb-tuning-best', attrs: { 'data-best': best.id } },
    h('h2', {}, `Best configuration: ${best.id}`),
    h('table', { class: 'twb-table twb-tuning-best-table' }, h('tbody', {}, ...rows.map(([k, v]) => h('tr', { attrs: { 'data-row': k } }, h('th', {}, k), h('td', {}, v))))),
    exportControl,
  );
}
