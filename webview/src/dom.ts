/**
 * Small DOM helpers. Text always goes in through textContent (names come from user models), and
 * nothing here writes a `style` attribute: the CSP forbids inline styles, so sizes and colours are
 * set through the CSSOM (`el.style.setProperty`), which it allows.
 */

export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  /** Attributes; `true` sets an empty attribute, `false`/undefined leaves it out. */
  attrs?: Record<string, string | number | boolean | undefined>;
  /** Event listeners by event type. */
  on?: Record<string, (e: Event) => void>;
  /** CSS properties set through the CSSOM (custom properties included). */
  css?: Record<string, string>;
}

function apply(el: Element & { style: CSSStyleDeclaration }, props: Props | undefined, children: Child[]): void {
  if (props?.class) el.setAttribute('class', props.class);
  for (const [k, v] of Object.entries(props?.attrs ?? {})) {
    if (k === 'style') throw new Error('inline style attributes are blocked by the CSP; use css');
    if (v === true) el.setAttribute(k, '');
    else if (v !== false && v !== undefined) el.setAttribute(k, String(v));
  }
  for (const [k, v] of Object.entries(props?.css ?? {})) el.style.setProperty(k, v);
  for (const [type, fn] of Object.entries(props?.on ?? {})) el.addEventListener(type, fn);
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(typeof c === 'number' ? String(c) : c);
}

/** An HTML element with props and children (strings become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props, ...children: Child[]): HTMLElementTagNameMap[K];
export function h(tag: string, props?: Props, ...children: Child[]): HTMLElement;
export function h(tag: string, props?: Props, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  apply(el, props, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element. */
export function s<K extends keyof SVGElementTagNameMap>(tag: K, props?: Props, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, props, children);
  return el;
}

export function clear(el: Element): void {
  el.replaceChildren();
}

/** A titled card. */
export function card(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'twb-card' }, h('h2', {}, title), ...children);
}

/** A message where a chart or table would be. */
export function emptyState(message: string, ...children: Child[]): HTMLElement {
  return h('div', { class: 'twb-empty' }, h('p', {}, message), ...children);
}

/** An error (message and optional hint), announced to screen readers. */
export function errorBox(err: { message: string; hint?: string }, title = 'Error'): HTMLElement {
  return h('div', { class: 'twb-error', attrs: { role: 'alert' } }, h('strong', {}, title), h('p', { class: 'twb-error-message' }, err.message), err.hint ? h('p', { class: 'twb-hint' }, err.hint) : null);
}

/** Label/value pairs as a definition list. */
export function facts(pairs: Array<[Child, Child]>): HTMLElement {
  return h('dl', { class: 'twb-facts' }, ...pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

let tip: HTMLElement | undefined;

/** Shows the shared tooltip near a pointer position (client pixels) with one line per entry. */
export function showTooltip(lines: Array<[string, string] | string>, clientX: number, clientY: number): void {
  if (!tip) {
    tip = h('div', { class: 'twb-tooltip', attrs: { role: 'tooltip' } });
    document.body.append(tip);
  }
  tip.replaceChildren(...lines.map((l) => (typeof l === 'string' ? h('div', { class: 'twb-tooltip-title' }, l) : h('div', {}, h('span', { class: 'twb-tooltip-key' }, l[0]), ' ', l[1]))));
  tip.hidden = false;
  const { innerWidth, innerHeight } = window;
  const r = tip.getBoundingClientRect();
  const x = clientX + 14 + r.width > innerWidth ? Math.max(4, clientX - 14 - r.width) : clientX + 14;
  const y = clientY + 14 + r.height > innerHeight ? Math.max(4, clientY - 14 - r.height) : clientY + 14;
  tip.style.setProperty('left', `${x}px`);
  tip.style.setProperty('top', `${y}px`);
}

export function hideTooltip(): void {
  if (tip) tip.hidden = true;
}
