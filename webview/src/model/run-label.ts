/** How a run is named in pickers and headers. */
import type { InferenceRun } from '../../../engine/src/schema/run';
import { formatUs } from '../../../engine/src/util/format';

/** `builtin:tiny-gpt · cpu ×2 · opt all · b1×128`: the settings that tell two runs of a model apart. */
export function runTitle(run: InferenceRun): string {
  const c = run.config;
  return `${run.model.name} · ${run.env.executionProvider || c.executionProvider} ×${c.threads} · opt ${c.optLevel} · b${c.batch}×${c.seq}${c.past ? ` past ${c.past}` : ''}`;
}

/** `#2 builtin:tiny-gpt · cpu ×2 · opt all · b1×128 — p50 13.06 ms` */
export function runPickerLabel(run: InferenceRun, index: number): string {
  return `#${index + 1} ${runTitle(run)} — p50 ${formatUs(run.latencyMs.p50 * 1000)}`;
}

/** Local date and time of an ISO 8601 timestamp, e.g. `2026-11-29 03:59` (the text itself when it does not parse). */
export function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Local date and time of a run. */
export function runTime(run: InferenceRun): string {
  return localTime(run.createdAt);
}
