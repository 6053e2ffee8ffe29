/**
 * Splitting an ONNX model into pipeline stages: one self-contained sub-model per virtual stage,
 * holding the nodes of its units, the weights those nodes read, and graph inputs/outputs for the
 * tensors that cross the cuts. Run in order, each on the tensors the earlier ones made, the
 * sub-models compute what the whole model does (up to float rounding where ORT fuses differently).
 *
 * A tensor made in stage i and read by stage k > i + 1 (a transformer's attention mask, made once
 * in `embed` and read by every layer) is an output of stage i and an input of stage k, and the
 * caller routes it straight from i to k. Passing it through the stages in between as Identity nodes
 * would add a copy out of and into ORT and a thread hop for every stage crossed, and so charge the
 * measured pipeline for plumbing: a mask is small and made once, and a real pipeline hands each
 * stage its mask with the batch rather than relaying it.
 */
import { DataType, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto } from '../onnx/types';
import { encodeModel } from '../onnx/codec';
import { isDefaultDomain } from '../onnx/graph-edit';
import { isExternal } from '../onnx/tensor-data';
import { inferElemTypes } from '../passes/fp16';
import { exposeTensors } from '../compress/expose';
import { elemTypeOf } from '../compress/runner';
import { openSession } from '../runtime/ort';
import { FeedTensor } from '../runtime/feeds';
import { TwbError } from '../util/errors';
import { modelUnits, nodeReads, topologicalOrder } from './units';

/** One virtual stage of a split model. */
export interface StageModel {
  /** The sub-model: shares nodes and weight payloads with the original (read-only). */
  model: ModelProto;
  /** Tensors the caller must feed: original graph inputs it reads, then tensors made by earlier stages. */
  inputs: string[];
  /** Original graph outputs it makes, then tensors that later stages read. */
  outputs: string[];
  /** The units it holds, indices into `modelUnits(model).names`. */
  units: number[];
}

/** Types and shapes of cut tensors by name, e.g. from `probeValueInfo`. */
export type KnownValueInfo = ReadonlyMap<string, ValueInfoProto>;

/**
 * Splits `model` so that virtual stage j holds units `virtualStages[j]` (contiguous runs of unit
 * indices, in order, covering every unit once). Constant nodes and initializers are copied into
 * every stage that reads them rather than sent across a cut. A cut tensor is typed from the
 * model's value_info, else from `known`, else by its element type alone: ORT runs such a stage,
 * but onnx.checker wants a shape on every graph input and output, which `splitModelTyped` adds.
 */
export function splitModel(model: ModelProto, virtualStages: number[][], known: KnownValueInfo = new Map()): StageModel[] {
  const plan = planSplit(model, virtualStages);
  const { graph, order, stageOfNode, producer, constants, inits, reads, laterReaders } = plan;
  const types = lazy(() => inferElemTypes(graph));
  const declared = new Map<string, ValueInfoProto>();
  for (const v of [...graph.valueInfo, ...graph.output]) if (v.type?.tensorType?.shape) declared.set(v.name, v);
  const cutInfo = (t: string): ValueInfoProto => {
    const info = declared.get(t) ?? known.get(t);
    if (info) return { ...info, name: t };
    const elemType = types().get(t);
    if (elemType === undefined || elemType === DataType.UNDEFINED) {
      const p = graph.node[producer.get(t)!];
      throw new TwbError('usage', `cannot cut at tensor "${t}": its element type is unknown (made by ${p.opType} node "${p.name}", and the model declares no value_info for it); choose a partition that does not cut there`);
    }
    return { name: t, type: { tensorType: { elemType } } };
  };
  const position = new Map(order.map((node, k) => [node, k] as const));
  const byPosition = (a: string, b: string) => position.get(producer.get(a)!)! - position.get(producer.get(b)!)!;

  return virtualStages.map((stageUnits, s) => {
    const own = order.filter((i) => stageOfNode[i] === s && !isConstant(graph.node[i])).map((i) => graph.node[i]);
    const originalOutputs = graph.output.filter((o) => plan.outputStage(o.name) === s);
    const needed = new Set(reads[s]);
    const made = new Set(own.flatMap((n) => n.output));
    const constantNodes = [...new Set([...needed].map((t) => constants.get(t)).filter((n): n is NodeProto => n !== undefined))];
    for (const n of constantNodes) for (const o of n.output) made.add(o);

    const cutIn = [...needed].filter((t) => !made.has(t) && producer.has(t)).sort(byPosition);
    const fed = graph.input.filter((v) => needed.has(v.name) && !inits.has(v.name) && !made.has(v.name));
    // Weights that are also graph inputs (overridable defaults; every weight below IR 4) stay inputs.
    const weightInputs = graph.input.filter((v) => needed.has(v.name) && inits.has(v.name));
    const initializer = graph.initializer.filter((t) => needed.has(t.name));
    const cutOut = [...made].filter((t) => (laterReaders.get(t) ?? -1) > s && producer.has(t)).sort(byPosition);
    const outputNames = new Set(originalOutputs.map((o) => o.name));
    const outputs: ValueInfoProto[] = [...originalOutputs.map((o) => ({ ...o })), ...cutOut.filter((t) => !outputNames.has(t)).map(cutInfo)];
    const inputs: ValueInfoProto[] = [...fed.map((v) => ({ ...v })), ...weightInputs.map((v) => ({ ...v })), ...cutIn.map(cutInfo)];
    const boundary = new Set([...inputs, ...outputs].map((v) => v.name));
    const sub: GraphProto = {
      name: `${graph.name || 'model'}_stage${s}`,
      node: [...constantNodes, ...own],
      initializer,
      input: inputs,
      output: outputs,
      valueInfo: graph.valueInfo.filter((v) => made.has(v.name) && !boundary.has(v.name)).map((v) => ({ ...v })),
      ...(graph.docString ? { docString: graph.docString } : {}),
    };
    return {
      model: { ...model, opsetImport: model.opsetImport.map((o) => ({ ...o })), graph: sub },
      inputs: [...fed.map((v) => v.name), ...cutIn],
      outputs: outputs.map((v) => v.name),
      units: [...stageUnits],
    };
  });
}

/**
 * `splitModel` with every cut tensor typed and ranked: those the model declares no shape for are
 * learned from one ORT run of the whole model on `feeds` (dims left unknown, so any batch and
 * sequence length still fit). The sub-models then pass onnx.checker.
 */
export async function splitModelTyped(model: ModelProto, virtualStages: number[][], feeds: Record<string, FeedTensor>): Promise<StageModel[]> {
  const declared = new Set([...model.graph.valueInfo, ...model.graph.output].filter((v) => v.type?.tensorType?.shape).map((v) => v.name));
  const unknown = cutTensors(model, virtualStages).filter((t) => !declared.has(t));
  return splitModel(model, virtualStages, await probeValueInfo(model, unknown, feeds));
}

/** Tensors made by one stage and read by a later one, in graph order. */
export function cutTensors(model: ModelProto, virtualStages: number[][]): string[] {
  const { laterReaders } = planSplit(model, virtualStages);
  return [...laterReaders.keys()];
}

/** Element type and rank of `tensors` from one ORT run with them exposed as outputs. */
export async function probeValueInfo(model: ModelProto, tensors: string[], feeds: Record<string, FeedTensor>): Promise<Map<string, ValueInfoProto>> {
  const info = new Map<string, ValueInfoProto>();
  if (tensors.length === 0) return info;
  const label = `${model.graph.name || 'model'} (probing the types of cut tensors)`;
  // Level `disabled`: fusion must not fold away a tensor that is about to become a stage boundary.
  const session = await openSession(encodeModel(exposeTensors(model, tensors)), { executionProvider: 'cpu', threads: 0, optLevel: 'disabled' }, label);
  try {
    const out = await session.fetch(feeds, tensors);
    for (const t of tensors) {
      const got = out[t];
      const elemType = got ? elemTypeOf(got.type) : undefined;
      if (got && elemType !== undefined) info.set(t, { name: t, type: { tensorType: { elemType, shape: got.dims.map(() => ({})) } } });
    }
  } finally {
    await session.release();
  }
  return info;
}

interface SplitPlan {
  graph: GraphProto;
  order: number[];
  stageOfNode: number[];
  /** Tensor → index of the node making it (Constant nodes excluded: they are copied, not cut). */
  producer: Map<string, number>;
  constants: Map<string, NodeProto>;
  inits: Map<string, TensorProto>;
  /** Per stage, everything its nodes read, and the original outputs it must give. */
  reads: Array<Set<string>>;
  /** Cut tensor → the last stage that reads it, in graph order. */
  laterReaders: Map<string, number>;
  outputStage: (tensor: string) => number;
}

function planSplit(model: ModelProto, virtualStages: number[][]): SplitPlan {
  const graph = model.graph;
  const external = graph.initializer.find(isExternal);
  if (external) {
    throw new TwbError('usage', `tensor "${external.name}" keeps its data in an external file; load the model with its external data inlined (inlineExternalData) before splitting it`);
  }
  const units = modelUnits(model);
  validatePartition(virtualStages, units.names);
  const stageOfUnit: number[] = [];
  virtualStages.forEach((us, s) => us.forEach((u) => (stageOfUnit[u] = s)));
  const stageOfNode = units.unitOfNode.map((u) => stageOfUnit[u]);
  const order = topologicalOrder(graph);
  const inits = new Map(graph.initializer.map((t) => [t.name, t] as const));
  const constants = new Map<string, NodeProto>();
  const constantStage = new Map<string, number>();
  const producer = new Map<string, number>();
  graph.node.forEach((n, i) => {
    for (const o of n.output) {
      if (!o) continue;
      if (isConstant(n)) {
        constants.set(o, n);
        constantStage.set(o, stageOfNode[i]);
      } else producer.set(o, i);
    }
  });
  const stageOfTensor = (t: string) => (producer.has(t) ? stageOfNode[producer.get(t)!] : undefined);
  // Original outputs belong to the stage that makes them; one made by no node (an input or a
  // weight passed straight through) to the last stage.
  const outputStage = (t: string) => stageOfTensor(t) ?? constantStage.get(t) ?? virtualStages.length - 1;

  const reads = virtualStages.map(() => new Set<string>());
  for (const i of order) if (!isConstant(graph.node[i])) for (const t of nodeReads(graph.node[i])) reads[stageOfNode[i]].add(t);
  for (const o of graph.output) reads[outputStage(o.name)].add(o.name);
  const laterReaders = new Map<string, number>();
  reads.forEach((set, s) => {
    for (const t of set) {
      const from = stageOfTensor(t);
      if (from !== undefined && from < s) laterReaders.set(t, Math.max(laterReaders.get(t) ?? -1, s));
    }
  });
  const position = new Map(order.map((node, k) => [node, k] as const));
  const sorted = new Map([...laterReaders].sort(([a], [b]) => position.get(producer.get(a)!)! - position.get(producer.get(b)!)!));
  return { graph, order, stageOfNode, producer, constants, inits, reads, laterReaders: sorted, outputStage };
}

/**
 * Checks that `virtualStages` lists every unit exactly once, in order, each stage a non-empty
 * contiguous run; throws a usage error naming the first problem and the units there are.
 */
export function validatePartition(virtualStages: number[][], unitNames: string[]): void {
  const list = `the model's units are ${unitNames.map((n, i) => `${i} ${n}`).join(', ')}`;
  if (!Array.isArray(virtualStages) || virtualStages.length === 0) throw new TwbError('usage', `no stages given; ${list}`);
  if (virtualStages.length > unitNames.length) {
    throw new TwbError('usage', `${virtualStages.length} stages asked for, but the model has only ${unitNames.length} units to share among them; ${list}`);
  }
  const seen = new Map<number, number>();
  virtualStages.forEach((us, s) => {
    if (!Array.isArray(us) || us.length === 0) throw new TwbError('usage', `stage ${s} has no units; every stage needs at least one; ${list}`);
    for (const u of us) {
      if (!Number.isInteger(u) || u < 0 || u >= unitNames.length) throw new TwbError('usage', `stage ${s} names unit ${u}, which does not exist; ${list}`);
      if (seen.has(u)) throw new TwbError('usage', `unit ${u} (${unitNames[u]}) is in stage ${seen.get(u)} and stage ${s}; each unit belongs to one stage`);
      seen.set(u, s);
    }
  });
  const missing = unitNames.map((_, u) => u).filter((u) => !seen.has(u));
  if (missing.length > 0) throw new TwbError('usage', `units ${missing.map((u) => `${u} (${unitNames[u]})`).join(', ')} are in no stage; ${list}`);
  const flat = virtualStages.flat();
  const bad = flat.findIndex((u, k) => u !== k);
  if (bad >= 0) {
    throw new TwbError('usage', `stage ${seen.get(flat[bad])} holds unit ${flat[bad]} (${unitNames[flat[bad]]}) out of order: stages take contiguous runs of units in model order; ${list}`);
  }
}

function isConstant(n: NodeProto): boolean {
  return n.opType === 'Constant' && isDefaultDomain(n.domain) && n.input.length === 0;
}

function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}
