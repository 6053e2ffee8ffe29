import { countFlops } from '../analysis/flops';
import { KernelTrace, LayerStat, MemoryProfile, OpStat, OpTypeStat } from '../schema/run';
import { GraphIndex, layerFromName, stripFusionSuffix } from './graph-index';
import { assignRuns, OrtProfile } from './ort-profile';

export interface AggregateInput {
  profile: OrtProfile;
  /** Leading `model_run`s to drop (warm-up runs made on the profiled session). */
  skipRuns: number;
  /** The graph ORT ran, when it could be saved. */
  graph?: GraphIndex;
  /** Node names of the graph as stored, to tell fused or renamed nodes apart. */
  storedNodeNames?: ReadonlySet<string>;
  weightsBytes: number;
}

export interface Aggregated {
  ops: OpStat[];
  opTypes: OpTypeStat[];
  layers: LayerStat[];
  memory: MemoryProfile;
  trace: KernelTrace;
  /** Counted operations per inference. */
  flopsPerRun: number;
  /** Profiled runs that were aggregated. */
  runs: number;
}

/** Turns the kernels of the measured runs into per-node, per-op-type and per-layer statistics. */
export function aggregateProfile(input: AggregateInput): Aggregated {
  const { profile, skipRuns, graph } = input;
  const runOf = assignRuns(profile);
  const measuredRuns = profile.runs.slice(skipRuns);
  const byNode = new Map<string, OpStat>();
  const trace: KernelTrace = { op: [], run: [], startUs: [], durUs: [], runUs: measuredRuns.map((r) => r.durUs) };
  const order: OpStat[] = [];
  const indexOf = new Map<OpStat, number>();
  profile.kernels.forEach((k, i) => {
    const run = runOf[i] - skipRuns;
    if (runOf[i] < 0 || run < 0) return;
    let stat = byNode.get(k.node);
    if (!stat) {
      const inputShapes = graph ? graph.alignInputShapes(k.node, k.inputShapes) : k.inputShapes;
      const entry = graph?.nodes.get(k.node);
      const flops = countFlops({ opType: k.opType, domain: entry?.node.domain ?? '', inputs: inputShapes, outputs: k.outputShapes, attrs: entry?.attrs });
      stat = {
        node: k.node,
        opType: k.opType,
        domain: normalizeDomain(entry?.node.domain),
        layer: graph ? graph.layerOf(k.node) : layerFromName(k.node),
        provider: k.provider,
        calls: 0,
        totalUs: 0,
        meanUs: 0,
        share: 0,
        flops,
        gflops: 0,
        inputShapes,
        outputShapes: k.outputShapes,
        paramBytes: k.paramBytes,
      };
      const fused = fusedFrom(k.node, input.storedNodeNames);
      if (fused) stat.fusedFrom = fused;
      byNode.set(k.node, stat);
      indexOf.set(stat, order.length);
      order.push(stat);
    }
    stat.calls++;
    stat.totalUs += k.durUs;
    trace.op.push(indexOf.get(stat)!);
    trace.run.push(run);
    trace.startUs.push(k.tsUs - measuredRuns[run].tsUs);
    trace.durUs.push(k.durUs);
  });

  const total = order.reduce((s, o) => s + o.totalUs, 0);
  for (const o of order) {
    o.meanUs = o.calls > 0 ? o.totalUs / o.calls : 0;
    o.share = total > 0 ? o.totalUs / total : 0;
    o.gflops = o.flops > 0 && o.meanUs > 0 ? o.flops / (o.meanUs * 1e3) : 0;
  }
  // Sorting after the trace is built keeps trace.op pointing at the right entries: remap once.
  const sorted = [...order].sort((a, b) => b.totalUs - a.totalUs);
  const newIndex = new Map(sorted.map((o, i) => [o, i]));
  trace.op = trace.op.map((i) => newIndex.get(order[i])!);

  return {
    ops: sorted,
    opTypes: groupByOpType(sorted, total, measuredRuns.length),
    layers: groupByLayer(sorted, total),
    memory: memoryProfile(input, runOf),
    trace,
    flopsPerRun: measuredRuns.length > 0 ? sorted.reduce((s, o) => s + o.flops * o.calls, 0) / measuredRuns.length : 0,
    runs: measuredRuns.length,
  };
}

function normalizeDomain(domain: string | undefined): string {
  return !domain || domain === 'ai.onnx' ? '' : domain;
}

/** ORT names fused nodes after one of the originals: `fused Gemm_187`, `Mul_19/LayerNormFusion/`. */
function fusedFrom(name: string, stored: ReadonlySet<string> | undefined): string[] | undefined {
  if (!stored || stored.has(name)) return undefined;
  const base = stripFusionSuffix(name);
  return base !== name && stored.has(base) ? [base] : undefined;
}

function groupByOpType(ops: OpStat[], total: number, runs: number): OpTypeStat[] {
  const map = new Map<string, OpTypeStat>();
  for (const o of ops) {
    const key = `${o.domain}::${o.opType}`;
    const t = map.get(key) ?? { opType: o.opType, domain: o.domain, calls: 0, totalUs: 0, share: 0, flops: 0 };
    t.calls += o.calls;
    t.totalUs += o.totalUs;
    t.flops += runs > 0 ? (o.flops * o.calls) / runs : 0;
    map.set(key, t);
  }
  const list = [...map.values()];
  for (const t of list) t.share = total > 0 ? t.totalUs / total : 0;
  return list.sort((a, b) => b.totalUs - a.totalUs);
}

function groupByLayer(ops: OpStat[], total: number): LayerStat[] {
  const map = new Map<number | null, number>();
  for (const o of ops) map.set(o.layer, (map.get(o.layer) ?? 0) + o.totalUs);
  return [...map.entries()]
    .map(([layer, us]) => ({ layer, totalUs: us, share: total > 0 ? us / total : 0 }))
    .sort((a, b) => (a.layer ?? -1) - (b.layer ?? -1));
}

/** Arena memory after each kernel of the first measured run, and the peak over all measured runs. */
function memoryProfile(input: AggregateInput, runOf: number[]): MemoryProfile {
  const { profile, skipRuns } = input;
  const first = profile.runs[skipRuns];
  const timeline: MemoryProfile['timeline'] = [];
  let peakBytes = 0;
  let arenaHeldBytes = 0;
  let peakAt: MemoryProfile['peakAt'];
  let peakInFirstRun = -1;
  let seen = false;
  profile.kernels.forEach((k, i) => {
    if (runOf[i] < skipRuns || !k.mem) return;
    seen = true;
    peakBytes = Math.max(peakBytes, k.mem.peak, k.mem.inUse);
    arenaHeldBytes = Math.max(arenaHeldBytes, k.mem.arenaHeld);
    if (runOf[i] === skipRuns && first) {
      const tUs = k.tsUs - first.tsUs + k.durUs;
      timeline.push({ tUs, bytes: k.mem.inUse });
      if (k.mem.inUse > peakInFirstRun) {
        peakInFirstRun = k.mem.inUse;
        peakAt = { tUs, node: k.node };
      }
    }
  });
  const memory: MemoryProfile = { peakBytes, weightsBytes: input.weightsBytes, arenaHeldBytes, timeline };
  if (peakAt) memory.peakAt = peakAt;
  if (!seen) memory.unavailable = 'the execution provider reported no memory fields in its profile';
  return memory;
}
