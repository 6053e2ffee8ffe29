/**
 * The Pipeline view's read-outs for one shape: the headline (bubble against the closed form,
 * makespan, peak in flight, hop time), the per-stage table, where the costs came from, and the
 * warnings. Figures that rest on estimated costs say so.
 */
import type { PipelinePlan } from '../../../engine/src/schema/parallel';
import { formatBytes, formatPercent, formatUs } from '../../../engine/src/util/format';
import { card, Child, h } from '../dom';
import { activationsEstimated, PipelineFigures, scheduleLabel, unitNames } from '../model/pipeline-shape';

export const estimateBadge = (): HTMLElement => h('span', { class: 'twb-badge twb-badge-estimate' }, 'estimate');

export function stat(label: Child, value: string, note?: Child, cls = ''): HTMLElement {
  return h('div', { class: `twb-stat ${cls}`.trim() }, h('div', { class: 'twb-stat-label' }, label), h('div', { class: 'twb-stat-value' }, value), note ? h('div', { class: 'twb-stat-note' }, note) : null);
}

/** Whether any cost the simulation used was estimated rather than measured. */
export const costsEstimated = (plan: PipelinePlan): boolean => plan.costSource.kind === 'uniform' || plan.costSource.estimated.length > 0;

export function headline(plan: PipelinePlan, f: PipelineFigures): HTMLElement {
  const est = costsEstimated(plan);
  const simulated = (what: string) => h('span', {}, est ? estimateBadge() : null, ` ${what}`);
  const sh = f.shape;
  const bubble = stat('bubble', formatPercent(f.bubbleFraction), simulated(`closed form ${formatPercent(f.closedFormBubble)}`), 'twb-pipeline-bubble');
  bubble.dataset.value = String(f.bubbleFraction);
  return h(
    'div',
    { class: 'twb-stats twb-pipeline-stats' },
    stat('schedule', scheduleLabel(sh), `P = ${sh.stages} stages · M = ${sh.microbatches} micro-batches`, 'twb-pipeline-schedule'),
    bubble,
    stat('makespan', formatUs(f.makespanUs), simulated('one step, simulated'), 'twb-pipeline-makespan'),
    stat('peak in flight', `${f.peakInFlight} micro-batch${f.peakInFlight === 1 ? '' : 'es'}`, 'activations held at once on the busiest stage', 'twb-pipeline-inflight'),
    stat('hop time', formatUs(sh.commUs), 'per hand-over between stages', 'twb-pipeline-hop'),
    stat('costs', plan.costSource.kind, h('span', { class: 'twb-mono' }, plan.costSource.from), 'twb-pipeline-source'),
  );
}

export function stageTable(plan: PipelinePlan, f: PipelineFigures): HTMLElement {
  const estAct = activationsEstimated(plan);
  const est = costsEstimated(plan);
  return h(
    'div',
    { class: 'twb-table-wrap' },
    h(
      'table',
      { class: 'twb-table twb-pipeline-stages' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'stage'),
          h('th', {}, f.shape.chunks > 1 ? 'units per chunk' : 'units'),
          h('th', { class: 'twb-num' }, 'busy'),
          h('th', { class: 'twb-num' }, 'idle'),
          h('th', { class: 'twb-num' }, 'bubble'),
          h('th', { class: 'twb-num' }, 'peak in flight'),
          h('th', { class: 'twb-num' }, 'activation memory', estAct ? estimateBadge() : null),
          h('th', { class: 'twb-num' }, 'params'),
        ),
      ),
      h(
        'tbody',
        {},
        ...f.stageStats.map((st) =>
          h(
            'tr',
            { attrs: { 'data-stage': st.stage } },
            h('td', {}, String(st.stage)),
            h('td', {}, ...st.layers.map((g, c) => h('div', { class: 'twb-pipeline-units' }, st.layers.length > 1 ? h('span', { class: 'twb-dim' }, `chunk ${c}: `) : null, unitNames(plan, g)))),
            h('td', { class: 'twb-num' }, formatUs(st.busyUs)),
            h('td', { class: 'twb-num' }, formatUs(st.idleUs)),
            h('td', { class: 'twb-num', attrs: { 'data-col': 'bubble' } }, formatPercent(st.bubbleFraction)),
            h('td', { class: 'twb-num' }, String(st.peakInFlight)),
            h('td', { class: 'twb-num' }, formatBytes(st.activationBytes)),
            h('td', { class: 'twb-num' }, formatBytes(st.paramBytes)),
          ),
        ),
      ),
    ),
    est ? h('p', { class: 'twb-dim' }, 'Busy, idle and bubble are simulated from the unit costs below, some of which are estimates.') : h('p', { class: 'twb-dim' }, 'Busy, idle and bubble are simulated from measured unit costs.'),
  );
}

export function costSourceCard(plan: PipelinePlan): HTMLElement {
  const s = plan.costSource;
  const total = plan.layers.reduce((a, l) => a + l.forwardUs + l.backwardUs, 0);
  return card(
    `Unit costs (${plan.layers.length} units, ${formatUs(total)} forward + backward per micro-batch)`,
    h('p', {}, s.kind === 'uniform' ? 'Uniform costs: ' : `Read from the ${s.kind.replace('-', ' ')}: `, h('span', { class: 'twb-mono' }, s.from)),
    s.estimated.length
      ? h('ul', { class: 'twb-pipeline-estimated' }, ...s.estimated.map((e) => h('li', {}, estimateBadge(), ` ${e}`)))
      : h('p', { class: 'twb-dim twb-pipeline-estimated' }, s.kind === 'uniform' ? 'Uniform costs: every figure here is an estimate.' : 'Every cost was measured.'),
  );
}

export function warningsCard(warnings: readonly string[]): HTMLElement {
  return card('Warnings', warnings.length ? h('ul', { class: 'twb-warnings twb-pipeline-warnings' }, ...warnings.map((w) => h('li', {}, w))) : h('p', { class: 'twb-dim' }, 'No warnings.'));
}
