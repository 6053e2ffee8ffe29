/**
 * Operations the tfjs transformer needs that are slow or missing on some backends, with the same
 * results everywhere.
 *
 * Measured on the wasm backend (2-core AVX2, tfjs 4.22): a plain 2-D [1024×256]·[256×1024] MatMul
 * runs at ~13 GFLOP/s through XNNPACK, but the same product with `transposeA` runs at 0.4 GFLOP/s
 * and with `transposeB` at 1.1, because only the untransposed 2-D case takes XNNPACK's path. tfjs's
 * own MatMul gradient uses those flags, which made a training step 7× slower than its forward FLOPs
 * suggest. `matMul` here computes the same gradients with explicit transposes. The gather gradient
 * needs UnsortedSegmentSum, which wasm lacks and the cpu backend runs at ~0.01 GFLOP/s, so the
 * embedding gradient is one-hot(ids)ᵀ·dy instead.
 */
import type { Tensor, Tensor1D, Tensor2D, Tf, Variable } from '../runtime/tfjs';

export interface TfOps {
  /** a·b over the last two axes (leading axes batched), no transpose flags. */
  matMul(a: Tensor, b: Tensor): Tensor;
  /** Rows of `table` [V, H] picked by `ids` [B, S] → [B, S, H]. */
  embed(table: Variable | Tensor, ids: Tensor2D): Tensor;
}

/** Backends whose own kernels are fast for every case (use tfjs's gradients as they are). */
const NATIVE = new Set(['tensorflow', 'webgpu', 'webgl']);

function swapLast(tf: Tf, x: Tensor): Tensor {
  const perm = x.shape.map((_, i) => i);
  const r = perm.length;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return tf.transpose(x, perm);
}

export function tfOps(tf: Tf): TfOps {
  if (NATIVE.has(tf.getBackend())) return { matMul: (a, b) => tf.matMul(a, b), embed: (t, ids) => tf.gather(t, ids) };
  const customGrad = <A extends Tensor[]>(f: (...args: [...A, (t: Tensor[]) => void]) => { value: Tensor; gradFunc: (dy: Tensor, saved: Tensor[]) => Tensor[] }) =>
    tf.customGrad(f as unknown as Parameters<Tf['customGrad']>[0]) as unknown as (...args: A) => Tensor;

  const matMul = customGrad<[Tensor, Tensor]>((a, b, save) => {
    save([a, b]);
    return {
      value: tf.matMul(a, b),
      gradFunc: (dy, [sa, sb]) => {
        // Broadcast leading axes (e.g. [S, K] · [B, H, K, D]) reduce back to each input's shape.
        const da = reduceTo(tf, tf.matMul(dy, swapLast(tf, sb)), sa.shape);
        const db = reduceTo(tf, tf.matMul(swapLast(tf, sa), dy), sb.shape);
        return [da, db];
      },
    };
  });

  const embed = customGrad<[Tensor, Tensor]>((table, ids, save) => {
    save([ids]);
    return {
      value: tf.gather(table, ids),
      gradFunc: (dy, [sIds]) => {
        const [vocab, hidden] = table.shape as [number, number];
        // wasm's OneHot writes int32 bits whatever dtype is asked for (1 reads as 1.4e-45 in
        // float32), so it is made as int32 and cast.
        const oneHot = tf.cast(tf.oneHot(tf.reshape(sIds, [-1]) as Tensor1D, vocab), 'float32');
        return [tf.matMul(swapLast(tf, oneHot), tf.reshape(dy, [-1, hidden])), tf.zerosLike(sIds)];
      },
    };
  });
  return { matMul, embed: (t, ids) => embed(t, ids) };
}

/** Sums a broadcast gradient over the leading axes the input did not have. */
function reduceTo(tf: Tf, g: Tensor, shape: number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const extra = g.shape.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.shape.length; i++) if (i < extra || (shape[i - extra] === 1 && g.shape[i] !== 1)) axes.push(i);
  return tf.reshape(tf.sum(g, axes), shape);
}
