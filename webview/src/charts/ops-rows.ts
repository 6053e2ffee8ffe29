/**
 * Rows of the Ops table: the run's nodes filtered by text and layer, grouped by node, op type or
 * layer, and sorted by any column.
 */
import type { InferenceRun, OpStat } from '../../../engine/src/schema/run';
import { layerLabel } from './icicle';

export type Grouping = 'node' | 'opType' | 'layer';

/** Layer filter: every layer, one layer index, or nodes outside any layer (null). */
export type LayerFilter = 'all' | number | null;

export interface OpsRow {
  key: string;
  /** Node name, op type or layer label, by grouping. */
  label: string;
  /** Op type (node grouping), or the distinct op types of the group. */
  opType: string;
  /** Layer of the node or group; undefined for an op type spanning several layers. */
  layer: number | null | undefined;
  /** Nodes in the group. */
  nodes: number;
  calls: number;
  /** Kernel time over all profiled runs, microseconds. */
  totalUs: number;
  /** Kernel time per call, microseconds. */
  meanUs: number;
  /** Share of all kernel time of the run (0–1), not only of the filtered rows. */
  share: number;
  /** Operations per call (node) or per inference (groups). */
  flops: number;
  /** Achieved GFLOP/s (0 where no FLOPs are counted). */
  gflops: number;
  /** Output shapes, e.g. `1×128×256` (node grouping only). */
  shapes: string;
}

export interface OpsQuery {
  grouping: Grouping;
  /** Case-insensitive substring of the node name or op type. */
  text: string;
  layer: LayerFilter;
}

export type SortKey = 'label' | 'opType' | 'layer' | 'nodes' | 'calls' | 'totalUs' | 'meanUs' | 'share' | 'gflops';

/** `1×128×256` */
export function formatShape(shape: readonly number[]): string {
  return shape.length ? shape.join('×') : 'scalar';
}

/** Nodes that pass the text and layer filters. */
export function filterOps(ops: readonly OpStat[], text: string, layer: LayerFilter): OpStat[] {
  const needle = text.trim().toLowerCase();
  return ops.filter((o) => (layer === 'all' || o.layer === layer) && (!needle || o.node.toLowerCase().includes(needle) || o.opType.toLowerCase().includes(needle)));
}

/** Rows for `query`, in the run's order (by time, for nodes); sort them with sortRows. */
export function opsRows(run: InferenceRun, query: OpsQuery): OpsRow[] {
  const total = run.ops.reduce((s, o) => s + o.totalUs, 0);
  const share = (us: number) => (total > 0 ? us / total : 0);
  const ops = filterOps(run.ops, query.text, query.layer);
  if (query.grouping === 'node') {
    return ops.map((o) => ({
      key: o.node,
      label: o.node,
      opType: o.opType,
      layer: o.layer,
      nodes: 1,
      calls: o.calls,
      totalUs: o.totalUs,
      meanUs: o.meanUs,
      share: share(o.totalUs),
      flops: o.flops,
      gflops: o.gflops,
      shapes: o.outputShapes.map(formatShape).join(', '),
    }));
  }
  const groups = new Map<string, OpStat[]>();
  for (const o of ops) {
    const k = query.grouping === 'opType' ? `${o.domain}::${o.opType}` : String(o.layer);
    const g = groups.get(k);
    if (g) g.push(o);
    else groups.set(k, [o]);
  }
  const runs = Math.max(1, run.trace.runUs.length || run.config.profiledRuns);
  return [...groups].map(([key, members]) => {
    const totalUs = members.reduce((s, o) => s + o.totalUs, 0);
    const calls = members.reduce((s, o) => s + o.calls, 0);
    const flops = members.reduce((s, o) => s + o.flops * (o.calls / runs), 0);
    const layers = new Set(members.map((o) => o.layer));
    const types = [...new Set(members.map((o) => o.opType))];
    const layer = layers.size === 1 ? members[0].layer : undefined;
    const perInferenceUs = totalUs / runs;
    return {
      key,
      label: query.grouping === 'opType' ? members[0].opType : layerLabel(members[0].layer),
      opType: query.grouping === 'opType' ? members[0].opType : types.length > 3 ? `${types.length} op types` : types.join(', '),
      layer,
      nodes: members.length,
      calls,
      totalUs,
      meanUs: calls > 0 ? totalUs / calls : 0,
      share: share(totalUs),
      flops,
      gflops: flops > 0 && perInferenceUs > 0 ? flops / perInferenceUs / 1000 : 0,
      shapes: '',
    };
  });
}

/** Rows sorted by `key` (numbers numerically, text naturally; no layer sorts after every layer). */
export function sortRows(rows: readonly OpsRow[], key: SortKey, descending: boolean): OpsRow[] {
  const dir = descending ? -1 : 1;
  const layerRank = (l: number | null | undefined) => (l === null ? 1e9 : l === undefined ? 2e9 : l);
  return [...rows].sort((a, b) => {
    let c: number;
    if (key === 'label' || key === 'opType') c = a[key].localeCompare(b[key], undefined, { numeric: true });
    else if (key === 'layer') c = layerRank(a.layer) - layerRank(b.layer);
    else c = a[key] - b[key];
    return c * dir || a.key.localeCompare(b.key, undefined, { numeric: true });
  });
}

/** Layers present in a run, for the layer dropdown: indices ascending, then null if any node has no layer. */
export function runLayers(run: InferenceRun): Array<number | null> {
  const set = new Set(run.ops.map((o) => o.layer));
  const nums = [...set].filter((l): l is number => l !== null).sort((a, b) => a - b);
  return set.has(null) ? [...nums, null] : nums;
}
