/** How trial changes and tuning budgets read, in the CLI and in the Tuning view. Pure, so the webview bundles it. */
import type { TrialChange, TuningBudget } from '../schema/tuning';
import { formatPercent } from '../util/format';

/** `accuracy drop ≤ 1.0%, top-1 agreement ≥ 95.0%; 8 trial(s) at most, patience 3`. */
export function describeBudget(b: TuningBudget): string {
  const bounds = [
    b.maxAccuracyDrop !== null ? `accuracy drop ≤ ${formatPercent(b.maxAccuracyDrop)}` : '',
    b.minTop1Agreement !== null ? `top-1 agreement ≥ ${formatPercent(b.minTop1Agreement)}` : '',
  ].filter(Boolean);
  return `${bounds.join(', ')}; ${b.trials} trial(s) at most, patience ${b.patience}`;
}

/** `int8-dynamic · per-channel`, `heads · amount 0.5`: a change in the CLI's words. */
export function describeChange(c: TrialChange): string {
  const parts: string[] = [c.mode];
  if (c.perChannel) parts.push('per-channel');
  if (c.calibrate) parts.push(c.calibrate);
  if (c.method) parts.push(c.method);
  if (c.blockSize !== undefined) parts.push(`block ${c.blockSize}`);
  if (c.amount !== undefined) parts.push(`amount ${c.amount}`);
  return parts.join(' · ');
}
