import { DataType, Dimension, ModelProto, ValueInfoProto } from '../onnx/types';
import { toHalfBits } from '../onnx/float16';
import { TwbError } from '../util/errors';
import { createRng, Rng } from '../util/rng';
import { DimChoices, DimResolution, resolveDim } from './dims';

/** ORT tensor element types the feeds use (onnxruntime-common's names). */
export type FeedType = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

/** An input tensor ready for ORT, independent of the ORT module. */
export interface FeedTensor {
  type: FeedType;
  data: Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;
  dims: number[];
}

/** What the profiler reports about one fed input. */
export interface FeedInfo {
  name: string;
  type: FeedType;
  dims: number[];
  /** Symbolic shape as declared (numbers for fixed dims). */
  declared: Array<number | string>;
  /** How the values were made, e.g. `token ids in [0, 1024)`. */
  values: string;
}

/** Above this many elements an input is refused rather than allocated (1 GiB of fp32). */
const MAX_ELEMENTS = 256 * 1024 * 1024;

/** ONNX element types the workbench can feed, by the ORT type name they travel as. */
export const FEED_TYPES: Partial<Record<DataType, FeedType>> = {
  [DataType.FLOAT]: 'float32',
  [DataType.FLOAT16]: 'float16',
  [DataType.DOUBLE]: 'float64',
  [DataType.INT64]: 'int64',
  [DataType.INT32]: 'int32',
  [DataType.INT8]: 'int8',
  [DataType.UINT8]: 'uint8',
  [DataType.BOOL]: 'bool',
};

/** A declared shape: fixed sizes as numbers, symbolic ones by name, unknown ones as '?'. */
export function declaredDims(shape: Dimension[] | undefined): Array<number | string> {
  return (shape ?? []).map((d) => (d.dimValue !== undefined && d.dimValue > 0 ? d.dimValue : d.dimParam ?? '?'));
}

/** Inputs the caller must feed: graph inputs that no initializer provides a default for. */
export function fedInputs(model: ModelProto): ValueInfoProto[] {
  const inits = new Set(model.graph.initializer.map((t) => t.name));
  return model.graph.input.filter((i) => !inits.has(i.name));
}

/**
 * Builds a feed for every input from its declared type and shape. Values are chosen so that real
 * models run: token ids stay below the embedding table they index, masks are ones, position ids
 * count up, generation controls (max_length, num_beams…) get working values. Seeded.
 */
export function buildFeeds(
  model: ModelProto,
  choices: DimChoices,
  seed = 0,
): { feeds: Record<string, FeedTensor>; info: FeedInfo[]; resolution: DimResolution } {
  const resolution: DimResolution = { values: {}, defaulted: [] };
  const rng = createRng(seed);
  const feeds: Record<string, FeedTensor> = {};
  const info: FeedInfo[] = [];
  const bounds = indexBounds(model);
  for (const input of fedInputs(model)) {
    const tt = input.type?.tensorType;
    if (!tt) throw new TwbError('bad-input', `input "${input.name}" is not a tensor (sequence, map or optional inputs cannot be fed)`);
    const type = FEED_TYPES[tt.elemType as DataType];
    if (!type) throw new TwbError('bad-input', `input "${input.name}" has element type ${DataType[tt.elemType] ?? tt.elemType}, which the workbench cannot generate data for`);
    const declared = declaredDims(tt.shape);
    const dims = declared.map((d) => (typeof d === 'number' ? d : resolveDim(d === '?' ? `${input.name}_dim` : d, choices, resolution)));
    const count = dims.reduce((a, b) => a * b, 1);
    if (count > MAX_ELEMENTS) {
      throw new TwbError('bad-input', `input "${input.name}" with shape [${dims.join(', ')}] would hold ${count} elements; lower --batch/--seq or set --dim`);
    }
    const { data, values } = fill(input.name, type, dims, count, choices, bounds.get(input.name), rng);
    feeds[input.name] = { type, data, dims };
    info.push({ name: input.name, type, dims, declared, values });
  }
  return { feeds, info, resolution };
}

type FillResult = { data: FeedTensor['data']; values: string };

function fill(name: string, type: FeedType, dims: number[], count: number, c: DimChoices, bound: number | undefined, rng: Rng): FillResult {
  const lname = name.toLowerCase();
  if (type === 'bool') return { data: new Uint8Array(count).fill(1), values: 'all true' };
  if (type === 'float32' || type === 'float16' || type === 'float64') {
    const constant = floatControl(lname);
    const values = new Float64Array(count);
    if (constant !== undefined) values.fill(constant);
    else if (/mask/.test(lname)) values.fill(1);
    else for (let i = 0; i < count; i++) values[i] = rng.normal();
    const label = constant !== undefined ? `${constant}` : /mask/.test(lname) ? 'all ones' : 'standard normal';
    return { data: toFloatArray(type, values), values: label };
  }
  const ints = new Array<number>(count);
  let label: string;
  const control = intControl(lname, c);
  if (control !== undefined) {
    ints.fill(control);
    label = `${control}`;
  } else if (/mask/.test(lname)) {
    ints.fill(1);
    label = 'all ones';
  } else if (/position|pos_?ids/.test(lname)) {
    const last = dims[dims.length - 1] ?? 1;
    for (let i = 0; i < count; i++) ints[i] = c.past + (i % last);
    label = 'positions counting up';
  } else {
    const hi = Math.max(1, bound ?? 2);
    for (let i = 0; i < count; i++) ints[i] = rng.int(0, hi);
    label = bound !== undefined ? `token ids in [0, ${hi})` : `integers in [0, ${hi})`;
  }
  return { data: toIntArray(type, ints), values: label };
}

/** Scalar generation controls found in beam-search and decoder models. */
function intControl(lname: string, c: DimChoices): number | undefined {
  if (/^max_?length$/.test(lname)) return c.seq + 4;
  if (/^min_?length$/.test(lname)) return 0;
  if (/num_?beams|beam_?width/.test(lname)) return 2;
  if (/num_?return_?sequences/.test(lname)) return 1;
  if (/past_?seq(uence)?_?len(gth)?/.test(lname)) return c.past;
  if (/^(seq|sequence)_?len(gth)?s?$|seqlens/.test(lname)) return c.seq;
  return undefined;
}

function floatControl(lname: string): number | undefined {
  if (/penalty|temperature/.test(lname)) return 1;
  return undefined;
}

/**
 * For integer inputs used as indices: the smallest first dimension among the 2-D+ initializers
 * consumed by the same nodes (the embedding tables a token id must stay inside).
 */
function indexBounds(model: ModelProto): Map<string, number> {
  const tables = new Map<string, number>();
  for (const t of model.graph.initializer) if (t.dims.length >= 2) tables.set(t.name, t.dims[0]);
  const bounds = new Map<string, number>();
  for (const node of model.graph.node) {
    const rows = node.input.map((i) => tables.get(i)).filter((r): r is number => r !== undefined);
    if (rows.length === 0) continue;
    const bound = Math.min(...rows);
    for (const i of node.input) {
      if (tables.has(i)) continue;
      bounds.set(i, Math.min(bounds.get(i) ?? Infinity, bound));
    }
  }
  return bounds;
}

function toIntArray(type: FeedType, ints: number[]): FeedTensor['data'] {
  switch (type) {
    case 'int64': return BigInt64Array.from(ints, (v) => BigInt(v));
    case 'int32': return Int32Array.from(ints);
    case 'int8': return Int8Array.from(ints);
    default: return Uint8Array.from(ints);
  }
}

function toFloatArray(type: FeedType, values: Float64Array): FeedTensor['data'] {
  if (type === 'float64') return values;
  if (type === 'float32') return Float32Array.from(values);
  return Uint16Array.from(values, toHalfBits);
}
