/**
 * Icicle chart of kernel time: all kernels → layer → op type → node, each rectangle as wide as its
 * share of the time. Pure layout; the Ops view draws the rectangles.
 */
import type { InferenceRun, OpStat } from '../../../engine/src/schema/run';

/** Depth of a rectangle: 0 all kernels, 1 layer, 2 op type, 3 node. */
export type IcicleDepth = 0 | 1 | 2 | 3;

export interface IcicleRect {
  /** Left edge, pixels. */
  x: number;
  /** Width, pixels. */
  w: number;
  /** Top edge, pixels. */
  y: number;
  /** Height, pixels. */
  h: number;
  depth: IcicleDepth;
  /** Unique path key, e.g. `L2/MatMul/layer2/ffn/up`. */
  key: string;
  label: string;
  /** Kernel time summed over the profiled runs, microseconds. */
  totalUs: number;
  /** totalUs over all kernel time (0–1). */
  share: number;
  layer: number | null;
  /** Op type, for depths 2 and 3. */
  opType?: string;
  /** The node, for depth 3. */
  op?: OpStat;
}

interface Node {
  key: string;
  label: string;
  totalUs: number;
  depth: IcicleDepth;
  layer: number | null;
  opType?: string;
  op?: OpStat;
  children: Node[];
}

/** Label of a layer: its index, or "no layer" for embeddings, head and unattributed nodes. */
export function layerLabel(layer: number | null): string {
  return layer === null ? 'no layer' : `layer ${layer}`;
}

/** The time tree of a run: layers in index order (no layer last), op types and nodes by time. */
export function icicleTree(run: InferenceRun): Node {
  const layers = new Map<number | null, Map<string, OpStat[]>>();
  for (const op of run.ops) {
    let byType = layers.get(op.layer);
    if (!byType) layers.set(op.layer, (byType = new Map()));
    const list = byType.get(op.opType);
    if (list) list.push(op);
    else byType.set(op.opType, [op]);
  }
  const layerKeys = [...layers.keys()].sort((a, b) => (a === null ? 1 : b === null ? -1 : a - b));
  const children = layerKeys.map((layer): Node => {
    const lk = `L${layer ?? '-'}`;
    const types = [...(layers.get(layer) as Map<string, OpStat[]>)].map(([opType, ops]): Node => {
      const nodes = ops
        .map((op): Node => ({ key: `${lk}/${opType}/${op.node}`, label: op.node, totalUs: op.totalUs, depth: 3, layer, opType, op, children: [] }))
        .sort((a, b) => b.totalUs - a.totalUs);
      return { key: `${lk}/${opType}`, label: opType, totalUs: sum(nodes), depth: 2, layer, opType, children: nodes };
    });
    types.sort((a, b) => b.totalUs - a.totalUs);
    return { key: lk, label: layerLabel(layer), totalUs: sum(types), depth: 1, layer, children: types };
  });
  return { key: 'all', label: 'all kernels', totalUs: sum(children), depth: 0, layer: null, children };
}

const sum = (nodes: Node[]) => nodes.reduce((s, n) => s + n.totalUs, 0);

/**
 * Rectangles of the icicle `widthPx` wide with rows `rowPx` high. Rectangles narrower than
 * `minWidthPx` are left out (their time still counts in their parents' widths).
 */
export function icicleLayout(run: InferenceRun, widthPx: number, rowPx: number, minWidthPx = 0): IcicleRect[] {
  const root = icicleTree(run);
  const total = root.totalUs;
  const out: IcicleRect[] = [];
  const visit = (n: Node, x: number, w: number) => {
    if (w < minWidthPx) return;
    out.push({ x, w, y: n.depth * rowPx, h: rowPx, depth: n.depth, key: n.key, label: n.label, totalUs: n.totalUs, share: total > 0 ? n.totalUs / total : 0, layer: n.layer, opType: n.opType, op: n.op });
    let cx = x;
    for (const c of n.children) {
      const cw = n.totalUs > 0 ? (w * c.totalUs) / n.totalUs : 0;
      visit(c, cx, cw);
      cx += cw;
    }
  };
  visit(root, 0, total > 0 ? widthPx : 0);
  return out;
}
