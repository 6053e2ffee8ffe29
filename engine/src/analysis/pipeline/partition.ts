/**
 * Contiguous partition of the model's units (embeddings, layers, head) into pipeline stages so that
 * the slowest stage is as fast as possible: the stage time bounds the pipeline's throughput.
 */
import { TwbError } from '../../util/errors';

/**
 * Splits `costs` (in model order) into `parts` contiguous non-empty groups minimizing the largest
 * group sum (linear-partition dynamic programme, O(parts·n²); n is a few hundred at most). Ties
 * prefer the earlier cut so that equal costs split evenly. Returns each group's unit indices.
 */
export function balancedPartition(costs: readonly number[], parts: number): number[][] {
  const n = costs.length;
  if (!Number.isInteger(parts) || parts < 1) throw new TwbError('usage', `stages must be an integer >= 1, got ${parts}`);
  if (parts > n) {
    throw new TwbError('usage', `cannot split ${n} unit${n === 1 ? '' : 's'} (embeddings, layers, head) into ${parts} pipeline stages: each stage needs at least one`, 'use fewer --stages (or a smaller interleaved V)');
  }
  const prefix = [0];
  for (const c of costs) prefix.push(prefix[prefix.length - 1] + c);
  const sum = (a: number, b: number) => prefix[b] - prefix[a];
  // best[k][i]: smallest possible max-group cost of the first i units in k groups; cut[k][i]: where the last group starts.
  const best = Array.from({ length: parts + 1 }, () => new Array<number>(n + 1).fill(Infinity));
  const cut = Array.from({ length: parts + 1 }, () => new Array<number>(n + 1).fill(0));
  best[0][0] = 0;
  for (let k = 1; k <= parts; k++) {
    for (let i = k; i <= n; i++) {
      for (let j = k - 1; j < i; j++) {
        const v = Math.max(best[k - 1][j], sum(j, i));
        // Strictly better, or equal and more even in unit count.
        if (v < best[k][i] - 1e-9 || (Math.abs(v - best[k][i]) <= 1e-9 && Math.abs(i - j - i / k) < Math.abs(i - cut[k][i] - i / k))) {
          best[k][i] = v;
          cut[k][i] = j;
        }
      }
    }
  }
  const groups: number[][] = [];
  let end = n;
  for (let k = parts; k >= 1; k--) {
    const start = cut[k][end];
    groups.unshift(Array.from({ length: end - start }, (_, i) => start + i));
    end = start;
  }
  return groups;
}
