/**
 * The compression report: what a quantization or pruning pass did to a model and what it cost in
 * accuracy and bought in size and speed, all measured in one run. Persisted as JSON (`twb quantize
 * --json`, `.twb/runs/`), read by the CLI tables and the webview's Quantization view.
 */
import type { RunEnv } from './run';

export const COMPRESSION_SCHEMA_VERSION = 1;

export const QUANT_MODES = ['int8-dynamic', 'int8-static', 'int4-weight', 'fp16'] as const;
export type QuantMode = (typeof QUANT_MODES)[number];
export const PRUNE_METHODS = ['magnitude', '2:4', 'heads'] as const;
export type PruneMethod = (typeof PRUNE_METHODS)[number];
export const CALIBRATION_METHODS = ['minmax', 'percentile', 'entropy'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];
export const INT4_METHODS = ['rtn', 'gptq'] as const;
export type Int4Method = (typeof INT4_METHODS)[number];

/** Everything that decides the result; re-running with it reproduces the report. */
export interface CompressionConfig {
  /** Quantization mode or pruning method. */
  mode: QuantMode | PruneMethod;
  perChannel: boolean;
  /** int8-static: how activation ranges are chosen. */
  calibrate?: CalibrationMethod;
  /** int4-weight: round-to-nearest or GPTQ. */
  method?: Int4Method;
  /** int4-weight: weights per scale along the input dimension. */
  blockSize?: number;
  /** Pruning: fraction of weights (magnitude) or heads (heads) removed. */
  amount?: number;
  /** Node names kept untouched (in fp32). */
  exclude: string[];
  executionProvider: string;
  threads: number;
  /** Batch and sequence of generated inputs (when no file gives them). */
  batch: number;
  seq: number;
  seed: number;
  /** Timed runs per model for latency. */
  runs: number;
  calibrationFile?: string;
  evalFile?: string;
}

/** Two histograms over one shared range, so they can be drawn on one axis. */
export interface HistogramPair {
  lo: number;
  hi: number;
  before: number[];
  after: number[];
}

/** Error of one rewritten node, measured on the same inputs in the original and the new model. */
export interface LayerError {
  /** Node name in the original graph. */
  node: string;
  opType: string;
  /** Tensor compared (the node's output in both graphs). */
  tensor: string;
  /** Local SQNR, dB: this node alone, fed the original model's exact inputs. null = identical; absent = could not be isolated. */
  sqnrDb?: number | null;
  /** Cumulative SQNR, dB: the tensor in the whole transformed model vs the original. null = identical. */
  cumulativeSqnrDb: number | null;
  /** Local mean squared error (cumulative when the node could not be isolated). */
  mse: number;
  /** Local cosine similarity (cumulative when the node could not be isolated). */
  cosine: number;
  cumulativeMse: number;
  cumulativeCosine: number;
  /** SQNR of the weight itself (original vs the values it now stands for), dB. */
  weightSqnrDb?: number | null;
  /** Share of the original model's kernel time spent in this node (0..1), from a profile of the original. */
  latencyShare?: number;
  /** What the pass did, e.g. `int8 per-channel (256 scales)`. */
  detail?: string;
  weightHistogram?: HistogramPair;
  activationHistogram?: HistogramPair;
}

export interface CompressionReport {
  schemaVersion: typeof COMPRESSION_SCHEMA_VERSION;
  kind: 'quantization' | 'pruning';
  id: string;
  createdAt: string;
  model: { name: string; source: string };
  /** Where the transformed model was written. */
  outFile: string;
  config: CompressionConfig;
  env: RunEnv;
  /** Model file (plus external data) before and after, bytes. */
  sizeBytes: { before: number; after: number };
  /** p50 latency of each model, ms, same provider and threads, runs interleaved in this run. */
  latencyMs: { before: number; after: number };
  /** Latency samples, ms, for spread. */
  latencySamples: { before: number[]; after: number[] };
  /** latencyMs.before / latencyMs.after (> 1 is faster). */
  speedup: number;
  layers: LayerError[];
  /** Nodes that matched but were not rewritten, with the reason. */
  skipped: Array<{ node: string; opType: string; reason: string }>;
  /** End to end, on the model's first output. */
  output: { name: string; sqnrDb: number | null; cosine: number; mse: number; top1Agreement: number };
  /** Task accuracy on the eval file's labels (argmax of the first output over its last axis). */
  eval?: { file: string; examples: number; labels: number; accuracyBefore: number; accuracyAfter: number };
  /** Which inputs the error analysis ran on. */
  analysis: { inputs: 'eval file' | 'calibration file' | 'generated'; batches: number; examples: number };
  /** Calibration inputs used by the pass, when it needed some. */
  calibration?: { inputs: 'calibration file' | 'generated'; batches: number; examples: number };
  notes: string[];
  warnings: string[];
}
