/**
 * Editing ONNX graphs for rewrite passes: a copy of the model that can be changed without touching
 * the original, and an index of who produces and who consumes each tensor. Passes read weights
 * through `constant()`, which sees initializers and `Constant` nodes alike (PyTorch exports use both).
 */
import { AttributeProto, AttributeType, DataType, GraphProto, ModelProto, NodeProto, TensorProto } from './types';
import { readFloat32 } from './tensor-data';
import { fromHalfArray } from './float16';
import { TwbError } from '../util/errors';

/**
 * A copy of `model` whose graph lists, nodes and attributes can be edited freely. Tensor payloads
 * are shared with the original and must be replaced, never written to.
 */
export function cloneModel(model: ModelProto): ModelProto {
  return {
    ...model,
    opsetImport: model.opsetImport.map((o) => ({ ...o })),
    ...(model.metadataProps ? { metadataProps: model.metadataProps.map((p) => ({ ...p })) } : {}),
    graph: cloneGraph(model.graph),
  };
}

function cloneGraph(g: GraphProto): GraphProto {
  return {
    ...g,
    node: g.node.map(cloneNode),
    initializer: [...g.initializer],
    input: g.input.map((v) => ({ ...v })),
    output: g.output.map((v) => ({ ...v })),
    valueInfo: g.valueInfo.map((v) => ({ ...v })),
  };
}

function cloneNode(n: NodeProto): NodeProto {
  return { ...n, input: [...n.input], output: [...n.output], attribute: n.attribute.map((a) => ({ ...a })) };
}

/** The default ONNX domain has two spellings. */
export function isDefaultDomain(domain: string | undefined): boolean {
  return !domain || domain === 'ai.onnx';
}

/** Mutable view of one model's main graph with producer/consumer lookups. */
export class GraphEditor {
  private readonly inits = new Map<string, TensorProto>();
  private readonly producers = new Map<string, NodeProto>();
  private readonly used = new Set<string>();

  constructor(readonly model: ModelProto) {
    this.reindex();
  }

  get graph(): GraphProto {
    return this.model.graph;
  }

  /** Rebuilds the lookups; call after editing `graph.node` directly. */
  reindex(): void {
    this.inits.clear();
    this.producers.clear();
    this.used.clear();
    const g = this.graph;
    for (const t of g.initializer) {
      this.inits.set(t.name, t);
      this.used.add(t.name);
    }
    for (const v of [...g.input, ...g.output, ...g.valueInfo]) this.used.add(v.name);
    for (const n of g.node) {
      if (n.name) this.used.add(n.name);
      for (const o of n.output) {
        if (o) {
          this.producers.set(o, n);
          this.used.add(o);
        }
      }
      for (const i of n.input) if (i) this.used.add(i);
    }
  }

  initializer(name: string): TensorProto | undefined {
    return this.inits.get(name);
  }

  producer(tensor: string): NodeProto | undefined {
    return this.producers.get(tensor);
  }

  /** Nodes that read `tensor`, in graph order. */
  consumers(tensor: string): NodeProto[] {
    return this.graph.node.filter((n) => n.input.includes(tensor));
  }

  /** True when `tensor` is fed by the caller (a graph input without an initializer default). */
  isGraphInput(tensor: string): boolean {
    return !this.inits.has(tensor) && this.graph.input.some((i) => i.name === tensor);
  }

  isGraphOutput(tensor: string): boolean {
    return this.graph.output.some((o) => o.name === tensor);
  }

  /**
   * The constant value of `tensor`: an initializer (that is not also an overridable graph input) or
   * the `value` of a `Constant` node. Undefined for anything computed or fed at run time.
   */
  constant(tensor: string): TensorProto | undefined {
    const init = this.inits.get(tensor);
    if (init) return this.graph.input.some((i) => i.name === tensor) ? undefined : init;
    const p = this.producers.get(tensor);
    if (p && p.opType === 'Constant' && isDefaultDomain(p.domain)) {
      const value = p.attribute.find((a) => a.name === 'value' && a.type === AttributeType.TENSOR);
      return value?.t;
    }
    return undefined;
  }

  /** A constant's values as fp32 (FLOAT or FLOAT16); undefined when not a float constant. */
  constantFloat(tensor: string): Float32Array | undefined {
    const t = this.constant(tensor);
    if (!t) return undefined;
    if (t.dataType === DataType.FLOAT) return readFloat32(t);
    if (t.dataType === DataType.FLOAT16) return readFloat16(t);
    return undefined;
  }

  /** A name not used by any tensor or node yet, derived from `base`. */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  addInitializer(t: TensorProto): string {
    if (this.inits.has(t.name)) throw new TwbError('internal', `initializer "${t.name}" already exists`);
    this.graph.initializer.push(t);
    this.inits.set(t.name, t);
    this.used.add(t.name);
    return t.name;
  }

  /** Replaces `node` in place by `replacement` (in that order) and updates the lookups. */
  replaceNode(node: NodeProto, replacement: NodeProto[]): void {
    const at = this.graph.node.indexOf(node);
    if (at < 0) throw new TwbError('internal', `node "${node.name}" is not in the graph`);
    this.graph.node.splice(at, 1, ...replacement);
    for (const o of node.output) if (this.producers.get(o) === node) this.producers.delete(o);
    for (const n of replacement) {
      if (n.name) this.used.add(n.name);
      for (const o of n.output) {
        if (o) {
          this.producers.set(o, n);
          this.used.add(o);
        }
      }
    }
  }

  /**
   * Drops the constants nothing reads any more: initializers and `Constant` nodes that no node (in
   * any subgraph) and no graph output reads, as a rewrite leaves its replaced weights behind.
   */
  removeUnusedConstants(): void {
    const read = new Set<string>(this.graph.output.map((o) => o.name));
    const visit = (g: GraphProto) => {
      for (const n of g.node) {
        for (const i of n.input) read.add(i);
        for (const a of n.attribute) for (const sub of subgraphs(a)) visit(sub);
      }
    };
    visit(this.graph);
    this.graph.node = this.graph.node.filter((n) => !(n.opType === 'Constant' && isDefaultDomain(n.domain) && !n.output.some((o) => read.has(o))));
    this.graph.initializer = this.graph.initializer.filter((t) => read.has(t.name));
    this.graph.input = this.graph.input.filter((i) => read.has(i.name) || !this.inits.has(i.name));
    this.reindex();
  }

  /** The opset version imported for `domain` ('' = default), if any. */
  opset(domain: string): number | undefined {
    return this.model.opsetImport.find((o) => (isDefaultDomain(domain) ? isDefaultDomain(o.domain) : o.domain === domain))?.version;
  }

  /** Imports `domain` at `version` unless some version of it is imported already. */
  ensureOpset(domain: string, version: number): void {
    if (this.opset(domain) === undefined) this.model.opsetImport.push({ domain, version });
  }
}

export function subgraphs(a: AttributeProto): GraphProto[] {
  if (a.type === AttributeType.GRAPH && a.g) return [a.g];
  if (a.type === AttributeType.GRAPHS && a.graphs) return a.graphs;
  return [];
}

/** Builds a node; attributes given as plain values (ints as numbers, floats via `{ float }`). */
export function makeNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  name: string,
  attrs: Record<string, number | number[] | string | { float: number }> = {},
  domain = '',
): NodeProto {
  const attribute: AttributeProto[] = Object.entries(attrs).map(([k, v]) => {
    if (typeof v === 'string') return { name: k, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
    if (Array.isArray(v)) return { name: k, type: AttributeType.INTS, ints: v.map((x) => BigInt(x)) };
    if (typeof v === 'object') return { name: k, type: AttributeType.FLOAT, f: v.float };
    return { name: k, type: AttributeType.INT, i: BigInt(v) };
  });
  return { name, opType, domain, input: inputs, output: outputs, attribute };
}

/** An integer attribute of a node, or `fallback`. */
export function intAttr(n: NodeProto, name: string, fallback: number): number {
  const a = n.attribute.find((x) => x.name === name);
  return a?.i !== undefined ? Number(a.i) : fallback;
}

/** A float attribute of a node, or `fallback`. */
export function floatAttr(n: NodeProto, name: string, fallback: number): number {
  const a = n.attribute.find((x) => x.name === name);
  return a?.f !== undefined ? a.f : fallback;
}

/** A tensor of any fixed-size type from raw little-endian bytes. */
export function tensorFromBytes(name: string, dataType: DataType, dims: number[], bytes: Uint8Array): TensorProto {
  return { name, dataType, dims: [...dims], rawData: bytes };
}

/** FLOAT16 tensor values as fp32. */
export function readFloat16(t: TensorProto): Float32Array {
  const raw = t.rawData;
  if (raw) {
    const copy = raw.slice();
    return fromHalfArray(new Uint16Array(copy.buffer, 0, copy.length >> 1));
  }
  // float16 without raw_data is stored as bit patterns in int32_data.
  return fromHalfArray(Uint16Array.from(t.int32Data ?? []));
}
