import { InferenceRun } from '../schema/run';
import { formatBytes, formatCount, formatPercent, formatUs, textTable } from '../util/format';

/** The text report `twb profile` prints: headline figures, top ops, op types, warnings. */
export function formatRunReport(run: InferenceRun, top = 15): string {
  const c = run.config;
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  const dims = run.model.inputs.map((i) => `${i.name}[${i.dims.join('×')}]`).join(' ');
  const lines = [
    `${run.model.source} on ${run.env.executionProvider} · ${c.threads} threads · opt ${c.optLevel} · ONNX Runtime ${run.env.ortVersion}`,
    `inputs   ${dims || '(none)'}`,
    `model    ${formatCount(run.model.params)} params · ${formatBytes(run.model.sizeBytes)} · opset ${run.model.opset} · ${run.model.nodeCount} nodes`,
    `latency  p50 ${ms(run.latencyMs.p50)} · p90 ${ms(run.latencyMs.p90)} · mean ${ms(run.latencyMs.mean)} (${c.runs} unprofiled runs; profiled runs mean ${ms(run.profiledLatencyMs.mean)})`,
    `compute  ${formatCount(run.compute.flops)}FLOP per run · ${run.compute.gflops.toFixed(1)} GFLOP/s at p50 (matmul, attention and conv ops counted)`,
    run.memory.unavailable
      ? `memory   weights ${formatBytes(run.memory.weightsBytes)} · activations: ${run.memory.unavailable}`
      : `memory   peak ${formatBytes(run.memory.peakBytes)} in ORT's arena${run.memory.peakAt ? ` (after ${run.memory.peakAt.node})` : ''} · weights ${formatBytes(run.memory.weightsBytes)}`,
    '',
    `Top ${Math.min(top, run.ops.length)} of ${run.ops.length} nodes by kernel time over ${run.trace.runUs.length} profiled runs`,
    textTable(
      ['node', 'op', 'layer', 'calls', 'mean', 'share', 'GFLOP/s'],
      run.ops.slice(0, top).map((o) => [
        truncate(o.node, 44),
        o.domain ? `${o.domain.replace(/^com\.microsoft$/, 'ms')}:${o.opType}` : o.opType,
        o.layer === null ? '-' : String(o.layer),
        String(o.calls),
        formatUs(o.meanUs),
        formatPercent(o.share),
        o.gflops > 0 ? o.gflops.toFixed(1) : '',
      ]),
      [false, false, true, true, true, true, true],
    ),
    '',
    'Op types',
    textTable(
      ['op type', 'calls', 'total', 'share'],
      run.opTypes.slice(0, top).map((t) => [t.domain ? `${t.domain}:${t.opType}` : t.opType, String(t.calls), formatUs(t.totalUs), formatPercent(t.share)]),
      [false, true, true, true],
    ),
  ];
  if (run.warnings.length > 0) lines.push('', ...run.warnings.map((w) => `warning: ${w}`));
  return lines.join('\n');
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `…${s.slice(s.length - n + 1)}`;
}
