/**
 * The partitionable units of a model: `embed`, `layer N`…, `head`. Pipeline planning assigns whole
 * units to stages, and splitting cuts the graph between them, so both must agree on which node
 * belongs to which unit; this file is that agreement. A node's layer is the one the profiler
 * attributes it to (`GraphIndex.layerOf`), so a plan's per-layer costs and its cut line up.
 */
import { GraphProto, ModelProto, NodeProto } from '../onnx/types';
import { subgraphs } from '../onnx/graph-edit';
import { GraphIndex } from '../profile/graph-index';
import { TwbError } from '../util/errors';

/** The units of a model's main graph, in topological order. */
export interface ModelUnits {
  /** `embed`, `layer 0`, …, `head`, in order; `embed`/`head` only when they hold nodes. */
  names: string[];
  /** Transformer layer of each unit; null for `embed` and `head`. */
  layer: Array<number | null>;
  /** Per node of `graph.node` (stored order), the index of its unit in `names`. */
  unitOfNode: number[];
}

/**
 * Splits the main graph into units. Nodes are walked in topological order; layer-null nodes before
 * the first layer node form `embed`, those after the last form `head`, and those in between join
 * the layer before them. A node whose layer is lower than the current one (non-monotone naming)
 * joins the current unit, so every unit is a contiguous run of the topological order and a cut
 * between units never sends a tensor backwards.
 */
export function modelUnits(model: ModelProto): ModelUnits {
  const graph = model.graph;
  const order = topologicalOrder(graph);
  const layers = nodeLayers(graph);
  const firstLayer = order.findIndex((i) => layers[i] !== null);
  let lastLayer = -1;
  for (let k = order.length - 1; k >= 0; k--) {
    if (layers[order[k]] !== null) {
      lastLayer = k;
      break;
    }
  }

  const names: string[] = [];
  const layer: Array<number | null> = [];
  const unitOfNode = new Array<number>(graph.node.length).fill(-1);
  const open = (name: string, l: number | null) => {
    names.push(name);
    layer.push(l);
    return names.length - 1;
  };
  // With no layer node at all the whole graph is one unit, named like the part before the layers.
  let current = firstLayer === 0 ? -1 : open('embed', null);
  let currentLayer = -Infinity;
  let head = -1;
  order.forEach((node, k) => {
    const l = layers[node];
    if (lastLayer >= 0 && k > lastLayer) {
      if (head < 0) head = open('head', null);
      unitOfNode[node] = head;
      return;
    }
    if (l !== null && l > currentLayer) {
      currentLayer = l;
      current = open(`layer ${l}`, l);
    }
    unitOfNode[node] = current;
  });
  return { names, layer, unitOfNode };
}

/** The unit names of a model (`embed`, `layer 0`, …, `head`). */
export function unitNames(model: ModelProto): string[] {
  return modelUnits(model).names;
}

/**
 * Layer of each node (stored order) by `GraphIndex.layerOf`. The index is keyed by node name, so
 * unnamed or duplicate names get a unique stand-in first; the suffix keeps a name's own layer
 * (`layer2/x_dup1`) and adds none to a generic one.
 */
function nodeLayers(graph: GraphProto): Array<number | null> {
  const seen = new Set<string>();
  const taken = new Set(graph.node.map((n) => n.name));
  const keys = graph.node.map((n, i) => {
    let key = n.name;
    if (!key || seen.has(key)) {
      key = `${n.name || n.opType}_dup${i}`;
      while (taken.has(key)) key += '_';
    }
    seen.add(key);
    return key;
  });
  const renamed: GraphProto = { ...graph, node: graph.node.map((n, i) => (keys[i] === n.name ? n : { ...n, name: keys[i] })) };
  const index = new GraphIndex(renamed);
  return keys.map((k) => index.layerOf(k));
}

/**
 * Everything a node reads from its graph's scope: its inputs and the outer-scope names its
 * subgraphs (If/Loop/Scan bodies) use, which ONNX lets them read without listing them as inputs.
 */
export function nodeReads(node: NodeProto): string[] {
  const reads = new Set(node.input.filter((i) => i !== ''));
  for (const a of node.attribute) for (const g of subgraphs(a)) for (const name of outerNames(g)) reads.add(name);
  return [...reads];
}

/** Names a subgraph reads that it does not define itself (inputs, initializers, node outputs). */
function outerNames(g: GraphProto): Set<string> {
  const defined = new Set<string>([...g.input.map((v) => v.name), ...g.initializer.map((t) => t.name)]);
  const outer = new Set<string>();
  for (const n of g.node) {
    for (const name of nodeReads(n)) if (!defined.has(name)) outer.add(name);
    for (const o of n.output) if (o) defined.add(o);
  }
  for (const o of g.output) if (!defined.has(o.name)) outer.add(o.name);
  return outer;
}

/**
 * Node indices with every producer before its readers. ONNX requires the stored order to be
 * topological, so this returns it unchanged when it is; otherwise a depth-first order that keeps
 * stored order wherever it can (iterative: transformer graphs are long chains).
 */
export function topologicalOrder(graph: GraphProto): number[] {
  const nodes = graph.node;
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.output.forEach((o) => o && producer.set(o, i)));
  const deps = nodes.map((n) => nodeReads(n).map((t) => producer.get(t)).filter((p): p is number => p !== undefined));
  if (deps.every((d, i) => d.every((p) => p < i))) return nodes.map((_, i) => i);
  const state = new Uint8Array(nodes.length); // 0 new, 1 on the stack, 2 emitted
  const order: number[] = [];
  for (let root = 0; root < nodes.length; root++) {
    if (state[root] === 2) continue;
    const stack = [root];
    state[root] = 1;
    while (stack.length > 0) {
      const i = stack[stack.length - 1];
      const next = deps[i].find((p) => state[p] !== 2);
      if (next === undefined) {
        state[i] = 2;
        order.push(i);
        stack.pop();
      } else if (state[next] === 1) {
        throw new TwbError('invalid-model', `the graph has a cycle through node "${nodes[next].name || nodes[next].opType}"`);
      } else {
        state[next] = 1;
        stack.push(next);
      }
    }
  }
  return order;
}
