import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { buildTransformer } from '../model/transformer';
import { isBuiltinRef, presetSpec, TransformerSpec, validateSpec } from '../model/spec';
import { formatAttention, formatShareLayers, mixerLengthWarning, parseAttention, parseShareLayers, validateAttention } from '../model/variants';
import { decodeModel, encodeModel } from '../onnx/codec';
import { summarizeModel } from '../onnx/summary';
import { ModelProto } from '../onnx/types';
import { TwbError } from '../util/errors';

/** ONNX's protobuf encoding cannot exceed 2 GiB; bigger models keep weights as external data. */
const MAX_MODEL_FILE = 2 * 1024 ** 3;

/** A model ready to profile: its decoded graph and what to hand ORT. */
export interface ModelSource {
  /** `builtin:NAME` or the path as the user gave it. */
  source: string;
  /** Short display name. */
  name: string;
  model: ModelProto;
  /** A file path (so external data resolves beside it) or the encoded bytes of a built-in. */
  ortInput: string | Uint8Array;
  /** Model file plus external data files, bytes. */
  sizeBytes: number;
  /** Caveats of the model itself that the run must carry (a mixer's fixed length). */
  warnings?: string[];
}

/** The structural options of a built-in model in the CLI's spelling (`--attention`, `--share-layers`). */
export interface BuiltinVariant {
  attention?: string;
  shareLayers?: string;
}

/**
 * The spec of `builtin:NAME` with `overrides` of its shape and a structural variant applied; throws
 * a usage error for a model file, an unknown name or a variant that does not fit the model. Dense
 * attention and no sharing leave the preset untouched, so the default model's bytes do not change.
 */
export function builtinSpec(ref: string, variant: BuiltinVariant = {}, overrides: Partial<TransformerSpec> = {}): TransformerSpec {
  if (!isBuiltinRef(ref)) {
    const option = variant.attention !== undefined ? '--attention' : '--share-layers';
    throw new TwbError('usage', `${option} applies to built-in models only; "${ref}" is a model file`);
  }
  const preset = { ...presetSpec(ref), ...overrides };
  const attention = parseAttention(variant.attention);
  const share = parseShareLayers(variant.shareLayers, preset.layers);
  const spec: TransformerSpec = { ...preset, ...(attention.kind !== 'dense' ? { attention } : {}), ...(share > 1 ? { shareLayers: share } : {}) };
  validateSpec(spec);
  validateAttention(spec);
  return spec;
}

/** `attention/share` of a spec as the CLI spells them, e.g. `window:16` and `all`. */
export function variantOf(spec: TransformerSpec): Required<BuiltinVariant> {
  return { attention: formatAttention(spec.attention), shareLayers: formatShareLayers(spec.shareLayers, spec.layers) };
}

/**
 * Resolves `builtin:NAME` (with an optional structural variant) or a path; fails with a message
 * naming the file and the problem.
 */
export async function loadModelSource(ref: string, seed = 0, variant: BuiltinVariant = {}): Promise<ModelSource> {
  if (isBuiltinRef(ref) || variant.attention !== undefined || variant.shareLayers !== undefined) {
    const spec = builtinSpec(ref, variant);
    const model = buildTransformer(spec, { seed, name: ref.slice('builtin:'.length) });
    const bytes = encodeModel(model);
    const { attention, shareLayers } = variantOf(spec);
    const suffix = [attention !== 'dense' ? attention : '', shareLayers !== 'none' ? `share:${shareLayers}` : ''].filter(Boolean).join(' ');
    const warnings = spec.attention?.kind === 'mixer' ? [mixerLengthWarning(spec)] : [];
    return { source: ref, name: suffix ? `${ref} ${suffix}` : ref, model, ortInput: bytes, sizeBytes: bytes.length, ...(warnings.length ? { warnings } : {}) };
  }
  const file = path.resolve(ref);
  let stat;
  try {
    stat = await fs.stat(file);
  } catch {
    throw new TwbError('io', `model file "${ref}" does not exist`, 'Pass a path to an .onnx file or a built-in model: builtin:tiny-gpt, builtin:tiny-bert.');
  }
  if (!stat.isFile()) throw new TwbError('io', `"${ref}" is not a file`);
  if (stat.size > MAX_MODEL_FILE) {
    throw new TwbError('invalid-model', `"${ref}" is ${(stat.size / 1024 ** 3).toFixed(1)} GiB; an ONNX file cannot exceed 2 GiB (store weights as external data)`);
  }
  if (stat.size === 0) throw new TwbError('invalid-model', `"${ref}" is empty, not an ONNX model`);
  const bytes = await fs.readFile(file);
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new TwbError('invalid-model', `"${ref}" is not a valid ONNX model: ${(e as Error).message}`);
  }
  if (!model.graph || (model.graph.node.length === 0 && model.graph.output.length === 0)) {
    throw new TwbError('invalid-model', `"${ref}" is not a valid ONNX model: it has no graph`);
  }
  let sizeBytes = stat.size;
  const dir = path.dirname(file);
  const missing: string[] = [];
  for (const loc of summarizeModel(model).externalFiles) {
    try {
      sizeBytes += (await fs.stat(path.resolve(dir, loc))).size;
    } catch {
      missing.push(loc);
    }
  }
  if (missing.length > 0) {
    throw new TwbError('invalid-model', `"${ref}" keeps weights in external data files that are missing: ${missing.join(', ')} (expected beside the model)`);
  }
  return { source: ref, name: path.basename(file), model, ortInput: file, sizeBytes };
}
