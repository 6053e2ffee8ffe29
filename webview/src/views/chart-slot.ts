/**
 * Charts that fit their container: each slot redraws when its width changes (views call `fit` from
 * a ResizeObserver and after building), and never at width 0 (a hidden tab).
 */
import { h } from '../dom';

export interface ChartSlot {
  el: HTMLElement;
  /** Draws the chart again if the slot's width changed since the last draw. */
  fit(): void;
}

export function chartSlot(draw: (width: number) => Node): ChartSlot {
  const el = h('div', { class: 'twb-chart-host' });
  let drawn = 0;
  return {
    el,
    fit() {
      const width = Math.floor(el.clientWidth);
      if (width <= 0 || width === drawn) return;
      drawn = width;
      el.replaceChildren(draw(width));
    },
  };
}
