/**
 * How an imported trace and its parts are named in the views: the source format, devices, the
 * distributed setup and Python source frames.
 */
import type { TraceDevice, TraceDistributed, TraceFormat, TraceFrame, TraceRun } from '../../../engine/src/schema/trace';
import { formatBytes } from '../../../engine/src/util/format';

const FORMAT_NAMES: Record<TraceFormat, string> = {
  kineto: 'PyTorch profiler (Kineto) trace',
  ort: 'ONNX Runtime profile',
  chrome: 'Chrome trace',
};

/** `PyTorch profiler (Kineto) trace`, `ONNX Runtime profile`, `Chrome trace`. */
export function formatName(format: TraceFormat): string {
  return FORMAT_NAMES[format] ?? format;
}

/** `resnet50.pt.trace.json.gz · PyTorch profiler (Kineto) trace`: how a trace is named in headers and pickers. */
export function traceTitle(t: TraceRun): string {
  return `${t.source.name} · ${formatName(t.source.format)}`;
}

/** `0 · NVIDIA A100 · 39.59 GiB · sm 8.0`. */
export function deviceLabel(d: TraceDevice): string {
  return [String(d.id), d.name, d.totalMemoryBytes ? formatBytes(d.totalMemoryBytes) : '', d.computeCapability ? `sm ${d.computeCapability}` : ''].filter(Boolean).join(' · ');
}

/** `rank 1 of 2 · nccl`; parts the trace does not carry are left out (`rank 0`). */
export function distributedLabel(d: TraceDistributed): string {
  return [`rank ${d.rank}${d.worldSize !== null ? ` of ${d.worldSize}` : ''}`, d.backend ?? ''].filter(Boolean).join(' · ');
}

/** The last `keep` segments of a path, with `…/` in front when some were dropped. */
export function shortPath(file: string, keep = 2): string {
  const parts = file.split(/[\\/]/).filter((p) => p !== '');
  if (parts.length <= keep) return file;
  return `…/${parts.slice(-keep).join('/')}`;
}

/** `models/resnet.py:54` — short enough for a table cell; see {@link frameTitle} for the whole. */
export function frameLabel(f: TraceFrame): string {
  return `${shortPath(f.file)}:${f.line}`;
}

/** `/home/me/models/resnet.py:54 in forward`: the frame as the trace names it. */
export function frameTitle(f: TraceFrame): string {
  return `${f.file}:${f.line}${f.fn ? ` in ${f.fn}` : ''}`;
}
