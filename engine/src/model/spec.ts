import { TwbError, choices } from '../util/errors';
import { AttentionVariant, validateAttention } from './variants';

/** Shape of a built-in pre-LayerNorm transformer. */
export interface TransformerSpec {
  /** Number of transformer blocks. */
  layers: number;
  /** Model width (d_model). Must be divisible by `heads`. */
  hidden: number;
  /** Attention heads per layer. */
  heads: number;
  /** Feed-forward inner width. */
  ffn: number;
  /** Vocabulary size (token embedding rows). */
  vocab: number;
  /** Longest sequence the position table covers. */
  maxSeq: number;
  /** `encoder`: bidirectional attention with a padding mask and a classification head; `decoder`: causal mask and LM head. */
  kind: 'encoder' | 'decoder';
  /** Classes of the classification head (encoders only). Default 2. */
  numClasses?: number;
  /** Attention variant (default dense). */
  attention?: AttentionVariant;
  /** Cross-layer sharing: each run of this many consecutive layers uses one set of weights (1 or absent: none). */
  shareLayers?: number;
}

const TINY = { layers: 4, hidden: 256, heads: 4, ffn: 1024, vocab: 1024, maxSeq: 128 } as const;

/** Presets addressable as `builtin:NAME`. */
export const PRESETS: Readonly<Record<string, TransformerSpec>> = {
  'tiny-bert': { ...TINY, kind: 'encoder', numClasses: 2 },
  'tiny-gpt': { ...TINY, kind: 'decoder' },
};

export const BUILTIN_PREFIX = 'builtin:';

export function isBuiltinRef(ref: string): boolean {
  return ref.startsWith(BUILTIN_PREFIX);
}

/** Resolves `builtin:NAME` to its spec, or fails listing the presets. */
export function presetSpec(ref: string): TransformerSpec {
  const name = ref.startsWith(BUILTIN_PREFIX) ? ref.slice(BUILTIN_PREFIX.length) : ref;
  const spec = PRESETS[name];
  if (!spec) {
    throw new TwbError(
      'usage',
      `unknown built-in model "${ref}"; ${choices(Object.keys(PRESETS).map((n) => BUILTIN_PREFIX + n))}`,
    );
  }
  return spec;
}

/** Checks a spec for consistency; throws a usage error naming the first bad field. */
export function validateSpec(spec: TransformerSpec): void {
  for (const key of ['layers', 'hidden', 'heads', 'ffn', 'vocab', 'maxSeq'] as const) {
    const v = spec[key];
    if (!Number.isInteger(v) || v <= 0) throw new TwbError('usage', `spec.${key} must be a positive integer, got ${v}`);
  }
  if (spec.hidden % spec.heads !== 0) {
    throw new TwbError('usage', `spec.hidden (${spec.hidden}) must be divisible by spec.heads (${spec.heads})`);
  }
  if (spec.kind !== 'encoder' && spec.kind !== 'decoder') {
    throw new TwbError('usage', `spec.kind "${String(spec.kind)}" is unknown; ${choices(['encoder', 'decoder'])}`);
  }
  const share = spec.shareLayers ?? 1;
  if (!Number.isInteger(share) || share < 1 || share > spec.layers) throw new TwbError('usage', `spec.shareLayers must be an integer from 1 to ${spec.layers}, got ${share}`);
  const classes = spec.numClasses ?? 2;
  if (!Number.isInteger(classes) || classes < 2) throw new TwbError('usage', `spec.numClasses must be an integer ≥ 2, got ${classes}`);
  validateAttention(spec);
}
