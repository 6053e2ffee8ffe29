/**
 * Per-layer and end-to-end error of a transformed model against the original, the way ONNX
 * Runtime's qdq_loss_debug and PyTorch's Numeric Suite measure it: both models run on the same
 * inputs with the rewritten nodes' outputs exposed. Cumulative error compares a tensor in the two
 * whole models; local error runs just the rewritten part of the new graph on the original's exact
 * inputs, so it shows what that layer adds by itself.
 */
import {
  accumulateError,
  argmaxRows,
  ErrorAccumulator,
  finishError,
  histogram,
  newErrorAccumulator,
} from '../analysis/error-metrics';
import { ModelProto } from '../onnx/types';
import { toHalfArray } from '../onnx/float16';
import { FetchedTensor, Session, SessionSpec, openSession } from '../runtime/ort';
import { FeedTensor } from '../runtime/feeds';
import { encodeModel } from '../onnx/codec';
import { ChangedNode } from '../passes/types';
import { HistogramPair, LayerError } from '../schema/compression';
import { throwIfAborted } from '../util/abort';
import { TwbError } from '../util/errors';
import { boundaryTensors, cutModel, exposeTensors, LocalCut, localCut } from './expose';
import { elemTypeOf, fetchedAsFloat32 } from './runner';

const HISTOGRAM_BINS = 48;

export interface AnalysisRequest {
  original: ModelProto;
  transformed: ModelProto;
  changed: ChangedNode[];
  batches: Array<Record<string, FeedTensor>>;
  /** Labels per batch (argmax targets of the first output), for task accuracy. */
  labels?: Array<{ dims: number[]; data: Int32Array }>;
  spec: SessionSpec;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, message: string) => void;
}

export interface AnalysisResult {
  layers: LayerError[];
  output: { name: string; sqnrDb: number | null; cosine: number; mse: number; top1Agreement: number };
  accuracy?: { before: number; after: number; labels: number };
  warnings: string[];
}

/** JSON has no Infinity: identical tensors report `null` SQNR. */
export function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

export async function analyzeError(req: AnalysisRequest): Promise<AnalysisResult> {
  const warnings: string[] = [];
  const outputName = req.original.graph.output[0]?.name ?? '';
  const changed = uniqueByOutput(req.changed);
  const boundary = boundaryTensors(req.original);
  const cuts = new Map<string, LocalCut>();
  for (const c of changed) {
    const cut = localCut(req.transformed, c.output, boundary);
    if (cut) cuts.set(c.output, cut);
  }
  const cutInputs = new Set([...cuts.values()].flatMap((c) => c.inputs));
  const watched = [...new Set([...changed.map((c) => c.output), ...cutInputs])];
  const cumulative = new Map(changed.map((c) => [c.output, newErrorAccumulator()] as const));
  const local = new Map(changed.map((c) => [c.output, newErrorAccumulator()] as const));
  const activation = new Map<string, HistogramPair>();
  const out = newErrorAccumulator();
  let agree = 0;
  let rows = 0;
  const correct = [0, 0];
  let labelled = 0;
  const localSessions = new Map<string, Session | null>();
  const spec: SessionSpec = { ...req.spec, optLevel: 'disabled' };
  const a = await openSession(encodeModel(exposeTensors(req.original, watched)), spec, 'original (analysis)');
  const b = await openSession(encodeModel(exposeTensors(req.transformed, watched)), spec, 'transformed (analysis)');
  try {
    for (let bi = 0; bi < req.batches.length; bi++) {
      throwIfAborted(req.signal, 'error analysis');
      req.onProgress?.(bi, req.batches.length, `error analysis: batch ${bi + 1}/${req.batches.length}`);
      const feeds = req.batches[bi]!;
      const fetchable = (names: string[]) => names.filter((n) => !(n in feeds));
      const ra = withFeeds(await a.fetch(feeds, fetchable([outputName, ...watched])), feeds);
      const rb = withFeeds(await b.fetch(feeds, fetchable([outputName, ...watched])), feeds);
      for (const c of changed) {
        const x = ra[c.output] && fetchedAsFloat32(ra[c.output]!);
        const y = rb[c.output] && fetchedAsFloat32(rb[c.output]!);
        if (!x || !y || x.length !== y.length) continue;
        accumulateError(cumulative.get(c.output)!, x, y);
        if (bi === 0) activation.set(c.output, pairedHistogram(x, y));
        const cut = cuts.get(c.output);
        if (!cut) continue;
        let s = localSessions.get(c.output);
        if (s === undefined) {
          s = await openLocal(req.transformed, cut, rb, spec).catch(() => null);
          localSessions.set(c.output, s);
        }
        if (!s) continue;
        const localFeeds = Object.fromEntries(cut.inputs.map((i) => [i, asFeed(ra[i]!, rb[i]!)] as const));
        const z = fetchedAsFloat32((await s.fetch(localFeeds, [c.output]))[c.output]!);
        if (z && z.length === x.length) accumulateError(local.get(c.output)!, x, z);
      }
      const x = ra[outputName] && fetchedAsFloat32(ra[outputName]!);
      const y = rb[outputName] && fetchedAsFloat32(rb[outputName]!);
      if (x && y && x.length === y.length) {
        accumulateError(out, x, y);
        const width = ra[outputName]!.dims.at(-1) ?? 1;
        const ax = argmaxRows(x, width);
        const ay = argmaxRows(y, width);
        for (let i = 0; i < ax.length; i++) if (ax[i] === ay[i]) agree++;
        rows += ax.length;
        const labels = req.labels?.[bi];
        if (labels) {
          checkLabelShape(labels.dims, ra[outputName]!.dims);
          for (let i = 0; i < labels.data.length; i++) {
            if (labels.data[i]! < 0) continue;
            labelled++;
            if (ax[i] === labels.data[i]) correct[0]++;
            if (ay[i] === labels.data[i]) correct[1]++;
          }
        }
      }
    }
  } finally {
    await a.release();
    await b.release();
    for (const s of localSessions.values()) await s?.release();
  }
  const notIsolated = changed.filter((c) => !cuts.has(c.output) || !localSessions.get(c.output)).map((c) => c.node);
  if (notIsolated.length > 0) warnings.push(`local error not measured for ${notIsolated.length} node(s) that could not be run alone (${notIsolated.slice(0, 3).join(', ')}${notIsolated.length > 3 ? ', …' : ''}); their mse/cosine are cumulative`);
  const layers = changed.map((c) => layerError(c, cumulative.get(c.output)!, local.get(c.output)!, activation.get(c.output)));
  const o = finishError(out);
  return {
    layers,
    output: { name: outputName, sqnrDb: finiteOrNull(o.sqnrDb), cosine: o.cosine, mse: o.mse, top1Agreement: rows > 0 ? agree / rows : 1 },
    ...(req.labels ? { accuracy: { before: labelled ? correct[0]! / labelled : 0, after: labelled ? correct[1]! / labelled : 0, labels: labelled } } : {}),
    warnings,
  };
}

function layerError(c: ChangedNode, cum: ErrorAccumulator, loc: ErrorAccumulator, act: HistogramPair | undefined): LayerError {
  const cm = finishError(cum);
  const lm = loc.count > 0 ? finishError(loc) : undefined;
  const layer: LayerError = {
    node: c.node,
    opType: c.opType,
    tensor: c.output,
    ...(lm ? { sqnrDb: finiteOrNull(lm.sqnrDb) } : {}),
    cumulativeSqnrDb: finiteOrNull(cm.sqnrDb),
    mse: (lm ?? cm).mse,
    cosine: (lm ?? cm).cosine,
    cumulativeMse: cm.mse,
    cumulativeCosine: cm.cosine,
    ...(c.detail ? { detail: c.detail } : {}),
    ...(act ? { activationHistogram: act } : {}),
  };
  if (c.weight) {
    const wAcc = newErrorAccumulator();
    accumulateError(wAcc, c.weight.before, c.weight.after);
    layer.weightSqnrDb = finiteOrNull(finishError(wAcc).sqnrDb);
    layer.weightHistogram = pairedHistogram(c.weight.before, c.weight.after);
  }
  return layer;
}

/** Histograms of two tensors over their joint range. */
export function pairedHistogram(before: ArrayLike<number>, after: ArrayLike<number>): HistogramPair {
  const hb = histogram(before, HISTOGRAM_BINS);
  const ha = histogram(after, HISTOGRAM_BINS);
  const range = { lo: Math.min(hb.lo, ha.lo), hi: Math.max(hb.hi, ha.hi) };
  return { ...range, before: histogram(before, HISTOGRAM_BINS, range).counts, after: histogram(after, HISTOGRAM_BINS, range).counts };
}

function uniqueByOutput(changed: ChangedNode[]): ChangedNode[] {
  const seen = new Set<string>();
  return changed.filter((c) => !seen.has(c.output) && seen.add(c.output));
}

function withFeeds(fetched: Record<string, FetchedTensor>, feeds: Record<string, FeedTensor>): Record<string, FetchedTensor> {
  return { ...Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, { type: f.type, dims: f.dims, data: f.data }] as const)), ...fetched };
}

/** The original's value, converted to the element type the transformed graph has at that tensor. */
function asFeed(orig: FetchedTensor, inTransformed: FetchedTensor): FeedTensor {
  if (inTransformed.type === 'float16' && orig.type !== 'float16') {
    return { type: 'float16', dims: orig.dims, data: toHalfArray(fetchedAsFloat32(orig)!) };
  }
  return { type: orig.type as FeedTensor['type'], dims: orig.dims, data: orig.data as FeedTensor['data'] };
}

async function openLocal(model: ModelProto, cut: LocalCut, transformedValues: Record<string, FetchedTensor>, spec: SessionSpec): Promise<Session> {
  const types: Record<string, { elemType: number; dims: number[] }> = {};
  for (const i of cut.inputs) {
    const v = transformedValues[i];
    const elemType = v && elemTypeOf(v.type);
    if (!v || elemType === undefined) throw new Error(`no value for ${i}`);
    types[i] = { elemType, dims: v.dims.map(() => -1) };
  }
  const m = cutModel(model, cut, types);
  // Symbolic dims: the last batch of an eval file may be smaller than the others.
  for (const input of m.graph.input) {
    const shape = input.type?.tensorType?.shape;
    if (shape) shape.forEach((d, i) => { delete d.dimValue; d.dimParam = `${input.name}_d${i}`; });
  }
  return openSession(encodeModel(m), spec, `local ${cut.output}`);
}

function checkLabelShape(labelDims: number[], outputDims: number[]): void {
  const want = outputDims.slice(0, -1);
  if (labelDims.length !== want.length || labelDims.some((d, i) => d !== want[i])) {
    throw new TwbError('bad-input', `labels have shape [${labelDims.join(', ')}] but the first output is [${outputDims.join(', ')}]; labels need [${want.join(', ')}] (argmax over the last axis)`);
  }
}
