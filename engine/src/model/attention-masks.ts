/**
 * Which keys each query may attend to, for every attention variant: the one definition the tfjs
 * model, the ONNX builder and the tests share. A rule is defined on the positions of `maxSeq`; the
 * mask at a shorter length S is the `maxSeq` mask cut to [S, S], so a model trained at one length
 * and run at another sees the same pattern (prefix-consistent). Padding is not part of the rule:
 * padded keys are masked on top, as in dense attention.
 */
import type { TransformerSpec } from './spec';
import { createRng } from '../util/rng';

/** Whether query position i may attend to key position j (structure only, before padding). */
export type MaskRule = (i: number, j: number) => boolean;

type MaskSpec = Pick<TransformerSpec, 'kind' | 'maxSeq' | 'attention'>;
type BigBird = { block: number; global: number; random: number };

/**
 * Seed of BigBird's random blocks. Fixed (not the weight seed) so the pattern is a property of the
 * spec alone: tfjs, the exported ONNX model and a later fine-tuning run all see the same blocks.
 */
const BIGBIRD_SEED = 0x0b16b12d;

export function maskRule(spec: MaskSpec, layer: number): MaskRule {
  const v = spec.attention ?? { kind: 'dense' };
  const causal = spec.kind === 'decoder';
  if (v.kind === 'window') {
    const w = v.window;
    return causal ? (i, j) => i - j >= 0 && i - j < w : (i, j) => Math.abs(i - j) < w;
  }
  if (v.kind === 'bigbird') {
    const keyBlocks = bigbirdKeyBlocks(v, spec.kind, layer, spec.maxSeq);
    const w = v.block;
    return (i, j) => (!causal || j <= i) && keyBlocks[Math.floor(i / w)].has(Math.floor(j / w));
  }
  if (v.kind === 'dynamic-conv') {
    // Key j is one of query i's K taps: j = i + t − before, t ∈ [0, K).
    const before = convTapsBefore(spec.kind, v.kernel);
    return (i, j) => j - i + before >= 0 && j - i + before < v.kernel;
  }
  if (v.kind === 'adaptive-span') {
    // The soft mask is 0 from distance ramp + z on, and z ≤ maxSpan: no head reaches further.
    const reach = v.maxSpan + v.ramp;
    return causal ? (i, j) => j <= i && i - j < reach : (i, j) => Math.abs(i - j) < reach;
  }
  // Dense, Linformer (whose projection has no per-position mask; it is encoder-only) and the
  // mixer (whose decoder mixing weights are masked to inputs j ≤ i, see `mixerTriangle`).
  return causal ? (i, j) => j <= i : () => true;
}

/**
 * Taps of a dynamic convolution that lie before the position: a decoder's K taps are the K most
 * recent positions (K − 1 before), an encoder's are centred (⌊(K − 1)/2⌋ before, the extra tap of
 * an even K after). Tap t of query i reads position i + t − before.
 */
export function convTapsBefore(kind: TransformerSpec['kind'], kernel: number): number {
  return kind === 'decoder' ? kernel - 1 : Math.floor((kernel - 1) / 2);
}

/**
 * Row-major [n, n] 0/1 triangle U[j, i] = 1 when j ≤ i: multiplied into a decoder mixer's token
 * weights [input j, output i], so output position i reads inputs j ≤ i only and a prefix of the
 * sequence computes what it would inside a longer one.
 */
export function mixerTriangle(n: number): Float32Array {
  const out = new Float32Array(n * n);
  for (let j = 0; j < n; j++) for (let i = j; i < n; i++) out[j * n + i] = 1;
  return out;
}

/**
 * Row-major [n, n] distance of key j from query i that adaptive span's soft mask ramps over:
 * i − j for a decoder (future keys are negative, masked causally anyway), |i − j| for an encoder.
 */
export function spanDistances(kind: TransformerSpec['kind'], n: number): Float32Array {
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = kind === 'decoder' ? i - j : Math.abs(i - j);
  return out;
}

/** Row-major [seq, seq] mask, 1 where the query (row) may attend to the key (column). */
export function structuralMask(spec: MaskSpec, layer: number, seq: number): Uint8Array {
  const rule = maskRule(spec, layer);
  const out = new Uint8Array(seq * seq);
  for (let i = 0; i < seq; i++) for (let j = 0; j < seq; j++) out[i * seq + j] = rule(i, j) ? 1 : 0;
  return out;
}

/** Blocks of `block` tokens covering `seq` positions (the last one may be partial). */
export function blockCount(seq: number, block: number): number {
  return Math.ceil(seq / block);
}

/**
 * BigBird's key blocks for each query block of `maxSeq`: its neighbours b−1, b, b+1, the `global`
 * first blocks and `random` seeded blocks; a global query block sees every block. Sets, so a block
 * reached two ways (a neighbour that is also global) counts once.
 */
export function bigbirdKeyBlocks(v: BigBird, kind: TransformerSpec['kind'], layer: number, maxSeq: number): Array<Set<number>> {
  const n = blockCount(maxSeq, v.block);
  const random = randomBlocks(v, kind, layer, maxSeq);
  const out: Array<Set<number>> = [];
  for (let b = 0; b < n; b++) {
    const set = new Set<number>();
    if (b < v.global) for (let c = 0; c < n; c++) set.add(c);
    else {
      for (let c = 0; c < v.global; c++) set.add(c);
      for (const c of [b - 1, b, b + 1]) if (c >= 0 && c < n) set.add(c);
      for (const c of random[b]) set.add(c);
    }
    out.push(set);
  }
  return out;
}

/**
 * The random key blocks of each query block of `maxSeq` (empty for global query blocks), sorted.
 * Drawn, as in BigBird, from the blocks not already seen (neither neighbours nor global) so each
 * adds coverage; a decoder draws from earlier blocks only, since later ones are masked anyway.
 * Each (layer, query block) has its own seeded stream, so the choice never depends on the length.
 */
export function randomBlocks(v: BigBird, kind: TransformerSpec['kind'], layer: number, maxSeq: number): number[][] {
  const n = blockCount(maxSeq, v.block);
  const out: number[][] = [];
  for (let b = 0; b < n; b++) {
    if (b < v.global || v.random === 0) {
      out.push([]);
      continue;
    }
    const candidates: number[] = [];
    const end = kind === 'decoder' ? b - 1 : n;
    for (let c = v.global; c < end; c++) if (Math.abs(c - b) > 1) candidates.push(c);
    const rng = createRng((BIGBIRD_SEED ^ Math.imul(layer + 1, 0x9e3779b1) ^ Math.imul(b + 1, 0x85ebca77)) >>> 0);
    const take = Math.min(v.random, candidates.length);
    // Partial Fisher–Yates: the first `take` entries become a uniform sample without repeats.
    for (let t = 0; t < take; t++) {
      const r = rng.int(t, candidates.length);
      [candidates[t], candidates[r]] = [candidates[r], candidates[t]];
    }
    out.push(candidates.slice(0, take).sort((a, c) => a - c));
  }
  return out;
}

/**
 * How the block implementation (tfjs) lays out window and BigBird attention at length `seq`: the
 * first `globalRows` queries attend densely; every later query block attends to a fixed list of
 * key columns — the global keys, its neighbour blocks, then its random blocks — so the work is
 * linear in `seq`. `allowed` applies the rule, drops absent keys (past `seq`) and keeps only the
 * first copy of a key listed twice, so the result equals dense attention under `maskRule`.
 */
export interface BlockLayout {
  /** Tokens per block. */
  block: number;
  /** Blocks covering `seq` (the sequence is padded to `blocks × block`). */
  blocks: number;
  /** Leading query blocks computed densely (BigBird's global blocks), at most `blocks`. */
  globalBlocks: number;
  /** Query rows computed densely: min(globalBlocks × block, seq). */
  globalRows: number;
  /** [globalRows, seq] 1 where a dense query row may attend. */
  globalAllowed: Uint8Array;
  /** Neighbour block offsets every query block attends to, e.g. [-1, 0, 1]. */
  offsets: number[];
  /** Random key blocks per query block. */
  randomSlots: number;
  /** [queryBlocks, randomSlots] block index of each random slot (−1 where the slot is empty). */
  random: Int32Array;
  /** Key columns of one query block: (globalBlocks + offsets + randomSlots) × block. */
  cols: number;
  /** [queryBlocks, cols] key position of each column (−1: empty slot or past `seq`). */
  keyPos: Int32Array;
  /** [queryBlocks, block, cols] 1 where the query may attend to the key in that column. */
  allowed: Uint8Array;
}

/** Query blocks computed by blocks: those after the global ones. */
export function queryBlocks(layout: BlockLayout): number {
  return layout.blocks - layout.globalBlocks;
}

export function blockLayout(spec: MaskSpec, layer: number, seq: number): BlockLayout {
  const v = spec.attention ?? { kind: 'dense' };
  if (v.kind !== 'window' && v.kind !== 'bigbird') throw new Error(`no block layout for ${v.kind} attention`);
  const causal = spec.kind === 'decoder';
  const block = v.kind === 'window' ? v.window : v.block;
  const blocks = blockCount(seq, block);
  const globalBlocks = v.kind === 'bigbird' ? Math.min(v.global, blocks) : 0;
  const offsets = causal ? [-1, 0] : [-1, 0, 1];
  const rule = maskRule(spec, layer);

  const globalRows = Math.min(globalBlocks * block, seq);
  const globalAllowed = new Uint8Array(globalRows * seq);
  for (let i = 0; i < globalRows; i++) for (let j = 0; j < seq; j++) globalAllowed[i * seq + j] = rule(i, j) ? 1 : 0;

  const nq = blocks - globalBlocks;
  const present = (v.kind === 'bigbird' ? randomBlocks(v, spec.kind, layer, spec.maxSeq) : [])
    .slice(globalBlocks, blocks)
    .map((list) => list.filter((c) => c < blocks));
  const randomSlots = present.reduce((m, list) => Math.max(m, list.length), 0);
  const random = new Int32Array(nq * randomSlots).fill(-1);
  const colBlocks = globalBlocks + offsets.length + randomSlots;
  const cols = colBlocks * block;
  const keyPos = new Int32Array(nq * cols).fill(-1);
  const allowed = new Uint8Array(nq * block * cols);
  for (let q = 0; q < nq; q++) {
    const b = globalBlocks + q;
    present[q]?.forEach((c, s) => (random[q * randomSlots + s] = c));
    // Key block of each column block (−1: empty or outside the sequence).
    const keyBlocks: number[] = [];
    for (let c = 0; c < globalBlocks; c++) keyBlocks.push(c);
    for (const o of offsets) keyBlocks.push(b + o >= 0 && b + o < blocks ? b + o : -1);
    for (let s = 0; s < randomSlots; s++) keyBlocks.push(random[q * randomSlots + s]);
    const seen = new Set<number>();
    keyBlocks.forEach((kb, cb) => {
      if (kb < 0) return;
      for (let t = 0; t < block && kb * block + t < seq; t++) keyPos[q * cols + cb * block + t] = kb * block + t;
      if (seen.has(kb)) return;
      seen.add(kb);
      for (let r = 0; r < block; r++) {
        const i = b * block + r;
        if (i >= seq) break;
        for (let t = 0; t < block; t++) {
          const j = kb * block + t;
          if (j < seq && rule(i, j)) allowed[(q * block + r) * cols + cb * block + t] = 1;
        }
      }
    });
  }
  return { block, blocks, globalBlocks, globalRows, globalAllowed, offsets, randomSlots, random, cols, keyPos, allowed };
}
