/** Draws the icicle of a run into an SVG, with hover details. */
import type { InferenceRun } from '../../../engine/src/schema/run';
import { formatPercent, formatUs } from '../../../engine/src/util/format';
import { icicleLayout, IcicleRect, layerLabel } from '../charts/icicle';
import { cssVarColor, OTHER_SLOT, swatch } from '../charts/palette';
import { hideTooltip, s, showTooltip } from '../dom';
import { runColors } from '../model/run-colors';

const ROW_PX = 22;
/** Characters that fit in a pixel of label, roughly, at the chart's font size. */
const CHAR_PX = 6.6;

function fits(label: string, widthPx: number): string | undefined {
  const chars = Math.floor((widthPx - 8) / CHAR_PX);
  if (chars < 3) return undefined;
  return label.length <= chars ? label : `${label.slice(0, chars - 1)}…`;
}

function details(r: IcicleRect, perRun: number): Array<[string, string] | string> {
  const lines: Array<[string, string] | string> = [r.label, ['share', formatPercent(r.share)], ['per inference', formatUs(r.totalUs / perRun)]];
  if (r.depth >= 2) lines.push(['layer', layerLabel(r.layer)]);
  if (r.op) lines.push(['op type', r.op.opType], ['mean', `${formatUs(r.op.meanUs)} × ${r.op.calls} calls`]);
  return lines;
}

const shown = new WeakMap<SVGSVGElement, { byKey: Map<string, IcicleRect>; perRun: number }>();

/** One pair of listeners per chart (not per cell: a large model has thousands of cells). */
function listen(svg: SVGSVGElement): void {
  svg.addEventListener('mousemove', (e) => {
    const key = (e.target as Element).closest('[data-key]')?.getAttribute('data-key');
    const data = shown.get(svg);
    const r = key ? data?.byKey.get(key) : undefined;
    if (r && data) showTooltip(details(r, data.perRun), e.clientX, e.clientY);
    else hideTooltip();
  });
  svg.addEventListener('mouseleave', hideTooltip);
}

/** Replaces the content of `svg` with the icicle of `run`, `widthPx` wide. */
export function drawIcicle(svg: SVGSVGElement, run: InferenceRun, widthPx: number, perRun: number): void {
  const rects = icicleLayout(run, widthPx, ROW_PX, 0.5);
  if (!shown.has(svg)) listen(svg);
  shown.set(svg, { byKey: new Map(rects.map((r) => [r.key, r])), perRun });
  const colors = runColors(run).byOpType;
  svg.setAttribute('width', String(widthPx));
  svg.setAttribute('height', String(ROW_PX * 4));
  svg.setAttribute('viewBox', `0 0 ${widthPx} ${ROW_PX * 4}`);
  svg.replaceChildren(
    ...rects.map((r) => {
      const slot = r.opType !== undefined ? (colors.get(r.opType) ?? OTHER_SLOT) : OTHER_SLOT;
      const sw = swatch(slot);
      // Node names repeat their layer ("layer2/ffn/up" under "layer 2"); the short form fits more.
      const short = r.depth === 3 && r.layer !== null && r.label.startsWith(`layer${r.layer}/`) ? r.label.slice(`layer${r.layer}/`.length) : r.label;
      const label = fits(short, r.w);
      return s(
        'g',
        { class: `twb-icicle-cell twb-depth-${r.depth}`, attrs: { transform: `translate(${r.x.toFixed(2)},${r.y})`, 'data-key': r.key } },
        s('rect', { attrs: { width: Math.max(0.5, r.w - 1).toFixed(2), height: ROW_PX - 1 }, css: { fill: cssVarColor(slot), 'fill-opacity': String(r.depth < 2 ? 0.35 : sw.alpha * 0.85) } }),
        label ? s('text', { attrs: { x: 4, y: ROW_PX / 2 + 4 } }, label) : null,
      );
    }),
  );
}
