/**
 * The measured pipeline of a plan: each stage a sub-model in its own ORT session, run forward-only
 * in the schedule's forward order. Shown beside the same forward-only schedule simulated from the
 * stage times measured alone and the measured hop time: two Gantt charts, bubble and makespan side
 * by side, the stage times, and how far the composed output is from the whole model's.
 */
import type { MeasuredPipeline, PipelinePlan } from '../../../engine/src/schema/parallel';
import { formatPercent, formatUs } from '../../../engine/src/util/format';
import { card, facts, h } from '../dom';
import { scheduleLabel, shapeOf } from '../model/pipeline-shape';
import { chartSlot, ChartSlot } from './chart-slot';
import { ganttFigure, ganttLegend } from './pipeline-gantt';

/** The composed stages must reproduce the whole model to within this (fp32 sums in another order). */
export const COMPOSED_TOLERANCE = 1e-4;

const stagesOf = (m: MeasuredPipeline, plan: PipelinePlan) => Math.max(plan.stages, m.stageUs.length, ...m.timeline.map((b) => b.stage + 1));

function comparison(m: MeasuredPipeline): HTMLElement {
  const row = (what: string, measured: string, simulated: string, key: string) => h('tr', { attrs: { 'data-row': key } }, h('th', {}, what), h('td', { class: 'twb-num twb-measured-value' }, measured), h('td', { class: 'twb-num twb-simulated-value' }, simulated));
  return h(
    'table',
    { class: 'twb-table twb-compact twb-pipeline-compare' },
    h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', { class: 'twb-num' }, 'measured'), h('th', { class: 'twb-num' }, 'simulated'))),
    h('tbody', {}, row('bubble', formatPercent(m.bubbleFraction), formatPercent(m.simulated.bubbleFraction), 'bubble'), row('makespan', formatUs(m.makespanUs), formatUs(m.simulated.makespanUs), 'makespan')),
  );
}

export interface MeasuredSection {
  el: HTMLElement;
  slots: ChartSlot[];
}

export function measuredSection(plan: PipelinePlan, m: MeasuredPipeline): MeasuredSection {
  const stages = stagesOf(m, plan);
  const label = scheduleLabel(shapeOf(plan));
  const measured = chartSlot((w) => ganttFigure(m.timeline, stages, m.makespanUs, w, { cls: 'twb-gantt-measured', chunks: plan.chunks, label: `measured forward-only pipeline, ${label}` }));
  const simulated = chartSlot((w) => ganttFigure(m.simulated.timeline, stages, m.simulated.makespanUs, w, { cls: 'twb-gantt-measured-sim', chunks: plan.chunks, label: `simulated forward-only pipeline, ${label}` }));
  const ok = m.maxAbsDiff <= COMPOSED_TOLERANCE;
  const el = card(
    `Measured: ${label}, P = ${plan.stages}, M = ${plan.microbatches}, forward only`,
    h('p', { class: 'twb-dim' }, `ONNX Runtime runs inference only, so the measured pipeline streams each micro-batch's forward blocks in the schedule's order; the simulation below it uses the stage times measured alone and the measured hop time. Micro-batch ${m.batch} × seq ${m.seq} · ${m.executionProvider} · ${m.threadsPerStage} thread${m.threadsPerStage === 1 ? '' : 's'} per stage.`),
    h(
      'div',
      { class: 'twb-grid twb-pipeline-measured-facts' },
      comparison(m),
      facts([
        ['hop time (median)', formatUs(m.commUs)],
        ['stage times alone (median)', h('span', { class: 'twb-pipeline-stage-times' }, m.stageUs.map((us, i) => `${i}: ${formatUs(us)}`).join(' · '))],
        ['max |composed − whole model|', h('span', { class: `twb-pipeline-diff ${ok ? 'twb-pass' : 'twb-fail'}` }, `${m.maxAbsDiff.toExponential(2)} — ${ok ? 'pass' : 'fail'} (tolerance ${COMPOSED_TOLERANCE.toExponential(0)})`)],
      ]),
    ),
    ganttLegend(['F'], plan.chunks),
    h('h3', { class: 'twb-pipeline-subhead' }, 'Measured'),
    measured.el,
    h('h3', { class: 'twb-pipeline-subhead' }, 'Simulated from the measured stage and hop times'),
    simulated.el,
  );
  el.classList.add('twb-pipeline-measured');
  return { el, slots: [measured, simulated] };
}
