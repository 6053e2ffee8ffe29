/**
 * A stable categorical palette for op types, built from the theme's chart colours only. Each op
 * type hashes to a preferred slot so that it keeps its colour across runs of the same model; the
 * busiest op types are placed first so that they never share a colour.
 */

/** One theme colour: the CSS custom property and a fallback for the offline report (dark theme). */
export interface ThemeColor {
  cssVar: string;
  fallback: string;
}

/** Red is left out: it means "regression" elsewhere in the app. */
const BASE: ThemeColor[] = [
  { cssVar: '--vscode-charts-blue', fallback: '#3794ff' },
  { cssVar: '--vscode-charts-orange', fallback: '#d18616' },
  { cssVar: '--vscode-charts-green', fallback: '#89d185' },
  { cssVar: '--vscode-charts-purple', fallback: '#b180d7' },
  { cssVar: '--vscode-charts-yellow', fallback: '#cca700' },
];

/** Second tone of each base colour, as an opacity. */
const TONES = [1, 0.55];

/** Number of distinct colours; op types beyond these share the "other" colour. */
export const PALETTE_SLOTS = BASE.length * TONES.length;

/** Slot of everything without a colour of its own. */
export const OTHER_SLOT = -1;

const OTHER: ThemeColor = { cssVar: '--vscode-charts-lines', fallback: '#808080' };

/** A slot's colour and opacity (0–1). */
export function swatch(slot: number): { color: ThemeColor; alpha: number } {
  if (slot < 0 || slot >= PALETTE_SLOTS) return { color: OTHER, alpha: 0.8 };
  return { color: BASE[slot % BASE.length], alpha: TONES[Math.floor(slot / BASE.length)] };
}

/** `var(--x, fallback)` for a slot, for SVG `fill` or CSS `background` (pair it with swatch().alpha). */
export function cssVarColor(slot: number): string {
  const { color } = swatch(slot);
  return `var(${color.cssVar}, ${color.fallback})`;
}

/** FNV-1a: a small stable string hash. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Assigns palette slots to op types given in priority order (busiest first): each takes its hashed
 * slot, or the next free one; once all slots are taken the rest get OTHER_SLOT.
 */
export function assignOpTypeColors(opTypesByPriority: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  const taken = new Array<boolean>(PALETTE_SLOTS).fill(false);
  let free = PALETTE_SLOTS;
  for (const t of opTypesByPriority) {
    if (out.has(t)) continue;
    if (free === 0) {
      out.set(t, OTHER_SLOT);
      continue;
    }
    let slot = hash(t) % PALETTE_SLOTS;
    while (taken[slot]) slot = (slot + 1) % PALETTE_SLOTS;
    taken[slot] = true;
    free--;
    out.set(t, slot);
  }
  return out;
}
