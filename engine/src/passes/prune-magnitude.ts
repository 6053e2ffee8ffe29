/**
 * Weight pruning by magnitude: unstructured (`magnitude`) and NVIDIA-style 2:4 semi-structured.
 *
 * - `magnitude` zeroes the `amount` fraction of each weight tensor's smallest-|w| entries,
 *   tensor by tensor. Per-tensor is the safer default: a global threshold over all layers empties
 *   layers whose weights are small as a whole (embeddings-adjacent projections, a final
 *   classifier) long before it touches the large ones.
 * - `2:4` zeroes, for each output column, the 2 smallest of every 4 consecutive weights along the
 *   reduction dimension K (the layout sparse tensor cores need). When K is not a multiple of 4,
 *   the last group of r < 4 weights is treated as padded with zeros to 4, as those kernels pad
 *   it: the pad counts among the zeros, so only max(0, r − 2) real weights of it are zeroed.
 *
 * Pruned weights keep their shape, storage layout (Gemm transB) and element type (FLOAT16 stays
 * FLOAT16) and are written under new names, since other nodes might read the original.
 */
import { gzipSync } from 'node:zlib';
import { cloneModel, GraphEditor } from '../onnx/graph-edit';
import { ModelProto, TensorProto } from '../onnx/types';
import { tensorFromFloats } from '../onnx/tensor-data';
import { throwIfAborted } from '../util/abort';
import { choices, TwbError } from '../util/errors';
import { findWeightTargets, transpose } from './targets';
import { ChangedNode, PassContext, PassResult } from './types';

export const MAGNITUDE_METHODS = ['magnitude', '2:4'] as const;
export type MagnitudeMethod = (typeof MAGNITUDE_METHODS)[number];

export interface PruneMagnitudeOptions {
  method: MagnitudeMethod;
  /** `magnitude`: fraction of each tensor's weights zeroed, 0 ≤ amount < 1. `2:4`: absent or 0.5. */
  amount?: number;
}

/** Above this many weight bytes the gzip estimate is left out: it would cost more than the pruning. */
const GZIP_LIMIT_BYTES = 64 << 20;

export async function pruneMagnitude(model: ModelProto, opts: PruneMagnitudeOptions, ctx: PassContext): Promise<PassResult> {
  const { method, amount } = opts;
  if (!(MAGNITUDE_METHODS as readonly string[]).includes(method)) throw new TwbError('usage', `unknown pruning method "${String(method)}"; ${choices(MAGNITUDE_METHODS)}`);
  if (method === 'magnitude' && (typeof amount !== 'number' || !(amount >= 0 && amount < 1))) {
    throw new TwbError('usage', `magnitude pruning needs an amount in [0, 1) (the fraction of each weight tensor zeroed), got ${String(amount)}`);
  }
  if (method === '2:4' && amount !== undefined && amount !== 0.5) throw new TwbError('usage', `2:4 pruning always zeroes half of the weights; amount must be 0.5 or omitted, got ${amount}`);

  const out = cloneModel(model);
  const editor = new GraphEditor(out);
  const { targets, skipped } = findWeightTargets(editor, ctx, ['MatMul', 'Gemm', 'Attention']);
  const changed: ChangedNode[] = [];
  const written = new Map<string, string>();
  const before: TensorProto[] = [];
  const after: TensorProto[] = [];
  for (const [i, t] of targets.entries()) {
    throwIfAborted(ctx.signal, 'pruning');
    ctx.onProgress?.(i / targets.length, `pruning ${t.node.name}`);
    const pruned = method === '2:4' ? prune24(t.weight, t.k, t.n) : pruneSmallest(t.weight, amount!);
    const key = `${t.weightName}\u0000${t.transB ? 'T' : ''}`;
    let name = written.get(key);
    if (!name) {
      const stored = editor.constant(t.weightName)!;
      const tensor = tensorFromFloats(editor.uniqueName(`${t.weightName}_pruned`), [...stored.dims], t.transB ? transpose(pruned, t.k, t.n) : pruned, t.weightType);
      name = editor.addInitializer(tensor);
      written.set(key, name);
      before.push(stored);
      after.push(tensor);
    }
    t.node.input[1] = name;
    const zeros = pruned.reduce((s, v) => s + (v === 0 ? 1 : 0), 0);
    const share = `${((100 * zeros) / pruned.length).toFixed(1)}% zeros`;
    changed.push({
      node: t.node.name,
      opType: t.node.opType,
      output: t.node.output[0]!,
      weight: { name: t.weightName, before: t.weight, after: pruned },
      detail: method === '2:4' ? `2:4 (${share})` : share,
    });
  }
  ctx.onProgress?.(1, 'pruned');
  editor.removeUnusedConstants();

  const notes = [
    method === '2:4'
      ? '2:4 pattern along the reduction dimension K of each weight, for each output column; a tail group of K mod 4 weights counts as padded with zeros'
      : `${amount} of each weight tensor's entries zeroed by smallest magnitude, per tensor (not one global threshold)`,
    "ONNX Runtime's dense kernels do not skip zeros: this sparsity changes accuracy and how well the file compresses, not latency on this provider, and the file on disk keeps its size unless compressed",
  ];
  const gz = gzipRatio(before, after);
  if (gz) notes.push(gz);
  return { model: out, changed, skipped, notes };
}

/** Zeroes the round(amount · n) entries of smallest magnitude (ties: lower index first). */
export function pruneSmallest(w: Float32Array, amount: number): Float32Array {
  const out = Float32Array.from(w);
  const count = Math.round(amount * w.length);
  if (count === 0) return out;
  const abs = out.map(Math.abs);
  const threshold = abs.slice().sort()[count - 1]!;
  let left = count;
  for (let i = 0; i < out.length; i++) {
    if (abs[i]! < threshold) {
      out[i] = 0;
      left--;
    }
  }
  for (let i = 0; i < out.length && left > 0; i++) {
    if (abs[i] === threshold) {
      out[i] = 0;
      left--;
    }
  }
  return out;
}

/** 2:4 sparsity of a [k, n] weight along k: in each column, the 2 smallest of every 4 rows become zero. */
export function prune24(w: Float32Array, k: number, n: number): Float32Array {
  const out = Float32Array.from(w);
  for (let col = 0; col < n; col++) {
    for (let r0 = 0; r0 < k; r0 += 4) {
      const rows = Math.min(4, k - r0);
      const drop = rows - 2; // a short tail is padded with zeros up to 4, and pads count as the dropped ones
      if (drop <= 0) continue;
      const idx = Array.from({ length: rows }, (_, j) => (r0 + j) * n + col);
      idx.sort((a, b) => Math.abs(out[a]!) - Math.abs(out[b]!) || a - b);
      for (let j = 0; j < drop; j++) out[idx[j]!] = 0;
    }
  }
  return out;
}

/** `gzip of the pruned weights: …` when the weights are small enough to compress quickly. */
function gzipRatio(before: TensorProto[], after: TensorProto[]): string | undefined {
  // Only raw_data payloads are compared: typed fields (float_data…) are not what the file stores byte for byte.
  if (before.some((t) => !t.rawData)) return undefined;
  const bytes = (ts: TensorProto[]) => ts.map((t) => t.rawData!);
  const a = bytes(before);
  const total = a.reduce((s, b) => s + b.length, 0);
  if (total === 0 || total > GZIP_LIMIT_BYTES) return undefined;
  const size = (parts: Uint8Array[]) => gzipSync(Buffer.concat(parts), { level: 1 }).length;
  const was = size(a);
  const now = size(bytes(after));
  return `gzip (level 1) of the rewritten weights: ${mib(was)} → ${mib(now)} (${(was / now).toFixed(2)}× smaller); uncompressed they stay ${mib(total)}`;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
