/**
 * The Variants view's data: the columns of the side-by-side table with which way is better, the
 * best value of each column, the reading of a growth exponent, and the sweep as log–log series.
 */
import type { VariantResult, VariantsReport } from '../../../engine/src/schema/training';
import type { LogSeries } from '../charts/loglog';
import { growthWord } from '../../../engine/src/util/format';

export type VariantColumn = 'params' | 'flopsPerStep' | 'stepMs' | 'peakBytes' | 'tokensPerSecond' | 'accuracy' | 'growthTime' | 'growthMemory';

/** Which way each column improves. */
const BETTER: Record<VariantColumn, 'lower' | 'higher'> = {
  params: 'lower',
  flopsPerStep: 'lower',
  stepMs: 'lower',
  peakBytes: 'lower',
  tokensPerSecond: 'higher',
  accuracy: 'higher',
  growthTime: 'lower',
  growthMemory: 'lower',
};

const VARIANT_COLUMNS = Object.keys(BETTER) as VariantColumn[];

/** A variant's value in a column; null when it has none (not trained, too few sweep points, failed). */
export function columnValue(v: VariantResult, col: VariantColumn): number | null {
  if (v.error) return null;
  switch (col) {
    case 'growthTime':
      return v.growth.time;
    case 'growthMemory':
      return v.growth.memory;
    case 'accuracy':
      return v.accuracy;
    default:
      return v[col];
  }
}

/**
 * Indices of the best variants in each column (ties all win). A column where fewer than two
 * variants have a value, or where all are equal, has no best: there is nothing to choose between.
 */
export function bestPerColumn(variants: readonly VariantResult[]): Record<VariantColumn, Set<number>> {
  const out = {} as Record<VariantColumn, Set<number>>;
  for (const col of VARIANT_COLUMNS) {
    const vals = variants.map((v) => columnValue(v, col));
    const present = vals.filter((v): v is number => v !== null && Number.isFinite(v));
    const best = present.length ? (BETTER[col] === 'lower' ? Math.min(...present) : Math.max(...present)) : NaN;
    const worst = present.length ? (BETTER[col] === 'lower' ? Math.max(...present) : Math.min(...present)) : NaN;
    out[col] = new Set(present.length >= 2 && best !== worst ? vals.flatMap((v, i) => (v === best ? [i] : [])) : []);
  }
  return out;
}

/**
 * How an exponent of seq reads: ≈1 linear, ≈2 quadratic, `between` the two, or `sub-linear` (fixed
 * costs dominate). The thresholds are the CLI's (engine/src/cli/train-report.ts), so both read alike.
 */
export function growthReading(exponent: number | null): string {
  if (exponent === null || !Number.isFinite(exponent)) return 'not enough points';
  const word = growthWord(exponent);
  return word === 'quadratic' || word === 'linear' ? `≈${word}` : word;
}

export type SweepMetric = 'time' | 'memory';

/** One log–log series per variant: step time (ms) or peak memory (bytes) against sequence length. */
export function sweepSeries(report: Pick<VariantsReport, 'variants'>, metric: SweepMetric): LogSeries[] {
  return report.variants.map((v) => ({
    key: v.label,
    points: v.sweep.map((p) => {
      const y = metric === 'time' ? p.stepMs : p.peakBytes;
      return y === undefined ? { x: p.seq, error: p.error ?? 'not measured' } : { x: p.seq, y };
    }),
  }));
}
