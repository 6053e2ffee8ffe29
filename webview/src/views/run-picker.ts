/** The run picker in the tab bar: every run with its headline p50; choosing one switches every view. */
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { h } from '../dom';
import { runPickerLabel } from '../model/run-label';
import { AppState, selectedRun, Store } from '../state';

export function createRunPicker(store: Store): { el: HTMLElement; update(s: AppState, prev?: AppState): void } {
  const select = h('vscode-single-select', { class: 'twb-run-picker', attrs: { id: 'twb-run-picker', 'aria-label': 'Run shown in every view' } }) as VscodeSingleSelect;
  const el = h('div', { class: 'twb-run-picker-box', attrs: { slot: 'addons' } }, h('span', { class: 'twb-dim' }, 'Run'), select);
  select.addEventListener('change', () => {
    if (select.value && select.value !== store.state.selectedId) store.update({ selectedId: select.value });
  });
  return {
    el,
    update(s, prev) {
      // The Quantization view picks among its reports itself; the run picker would only mislead there.
      el.hidden = s.runs.length === 0 || s.view === 'quantization';
      const current = selectedRun(s)?.id ?? '';
      if (!prev || s.runs !== prev.runs) {
        select.replaceChildren(...s.runs.map((r, i) => h('vscode-option', { attrs: { value: r.id, selected: r.id === current } }, runPickerLabel(r, i))));
      }
      if (select.value !== current) select.value = current;
    },
  };
}
