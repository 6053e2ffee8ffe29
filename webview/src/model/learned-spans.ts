/**
 * The spans an adaptive-span model learned (schema/training.ts LearnedSpans), shaped for the
 * Training and Variants views: one row per weight-owning layer, one cell per head, each span also
 * as a fraction of the largest span so the cells draw as bars on one scale; and the notes the
 * views show for variants whose figures need a caveat (mixer's fixed length).
 */
import type { LearnedSpans } from '../../../engine/src/schema/training';

export interface SpanCell {
  head: number;
  /** Learned span, positions (0 … maxSpan). */
  span: number;
  /** span / maxSpan, clamped to 0..1. */
  fraction: number;
}

export interface SpanRow {
  layer: number;
  heads: SpanCell[];
}

/** Rows in layer order, heads in order. */
export function spanRows(spans: LearnedSpans): SpanRow[] {
  const max = spans.maxSpan > 0 ? spans.maxSpan : 1;
  return [...spans.layers]
    .sort((a, b) => a.layer - b.layer)
    .map((l) => ({ layer: l.layer, heads: l.heads.map((span, head) => ({ head, span, fraction: Math.min(1, Math.max(0, span / max)) })) }));
}

/** `12.5`, `64`: one decimal where the span has a fraction. */
export function formatSpan(span: number): string {
  return Number.isInteger(span) ? String(span) : span.toFixed(1);
}

/**
 * One sentence over all heads: `16 heads span 3.1–64 positions (mean 22.4) of at most 64, …`.
 * The numbers are what training learned; the views label them so.
 */
export function spanSummary(spans: LearnedSpans): string {
  const all = spans.layers.flatMap((l) => l.heads);
  if (all.length === 0) return 'no spans recorded';
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  const range = lo === hi ? formatSpan(lo) : `${formatSpan(lo)}–${formatSpan(hi)}`;
  return `${all.length} heads span ${range} positions (mean ${formatSpan(Math.round(mean * 10) / 10)}) of at most ${spans.maxSpan}, fading out over ${spans.ramp} more`;
}

/**
 * What a variant's figures need said beside them, from its `--attention` spelling and the model's
 * maxSeq: mixer mixes a fixed number of positions. Undefined when nothing needs saying.
 */
export function variantNote(attention: string, maxSeq: number): string | undefined {
  if (attention === 'mixer') return `fixed length: mixes ${maxSeq} positions (weights ${maxSeq} × ${maxSeq} per layer)`;
  return undefined;
}
