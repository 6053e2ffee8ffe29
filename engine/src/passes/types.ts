/**
 * The contract every compression pass (quantize, fp16, prune) follows. A pass takes a decoded model
 * and returns a new one; the input model is never modified (passes work on `cloneModel` copies and
 * write new tensors instead of changing payloads). Passes are free of ONNX Runtime: when they need
 * activations (static calibration, GPTQ's Hessian) they ask `ctx.capture`, which the caller backs
 * with real runs of the original model.
 */
import { ModelProto } from '../onnx/types';

/** Values of intermediate tensors of the ORIGINAL model, one entry per calibration batch. */
export interface CapturedTensor {
  /** Shape of each batch's value. */
  dims: number[][];
  /** fp32 values per batch (FLOAT16 tensors are widened). */
  data: Float32Array[];
}

/** Runs the original model on the calibration inputs and returns the named tensors. */
export type CaptureFn = (tensors: string[]) => Promise<Map<string, CapturedTensor>>;

export interface PassContext {
  /** Node names the user keeps untouched ("keep this layer in fp32"). */
  exclude: ReadonlySet<string>;
  /** Present when calibration inputs were given (or generated); static INT8 and GPTQ need it. */
  capture?: CaptureFn;
  /** Progress inside a long pass, 0..1, with a short label. */
  onProgress?: (fraction: number, message: string) => void;
  /** Checked between layers; a pass throws `TwbError('cancelled')` when aborted. */
  signal?: AbortSignal;
}

/** A node the pass rewrote. */
export interface ChangedNode {
  /** Name of the node in the original graph. */
  node: string;
  opType: string;
  /**
   * The tensor that holds this node's result in both graphs (the rewrite keeps the name), where
   * error analysis compares the original and the transformed model.
   */
  output: string;
  /** The weight the pass changed, with its fp32 values before and the values it now stands for after (dequantized / pruned), for histograms and weight error. */
  weight?: { name: string; before: Float32Array; after: Float32Array };
  /** What happened, e.g. `int8 per-channel, 256 scales` or `2 of 4 heads removed`. */
  detail?: string;
}

/** A node the pass could have rewritten but did not, and why. */
export interface SkippedNode {
  node: string;
  opType: string;
  /** One line, e.g. `weight "W" is a graph input, so it is not known until run time`. */
  reason: string;
}

export interface PassResult {
  model: ModelProto;
  changed: ChangedNode[];
  skipped: SkippedNode[];
  /** Things the user should know that are not about one node (e.g. opset raised to 21). */
  notes: string[];
}

