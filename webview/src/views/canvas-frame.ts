/**
 * What the two timeline canvases (profile runs, imported traces) share around their painting: the
 * frame timings the benchmark and the browser tests read, sizing the canvas to the device pixel
 * ratio with the zoom held to the plot, and redrawing when the host resizes or the theme changes.
 */
import type { CanvasZoom } from './canvas-zoom';

/** Frame timings of a timeline canvas. */
export interface FrameStats {
  /** From mounting the view to the end of its first frame, milliseconds. */
  firstDrawMs?: number;
  /** Duration of each frame (marks + paint), milliseconds; the last {@link KEPT_FRAMES}. */
  frames: number[];
  /** Marks in the last frame. */
  marks: number;
  /** Visible window of the last frame, microseconds. */
  domain: [number, number];
}

export const KEPT_FRAMES = 2000;

/** Starts a new series of frames (a new document drawn). */
export function resetFrames(stats: FrameStats): void {
  stats.firstDrawMs = undefined;
  stats.frames = [];
}

/** Records one frame that started at `startedAt` (performance.now()) in a view mounted at `mountedAt`. */
export function recordFrame(stats: FrameStats, startedAt: number, mountedAt: number, marks: number, domain: [number, number]): void {
  const end = performance.now();
  stats.frames.push(end - startedAt);
  if (stats.frames.length > KEPT_FRAMES) stats.frames.splice(0, stats.frames.length - KEPT_FRAMES);
  stats.marks = marks;
  stats.domain = domain;
  if (stats.firstDrawMs === undefined) stats.firstDrawMs = end - mountedAt;
}

/** Sizes the canvas to `width` × `height` CSS pixels at the device pixel ratio; the zoom stays within the plot between `left` and `right` margins. */
export function sizeCanvas(canvas: HTMLCanvasElement, width: number, height: number, zoomer: CanvasZoom | undefined, left: number, right: number): void {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  canvas.style.setProperty('width', `${width}px`);
  canvas.style.setProperty('height', `${height}px`);
  const plot: [[number, number], [number, number]] = [
    [left, 0],
    [width - right, height],
  ];
  zoomer?.extent(plot).translateExtent(plot);
}

/**
 * Calls `onResize` when `root` changes size and `onTheme` when VS Code swaps its theme (it swaps
 * the theme's variables and the body class together); returns what stops both.
 */
export function watchHost(root: HTMLElement, onResize: () => void, onTheme: () => void): () => void {
  const resize = new ResizeObserver(() => onResize());
  resize.observe(root);
  const theme = new MutationObserver(() => onTheme());
  theme.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  return () => {
    resize.disconnect();
    theme.disconnect();
  };
}
