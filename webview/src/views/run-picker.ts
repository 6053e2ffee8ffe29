/** The run picker in the tab bar: every run with its headline p50; choosing one switches every view. */
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { ViewId } from '../../../engine/src/protocol/webview';
import { h } from '../dom';
import { runPickerLabel } from '../model/run-label';
import { AppState, selectedRun, Store } from '../state';

const OWN_PICKER: ReadonlySet<ViewId> = new Set(['quantization', 'suggestions', 'tuning', 'training', 'variants', 'pipeline', 'memory-plan']);

export function createRunPicker(store: Store): { el: HTMLElement; update(s: AppState, prev?: AppState): void } {
  const select = h('vscode-single-select', { class: 'twb-run-picker', attrs: { id: 'twb-run-picker', 'aria-label': 'Run shown in every view' } }) as VscodeSingleSelect;
  const el = h('div', { class: 'twb-run-picker-box', attrs: { slot: 'addons' } }, h('span', { class: 'twb-dim' }, 'Run'), select);
  select.addEventListener('change', () => {
    if (select.value && select.value !== store.state.selectedId) store.update({ selectedId: select.value });
  });
  return {
    el,
    update(s, prev) {
      // Views of other documents pick among them themselves; the run picker would only mislead there.
      el.hidden = s.runs.length === 0 || OWN_PICKER.has(s.view);
      const current = selectedRun(s)?.id ?? '';
      if (!prev || s.runs !== prev.runs) {
        select.replaceChildren(...s.runs.map((r, i) => h('vscode-option', { attrs: { value: r.id, selected: r.id === current } }, runPickerLabel(r, i))));
      }
      if (select.value !== current) select.value = current;
    },
  };
}
