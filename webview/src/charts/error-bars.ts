/**
 * Per-layer error bars of a compression report: local and cumulative SQNR on one shared dB scale
 * (longer is better: more signal per unit of quantization noise), the layer's share of the original
 * model's kernel time beside them, and the two orders the table offers (graph order, worst first).
 */
import type { LayerError } from '../../../engine/src/schema/compression';

/** Below this SQNR a layer is flagged: roughly where int8 error starts to show in task metrics. */
export const LOW_SQNR_DB = 20;

/** Smallest top of the dB scale, so that a report of tiny errors still reads as a scale. */
const MIN_SCALE_DB = 10;

export interface SqnrBar {
  /** dB; null = identical (infinite SQNR); undefined = not measured (the node could not be isolated). */
  db: number | null | undefined;
  /** Bar length as a fraction of the scale (0–1). */
  length: number;
  /** `31.2 dB`, `exact` or `—`. */
  label: string;
  /** `low`: below LOW_SQNR_DB; `exact`: identical outputs; null otherwise. */
  flag: 'low' | 'exact' | null;
}

export interface ShareBar {
  /** Share of the original model's kernel time (0–1), when it was measured. */
  share?: number;
  /** Bar length as a fraction of the largest share in the report (0–1). */
  length: number;
  label: string;
}

export interface LayerBars {
  /** Index into `report.layers` (graph order). */
  index: number;
  node: string;
  opType: string;
  local: SqnrBar;
  cumulative: SqnrBar;
  share: ShareBar;
}

/** Top of the shared dB scale: the largest finite SQNR of any bar, rounded up to 10 dB. */
export function sqnrScaleMax(layers: readonly LayerError[]): number {
  let max = 0;
  for (const l of layers) for (const v of [l.sqnrDb, l.cumulativeSqnrDb]) if (typeof v === 'number' && Number.isFinite(v)) max = Math.max(max, v);
  return Math.max(MIN_SCALE_DB, Math.ceil(max / 10) * 10);
}

/** One SQNR value as a bar on a scale from 0 to `maxDb` (negative values have no length). */
export function sqnrBar(db: number | null | undefined, maxDb: number): SqnrBar {
  if (db === undefined) return { db, length: 0, label: '—', flag: null };
  if (db === null) return { db, length: 1, label: 'exact', flag: 'exact' };
  return { db, length: Math.min(1, Math.max(0, db / maxDb)), label: `${db.toFixed(1)} dB`, flag: db < LOW_SQNR_DB ? 'low' : null };
}

/** Bars of every layer, in graph order, on one dB scale and one time-share scale. */
export function layerBars(layers: readonly LayerError[]): { maxDb: number; rows: LayerBars[] } {
  const maxDb = sqnrScaleMax(layers);
  const maxShare = Math.max(0, ...layers.map((l) => l.latencyShare ?? 0));
  const rows = layers.map((l, index) => ({
    index,
    node: l.node,
    opType: l.opType,
    local: sqnrBar(l.sqnrDb, maxDb),
    cumulative: sqnrBar(l.cumulativeSqnrDb, maxDb),
    share:
      l.latencyShare === undefined
        ? { length: 0, label: '—' }
        : { share: l.latencyShare, length: maxShare > 0 ? l.latencyShare / maxShare : 0, label: `${(l.latencyShare * 100).toFixed(1)}%` },
  }));
  return { maxDb, rows };
}

export type LayerOrder = 'graph' | 'error';

/**
 * The SQNR a layer is ranked by: local where it was isolated, else cumulative; identical outputs
 * rank as infinitely good.
 */
export function errorRankDb(l: LayerError): number {
  const v = l.sqnrDb !== undefined ? l.sqnrDb : l.cumulativeSqnrDb;
  return v === null ? Infinity : v;
}

/** Indices of `layers` in graph order (as the report lists them) or worst error first (ties in graph order). */
export function orderLayers(layers: readonly LayerError[], order: LayerOrder): number[] {
  const idx = layers.map((_, i) => i);
  if (order === 'graph') return idx;
  return idx.sort((a, b) => errorRankDb(layers[a]) - errorRankDb(layers[b]) || a - b);
}
