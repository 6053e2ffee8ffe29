/**
 * The contract of an advisor rule: a pure function of the document, the kernel calibration and the
 * machine, returning either a suggestion or the reason it stays quiet. Rules never run anything;
 * what they know of this machine's kernels comes in through `calibration`.
 */
import type { AdviceSourceKind, Change, KernelCalibration, Suggestion } from '../../schema/advice';
import type { MemoryPlan, PipelinePlan } from '../../schema/parallel';
import type { InferenceRun } from '../../schema/run';
import type { TraceRun } from '../../schema/trace';
import type { TrainingRun } from '../../schema/training';
import { commandFor } from '../change-command';

/** The documents the advisor reads. */
export type AdvisableDocument =
  | { kind: 'inference'; run: InferenceRun }
  | { kind: 'training'; run: TrainingRun }
  | { kind: 'pipeline'; plan: PipelinePlan }
  | { kind: 'memory-plan'; plan: MemoryPlan }
  | { kind: 'trace'; run: TraceRun };

/** An execution provider and whether it opens a session here. */
export interface ProviderInfo {
  name: string;
  available: boolean;
  reason?: string;
}

/** The machine the advice is for. */
export interface AdviseEnv {
  /** Logical cores. */
  cores: number;
  providers: ProviderInfo[];
  now: Date;
}

export interface RuleContext {
  doc: AdvisableDocument;
  calibration: KernelCalibration | null;
  env: AdviseEnv;
}

export type RuleOutcome = Suggestion | { quiet: string };

export interface Rule {
  /** The suggestion id it makes, e.g. `int8-dynamic`. */
  id: string;
  /** Its file: `quantization`, `runtime`, … */
  family: string;
  /** The document kinds it reads; it is neither run nor listed as quiet for others. */
  appliesTo: readonly AdviceSourceKind[];
  apply(ctx: RuleContext): RuleOutcome;
}

export const isQuiet = (o: RuleOutcome): o is { quiet: string } => 'quiet' in o;

/** A suggestion of `rule`, its `rule` and `command` fields filled from the rule and the change. */
export function suggest(rule: Pick<Rule, 'id' | 'family'>, ctx: RuleContext, s: Omit<Suggestion, 'id' | 'rule' | 'command'> & { change: Change }): Suggestion {
  return { id: rule.id, rule: `${rule.family}/${rule.id}`, ...s, command: commandFor(ctx.doc, s.change) };
}

/** `12.3%`. */
export const pct = (share: number): string => `${(share * 100).toFixed(1)}%`;

/** `1.31×`. */
export const times = (x: number): string => `${x.toFixed(2)}×`;

/** Amdahl: the whole speeds up by 1 / (1 − Σ sᵢ·(1 − 1/kᵢ)) when parts of share sᵢ speed up by kᵢ. */
export function amdahl(parts: ReadonlyArray<{ share: number; speedup: number }>): number {
  const saved = parts.reduce((s, p) => s + p.share * (1 - 1 / p.speedup), 0);
  return 1 / Math.max(1e-9, 1 - saved);
}
