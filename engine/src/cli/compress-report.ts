import { CompressionReport } from '../schema/compression';
import { formatBytes, formatPercent, textTable } from '../util/format';

const db = (v: number | null | undefined) => (v === undefined ? '-' : v === null ? 'exact' : v.toFixed(1));

/** The text `twb quantize` and `twb prune` print: before/after table, worst layers, skipped nodes. */
export function formatCompressionReport(r: CompressionReport, top = 15): string {
  const c = r.config;
  const what = [
    c.mode,
    c.perChannel ? 'per-channel' : '',
    c.calibrate ? `calibrate ${c.calibrate}` : '',
    c.method ? `${c.method}, block ${c.blockSize}` : '',
    c.amount !== undefined ? `amount ${c.amount}` : '',
    c.exclude.length ? `${c.exclude.length} node(s) kept` : '',
  ].filter(Boolean).join(' · ');
  const pct = (v: number) => formatPercent(v);
  const rows: string[][] = [
    ['size', formatBytes(r.sizeBytes.before), formatBytes(r.sizeBytes.after), `${(r.sizeBytes.before / Math.max(r.sizeBytes.after, 1)).toFixed(2)}× smaller`],
    ['latency p50', `${r.latencyMs.before.toFixed(2)} ms`, `${r.latencyMs.after.toFixed(2)} ms`, `${r.speedup.toFixed(2)}× ${r.speedup >= 1 ? 'faster' : 'slower'}`],
  ];
  if (r.eval) rows.push(['accuracy', pct(r.eval.accuracyBefore), pct(r.eval.accuracyAfter), `${((r.eval.accuracyAfter - r.eval.accuracyBefore) * 100).toFixed(2)} points`]);
  const layers = [...r.layers].sort((a, b) => (a.sqnrDb ?? a.cumulativeSqnrDb ?? Infinity) - (b.sqnrDb ?? b.cumulativeSqnrDb ?? Infinity));
  const lines = [
    `${r.kind === 'quantization' ? 'Quantized' : 'Pruned'} ${r.model.source}: ${what}`,
    `on ${r.env.executionProvider} · ${r.config.threads} threads · ONNX Runtime ${r.env.ortVersion} · latency over ${r.config.runs} interleaved runs each`,
    '',
    textTable(['', 'before', 'after', 'change'], rows, [false, true, true, false]),
    '',
    `output "${r.output.name}": SQNR ${db(r.output.sqnrDb)} dB · cosine ${r.output.cosine.toFixed(5)} · top-1 agreement ${pct(r.output.top1Agreement)} (${r.analysis.examples} examples, ${r.analysis.inputs} inputs)`,
    '',
    `${r.layers.length} node(s) rewritten; ${Math.min(top, layers.length)} with the most error (local = the node alone on the original's inputs)`,
    textTable(
      ['node', 'op', 'local dB', 'cumul. dB', 'cosine', 'weight dB', 'time share', 'what'],
      layers.slice(0, top).map((l) => [
        l.node.length > 40 ? `…${l.node.slice(-39)}` : l.node,
        l.opType,
        db(l.sqnrDb),
        db(l.cumulativeSqnrDb),
        l.cosine.toFixed(5),
        db(l.weightSqnrDb),
        l.latencyShare !== undefined ? pct(l.latencyShare) : '-',
        l.detail ?? '',
      ]),
      [false, false, true, true, true, true, true, false],
    ),
  ];
  if (r.skipped.length > 0) {
    lines.push('', `${r.skipped.length} node(s) not rewritten:`, ...r.skipped.slice(0, top).map((s) => `  ${s.node} (${s.opType}): ${s.reason}`));
    if (r.skipped.length > top) lines.push(`  … and ${r.skipped.length - top} more (see the JSON report)`);
  }
  if (r.notes.length > 0) lines.push('', ...r.notes.map((n) => `note: ${n}`));
  if (r.warnings.length > 0) lines.push('', ...r.warnings.map((w) => `warning: ${w}`));
  lines.push('', `Model written to ${r.outFile}`);
  return lines.join('\n');
}
