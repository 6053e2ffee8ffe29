/**
 * The zoom and pan of the timeline canvases (profile runs and imported traces): d3-zoom on the wheel
 * and drag, and + − ← → 0 on the keyboard, horizontally only, never below the whole span.
 */
import { select, zoom, ZoomBehavior, zoomIdentity, ZoomTransform } from 'd3';

export type CanvasZoom = ZoomBehavior<HTMLCanvasElement, unknown>;

/** The plot area the keys zoom around and pan across, pixels. */
export interface ZoomBox {
  left: number;
  right: number;
  width: number;
  height: number;
}

/** Attaches d3-zoom to `canvas`, from 1× to `maxK`×; `onZoom` gets each new transform. */
export function attachZoom(canvas: HTMLCanvasElement, maxK: number, onZoom: (t: ZoomTransform) => void): CanvasZoom {
  const z = zoom<HTMLCanvasElement, unknown>()
    .scaleExtent([1, Math.max(1, maxK)])
    .on('zoom', (e: { transform: ZoomTransform }) => onZoom(e.transform));
  select(canvas).call(z);
  return z;
}

/** Handles the zoom keys (+ = − _ ← → 0 Home); true when the key was one of them. */
export function zoomByKey(e: KeyboardEvent, z: CanvasZoom, canvas: HTMLCanvasElement, box: ZoomBox, k: number): boolean {
  const sel = select(canvas);
  const center: [number, number] = [(box.left + box.width - box.right) / 2, box.height / 2];
  const pan = (box.width - box.left - box.right) * 0.15;
  if (e.key === '+' || e.key === '=') z.scaleBy(sel, 1.5, center);
  else if (e.key === '-' || e.key === '_') z.scaleBy(sel, 1 / 1.5, center);
  else if (e.key === 'ArrowLeft') z.translateBy(sel, pan / k, 0);
  else if (e.key === 'ArrowRight') z.translateBy(sel, -pan / k, 0);
  else if (e.key === '0' || e.key === 'Home') z.transform(sel, zoomIdentity);
  else return false;
  e.preventDefault();
  return true;
}

/** Back to the whole span. */
export function resetZoom(z: CanvasZoom | undefined, canvas: HTMLCanvasElement | undefined): void {
  if (z && canvas) z.transform(select(canvas), zoomIdentity);
}
