/**
 * Operation counts for the ops that dominate transformer compute. A multiply-add counts as two
 * operations (the convention of PyTorch's profiler and of peak-FLOP/s figures). Integer and
 * low-bit matmuls count the same way, so their "GFLOP/s" reads as GOP/s.
 */

/** What a FLOP counter needs to know about one node. */
export interface FlopInput {
  opType: string;
  domain: string;
  /** Input shapes aligned with the node's inputs ([] where unknown). */
  inputs: number[][];
  outputs: number[][];
  /** Integer attributes (transA, transB, K, N, num_heads…). */
  attrs?: Record<string, number>;
}

const prod = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

const MATMUL_LIKE = new Set([
  'MatMul',
  'MatMulInteger',
  'QLinearMatMul',
  'FusedMatMul',
  'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat',
  'MatMulNBits',
  'MatMulBnb4',
  'TransposeMatMul',
]);
const GEMM_LIKE = new Set(['Gemm', 'FusedGemm', 'QGemm']);
const ATTENTION = new Set(['Attention', 'QAttention']);
const MHA_LIKE = new Set(['MultiHeadAttention', 'GroupQueryAttention', 'DecoderMaskedMultiHeadAttention', 'SparseAttention', 'PackedMultiHeadAttention']);
const CONV = new Set(['Conv', 'ConvInteger', 'QLinearConv', 'FusedConv', 'NhwcConv']);

/** Ops per call; 0 for ops that are not counted or whose shapes are unknown. */
export function countFlops(n: FlopInput): number {
  const out = n.outputs[0] ?? [];
  if (out.length === 0 && !CONV.has(n.opType)) return 0;
  if (MATMUL_LIKE.has(n.opType)) return matmulFlops(n, out);
  if (GEMM_LIKE.has(n.opType)) {
    const a = n.inputs[0] ?? [];
    if (a.length !== 2) return 0;
    const k = n.attrs?.transA ? a[0] : a[1];
    return 2 * prod(out) * k;
  }
  if (ATTENTION.has(n.opType)) return attentionFlops(n, out);
  if (MHA_LIKE.has(n.opType)) return mhaFlops(n, out);
  if (CONV.has(n.opType)) return convFlops(n, out);
  return 0;
}

/** 2·M·K·N per batch element: every output element is a K-long dot product. */
function matmulFlops(n: FlopInput, out: number[]): number {
  let k = n.attrs?.K;
  if (k === undefined) {
    const a = n.inputs[0] ?? [];
    if (a.length === 0) return 0;
    k = n.attrs?.transA && a.length >= 2 ? a[a.length - 2] : a[a.length - 1];
  }
  return 2 * prod(out) * k;
}

/**
 * com.microsoft Attention: fused QKV projection of input [B, S, Hin] with weights [Hin, Wqkv],
 * then QKᵀ and softmax·V over the key length (past + S), H = output width.
 */
function attentionFlops(n: FlopInput, out: number[]): number {
  const x = n.inputs[0] ?? [];
  if (x.length !== 3 || out.length !== 3) return 0;
  const [b, s, hin] = x;
  const h = out[2];
  const w = n.inputs[1] ?? [];
  const wqkv = w.length === 2 ? w[1] : 3 * h;
  const past = n.inputs[4] ?? [];
  const pastLen = past.length === 5 ? past[3] : 0;
  const kv = s + pastLen;
  return 2 * b * s * hin * wqkv + 2 * b * s * kv * h + 2 * b * s * kv * h;
}

/** Attention without projection: QKᵀ over [B, S, Hq]×[B, Skv, Hq], then ·V to [B, S, Hv]. */
function mhaFlops(n: FlopInput, out: number[]): number {
  const q = n.inputs[0] ?? [];
  if (q.length !== 3 || out.length !== 3) return 0;
  const [b, s, hq] = q;
  const k = n.inputs[1] ?? [];
  const kv = k.length === 3 ? k[1] : k.length === 4 ? k[2] : s;
  return 2 * b * s * kv * hq + 2 * b * s * kv * out[2];
}

/** 2 · output elements · (Cin/groups · kernel area): weight is [Cout, Cin/groups, k…]. */
function convFlops(n: FlopInput, out: number[]): number {
  const w = n.inputs[1] ?? [];
  if (w.length < 3 || out.length < 3) return 0;
  return 2 * prod(out) * prod(w.slice(1));
}
