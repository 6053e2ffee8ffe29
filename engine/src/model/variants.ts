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
  | { kind: 'linformer'; k: number }
  /**
   * MLP-Mixer token mixing instead of attention: per channel, an MLP across the sequence
   * (maxSeq → maxSeq → maxSeq, GELU), weights shared by all channels. Its weights are sized to
   * maxSeq, so it mixes a fixed number of positions: a shorter input uses their top-left block. A
   * decoder's mixing weights are masked upper-triangular (position j feeds i only when j ≤ i), so
   * it stays causal and a prefix computes what it would inside a longer sequence.
   */
  | { kind: 'mixer' }
  /**
   * Dynamic convolution (Wu et al. 2019): each position predicts, from its own input, a kernel of
   * `kernel` taps per head (softmax over the taps) that weighs the value projections of its
   * neighbours; the channels of a head share their kernel. Decoders look at the `kernel` most
   * recent positions, encoders at a window centred on the position. Cost linear in the sequence.
   */
  | { kind: 'dynamic-conv'; kernel: number }
  /**
   * Adaptive attention span (Sukhbaatar et al. 2019): dense attention whose weights are multiplied
   * by a soft mask clamp((ramp + z − distance) / ramp, 0, 1) and renormalised; each head learns its
   * span z = maxSpan · clamp(p, 0, 1) from a parameter p, pushed down by a penalty on the loss.
   */
  | { kind: 'adaptive-span'; maxSpan: number; ramp: number };

export const ATTENTION_SYNTAX = 'dense|window:W|bigbird:W,G,R|linformer:K|mixer|dynamic-conv:K|adaptive-span:MAX[,RAMP]';

/** The ramp of adaptive span when the spelling gives none: an eighth of the largest span, at least 1. */
export function defaultSpanRamp(maxSpan: number): number {
  return Math.max(1, Math.round(maxSpan / 8));
}
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
  if (kind === 'mixer' && !text.includes(':')) return { kind: 'mixer' };
  if (kind === 'dynamic-conv' && args) return { kind: 'dynamic-conv', kernel: positiveInt(args, '--attention dynamic-conv:K') };
  if (kind === 'adaptive-span' && args) {
    const parts = args.split(',');
    if (parts.length > 2) throw new TwbError('usage', `--attention adaptive-span takes MAX or MAX,RAMP (largest span and ramp width), got "${args}"`);
    const maxSpan = positiveInt(parts[0], '--attention adaptive-span largest span MAX');
    return { kind: 'adaptive-span', maxSpan, ramp: parts.length === 2 ? positiveInt(parts[1], '--attention adaptive-span ramp') : defaultSpanRamp(maxSpan) };
  }
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
  if (v.kind === 'dynamic-conv' && v.kernel > spec.maxSeq) throw new TwbError('usage', `${label}: the kernel (${v.kernel} taps) is longer than the model's maxSeq (${spec.maxSeq})`);
  if (v.kind === 'adaptive-span' && v.maxSpan > spec.maxSeq) throw new TwbError('usage', `${label}: the largest span (${v.maxSpan}) is longer than the model's maxSeq (${spec.maxSeq})`);
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
  if (v.kind === 'mixer') return 'mixer';
  if (v.kind === 'dynamic-conv') return `dynamic-conv:${v.kernel}`;
  if (v.kind === 'adaptive-span') return v.ramp === defaultSpanRamp(v.maxSpan) ? `adaptive-span:${v.maxSpan}` : `adaptive-span:${v.maxSpan},${v.ramp}`;
  return `bigbird:${v.block},${v.global},${v.random}`;
}

/** How a weight of the attention block starts when no trained weights are given. */
export type WeightInit = 'normal' | 'zeros' | 'ones' | 'linformer';

/**
 * The weights of one (weight-owning) layer's attention block for a spec's variant, by name
 * relative to the layer (`attn/q_proj/weight`), with shape and initial value: the one list the
 * ONNX builder and the tfjs model both follow, so their weight names agree. A dense projection is
 * `…/weight` [in, out] plus `…/bias` [out].
 */
export function attentionWeights(spec: Pick<TransformerSpec, 'attention' | 'hidden' | 'heads' | 'maxSeq'>): Array<{ name: string; dims: number[]; init: WeightInit }> {
  const v = spec.attention ?? DENSE;
  const h = spec.hidden;
  const out: Array<{ name: string; dims: number[]; init: WeightInit }> = [];
  const dense = (name: string, inDim: number, outDim: number) => {
    out.push({ name: `attn/${name}/weight`, dims: [inDim, outDim], init: 'normal' });
    out.push({ name: `attn/${name}/bias`, dims: [outDim], init: 'zeros' });
  };
  if (v.kind === 'mixer') {
    dense('token_up', spec.maxSeq, spec.maxSeq);
    dense('token_down', spec.maxSeq, spec.maxSeq);
    return out;
  }
  if (v.kind === 'dynamic-conv') {
    dense('v_proj', h, h);
    dense('dynconv_kernel', h, spec.heads * v.kernel);
    dense('out_proj', h, h);
    return out;
  }
  for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) dense(n, h, h);
  if (v.kind === 'linformer') out.push({ name: 'attn/linformer_e', dims: [spec.maxSeq, v.k], init: 'linformer' });
  if (v.kind === 'adaptive-span') out.push({ name: 'attn/span', dims: [spec.heads], init: 'ones' });
  return out;
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

/**
 * The warning a mixer run carries (training runs and profiles of the built-in model): its
 * token-mixing weights are sized to maxSeq, so it mixes a fixed number of positions.
 */
export function mixerLengthWarning(spec: Pick<TransformerSpec, 'maxSeq' | 'kind'>, trainedSeq?: number): string {
  const trained = trainedSeq === undefined ? 'the length it was trained at' : `the length it was trained at (${trainedSeq})`;
  const tail = spec.kind === 'encoder' ? `run this encoder at ${trained}, padding shorter inputs to it` : `an encoder must be run at ${trained}; this decoder is causal, so a prefix computes what it would inside a longer sequence`;
  return `--attention mixer mixes a fixed number of positions (maxSeq ${spec.maxSeq}): its token-mixing weights are sized to that length and positions past the trained length were never trained, so ${tail}`;
}
