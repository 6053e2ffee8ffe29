/** The contract between the app shell and each view. */
import type { HostClient } from '../client';
import type { Actions } from '../actions';
import type { AppState, Store } from '../state';

export interface ViewContext {
  store: Store;
  client: HostClient;
  actions: Actions;
}

/**
 * A view is mounted when its tab becomes active (so it can measure its size), updated on every
 * state change while active, and unmounted when another tab is chosen.
 */
export interface View {
  mount(root: HTMLElement, state: AppState): void;
  update(state: AppState, prev: AppState): void;
  unmount(): void;
}

/** A view that rebuilds itself whenever one of `keys` changes; enough for views without local widgets. */
export function simpleView(render: (root: HTMLElement, state: AppState) => (() => void) | void, keys: Array<keyof AppState>): View {
  let root: HTMLElement | undefined;
  let cleanup: (() => void) | void;
  const draw = (s: AppState) => {
    if (!root) return;
    cleanup?.();
    root.replaceChildren();
    cleanup = render(root, s);
  };
  return {
    mount(r, s) {
      root = r;
      draw(s);
    },
    update(s, prev) {
      if (keys.some((k) => s[k] !== prev[k])) draw(s);
    },
    unmount() {
      cleanup?.();
      cleanup = undefined;
      root = undefined;
    },
  };
}

/** A chart that redraws to its container's width (see `chart-slot.ts`). */
export interface Fittable {
  fit(): void;
}

/**
 * A view of one selected document whose charts fit its width: `render` fills the root and returns
 * the charts to refit when the root is resized; it runs on mount and whenever `changed` says the
 * document shown changed.
 */
export function chartView(render: (root: HTMLElement, state: AppState) => Fittable[], changed: (state: AppState, prev: AppState) => boolean): View {
  let root: HTMLElement | undefined;
  let charts: Fittable[] = [];
  let resize: ResizeObserver | undefined;
  const fit = () => charts.forEach((c) => c.fit());
  const draw = (s: AppState) => {
    if (!root) return;
    charts = render(root, s);
    fit();
  };
  return {
    mount(r, s) {
      root = r;
      draw(s);
      resize = new ResizeObserver(fit);
      resize.observe(r);
    },
    update(s, prev) {
      if (changed(s, prev)) draw(s);
    },
    unmount() {
      resize?.disconnect();
      resize = undefined;
      root = undefined;
      charts = [];
    },
  };
}
