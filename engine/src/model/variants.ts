/**
 * The seed's structural options for the built-in transformer, shared by the ONNX builder and the
 * tfjs model: the attention variant and cross-layer parameter sharing (ALBERT). Parsed from and
 * printed back to the CLI's spelling so a run records exactly what the user asked for.
 */
import { TwbError } from '../util/errors';
import type { TransformerSpec } from './spec';

export type AttentionVariant =
  | { kind: 'dense' }
  /** Each query sees the W most recent keys (decoder) or keys less than W away (encoder). */
  | { kind: 'window'; window: number }
  /**
   * BigBird: the sequence in blocks of `block` tokens; a query block sees its own and its
   * neighbouring blocks, the first `global` blocks (which also see everything) and `random`
   * seeded random blocks.
   */
  | { kind: 'bigbird'; block: number; global: number; random: number }
  /** Linformer: keys and values projected along the sequence to length `k` (encoders only). */
  | { kind: 'linformer'; k: number };

export const ATTENTION_SYNTAX = 'dense|window:W|bigbird:W,G,R|linformer:K';
export const SHARE_SYNTAX = 'none|all|N';

const DENSE: AttentionVariant = { kind: 'dense' };

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(n) || n <= 0) throw new TwbError('usage', `${what} must be a positive integer, got "${text}"`);
  return n;
}

function nonNegativeInt(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(n)) throw new TwbError('usage', `${what} must be a whole number ≥ 0, got "${text}"`);
  return n;
}

/** Parses `--attention`; throws a usage error naming the syntax. */
export function parseAttention(text: string | undefined): AttentionVariant {
  if (text === undefined || text === '' || text === 'dense') return DENSE;
  const [kind, args = ''] = text.split(':', 2);
  if (kind === 'window' && args) return { kind: 'window', window: positiveInt(args, '--attention window:W') };
  if (kind === 'linformer' && args) return { kind: 'linformer', k: positiveInt(args, '--attention linformer:K') };
  if (kind === 'bigbird' && args) {
    const parts = args.split(',');
    if (parts.length !== 3) throw new TwbError('usage', `--attention bigbird needs three numbers W,G,R (block size, global blocks, random blocks), got "${args}"`);
    return {
      kind: 'bigbird',
      block: positiveInt(parts[0], '--attention bigbird block size W'),
      global: nonNegativeInt(parts[1], '--attention bigbird global blocks G'),
      random: nonNegativeInt(parts[2], '--attention bigbird random blocks R'),
    };
  }
  throw new TwbError('usage', `--attention "${text}" is not one of ${ATTENTION_SYNTAX}`);
}

/**
 * Checks that a spec's attention variant fits its model; throws a usage error naming the limit.
 * BigBird needs room for its pattern: G global, 3 neighbour and R random blocks must be fewer than
 * the blocks of maxSeq, or a query in the middle sees every block: dense attention at a higher cost.
 */
export function validateAttention(spec: Pick<TransformerSpec, 'attention' | 'kind' | 'maxSeq'>): void {
  const v = spec.attention ?? DENSE;
  const label = `--attention ${formatAttention(v)}`;
  if (v.kind === 'window' && v.window > spec.maxSeq) throw new TwbError('usage', `${label}: the window (${v.window}) is longer than the model's maxSeq (${spec.maxSeq})`);
  if (v.kind === 'linformer') {
    if (spec.kind === 'decoder') {
      throw new TwbError('usage', `${label} works for encoders only: Linformer's projection along the sequence mixes future positions into every key, so it cannot be causal; for a decoder use dense, window:W or bigbird:W,G,R`);
    }
    if (v.k > spec.maxSeq) throw new TwbError('usage', `${label}: the projection length (${v.k}) is longer than the model's maxSeq (${spec.maxSeq})`);
  }
  if (v.kind === 'bigbird') {
    if (v.block > spec.maxSeq) throw new TwbError('usage', `${label}: the block size (${v.block}) is longer than the model's maxSeq (${spec.maxSeq})`);
    const blocks = Math.ceil(spec.maxSeq / v.block);
    if (v.global + 3 + v.random >= blocks) {
      throw new TwbError(
        'usage',
        `${label}: ${v.global} global + 3 neighbour + ${v.random} random blocks need fewer than the ${blocks} blocks of ${v.block} tokens in maxSeq ${spec.maxSeq}, or a query sees every block (dense attention at a higher cost); use fewer global/random blocks or a smaller block size`,
      );
    }
  }
}

export function formatAttention(v: AttentionVariant | undefined): string {
  if (!v || v.kind === 'dense') return 'dense';
  if (v.kind === 'window') return `window:${v.window}`;
  if (v.kind === 'linformer') return `linformer:${v.k}`;
  return `bigbird:${v.block},${v.global},${v.random}`;
}

/**
 * Parses `--share-layers`: `none` (default), `all` (one set of weights for every layer, ALBERT's
 * default) or N (each run of N consecutive layers shares one set). Returns the group size; 1 means
 * no sharing and `all` becomes the layer count.
 */
export function parseShareLayers(text: string | undefined, layers: number): number {
  if (text === undefined || text === '' || text === 'none') return 1;
  if (text === 'all') return layers;
  const n = positiveInt(text, '--share-layers');
  if (n > layers) throw new TwbError('usage', `--share-layers ${n} is more than the model's ${layers} layers; use all`);
  return n;
}

export function formatShareLayers(groupSize: number | undefined, layers: number): string {
  if (!groupSize || groupSize <= 1) return 'none';
  return groupSize >= layers ? 'all' : String(groupSize);
}

/** The layer whose weights layer `l` uses: the first layer of its sharing group. */
export function weightLayer(l: number, groupSize: number | undefined): number {
  const g = groupSize && groupSize > 1 ? groupSize : 1;
  return Math.floor(l / g) * g;
}
