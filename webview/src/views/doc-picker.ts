/** A picker among a view's own documents (training runs, variant comparisons), shown once there are two. */
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { h } from '../dom';

export interface DocPickerOptions {
  id: string;
  /** Shown beside the select, followed by the count. */
  label: string;
  items: Array<{ value: string; label: string }>;
  current: string;
  onPick(value: string): void;
}

export function docPicker(o: DocPickerOptions): HTMLElement | null {
  if (o.items.length < 2) return null;
  const sel = h('vscode-single-select', { class: 'twb-report-picker', attrs: { id: o.id, 'aria-label': o.label } }) as VscodeSingleSelect;
  for (const it of o.items) sel.append(h('vscode-option', { attrs: { value: it.value, selected: it.value === o.current } }, it.label));
  sel.addEventListener('change', () => sel.value && sel.value !== o.current && o.onPick(sel.value));
  return h('div', { class: 'twb-field twb-report-picker-box' }, h('vscode-label', { attrs: { for: o.id } }, `${o.label} (${o.items.length})`), sel);
}
