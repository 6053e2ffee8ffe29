/**
 * GPU utilization and communication/computation overlap, per device. Streams of one device run
 * concurrently, so busy time is the union of its kernel, memcpy and memset intervals, never their
 * sum; idle time is the rest of the device's span (first activity to the end of the last).
 * Communication kernels (NCCL/RCCL) against the other kernels: the overlap is where both unions
 * hold, so `overlapShare` is the part of communication hidden behind computation.
 */
import type { TraceCommunication, TraceGpu, TraceGpuDevice } from '../schema/trace';
import type { TraceCollector } from './collect';
import { isCommunicationKernel, Kind } from './event-kinds';
import { intersectionLength, lengthOf, unionOf } from './intervals';

export interface GpuSummary {
  gpu: TraceGpu | null;
  communication: TraceCommunication | null;
}

export function gpuSummary(c: TraceCollector, end: Float64Array): GpuSummary {
  const kind = c.kind.view();
  const device = c.device.view();
  const ts = c.ts.view();
  const dur = c.dur.view();
  const nameOf = c.name.view();
  const kernel = Kind.Kernel;
  const gpuRows = c.gpuRows.view();
  const isComm = new Map<number, boolean>();
  const rowsOf = new Map<number, { busy: number[]; comm: number[]; compute: number[] }>();
  for (let g = 0; g < gpuRows.length; g++) {
    const r = gpuRows[g];
    let d = rowsOf.get(device[r]);
    if (!d) rowsOf.set(device[r], (d = { busy: [], comm: [], compute: [] }));
    d.busy.push(r);
    if (kind[r] !== kernel) continue;
    let comm = isComm.get(nameOf[r]);
    if (comm === undefined) isComm.set(nameOf[r], (comm = isCommunicationKernel(c.names.values[nameOf[r]])));
    (comm ? d.comm : d.compute).push(r);
  }
  if (rowsOf.size === 0) return { gpu: null, communication: null };

  const devices: TraceGpuDevice[] = [];
  let first = Infinity;
  let last = -Infinity;
  let commUs = 0;
  let computeUs = 0;
  let overlapUs = 0;
  let anyComm = false;
  for (const [dev, d] of [...rowsOf.entries()].sort((a, b) => a[0] - b[0])) {
    let lo = Infinity;
    let hi = -Infinity;
    let kernelUs = 0;
    for (const r of d.busy) {
      if (ts[r] < lo) lo = ts[r];
      if (end[r] > hi) hi = end[r];
      if (kind[r] === kernel) kernelUs += dur[r];
    }
    const busyUs = lengthOf(unionOf(d.busy, ts, end));
    const spanUs = Math.max(0, hi - lo);
    devices.push({ device: dev, kernelUs, busyUs, idleUs: Math.max(0, spanUs - busyUs), utilization: spanUs > 0 ? Math.min(1, busyUs / spanUs) : 0, spanUs });
    first = Math.min(first, lo);
    last = Math.max(last, hi);
    const comm = unionOf(d.comm, ts, end);
    const compute = unionOf(d.compute, ts, end);
    anyComm ||= d.comm.length > 0;
    commUs += lengthOf(comm);
    computeUs += lengthOf(compute);
    overlapUs += intersectionLength(comm, compute);
  }
  return {
    gpu: { devices, spanUs: Math.max(0, last - first) },
    communication: anyComm ? { commUs, computeUs, overlapUs, overlapShare: commUs > 0 ? overlapUs / commUs : 0 } : null,
  };
}
