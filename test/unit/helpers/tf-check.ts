/**
 * Small pieces the tfjs gradient tests share: seeded normal inputs, reading a tensor back, and the
 * normalized error of a gradient against its finite differences.
 */
import type { Tensor, Tf } from '../../../engine/src/runtime/tfjs';
import { createRng } from '../../../engine/src/util/rng';

/** `n` normal values × `std`, the same for the same seed. */
export function randoms(n: number, seed: number, std = 1): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal() * std);
}

/** The values of a tensor (e.g. one returned from tidy), which is then disposed. */
export function readTensor(tf: Tf, t: Tensor): Float32Array {
  const values = t.dataSync() as Float32Array;
  tf.dispose(t);
  return values;
}

/** ‖g − fd‖ / max(‖g‖, ‖fd‖), with a floor so that two zero vectors give 0 rather than NaN. */
export function normalizedError(g: ArrayLike<number>, fd: ArrayLike<number>): number {
  let [num, gn, fn] = [0, 0, 0];
  for (let i = 0; i < g.length; i++) {
    num += (g[i] - fd[i]) ** 2;
    gn += g[i] ** 2;
    fn += fd[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(gn), Math.sqrt(fn), 1e-12);
}
