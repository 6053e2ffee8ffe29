/** Terminal report of a pipeline plan: headline, a text Gantt chart, and a table per stage. */
import type { PipelinePlan, ScheduleResult, TimelineBlock } from '../schema/parallel';
import { formatBytes, formatPercent, formatUs, textTable } from '../util/format';

const scheduleLabel = (p: Pick<PipelinePlan, 'schedule' | 'chunks'>) => (p.schedule === 'interleaved' ? `interleaved:${p.chunks}` : p.schedule);

/**
 * One row per stage, `width` columns over the makespan: each column shows the block covering most
 * of it (F, B or W; lower case for chunks after the first) or `.` where the stage idles.
 */
export function textGantt(timeline: readonly TimelineBlock[], stages: number, makespanUs: number, width = 72): string[] {
  const t0 = timeline.length ? Math.min(...timeline.map((b) => b.startUs)) : 0;
  const col = makespanUs / width;
  return Array.from({ length: stages }, (_, p) => {
    const cover = new Array<number>(width).fill(0);
    const glyph = new Array<string>(width).fill('.');
    for (const b of timeline) {
      if (b.stage !== p) continue;
      const from = (b.startUs - t0) / col;
      const to = (b.endUs - t0) / col;
      for (let c = Math.max(0, Math.floor(from)); c < Math.min(width, Math.ceil(to)); c++) {
        const part = Math.min(to, c + 1) - Math.max(from, c);
        if (part > cover[c]) {
          cover[c] = part;
          glyph[c] = b.chunk > 0 ? b.kind.toLowerCase() : b.kind;
        }
      }
    }
    return `stage ${String(p).padEnd(2)} |${glyph.join('')}|`;
  });
}

function bubbleLine(label: string, r: ScheduleResult, stages: number): string[] {
  return [`${label}: bubble ${formatPercent(r.bubbleFraction)}, makespan ${formatUs(r.makespanUs)}`, ...textGantt(r.timeline, stages, r.makespanUs)];
}

export function formatPipelinePlan(plan: PipelinePlan): string {
  const lines: string[] = [];
  lines.push(`Pipeline plan: ${plan.model} · ${scheduleLabel(plan)} · ${plan.stages} stages × ${plan.microbatches} micro-batches · hop ${formatUs(plan.commUs)}`);
  lines.push(`Costs: ${plan.costSource.kind} of ${plan.costSource.from}`);
  for (const e of plan.costSource.estimated) lines.push(`  estimate: ${e}`);
  lines.push('');
  lines.push(`Simulated bubble ${formatPercent(plan.bubbleFraction)} (closed form for uniform costs: ${formatPercent(plan.closedFormBubble)}), makespan ${formatUs(plan.makespanUs)}, peak in flight ${plan.peakInFlight}`);
  lines.push(...textGantt(plan.timeline, plan.stages, plan.makespanUs));
  lines.push('  F forward, B backward' + (plan.schedule === 'zb-h1' ? ' (input gradient), W weight gradient' : '') + (plan.chunks > 1 ? '; lower case: chunks after the first' : '') + ', . idle');
  lines.push('');
  const unitNames = (ids: number[][]) => ids.map((g) => g.map((i) => plan.layers[i].name).join(', ')).join(' | ');
  const estimate = plan.costSource.estimated.length > 0 ? ' (est.)' : '';
  lines.push(
    textTable(
      ['stage', 'units', 'busy', 'idle', 'bubble', 'in flight', `activations${estimate}`, 'weights'],
      plan.stageStats.map((s) => [String(s.stage), unitNames(s.layers), formatUs(s.busyUs), formatUs(s.idleUs), formatPercent(s.bubbleFraction), String(s.peakInFlight), formatBytes(s.activationBytes), formatBytes(s.paramBytes)]),
      [true, false, true, true, true, true, true, true],
    ),
  );
  const m = plan.measured;
  if (m) {
    lines.push('');
    lines.push(`Measured (forward only: one worker and ORT session per stage, ${m.threadsPerStage} thread${m.threadsPerStage === 1 ? '' : 's'} each, ${m.executionProvider}, micro-batch ${m.batch} × ${m.seq}):`);
    lines.push(`  stage times alone ${m.stageUs.map(formatUs).join(', ')}; hop ${formatUs(m.commUs)}; composed output vs whole model: max |diff| ${m.maxAbsDiff.toExponential(2)}`);
    lines.push(...bubbleLine('  measured ', m, plan.stages).map((l, i) => (i === 0 ? l : `  ${l}`)));
    lines.push(...bubbleLine('  simulated', m.simulated, plan.stages).map((l, i) => (i === 0 ? l : `  ${l}`)));
  }
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
