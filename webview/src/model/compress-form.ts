/**
 * The Quantization view's re-run: the report's own configuration with a new keep-in-fp32 list, and
 * how reports are named in its picker and heading.
 */
import type { CompressForm } from '../../../engine/src/protocol/webview';
import type { CompressionReport } from '../../../engine/src/schema/compression';

/** Nodes to keep in fp32, in a stable order: the report's own exclusions first, then layers in graph order, then anything else. */
export function keptList(report: CompressionReport, keep: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (n: string) => {
    if (keep.has(n) && !seen.has(n)) {
      seen.add(n);
      out.push(n);
    }
  };
  report.config.exclude.forEach(add);
  report.layers.forEach((l) => add(l.node));
  [...keep].forEach(add);
  return out;
}

/** The `compress/start` form that repeats `report` with `exclude` kept in fp32. */
export function compressFormOf(report: CompressionReport, exclude: string[]): CompressForm {
  const c = report.config;
  return {
    model: report.model.source,
    mode: c.mode,
    perChannel: c.perChannel,
    ...(c.calibrate !== undefined ? { calibrate: c.calibrate } : {}),
    ...(c.method !== undefined ? { method: c.method } : {}),
    ...(c.blockSize !== undefined ? { blockSize: c.blockSize } : {}),
    ...(c.amount !== undefined ? { amount: c.amount } : {}),
    exclude,
    ...(c.calibrationFile !== undefined ? { calibrationFile: c.calibrationFile } : {}),
    ...(c.evalFile !== undefined ? { evalFile: c.evalFile } : {}),
    batch: c.batch,
    seq: c.seq,
    threads: c.threads,
    runs: c.runs,
  };
}

/** `int8-dynamic per-channel`, `int4-weight gptq/32`, `magnitude 50%`, `2:4`. */
export function modeLabel(report: CompressionReport): string {
  const c = report.config;
  const parts: string[] = [c.mode];
  if (c.perChannel) parts.push('per-channel');
  if (c.calibrate) parts.push(`${c.calibrate} calibration`);
  if (c.method) parts.push(`${c.method}${c.blockSize ? `/${c.blockSize}` : ''}`);
  if (c.amount !== undefined && c.mode !== '2:4') parts.push(`${+(c.amount * 100).toFixed(1)}%`);
  return parts.join(' ');
}

/** Short model name: `tiny-bert` for `builtin:tiny-bert`, the file name without `.onnx` otherwise. */
export function shortModelName(report: CompressionReport): string {
  return report.model.name.replace(/^builtin:/, '').replace(/^.*[\\/]/, '').replace(/\.onnx$/i, '');
}

/** `SQNR 31.2 dB`, or `exact` when the output did not change. */
export function outputSqnrLabel(report: CompressionReport): string {
  return report.output.sqnrDb === null ? 'exact' : `${report.output.sqnrDb.toFixed(1)} dB`;
}

/** `#2 int8-dynamic per-channel tiny-bert — 1.42× · 31.2 dB` */
export function reportPickerLabel(report: CompressionReport, index: number): string {
  return `#${index + 1} ${modeLabel(report)} ${shortModelName(report)} — ${report.speedup.toFixed(2)}× · ${outputSqnrLabel(report)}${report.config.exclude.length ? ` · ${report.config.exclude.length} kept fp32` : ''}`;
}
