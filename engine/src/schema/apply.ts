/**
 * The outcome of applying one suggestion (`kind: "apply"`): the estimate made before the change ran,
 * what was measured after, and how far apart they were. Written by `twb apply --json`, shown by the
 * Suggestions view beside the card it came from.
 */
import type { Estimate, Suggestion } from './advice';
import type { CompressionReport } from './compression';
import type { InferenceRun } from './run';

/** What was measured, in the estimate's terms (null where the change has no such figure). */
export interface Measured {
  speedup: number | null;
  latencyMs: number | null;
  memoryBytes: number | null;
  sizeBytes: number | null;
  /** For graph passes: end-to-end output error on generated or eval inputs. */
  accuracy?: { sqnrDb: number | null; top1Agreement: number; accuracyBefore?: number; accuracyAfter?: number };
  /** How it was measured, in words. */
  basis: string;
}

/** measured ÷ estimated − 1 per figure; null where either side is missing. */
export type EstimateError = Record<'speedup' | 'latencyMs' | 'memoryBytes' | 'sizeBytes', number | null>;

export interface ApplyResult {
  schemaVersion: 1;
  kind: 'apply';
  id: string;
  /** ISO 8601. */
  createdAt: string;
  source: { runId: string; model: string };
  suggestion: Suggestion;
  estimate: Estimate;
  measured: Measured;
  error: EstimateError;
  /** The documents the measurement produced (kept with --save) and the model a pass wrote. */
  artifacts: { baseline?: InferenceRun; changed?: InferenceRun; report?: CompressionReport; modelPath?: string };
  warnings: string[];
}
