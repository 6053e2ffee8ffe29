/**
 * Overview: what the model is, how fast it ran, what it computed, how much memory it took, where the
 * time went (top op types) and what was guessed. Without a run it shows the model summary instead.
 */
import type { InferenceRun } from '../../../engine/src/schema/run';
import { formatBytes, formatCount, formatPercent, formatUs } from '../../../engine/src/util/format';
import { topOpTypeBars } from '../charts/bars';
import { profiledRunCount } from '../charts/compare';
import { cssVarColor, swatch } from '../charts/palette';
import { card, facts, h } from '../dom';
import { runColors } from '../model/run-colors';
import { runTime, runTitle } from '../model/run-label';
import { selectedRun } from '../state';
import { renderSummary } from './summary';
import { simpleView, View, ViewContext } from './view';

const ms = (v: number) => formatUs(v * 1000);

export function createOverviewView(ctx: ViewContext): View {
  return simpleView(
    (root, s) => {
      const run = selectedRun(s);
      if (!run) return renderSummary(root, s, ctx);
      root.append(overview(run, s.session?.mode !== 'report' ? ctx : undefined));
    },
    ['session', 'runs', 'selectedId', 'job', 'notice'],
  );
}

function overview(run: InferenceRun, ctx: ViewContext | undefined): HTMLElement {
  const m = run.model;
  const c = run.config;
  const inputs = h(
    'table',
    { class: 'twb-table twb-compact' },
    h('thead', {}, h('tr', {}, h('th', {}, 'input'), h('th', {}, 'type'), h('th', {}, 'dims'), h('th', {}, 'declared'), h('th', {}, 'values'))),
    h('tbody', {}, ...m.inputs.map((i) => h('tr', {}, h('td', { class: 'twb-mono' }, i.name), h('td', {}, i.type), h('td', { class: 'twb-mono' }, i.dims.join('×')), h('td', { class: 'twb-mono' }, i.declared.join(' × ')), h('td', { class: 'twb-dim' }, i.values)))),
  );
  const mem = run.memory;
  return h(
    'div',
    { class: 'twb-overview' },
    h(
      'header',
      { class: 'twb-view-header' },
      h('h1', {}, m.name),
      h('p', { class: 'twb-dim' }, `${runTitle(run)} · ${run.env.threads} threads · ONNX Runtime ${run.env.ortVersion} · ${runTime(run)}`),
      ctx ? exportButton(run, ctx) : null,
    ),
    h(
      'div',
      { class: 'twb-stats' },
      stat('latency p50', ms(run.latencyMs.p50), 'twb-stat-p50'),
      stat('p90', ms(run.latencyMs.p90)),
      stat('mean', ms(run.latencyMs.mean)),
      stat('profiled mean', ms(run.profiledLatencyMs.mean), undefined, 'with the profiler on'),
      stat('compute', flopText(run.compute.flops), undefined, 'per inference (counted ops)'),
      stat('achieved', `${run.compute.gflops.toFixed(1)} GFLOP/s`, undefined, 'at p50'),
      mem.unavailable ? stat('peak memory', 'n/a', undefined, mem.unavailable) : stat('peak memory', formatBytes(mem.peakBytes), 'twb-stat-peak', `weights ${formatBytes(mem.weightsBytes)}`),
    ),
    h('p', { class: 'twb-dim' }, `Latency from ${run.latencyMs.samples.length || c.runs} unprofiled runs (min ${ms(run.latencyMs.min)}, max ${ms(run.latencyMs.max)}); per-op figures from ${profiledRunCount(run)} profiled runs.`),
    h(
      'div',
      { class: 'twb-grid' },
      card('Model', facts([['parameters', formatCount(m.params)], ['size', formatBytes(m.sizeBytes)], ['opset', Object.entries(m.opsets).map(([d, v]) => `${d || 'ai.onnx'} ${v}`).join(', ') || String(m.opset)], ['IR version', String(m.irVersion)], ['producer', m.producer || '—'], ['nodes', `${m.nodeCount} stored, ${run.ops.length} run`]])),
      card('Top op types by kernel time (per inference)', opTypeBars(run)),
    ),
    card(`Inputs (${m.inputs.length})`, inputs),
    card('Warnings', run.warnings.length ? h('ul', { class: 'twb-warnings' }, ...run.warnings.map((w) => h('li', {}, w))) : h('p', { class: 'twb-dim' }, 'No warnings: nothing was guessed.')),
  );
}

/** `939.52 MFLOP`, `3.15 MFLOP`, `512 FLOP`. */
function flopText(flops: number): string {
  const n = formatCount(flops);
  return /[kMGT]$/.test(n) ? `${n}FLOP` : `${n} FLOP`;
}

function stat(label: string, value: string, cls?: string, note?: string): HTMLElement {
  return h('div', { class: `twb-stat ${cls ?? ''}` }, h('div', { class: 'twb-stat-label' }, label), h('div', { class: 'twb-stat-value' }, value), note ? h('div', { class: 'twb-stat-note' }, note) : null);
}

function opTypeBars(run: InferenceRun): HTMLElement {
  const colors = runColors(run).byOpType;
  const bars = topOpTypeBars(run, 10);
  return h(
    'div',
    { class: 'twb-bars', attrs: { role: 'list' } },
    ...bars.map((b) => {
      const slot = b.opType ? (colors.get(b.opType) ?? -1) : -1;
      const fill = h('span', { class: 'twb-bar-fill', css: { width: `${(b.length * 100).toFixed(2)}%`, background: cssVarColor(slot), opacity: String(swatch(slot).alpha) } });
      return h('div', { class: 'twb-bar-row', attrs: { role: 'listitem' } }, h('span', { class: 'twb-bar-label', attrs: { title: b.label } }, b.label), h('span', { class: 'twb-bar-track' }, fill), h('span', { class: 'twb-bar-value' }, `${formatPercent(b.share)} · ${formatUs(b.totalUs / profiledRunCount(run))}`));
    }),
  );
}

function exportButton(run: InferenceRun, ctx: ViewContext): HTMLElement {
  const status = h('span', { class: 'twb-dim twb-export-status', attrs: { role: 'status' } });
  const button = h('vscode-button', { attrs: { secondary: true }, on: {} }, 'Export report…');
  button.addEventListener('click', () => {
    if (button.disabled) return;
    button.disabled = true;
    status.textContent = 'Exporting…';
    void ctx.actions.exportReport(run.id).then((n) => {
      button.disabled = false;
      status.textContent = n.hint ? `${n.message} ${n.hint}` : n.message;
      status.classList.toggle('twb-error-text', n.kind === 'error');
    });
  });
  return h('div', { class: 'twb-header-actions' }, button, status);
}
