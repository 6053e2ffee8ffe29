/**
 * The spans an adaptive-span model learned, as a layer × head grid: each cell a bar on the scale of
 * the largest span with the span in positions. Labelled as learned values, for a training run and
 * for a variant of a comparison alike.
 */
import type { LearnedSpans } from '../../../engine/src/schema/training';
import { h } from '../dom';
import { formatSpan, spanRows, spanSummary } from '../model/learned-spans';

/** The grid with its caption; `source` says where the values were learned (`in 150 steps of count-compare`). */
export function learnedSpansGrid(spans: LearnedSpans, source: string): HTMLElement {
  const rows = spanRows(spans);
  const heads = Math.max(0, ...rows.map((r) => r.heads.length));
  return h(
    'div',
    { class: 'twb-spans', attrs: { 'data-max-span': spans.maxSpan } },
    h('p', { class: 'twb-spans-summary' }, h('span', { class: 'twb-badge twb-badge-learned' }, 'LEARNED'), ` ${spanSummary(spans)}, ${source}.`),
    h(
      'div',
      { class: 'twb-table-wrap' },
      h(
        'table',
        { class: 'twb-table twb-spans-table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'layer'), ...Array.from({ length: heads }, (_, i) => h('th', { class: 'twb-num' }, `head ${i}`)))),
        h(
          'tbody',
          {},
          ...rows.map((r) =>
            h(
              'tr',
              { attrs: { 'data-layer': r.layer } },
              h('td', {}, `layer ${r.layer}`),
              ...r.heads.map((c) =>
                h(
                  'td',
                  { class: 'twb-num twb-span-cell', attrs: { 'data-head': c.head, 'data-span': c.span, title: `layer ${r.layer}, head ${c.head}: learned span ${formatSpan(c.span)} of at most ${spans.maxSpan} positions` } },
                  h('span', { class: 'twb-span-track' }, h('span', { class: 'twb-span-fill', css: { width: `${(c.fraction * 100).toFixed(2)}%` } })),
                  h('span', { class: 'twb-span-value' }, formatSpan(c.span)),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
    h('p', { class: 'twb-dim' }, `Each head attends fully up to its span back (decoders) or either side (encoders) and fades out linearly over the next ${spans.ramp} positions; a span is a parameter the model learned under a penalty that pushes it down, not a setting. Attention is still computed densely: the spans show how far each head looks, not a saving the run measured.`),
  );
}
