import {
  AttributeProto,
  AttributeType,
  DataType,
  GraphProto,
  NodeProto,
  TensorProto,
  ValueInfoProto,
} from '../onnx/types';

/** Attribute values the builder accepts; numbers become INT when integral and `asFloat` is not set. */
export type AttrValue = number | string | number[] | { float: number } | { tensor: TensorProto };

/**
 * Small helper for writing ONNX graphs by hand: nodes are named `scope/name` and their outputs take
 * the node's name, so the graph reads like the model's structure (`layer2/attn/qk_matmul`).
 */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  private readonly names = new Set<string>();

  /** Adds a node whose single output is named after the node; returns that output name. */
  op(name: string, opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    if (this.names.has(name)) throw new Error(`duplicate node name "${name}"`);
    this.names.add(name);
    this.nodes.push({
      name,
      opType,
      domain: '',
      input: inputs,
      output: [name],
      attribute: Object.entries(attrs).map(([k, v]) => toAttribute(k, v)),
    });
    return name;
  }

  /** Registers an initializer and returns its name. */
  init(tensor: TensorProto): string {
    if (this.names.has(tensor.name)) throw new Error(`duplicate initializer name "${tensor.name}"`);
    this.names.add(tensor.name);
    this.initializers.push(tensor);
    return tensor.name;
  }

  input(name: string, elemType: DataType, dims: Array<number | string>): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Renames `from` (the last node's output) to the graph output `name`. */
  output(from: string, name: string, elemType: DataType, dims: Array<number | string>): void {
    const producer = this.nodes.find((n) => n.output[0] === from);
    if (!producer) throw new Error(`no node produces "${from}"`);
    producer.output[0] = name;
    for (const n of this.nodes) n.input = n.input.map((i) => (i === from ? name : i));
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  build(name: string, docString?: string): GraphProto {
    return {
      name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
      valueInfo: [],
      ...(docString ? { docString } : {}),
    };
  }
}

export function valueInfo(name: string, elemType: DataType, dims: Array<number | string>): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
      },
    },
  };
}

function toAttribute(name: string, v: AttrValue): AttributeProto {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: use { float } for non-integers`);
    return { name, type: AttributeType.INT, i: BigInt(v) };
  }
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v.map((x) => BigInt(x)) };
  if ('float' in v) return { name, type: AttributeType.FLOAT, f: v.float };
  return { name, type: AttributeType.TENSOR, t: v.tensor };
}
