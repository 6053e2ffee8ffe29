import { TwbError } from '../util/errors';

/** User choices for the symbolic dimensions of a model's inputs. */
export interface DimChoices {
  /** Value for batch-like dims (`batch`, `batch_size`, `N`). */
  batch: number;
  /** Value for sequence-like dims (`sequence`, `seq_len`, `sequence_length`). */
  seq: number;
  /** Value for past/cache-length dims (`past_sequence_length`). */
  past: number;
  /** Explicit values by exact dim name; these win over the patterns above. */
  named: Record<string, number>;
}

/** How each symbolic name was resolved, so reports can say which values were guessed. */
export interface DimResolution {
  values: Record<string, number>;
  /** Names that matched no pattern and were set to 1. */
  defaulted: string[];
}

const BATCH = /^(batch|batch_?size|n|b|bs|num_?batch(es)?)$/i;
const PAST = /past|cache|kv_?len/i;
const TOTAL = /total|all_?seq/i;
const BEAMS = /beam/i;
const SEQ = /seq|sequence|len(gth)?|tokens?|^s$|^t$|^time$/i;

/**
 * Resolves one symbolic dimension name. Names may be expressions that exporters write
 * (`past_sequence_length + sequence_length`), evaluated over their resolved parts.
 */
export function resolveDim(name: string, choices: DimChoices, res: DimResolution): number {
  if (name in res.values) return res.values[name];
  const value = resolveUncached(name.trim(), choices, res);
  res.values[name] = value;
  return value;
}

function resolveUncached(name: string, choices: DimChoices, res: DimResolution): number {
  if (name in choices.named) return choices.named[name];
  const expr = evalExpression(name, (part) => resolveDim(part, choices, res));
  if (expr !== undefined) return expr;
  if (BATCH.test(name) || /batch/i.test(name)) return choices.batch;
  if (TOTAL.test(name)) return choices.past + choices.seq;
  if (PAST.test(name)) return choices.past;
  if (BEAMS.test(name)) return 1;
  if (SEQ.test(name)) return choices.seq;
  res.defaulted.push(name);
  return 1;
}

/** Evaluates `a + b`, `a - b`, `a * b`, `a // b` over names and integers; undefined when not an expression. */
function evalExpression(text: string, lookup: (name: string) => number): number | undefined {
  const tokens = text.split(/\s*(\+|-|\*|\/\/|\/)\s*/).filter((t) => t.length > 0);
  if (tokens.length < 3) return undefined;
  const term = (t: string) => (/^\d+$/.test(t) ? Number(t) : lookup(t));
  let acc = term(tokens[0]);
  for (let i = 1; i + 1 < tokens.length; i += 2) {
    const rhs = term(tokens[i + 1]);
    switch (tokens[i]) {
      case '+': acc += rhs; break;
      case '-': acc -= rhs; break;
      case '*': acc *= rhs; break;
      default: acc = Math.floor(acc / rhs);
    }
  }
  return acc;
}

/** Parses `NAME=N` from `--dim`; throws a usage error on anything else. */
export function parseDimAssignment(text: string): [string, number] {
  const m = /^([^=]+)=(\d+)$/.exec(text);
  if (!m) throw new TwbError('usage', `--dim expects NAME=N with N a non-negative integer, got "${text}"`);
  return [m[1], Number(m[2])];
}
