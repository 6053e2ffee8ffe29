import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { buildTransformer } from '../model/transformer';
import { isBuiltinRef, presetSpec } from '../model/spec';
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
}

/** Resolves `builtin:NAME` or a path; fails with a message naming the file and the problem. */
export async function loadModelSource(ref: string, seed = 0): Promise<ModelSource> {
  if (isBuiltinRef(ref)) {
    const spec = presetSpec(ref);
    const model = buildTransformer(spec, { seed, name: ref.slice('builtin:'.length) });
    const bytes = encodeModel(model);
    return { source: ref, name: ref, model, ortInput: bytes, sizeBytes: bytes.length };
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
