/**
 * The push consumer of trace events: each batch the reader parses is reduced at once to a few
 * columns per event (time, duration, interned name, lane, kind, correlation id, device, frame) and
 * the objects are dropped, so memory stays a small fraction of the file however big it is. The
 * analyses (host-ops.ts, kernels.ts, gpu.ts, ...) run on these columns once the file has been read.
 */
import { f64, i16, i32, Interner, u8 } from './columns';
import { durationKind, IS_GPU_BUSY, IS_GPU_LANE, Kind, KINETO_CATEGORIES, LAUNCH_FLOW_CATEGORIES, memoryDeviceName } from './event-kinds';
import { KERNEL_SUFFIX, ortOpType, OrtRunSpan } from '../profile/ort-profile';
import { FrameTable } from './frames';
import { LaneTable } from './lanes';

// Module-level aliases: under the CommonJS transform every use of an imported binding is a
// property read through a getter, which the per-event paths below would pay millions of times.
const K = Kind;
const GPU_LANE = IS_GPU_LANE;
const GPU_BUSY = IS_GPU_BUSY;
const KINETO = KINETO_CATEGORIES;
const LAUNCH_FLOWS = LAUNCH_FLOW_CATEGORIES;
const kindOf = durationKind;
const deviceName = memoryDeviceName;

/** Initial rows of the event columns: small traces stay small, big ones skip the first few growths. */
const ROWS0 = 32 * 1024;

type Ev = Record<string, unknown>;
type Args = Record<string, unknown> | undefined;

interface OpenSlice {
  ts: number;
  name: number;
  kind: number;
  corr: number;
  frame: number;
}

/** Counts of things the importer tolerated; they become warnings. */
export interface CollectCounts {
  nonObject: number;
  badTime: number;
  noDuration: number;
  negativeDuration: number;
  unmatchedEnd: number;
  unclosedBegin: number;
  ignored: number;
}

export class TraceCollector {
  readonly names = new Interner();
  readonly frames = new FrameTable();

  // Duration and instant events, one row each.
  readonly ts = f64(ROWS0);
  readonly dur = f64(ROWS0);
  readonly name = i32(ROWS0);
  readonly lane = i32(ROWS0);
  readonly kind = u8(ROWS0);
  /** CUDA correlation id (runtime call ↔ GPU activity), NaN when absent. */
  readonly corr = f64(ROWS0);
  /** GPU device of GPU activities, −1 elsewhere. */
  readonly device = i16(ROWS0);
  /** Frame index (from `Call stack` args, or a python_function's own user frame), −1 for none. */
  readonly frame = i32(ROWS0);

  readonly lanes = new LaneTable();
  // Rows of the kinds some analyses visit alone, so that they need not scan every row.
  /** Kernel, memcpy and memset rows. */
  readonly gpuRows = i32();
  /** Runtime/driver rows that carry a correlation id. */
  readonly launchRows = i32();
  /** python_function rows that are user frames. */
  readonly frameRows = i32();

  // `[memory]` events.
  readonly memTs = f64();
  readonly memDevice = i32();
  readonly memBytes = f64();
  /** `Total Allocated` when the event carries it, NaN otherwise (2021 traces). */
  readonly memTotal = f64();
  readonly memDevices = new Interner();

  // Launch flows (ac2g s/f): id, time, lane; phase 0 = start (runtime side), 1 = finish (GPU side).
  readonly flowId = f64();
  readonly flowTs = f64();
  readonly flowLane = i32();
  readonly flowPhase = u8();

  // Counter samples: series (name + args key), time, value.
  readonly counterSeries = new Interner();
  readonly counterTs = f64();
  readonly counterOf = i32();
  readonly counterValue = f64();

  // ONNX Runtime: the op type of each kernel row, and the `model_run` spans.
  readonly ortRow = i32();
  readonly ortOp = i32();
  readonly ortRuns: OrtRunSpan[] = [];

  /** Top-level keys other than `traceEvents` (onMeta). */
  readonly meta: Record<string, unknown> = {};

  events = 0;
  minTs = Infinity;
  maxEnd = -Infinity;
  sawKineto = false;
  sawOrt = false;
  /** B and E events read: a pair may straddle two ranges of a parallel import, which then reads the file on one thread. */
  beginEnd = 0;
  readonly counts: CollectCounts = { nonObject: 0, badTime: 0, noDuration: 0, negativeDuration: 0, unmatchedEnd: 0, unclosedBegin: 0, ignored: 0 };

  private readonly open = new Map<number, OpenSlice[]>();
  private readonly pythonFrame = new Map<number, number>();

  /** The reader's `onEvents`. */
  readonly onEvents = (batch: unknown[]): void => {
    for (let i = 0; i < batch.length; i++) this.add(batch[i]);
  };

  /** The reader's `onMeta`. */
  readonly onMeta = (key: string, value: unknown): void => {
    this.meta[key] = value;
  };

  add(raw: unknown): void {
    this.events++;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      this.counts.nonObject++;
      return;
    }
    const e = raw as Ev;
    const ph = e.ph;
    switch (ph) {
      case 'X':
        return this.complete(e);
      case 'B':
        return this.begin(e);
      case 'E':
        return this.end(e);
      case 'i':
      case 'I':
      case 'R':
        return this.instant(e);
      case 's':
      case 'f':
      case 't':
        return this.flow(e, ph);
      case 'C':
        return this.counter(e);
      case 'M':
        return this.metadata(e);
      default:
        this.counts.ignored++;
    }
  }

  private time(e: Ev): number {
    const t = e.ts;
    const ts = typeof t === 'number' ? t : typeof t === 'string' ? Number(t) : NaN;
    if (!Number.isFinite(ts)) this.counts.badTime++;
    return ts;
  }

  private laneOf(e: Ev): number {
    return this.lanes.of(e.pid, e.tid);
  }

  private push(ts: number, dur: number, nameId: number, lane: number, kind: number, corr: number, device: number, frame: number): number {
    const row = this.ts.length;
    this.ts.push(ts);
    this.dur.push(dur);
    this.name.push(nameId);
    this.lane.push(lane);
    this.kind.push(kind);
    this.corr.push(corr);
    this.device.push(device);
    this.frame.push(frame);
    if (ts < this.minTs) this.minTs = ts;
    if (ts + dur > this.maxEnd) this.maxEnd = ts + dur;
    if (GPU_BUSY[kind] === 1) this.gpuRows.push(row);
    else if (kind === K.Runtime && corr === corr) this.launchRows.push(row);
    else if (kind === K.Python && frame >= 0) this.frameRows.push(row);
    return row;
  }

  private complete(e: Ev): void {
    const ts = this.time(e);
    if (!Number.isFinite(ts)) return;
    let dur = typeof e.dur === 'number' ? e.dur : Number(e.dur);
    if (!Number.isFinite(dur)) {
      this.counts.noDuration++;
      dur = 0;
    } else if (dur < 0) {
      this.counts.negativeDuration++;
      dur = 0;
    }
    const name = typeof e.name === 'string' ? e.name : String(e.name ?? '');
    const cat = e.cat;
    const kind = kindOf(cat, name);
    if (typeof cat === 'string' && !this.sawKineto && KINETO.has(cat)) this.sawKineto = true;
    this.store(e, ts, dur, name, kind, e.args as Args);
  }

  private store(e: Ev, ts: number, dur: number, name: string, kind: number, args: Args): void {
    const lane = this.laneOf(e);
    let corr = NaN;
    let device = -1;
    let frame = -1;
    let nameId: number;
    if (GPU_LANE[kind] === 1) {
      nameId = this.names.id(name);
      corr = num(args?.correlation);
      const d = num(args?.device);
      device = Number.isFinite(d) ? d : typeof e.pid === 'number' ? e.pid : -1;
      if (device < 0 || device > 32767) device = -1;
    } else if (kind === K.Runtime) {
      nameId = this.names.id(name);
      corr = num(args?.correlation);
    } else if (kind === K.Python) {
      nameId = this.names.id(name);
      frame = this.pythonFrame.get(nameId) ?? this.frames.ofPythonFunction(name, nameId, this.pythonFrame);
    } else if (kind === K.OrtKernel) {
      this.sawOrt = true;
      nameId = this.names.id(name.slice(0, -KERNEL_SUFFIX.length));
      this.ortRow.push(this.ts.length);
      this.ortOp.push(this.names.id(ortOpType(args)));
    } else {
      nameId = this.names.id(name);
      if (kind === K.Op) {
        const stack = args?.['Call stack'];
        if (typeof stack === 'string') frame = this.frames.ofCallStack(stack);
      } else if (kind === K.OrtOther) {
        this.sawOrt = true;
        if (name === 'model_run' && e.cat === 'Session') this.ortRuns.push({ tsUs: ts, durUs: dur });
      }
    }
    this.push(ts, dur, nameId, lane, kind, corr, device, frame);
  }

  private begin(e: Ev): void {
    this.beginEnd++;
    const ts = this.time(e);
    if (!Number.isFinite(ts)) return;
    const name = typeof e.name === 'string' ? e.name : String(e.name ?? '');
    const lane = this.laneOf(e);
    let stack = this.open.get(lane);
    if (!stack) this.open.set(lane, (stack = []));
    const kind = kindOf(e.cat, name);
    const args = e.args as Args;
    const frameArg = kind === K.Op && typeof args?.['Call stack'] === 'string' ? this.frames.ofCallStack(args['Call stack'] as string) : -1;
    stack.push({ ts, name: this.names.id(name), kind, corr: num(args?.correlation), frame: frameArg });
  }

  /** E closes the most recent open B of its thread (the chrome trace format's rule). */
  private end(e: Ev): void {
    this.beginEnd++;
    const ts = this.time(e);
    if (!Number.isFinite(ts)) return;
    const lane = this.laneOf(e);
    const open = this.open.get(lane)?.pop();
    if (!open) {
      this.counts.unmatchedEnd++;
      return;
    }
    const dur = Math.max(0, ts - open.ts);
    this.push(open.ts, dur, open.name, lane, open.kind, open.corr, -1, open.frame);
  }

  private instant(e: Ev): void {
    const ts = this.time(e);
    if (!Number.isFinite(ts)) return;
    const args = e.args as Args;
    if (e.name === '[memory]') {
      if (!args) return;
      const type = num(args['Device Type']);
      const id = num(args['Device Id']);
      this.memTs.push(ts);
      this.memDevice.push(this.memDevices.id(deviceName(Number.isFinite(type) ? type : 0, Number.isFinite(id) ? id : -1)));
      const bytes = num(args.Bytes);
      this.memBytes.push(Number.isFinite(bytes) ? bytes : 0);
      this.memTotal.push(num(args['Total Allocated']));
      if (ts < this.minTs) this.minTs = ts;
      if (ts > this.maxEnd) this.maxEnd = ts;
      return;
    }
    const name = typeof e.name === 'string' ? e.name : String(e.name ?? '');
    this.push(ts, 0, this.names.id(name), this.laneOf(e), K.Instant, NaN, -1, -1);
  }

  private flow(e: Ev, ph: 's' | 'f' | 't'): void {
    if (ph === 't' || typeof e.cat !== 'string' || !LAUNCH_FLOWS.has(e.cat)) {
      this.counts.ignored++;
      return;
    }
    const ts = this.time(e);
    const id = num(e.id);
    if (!Number.isFinite(ts) || !Number.isFinite(id)) return;
    this.flowId.push(id);
    this.flowTs.push(ts);
    this.flowLane.push(this.laneOf(e));
    this.flowPhase.push(ph === 's' ? 0 : 1);
  }

  private counter(e: Ev): void {
    const ts = this.time(e);
    const args = e.args as Args;
    if (!Number.isFinite(ts) || !args) return;
    const name = typeof e.name === 'string' ? e.name : String(e.name ?? '');
    for (const key of Object.keys(args)) {
      const v = num(args[key]);
      if (!Number.isFinite(v)) continue;
      this.counterTs.push(ts);
      this.counterOf.push(this.counterSeries.id(key === 'value' || key === name ? name : `${name} · ${key}`));
      this.counterValue.push(v);
    }
    if (ts < this.minTs) this.minTs = ts;
    if (ts > this.maxEnd) this.maxEnd = ts;
  }

  private metadata(e: Ev): void {
    this.lanes.metadata(e.name, e.pid, e.tid, e.args as Args);
  }

  /** Closes the books once the reader is done: B events never ended are counted, not kept. */
  finish(): void {
    for (const stack of this.open.values()) this.counts.unclosedBegin += stack.length;
    this.open.clear();
  }

  /** Rows of the event table. */
  get rows(): number {
    return this.ts.length;
  }
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
}
