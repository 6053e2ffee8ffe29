/**
 * Training steps: the `ProfilerStep#N` spans that torch.profiler's schedule records around each
 * `prof.step()` on the host (host-ops.ts picks their rows out of the op tree; the copies Kineto
 * draws on GPU streams as gpu_user_annotation are not tree rows, so each step is listed once).
 */
import type { TraceStep } from '../schema/trace';
import type { TraceCollector } from './collect';
import { profilerStep } from './event-kinds';

export function stepsOf(c: TraceCollector, stepRows: readonly number[], t0: number): TraceStep[] {
  const steps: TraceStep[] = [];
  for (const r of stepRows) {
    const name = c.names.values[c.name.data[r]];
    const step = profilerStep(name);
    if (step !== undefined) steps.push({ name, step, startUs: c.ts.data[r] - t0, durUs: c.dur.data[r] });
  }
  return steps.sort((a, b) => a.startUs - b.startUs || a.step - b.step);
}
