import { AttributeType, GraphProto, NodeProto } from '../onnx/types';

/**
 * Layer index encoded in a node or tensor name, as exporters write them:
 * `layer2/attn/qk_matmul`, `/model/layers.3/mlp/fc1/MatMul`, `/transformer/h.0/attn/c_attn`,
 * `encoder.layer.1.attention…`, `blocks_5`. Returns null when the name names no layer.
 */
export function layerFromName(name: string): number | null {
  const m = /(?:^|[/._:-])(?:layers?|h|blocks?|block_|decoder_layer|encoder_layer|transformer_block)[._/-]?(\d+)(?=$|[/._:-])/i.exec(name);
  return m ? Number(m[1]) : null;
}

export interface IndexedNode {
  node: NodeProto;
  /** Integer attributes, for FLOP counting. */
  attrs: Record<string, number>;
}

/**
 * Lookup tables over the graph ORT actually ran (saved with `optimizedModelFilePath`), used to map
 * profile events back to layers and to recover input shapes ORT leaves out of its profile.
 */
export class GraphIndex {
  readonly nodes = new Map<string, IndexedNode>();
  readonly initDims = new Map<string, number[]>();
  private readonly producer = new Map<string, string>();
  private readonly layers = new Map<string, number | null>();

  constructor(graph: GraphProto) {
    for (const t of graph.initializer) this.initDims.set(t.name, t.dims);
    for (const node of graph.node) {
      const attrs: Record<string, number> = {};
      for (const a of node.attribute) if (a.type === AttributeType.INT && a.i !== undefined) attrs[a.name] = Number(a.i);
      this.nodes.set(node.name, { node, attrs });
      for (const o of node.output) this.producer.set(o, node.name);
    }
  }

  /**
   * Layer of a node: from its own name; else from the weights it reads (fused nodes get generic
   * names but keep their layer's initializers); else the deepest layer among its producers.
   */
  layerOf(nodeName: string, depth = 0): number | null {
    const cached = this.layers.get(nodeName);
    if (cached !== undefined) return cached;
    const layer = this.inferLayer(nodeName, depth);
    this.layers.set(nodeName, layer);
    return layer;
  }

  private inferLayer(nodeName: string, depth: number): number | null {
    const own = layerFromName(nodeName);
    if (own !== null) return own;
    // A scoped name without a layer (`head/lm_matmul`, `/lm_head/MatMul`) is outside the layers;
    // only generic names (`Attention_0`, `BiasGelu_token_3`, `fused Gemm_187`) are looked into.
    if (/[/.]/.test(stripFusionSuffix(nodeName))) return null;
    const entry = this.nodes.get(nodeName);
    if (!entry) return null;
    const weights = entry.node.input.filter((i) => this.initDims.has(i) && (this.initDims.get(i)?.length ?? 0) > 0);
    if (weights.length > 0) {
      const fromWeights = weights.map(layerFromName).filter((l): l is number => l !== null);
      return fromWeights.length > 0 ? Math.max(...fromWeights) : null;
    }
    if (depth >= 64) return null;
    // No weights: ops between two layers (residual adds, casts) join the deepest layer feeding them.
    const upstream = entry.node.input
      .map((i) => this.producer.get(i))
      .filter((p): p is string => p !== undefined)
      .map((p) => this.layerOf(p, depth + 1))
      .filter((l): l is number => l !== null);
    return upstream.length > 0 ? Math.max(...upstream) : null;
  }

  /**
   * Input shapes aligned with the node's inputs. ORT omits prepacked constant inputs from its
   * profile, so each initializer input whose shape does not match the next reported shape is
   * taken as omitted and its stored shape used instead.
   */
  alignInputShapes(nodeName: string, reported: number[][]): number[][] {
    const entry = this.nodes.get(nodeName);
    if (!entry) return reported;
    const aligned: number[][] = [];
    let next = 0;
    for (const input of entry.node.input) {
      if (input === '') {
        aligned.push([]);
        continue;
      }
      const init = this.initDims.get(input);
      const candidate = reported[next];
      if (init && (!candidate || !sameDims(init, candidate))) {
        aligned.push(init);
        continue;
      }
      aligned.push(candidate ?? init ?? []);
      next++;
    }
    return aligned;
  }
}

/** Drops the suffix ORT's optimizer appends to a fused node's name (`X/MatMulScaleFusion/`). */
export function stripFusionSuffix(name: string): string {
  return name.replace(/^fused /, '').replace(/\/[A-Za-z0-9]*Fusion\/?.*$/, '').replace(/_token_\d+$/, '');
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
