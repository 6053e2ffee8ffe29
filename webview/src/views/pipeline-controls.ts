/**
 * The Pipeline view's controls: schedule, P, M, V (interleaved only) and the hop time. Every change
 * hands the whole draft to `onChange` at once (the view re-simulates as the user types); Reset puts
 * back the plan's own shape.
 */
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { SCHEDULES } from '../../../engine/src/schema/parallel';
import { PIPELINE_LIMITS } from '../../../engine/src/protocol/webview';
import { h } from '../dom';
import { SCHEDULE_LABELS, ShapeDraft } from '../model/pipeline-shape';

export interface ShapeControls {
  el: HTMLElement;
  /** Shows `draft` in the fields (after Reset or a new plan). */
  set(draft: ShapeDraft): void;
}

type NumericKey = Exclude<keyof ShapeDraft, 'schedule'>;

const NUMERIC: Array<{ key: NumericKey; label: string; help: string; min: number; max: number; step?: string }> = [
  { key: 'stages', label: 'P: stages', help: 'devices the model is split over', min: 1, max: PIPELINE_LIMITS.stages },
  { key: 'microbatches', label: 'M: micro-batches', help: 'per step', min: 1, max: PIPELINE_LIMITS.microbatches },
  { key: 'chunks', label: 'V: chunks per stage', help: 'interleaved only', min: 1, max: PIPELINE_LIMITS.chunks },
  { key: 'commUs', label: 'hop time (µs)', help: 'per hand-over between stages', min: 0, max: PIPELINE_LIMITS.commUs, step: 'any' },
];

export function shapeControls(initial: ShapeDraft, onChange: (draft: ShapeDraft) => void, onReset: () => void): ShapeControls {
  const draft: ShapeDraft = { ...initial };
  const schedule = h('vscode-single-select', { attrs: { id: 'twb-pipeline-schedule', 'aria-label': 'schedule' } }) as VscodeSingleSelect;
  for (const name of SCHEDULES) schedule.append(h('vscode-option', { attrs: { value: name, selected: name === draft.schedule } }, SCHEDULE_LABELS[name]));
  const fields = new Map<NumericKey, VscodeTextfield>();
  const syncChunks = () => {
    const v = fields.get('chunks');
    if (v) v.disabled = draft.schedule !== 'interleaved';
  };
  schedule.addEventListener('change', () => {
    if (schedule.value === draft.schedule) return;
    draft.schedule = schedule.value;
    // Interleaving needs two chunks or more: moving to it from a one-chunk schedule offers two.
    if (draft.schedule === 'interleaved' && Number(draft.chunks) < 2) {
      draft.chunks = '2';
      const v = fields.get('chunks');
      if (v) v.value = '2';
    }
    syncChunks();
    onChange({ ...draft });
  });
  const numeric = NUMERIC.map((f) => {
    const t = h('vscode-textfield', { attrs: { id: `twb-pipeline-${f.key}`, type: 'number', min: f.min, max: f.max, step: f.step, inputmode: f.key === 'commUs' ? 'decimal' : 'numeric' } }) as VscodeTextfield;
    t.value = draft[f.key];
    const changed = () => {
      if (t.value === draft[f.key]) return;
      draft[f.key] = t.value;
      onChange({ ...draft });
    };
    t.addEventListener('input', changed);
    t.addEventListener('change', changed);
    fields.set(f.key, t);
    return h('div', { class: 'twb-field' }, h('vscode-label', { attrs: { for: t.id } }, f.label), t, h('div', { class: 'twb-field-help' }, f.help));
  });
  syncChunks();
  const reset = h('vscode-button', { attrs: { id: 'twb-pipeline-reset', secondary: true } }, 'Reset to the plan');
  reset.addEventListener('click', onReset);
  const el = h('div', { class: 'twb-pipeline-controls' }, h('div', { class: 'twb-field' }, h('vscode-label', { attrs: { for: schedule.id } }, 'schedule'), schedule, h('div', { class: 'twb-field-help' }, 'order of F, B and W blocks')), ...numeric, h('div', { class: 'twb-field twb-pipeline-reset-box' }, reset));
  return {
    el,
    set(next) {
      Object.assign(draft, next);
      schedule.value = next.schedule;
      for (const [key, t] of fields) t.value = next[key];
      syncChunks();
    },
  };
}
