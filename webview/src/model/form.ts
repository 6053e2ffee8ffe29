/**
 * The run form's fields and their client-side validation (the host validates again).
 */
import type { RunForm } from '../../../engine/src/protocol/webview';

export type NumericField = 'threads' | 'batch' | 'seq' | 'past' | 'warmup' | 'runs' | 'profiledRuns';

export interface NumericFieldSpec {
  key: NumericField;
  label: string;
  /** Smallest allowed value: 1 for counts that must be positive, 0 where 0 has a meaning. */
  min: 0 | 1;
  help: string;
}

export const NUMERIC_FIELDS: readonly NumericFieldSpec[] = [
  { key: 'threads', label: 'Threads', min: 0, help: 'ORT intra-op threads; 0 uses every core' },
  { key: 'batch', label: 'Batch', min: 1, help: 'value of batch-like dimensions' },
  { key: 'seq', label: 'Sequence length', min: 1, help: 'value of sequence-like dimensions' },
  { key: 'past', label: 'Past length', min: 0, help: 'KV-cache length dimensions' },
  { key: 'warmup', label: 'Warm-up runs', min: 0, help: 'untimed runs before measuring' },
  { key: 'runs', label: 'Runs', min: 1, help: 'unprofiled runs timed for latency' },
  { key: 'profiledRuns', label: 'Profiled runs', min: 1, help: 'runs recorded by the profiler' },
];

export const OPT_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;

/** The structural options of built-in models, as `--attention` and `--share-layers` spell them. */
export type StructuralField = 'attention' | 'shareLayers';

export interface StructuralFieldSpec {
  key: StructuralField;
  label: string;
  /** The accepted spelling (the engine checks the numbers against the model). */
  pattern: RegExp;
  syntax: string;
  help: string;
}

export const STRUCTURAL_FIELDS: readonly StructuralFieldSpec[] = [
  { key: 'attention', label: 'Attention', pattern: /^(dense|window:\d+|bigbird:\d+,\d+,\d+|linformer:\d+|mixer|dynamic-conv:\d+|adaptive-span:\d+(,\d+)?)$/, syntax: 'dense, window:W, bigbird:W,G,R, linformer:K, mixer, dynamic-conv:K or adaptive-span:MAX[,RAMP]', help: 'built-in models only; empty: dense' },
  { key: 'shareLayers', label: 'Layer sharing', pattern: /^(none|all|\d+)$/, syntax: 'none, all or a group size N', help: 'built-in models only (ALBERT-style); empty: none' },
];

/** Largest accepted count: keeps a typo from starting a run that never ends. */
export const MAX_COUNT = 100_000;

/** Raw text of the form's inputs, by field. */
export type FormDraft = Record<keyof RunForm, string>;

export function draftOf(form: RunForm): FormDraft {
  return {
    model: form.model,
    executionProvider: form.executionProvider,
    optLevel: form.optLevel,
    attention: form.attention ?? '',
    shareLayers: form.shareLayers ?? '',
    ...(Object.fromEntries(NUMERIC_FIELDS.map((f) => [f.key, String(form[f.key])])) as Record<NumericField, string>),
  };
}

/**
 * Checks a draft: integers within range for numeric fields, a model and a provider, and structural
 * options only for built-in models and in their spelling. Errors are keyed by field.
 */
export function parseDraft(draft: FormDraft): { form: RunForm } | { errors: Partial<Record<keyof RunForm, string>> } {
  const errors: Partial<Record<keyof RunForm, string>> = {};
  const numbers: Partial<Record<NumericField, number>> = {};
  for (const f of NUMERIC_FIELDS) {
    const text = draft[f.key].trim();
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < f.min || value > MAX_COUNT) {
      errors[f.key] = `${f.label} must be ${f.min === 1 ? 'a positive integer' : 'a whole number ≥ 0'} (at most ${MAX_COUNT}); got "${text}"`;
    } else numbers[f.key] = value;
  }
  if (!draft.model.trim()) errors.model = 'Model is required: a path to an .onnx file or builtin:NAME';
  if (!draft.executionProvider) errors.executionProvider = 'Choose an execution provider';
  if (!(OPT_LEVELS as readonly string[]).includes(draft.optLevel)) errors.optLevel = `Optimization level must be one of: ${OPT_LEVELS.join(', ')}`;
  const structural: Partial<Record<StructuralField, string>> = {};
  for (const f of STRUCTURAL_FIELDS) {
    const text = (draft[f.key] ?? '').trim();
    if (!text) continue;
    if (!f.pattern.test(text)) errors[f.key] = `${f.label} must be ${f.syntax}; got "${text}"`;
    else if (!draft.model.trim().startsWith('builtin:')) errors[f.key] = `${f.label} applies to built-in models (builtin:NAME) only`;
    else structural[f.key] = text;
  }
  if (Object.keys(errors).length) return { errors };
  return { form: { model: draft.model.trim(), executionProvider: draft.executionProvider, optLevel: draft.optLevel, ...(numbers as Record<NumericField, number>), ...structural } };
}
