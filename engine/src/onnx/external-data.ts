/**
 * Reading weights that a model keeps in external data files into the model itself, so that rewrite
 * passes see every payload and the rewritten model is one self-contained file.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelProto, TensorProto } from './types';
import { isExternal, tensorByteSize } from './tensor-data';
import { TwbError } from '../util/errors';

/** A copy of `model` whose external tensors carry their bytes as raw_data. `dir` is the model's folder. */
export async function inlineExternalData(model: ModelProto, dir: string): Promise<ModelProto> {
  if (!model.graph.initializer.some(isExternal)) return model;
  const files = new Map<string, Buffer>();
  const initializer: TensorProto[] = [];
  for (const t of model.graph.initializer) {
    if (!isExternal(t)) {
      initializer.push(t);
      continue;
    }
    const entry = (key: string) => t.externalData?.find((e) => e.key === key)?.value;
    const location = entry('location');
    if (!location) throw new TwbError('invalid-model', `tensor "${t.name}" is marked external but names no location`);
    const file = path.resolve(dir, location);
    if (path.relative(dir, file).startsWith('..')) throw new TwbError('invalid-model', `tensor "${t.name}" points outside the model's folder ("${location}")`);
    let bytes = files.get(file);
    if (!bytes) {
      try {
        bytes = await fs.readFile(file);
      } catch {
        throw new TwbError('invalid-model', `external data file "${location}" of tensor "${t.name}" cannot be read (expected beside the model)`);
      }
      files.set(file, bytes);
    }
    const offset = Number(entry('offset') ?? 0);
    const length = Number(entry('length') ?? tensorByteSize(t));
    if (offset + length > bytes.length) throw new TwbError('invalid-model', `tensor "${t.name}" reads bytes ${offset}..${offset + length} of "${location}", which has ${bytes.length}`);
    const { externalData: _e, dataLocation: _d, ...rest } = t;
    void _e;
    void _d;
    initializer.push({ ...rest, rawData: new Uint8Array(bytes.buffer, bytes.byteOffset + offset, length) });
  }
  return { ...model, graph: { ...model.graph, initializer } };
}
