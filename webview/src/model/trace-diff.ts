/**
 * Two imported traces compared, as HTA's TraceDiff does: per-op deltas by operator name (calls,
 * self and total host time), per-kernel deltas by kernel name, and headline deltas. Ops or kernels
 * present on one side only are flagged `added` (only in the other trace) or `removed` (only in the
 * base). Times are whole-trace sums, or per step when both traces have `ProfilerStep#N` steps and
 * `perStep` is asked for (traces of the same program often profile different numbers of steps).
 */
import type { TraceRun } from '../../../engine/src/schema/trace';
import { DeltaFlag, flagDelta, REGRESSION_MIN_US } from '../charts/compare';
import { gpuActivityUs, gpuTotals, hostSelfUs, stepStats } from './trace-summary';

/** `both`: in both traces; `added`: only in the other; `removed`: only in the base. */
export type DiffStatus = 'both' | 'added' | 'removed';

export interface OpDiff {
  opType: string;
  status: DiffStatus;
  /** Per side; 0 where the op is absent. Times in microseconds. */
  baseCalls: number;
  otherCalls: number;
  baseSelfUs: number;
  otherSelfUs: number;
  baseTotalUs: number;
  otherTotalUs: number;
  /** other − base. */
  deltaCalls: number;
  deltaSelfUs: number;
  deltaTotalUs: number;
  /** otherSelfUs ÷ baseSelfUs; Infinity when added, 0 when removed, NaN when both are 0. */
  selfRatio: number;
  /** Slower or faster by more than the Compare threshold (on self time). */
  flag: DeltaFlag;
}

export interface KernelDiff {
  name: string;
  status: DiffStatus;
  baseCalls: number;
  otherCalls: number;
  /** Microseconds. */
  baseUs: number;
  otherUs: number;
  deltaCalls: number;
  deltaUs: number;
  /** otherUs ÷ baseUs, as for {@link OpDiff.selfRatio}. */
  ratio: number;
  flag: DeltaFlag;
}

export type HeadlineUnit = 'us' | 'bytes' | 'share' | 'count';

export interface TraceHeadline {
  label: string;
  unit: HeadlineUnit;
  /** Null when that trace does not have the figure. */
  base: number | null;
  other: number | null;
  /** other − base; null unless both have it. */
  delta: number | null;
  /** other ÷ base; null unless both have it. */
  ratio: number | null;
  flag: DeltaFlag;
}

export interface DiffOptions {
  /** Divide counts and times by each trace's step count (ignored unless both have steps). */
  perStep?: boolean;
}

/** Whether both traces have steps, so that a per-step comparison is possible. */
export function canCompareSteps(base: TraceRun, other: TraceRun): boolean {
  return base.steps.length > 0 && other.steps.length > 0;
}

const divisors = (base: TraceRun, other: TraceRun, o: DiffOptions): [number, number] => (o.perStep && canCompareSteps(base, other) ? [base.steps.length, other.steps.length] : [1, 1]);

const ratioOf = (a: number, b: number) => (a > 0 ? b / a : b > 0 ? Infinity : NaN);

function statusOf(inBase: boolean, inOther: boolean): DiffStatus {
  return inBase && inOther ? 'both' : inBase ? 'removed' : 'added';
}

/** Per-op deltas, largest |Δ self| first (then by name). */
export function diffOps(base: TraceRun, other: TraceRun, o: DiffOptions = {}): OpDiff[] {
  const [nb, no] = divisors(base, other, o);
  const a = new Map(base.opTypes.map((t) => [t.opType, t]));
  const b = new Map(other.opTypes.map((t) => [t.opType, t]));
  const names = new Set([...a.keys(), ...b.keys()]);
  const rows: OpDiff[] = [];
  for (const opType of names) {
    const x = a.get(opType);
    const y = b.get(opType);
    const r = {
      opType,
      status: statusOf(!!x, !!y),
      baseCalls: (x?.calls ?? 0) / nb,
      otherCalls: (y?.calls ?? 0) / no,
      baseSelfUs: (x?.selfUs ?? 0) / nb,
      otherSelfUs: (y?.selfUs ?? 0) / no,
      baseTotalUs: (x?.totalUs ?? 0) / nb,
      otherTotalUs: (y?.totalUs ?? 0) / no,
    };
    rows.push({ ...r, deltaCalls: r.otherCalls - r.baseCalls, deltaSelfUs: r.otherSelfUs - r.baseSelfUs, deltaTotalUs: r.otherTotalUs - r.baseTotalUs, selfRatio: ratioOf(r.baseSelfUs, r.otherSelfUs), flag: flagDelta(r.baseSelfUs, r.otherSelfUs, REGRESSION_MIN_US) });
  }
  return rows.sort((p, q) => Math.abs(q.deltaSelfUs) - Math.abs(p.deltaSelfUs) || p.opType.localeCompare(q.opType));
}

/** Per-kernel deltas (memcpy and memset included), largest |Δ GPU time| first. */
export function diffKernels(base: TraceRun, other: TraceRun, o: DiffOptions = {}): KernelDiff[] {
  const [nb, no] = divisors(base, other, o);
  const a = new Map(base.kernels.map((k) => [k.name, k]));
  const b = new Map(other.kernels.map((k) => [k.name, k]));
  const rows: KernelDiff[] = [];
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(name);
    const y = b.get(name);
    const baseCalls = (x?.calls ?? 0) / nb;
    const otherCalls = (y?.calls ?? 0) / no;
    const baseUs = (x?.totalUs ?? 0) / nb;
    const otherUs = (y?.totalUs ?? 0) / no;
    rows.push({ name, status: statusOf(!!x, !!y), baseCalls, otherCalls, baseUs, otherUs, deltaCalls: otherCalls - baseCalls, deltaUs: otherUs - baseUs, ratio: ratioOf(baseUs, otherUs), flag: flagDelta(baseUs, otherUs, REGRESSION_MIN_US) });
  }
  return rows.sort((p, q) => Math.abs(q.deltaUs) - Math.abs(p.deltaUs) || p.name.localeCompare(q.name));
}

const invert = (f: DeltaFlag): DeltaFlag => (f === 'regression' ? 'improvement' : f === 'improvement' ? 'regression' : null);

/**
 * Headline figures of both traces: span, mean step time, host self time, GPU time, GPU utilization
 * (higher is better), communication time, memory peak and step count. Figures a trace lacks are null.
 */
export function diffHeadline(base: TraceRun, other: TraceRun, o: DiffOptions = {}): TraceHeadline[] {
  const [nb, no] = divisors(base, other, o);
  const row = (label: string, unit: HeadlineUnit, a: number | null, b: number | null, minAbs: number, higherIsBetter = false): TraceHeadline => {
    const both = a !== null && b !== null;
    const flag = both && unit !== 'count' ? flagDelta(a, b, minAbs) : null;
    return { label, unit, base: a, other: b, delta: both ? b - a : null, ratio: both ? ratioOf(a, b) : null, flag: higherIsBetter ? invert(flag) : flag };
  };
  const perStep = nb !== 1 || no !== 1 ? ' per step' : '';
  const ua = gpuTotals(base.gpu);
  const ub = gpuTotals(other.gpu);
  return [
    row('trace span', 'us', base.spanUs, other.spanUs, REGRESSION_MIN_US),
    row('mean step time', 'us', stepStats(base.steps)?.meanUs ?? null, stepStats(other.steps)?.meanUs ?? null, REGRESSION_MIN_US),
    row(`host self time${perStep}`, 'us', hostSelfUs(base) / nb, hostSelfUs(other) / no, REGRESSION_MIN_US),
    row(`GPU time${perStep}`, 'us', base.gpu ? gpuActivityUs(base) / nb : null, other.gpu ? gpuActivityUs(other) / no : null, REGRESSION_MIN_US),
    row('GPU utilization', 'share', ua?.utilization ?? null, ub?.utilization ?? null, 0.01, true),
    row(`communication time${perStep}`, 'us', base.communication ? base.communication.commUs / nb : null, other.communication ? other.communication.commUs / no : null, REGRESSION_MIN_US),
    row('memory peak', 'bytes', base.memory?.peakBytes ?? null, other.memory?.peakBytes ?? null, 0),
    row('steps', 'count', base.steps.length, other.steps.length, 0),
  ];
}
