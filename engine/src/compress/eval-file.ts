/**
 * Eval and calibration files: JSON `{"inputs": {"<input name>": nested array}, "labels": nested int
 * array}` (labels optional for calibration). Inputs are checked against the model's declared inputs
 * (names, element type, rank, fixed dims) and turned into ORT feeds; labels must have the shape of
 * the model's first output without its last axis (`[B]` for `[B, C]` logits, `[B, S]` for `[B, S, V]`).
 */
import { promises as fs } from 'node:fs';
import { DataType, ModelProto } from '../onnx/types';
import { toHalfBits } from '../onnx/float16';
import { declaredDims, FEED_TYPES, fedInputs, FeedTensor, FeedType } from '../runtime/feeds';
import { TwbError } from '../util/errors';

/** Files above this size are refused before parsing (JSON parsing holds several copies in memory). */
const MAX_FILE_BYTES = 512 * 1024 * 1024;

export interface EvalData {
  /** Feeds for every model input, batch on axis 0. */
  feeds: Record<string, FeedTensor>;
  /** Examples (size of axis 0 shared by every input). */
  examples: number;
  labels?: { dims: number[]; data: Int32Array };
}

export async function readEvalFile(file: string, model: ModelProto, what: 'eval' | 'calibration'): Promise<EvalData> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch {
    throw new TwbError('io', `${what} file "${file}" does not exist`);
  }
  if (stat.size > MAX_FILE_BYTES) throw new TwbError('bad-input', `${what} file "${file}" is ${(stat.size / 1024 ** 2).toFixed(0)} MiB; the limit is ${MAX_FILE_BYTES / 1024 ** 2} MiB — split it`);
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    throw new TwbError('bad-input', `${what} file "${file}" is not valid JSON: ${(e as Error).message}`, EVAL_FORMAT_HINT);
  }
  try {
    return parseEvalData(json, model);
  } catch (e) {
    if (e instanceof TwbError) throw new TwbError(e.code, `${what} file "${file}": ${e.message}`, EVAL_FORMAT_HINT);
    throw e;
  }
}

export const EVAL_FORMAT_HINT = 'Expected JSON {"inputs": {"<input name>": nested array, ...}, "labels": nested int array} (see README "Eval and calibration files").';

/** Validates parsed JSON against the model's inputs; throws `bad-input` naming the field at fault. */
export function parseEvalData(json: unknown, model: ModelProto): EvalData {
  if (!isObject(json) || !isObject(json.inputs)) throw new TwbError('bad-input', 'the top level must be an object with an "inputs" object');
  const extra = Object.keys(json).filter((k) => k !== 'inputs' && k !== 'labels');
  if (extra.length > 0) throw new TwbError('bad-input', `unknown top-level field${extra.length > 1 ? 's' : ''} ${extra.map((k) => `"${k}"`).join(', ')}`);
  const declared = fedInputs(model);
  const given = json.inputs;
  const unknown = Object.keys(given).filter((k) => !declared.some((d) => d.name === k));
  if (unknown.length > 0) throw new TwbError('bad-input', `inputs ${unknown.map((k) => `"${k}"`).join(', ')} are not inputs of the model; it has: ${declared.map((d) => d.name).join(', ')}`);
  const missing = declared.filter((d) => !(d.name in given)).map((d) => d.name);
  if (missing.length > 0) throw new TwbError('bad-input', `missing input${missing.length > 1 ? 's' : ''} ${missing.map((k) => `"${k}"`).join(', ')}`);
  const feeds: Record<string, FeedTensor> = {};
  let examples: number | undefined;
  for (const d of declared) {
    const tt = d.type?.tensorType;
    const type = tt ? FEED_TYPES[tt.elemType as DataType] : undefined;
    if (!tt || !type) throw new TwbError('bad-input', `input "${d.name}" has a type eval files cannot hold`);
    const { dims, values } = flatten(given[d.name], `inputs.${d.name}`);
    const want = declaredDims(tt.shape);
    if (want.length !== dims.length) throw new TwbError('bad-input', `inputs.${d.name} has rank ${dims.length} (shape [${dims.join(', ')}]); the model declares [${want.join(', ')}]`);
    want.forEach((w, i) => {
      if (typeof w === 'number' && w !== dims[i]) throw new TwbError('bad-input', `inputs.${d.name} has shape [${dims.join(', ')}]; the model fixes axis ${i} to ${w}`);
    });
    if (examples === undefined) examples = dims[0];
    else if (dims[0] !== examples) throw new TwbError('bad-input', `inputs.${d.name} has ${dims[0]} examples on axis 0, other inputs have ${examples}`);
    feeds[d.name] = { type, dims, data: typed(type, values, `inputs.${d.name}`) };
  }
  const result: EvalData = { feeds, examples: examples ?? 0 };
  if (json.labels !== undefined) {
    const { dims, values } = flatten(json.labels, 'labels');
    if (!values.every((v) => Number.isInteger(v))) throw new TwbError('bad-input', 'labels must be integers (class or token ids; negative ones are ignored)');
    if (dims[0] !== result.examples) throw new TwbError('bad-input', `labels have ${dims[0]} examples, inputs have ${result.examples}`);
    result.labels = { dims, data: Int32Array.from(values) };
  }
  return result;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A rectangular nested array of numbers (or booleans) as shape + flat values. */
function flatten(v: unknown, where: string): { dims: number[]; values: number[] } {
  const dims: number[] = [];
  let probe = v;
  while (Array.isArray(probe)) {
    dims.push(probe.length);
    probe = probe[0];
  }
  if (dims.length === 0) throw new TwbError('bad-input', `${where} must be a nested array`);
  const values: number[] = [];
  const walk = (x: unknown, depth: number, path: string) => {
    if (depth === dims.length) {
      if (typeof x === 'number' && Number.isFinite(x)) values.push(x);
      else if (typeof x === 'boolean') values.push(x ? 1 : 0);
      else throw new TwbError('bad-input', `${path} is ${JSON.stringify(x)?.slice(0, 20)}, not a finite number`);
      return;
    }
    if (!Array.isArray(x) || x.length !== dims[depth]) throw new TwbError('bad-input', `${path} is not rectangular: expected an array of ${dims[depth]}`);
    x.forEach((y, i) => walk(y, depth + 1, `${path}[${i}]`));
  };
  walk(v, 0, where);
  return { dims, values };
}

function typed(type: FeedType, values: number[], where: string): FeedTensor['data'] {
  const ints = () => {
    if (!values.every(Number.isInteger)) throw new TwbError('bad-input', `${where} must hold integers for a ${type} input`);
  };
  switch (type) {
    case 'float32': return Float32Array.from(values);
    case 'float64': return Float64Array.from(values);
    case 'float16': return Uint16Array.from(values, toHalfBits);
    case 'int64': ints(); return BigInt64Array.from(values, (x) => BigInt(x));
    case 'int32': ints(); return Int32Array.from(values);
    case 'int8': ints(); return Int8Array.from(values);
    case 'uint8':
    case 'bool': ints(); return Uint8Array.from(values);
  }
}

/** Rows [start, end) along axis 0 of a tensor with shape `dims`: a view, not a copy. */
function rows<T extends { subarray(begin: number, end: number): T }>(data: T, dims: number[], start: number, end: number): { dims: number[]; data: T } {
  const per = dims.slice(1).reduce((a, b) => a * b, 1);
  return { dims: [end - start, ...dims.slice(1)], data: data.subarray(start * per, end * per) };
}

/** The [start, end) example ranges of chunks of at most `size` examples. */
function chunkRanges(examples: number, size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let start = 0; start < examples; start += size) out.push([start, Math.min(examples, start + size)]);
  return out;
}

/** Splits feeds along axis 0 into chunks of at most `size` examples (views, no copies). */
export function chunkFeeds(feeds: Record<string, FeedTensor>, examples: number, size: number): Array<Record<string, FeedTensor>> {
  // Every typed array has subarray; TypeScript cannot call it on the union, hence the cast.
  return chunkRanges(examples, size).map(([start, end]) =>
    Object.fromEntries(Object.entries(feeds).map(([name, f]) => [name, { type: f.type, ...rows(f.data as Int32Array, f.dims, start, end) } as FeedTensor] as const)),
  );
}

/** Splits labels like `chunkFeeds` splits the inputs they belong to. */
export function chunkLabels(labels: { dims: number[]; data: Int32Array }, examples: number, size: number): Array<{ dims: number[]; data: Int32Array }> {
  return chunkRanges(examples, size).map(([start, end]) => rows(labels.data, labels.dims, start, end));
}
