import { TwbError } from './errors';

/** `7.5B`, `350M`, `125k`, `1.3e9`, `7500000000` → a count (parameters, tokens). */
export function parseCount(text: string): number {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)\s*([kKmMbBtT]?)$/.exec(text.trim());
  if (!m) throw new TwbError('usage', `expected a count like 7.5B, 350M, 125k or 1.3e9; got "${text}"`);
  const scale = { '': 1, k: 1e3, m: 1e6, b: 1e9, t: 1e12 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'b' | 't'];
  return Math.round(Number(m[1]) * scale);
}
