/**
 * Level of detail for the Timeline: the marks to draw for the visible time window, with kernels that
 * share a pixel column merged into one mark, so a lane never yields more marks than it has pixels.
 */
import { firstEndingAfter, Lane } from './timeline-lanes';

/** One rectangle to draw in a lane. */
export interface TimelineMark {
  /** Left edge, pixels from the left of the plot area. */
  x: number;
  /** Width, pixels (may be below 1: draw at least one pixel). */
  w: number;
  /** Index of the lane (profiled run). */
  lane: number;
  /** Palette slot of the mark's colour: that of its longest kernel. */
  colorKey: number;
  /** Index in the lane of the longest kernel the mark covers. */
  event: number;
  /** Kernels merged into this mark. */
  count: number;
}

/**
 * Marks as columns (mark `i` is `x[i]`, `w[i]`, …, for `i < length`). A frame makes up to
 * lanes × width marks; as objects (with boxed doubles) they cost more than the sweep that finds them.
 */
export interface TimelineMarks {
  length: number;
  x: Float64Array;
  w: Float64Array;
  lane: Int32Array;
  colorKey: Int32Array;
  event: Int32Array;
  count: Int32Array;
}

function allocate(capacity: number): TimelineMarks {
  return { length: 0, x: new Float64Array(capacity), w: new Float64Array(capacity), lane: new Int32Array(capacity), colorKey: new Int32Array(capacity), event: new Int32Array(capacity), count: new Int32Array(capacity) };
}

/** Mark `i` as an object. */
export function markAt(m: TimelineMarks, i: number): TimelineMark {
  return { x: m.x[i], w: m.w[i], lane: m.lane[i], colorKey: m.colorKey[i], event: m.event[i], count: m.count[i] };
}

/** All marks as objects (for tests and small charts). */
export function markList(m: TimelineMarks): TimelineMark[] {
  return Array.from({ length: m.length }, (_, i) => markAt(m, i));
}

/**
 * Marks for the kernels of `lanes` visible in `xDomain` (microseconds since run start) drawn
 * `widthPx` wide. Kernels are clipped to the window; kernels that start in the same pixel column
 * become one mark, coloured like the longest of them; a mark that touches the previous one and has
 * its colour extends it instead. Mark starts fall in strictly increasing pixel columns, so a lane
 * yields at most `widthPx` marks, and every kernel's clipped span lies inside its mark.
 * `colorOf(op)` maps `run.ops` indices to palette slots. Pass the previous frame's result as
 * `reuse` to draw into its arrays when they are large enough.
 */
export function timelineMarks(lanes: readonly Lane[], xDomain: readonly [number, number], widthPx: number, colorOf: (op: number) => number, reuse?: TimelineMarks): TimelineMarks {
  const [t0, t1] = xDomain;
  const capacity = lanes.length * Math.ceil(Math.max(0, widthPx));
  const out = reuse && reuse.x.length >= capacity ? reuse : allocate(capacity);
  out.length = 0;
  if (!(t1 > t0) || !(widthPx > 0)) return out;
  const { x, w, lane: laneOf, colorKey, event, count } = out;
  const k = widthPx / (t1 - t0);
  let len = 0;
  for (let li = 0; li < lanes.length; li++) {
    const { starts, ends, op } = lanes[li];
    const n = starts.length;
    // Index of this lane's last mark (-1: none yet) and the duration of its longest kernel.
    let last = -1;
    let lastLongest = -1;
    let j = firstEndingAfter(lanes[li], t0);
    while (j < n && starts[j] < t1) {
      // One group: the kernels starting in the pixel column of kernel j.
      const a = starts[j] > t0 ? (starts[j] - t0) * k : 0;
      const column = Math.floor(a);
      let gEnd = 0;
      let gEvent = -1;
      let gLongest = -1;
      let gCount = 0;
      for (; j < n && starts[j] < t1; j++) {
        if (starts[j] > t0 && Math.floor((starts[j] - t0) * k) !== column) break;
        const e = ends[j];
        if (e < t0) continue;
        const b = e < t1 ? (e - t0) * k : widthPx;
        if (b > gEnd) gEnd = b;
        if (e - starts[j] > gLongest) {
          gLongest = e - starts[j];
          gEvent = j;
        }
        gCount++;
      }
      if (gCount === 0) continue;
      const c = colorOf(op[gEvent]);
      if (last >= 0 && colorKey[last] === c && a <= x[last] + w[last]) {
        w[last] = Math.max(x[last] + w[last], gEnd) - x[last];
        count[last] += gCount;
        if (gLongest > lastLongest) {
          lastLongest = gLongest;
          event[last] = gEvent;
        }
      } else {
        last = len++;
        x[last] = a;
        w[last] = gEnd - a;
        laneOf[last] = li;
        colorKey[last] = c;
        event[last] = gEvent;
        count[last] = gCount;
        lastLongest = gLongest;
      }
    }
  }
  out.length = len;
  return out;
}
