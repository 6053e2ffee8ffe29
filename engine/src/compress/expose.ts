/**
 * Graph surgery for measuring error: exposing intermediate tensors as outputs, and cutting out the
 * part of a transformed graph that computes one tensor from values the original graph also has, so
 * that part can run alone on the original's exact inputs (the "local" error of qdq_loss_debug).
 */
import { cloneModel, GraphEditor, isDefaultDomain, subgraphs } from '../onnx/graph-edit';
import { valueInfo } from '../model/graph-builder';
import { DataType, ModelProto, NodeProto } from '../onnx/types';

/** A copy of `model` whose graph also outputs `tensors` (ORT infers the types of untyped outputs). */
export function exposeTensors(model: ModelProto, tensors: Iterable<string>): ModelProto {
  const copy = { ...model, graph: { ...model.graph, output: [...model.graph.output] } };
  const present = new Set(copy.graph.output.map((o) => o.name));
  const inputs = new Set(model.graph.input.map((i) => i.name));
  for (const t of tensors) {
    if (present.has(t) || inputs.has(t)) continue;
    present.add(t);
    copy.graph.output.push({ name: t });
  }
  return copy;
}

/** Tensors of the original graph a transformed subgraph may start from: node outputs (not Constants) and fed inputs. */
export function boundaryTensors(original: ModelProto): Set<string> {
  const inits = new Set(original.graph.initializer.map((t) => t.name));
  const set = new Set(original.graph.input.map((i) => i.name).filter((n) => !inits.has(n)));
  for (const n of original.graph.node) {
    if (n.opType === 'Constant' && isDefaultDomain(n.domain)) continue;
    for (const o of n.output) if (o) set.add(o);
  }
  return set;
}

/** The nodes of `model` that compute `output` back to tensors in `boundary`, and those tensors. */
export interface LocalCut {
  output: string;
  nodes: NodeProto[];
  /** Boundary tensors the nodes read (fed from the original model's values). */
  inputs: string[];
}

/** Above this many nodes a cut is not a "layer" any more; error analysis reports it as not local. */
const MAX_CUT_NODES = 64;

export function localCut(model: ModelProto, output: string, boundary: ReadonlySet<string>): LocalCut | undefined {
  const editor = new GraphEditor(model);
  const order = new Map(model.graph.node.map((n, i) => [n, i] as const));
  const nodes = new Set<NodeProto>();
  const inputs = new Set<string>();
  const stack = [output];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t) || !t) continue;
    seen.add(t);
    if (t !== output && boundary.has(t)) {
      inputs.add(t);
      continue;
    }
    const p = editor.producer(t);
    if (!p) continue; // initializer (copied later) or a graph input the original also has
    if (p.attribute.some((a) => subgraphs(a).length > 0)) return undefined;
    nodes.add(p);
    if (nodes.size > MAX_CUT_NODES) return undefined;
    for (const i of p.input) stack.push(i);
  }
  if (nodes.size === 0) return undefined;
  const sorted = [...nodes].sort((a, b) => order.get(a)! - order.get(b)!);
  // A graph input of the original that is read directly is a boundary input too.
  for (const n of sorted) for (const i of n.input) if (i && boundary.has(i) && !editor.producer(i)) inputs.add(i);
  return { output, nodes: sorted, inputs: [...inputs] };
}

/** A standalone model of a cut: its inputs typed and shaped as given, its initializers copied. */
export function cutModel(model: ModelProto, cut: LocalCut, inputTypes: Record<string, { elemType: DataType; dims: number[] }>): ModelProto {
  const read = new Set(cut.nodes.flatMap((n) => n.input));
  const base = cloneModel({ ...model, graph: { ...model.graph, node: [], valueInfo: [] } });
  base.graph.node = cut.nodes;
  base.graph.initializer = model.graph.initializer.filter((t) => read.has(t.name) && !cut.inputs.includes(t.name));
  base.graph.input = cut.inputs.map((name) => valueInfo(name, inputTypes[name]!.elemType, inputTypes[name]!.dims));
  base.graph.output = [{ name: cut.output }];
  return base;
}
