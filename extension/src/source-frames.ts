/**
 * Where a trace's Python frame is in this workspace. Traces are often recorded on another machine
 * (`/home/alice/proj/train.py`), so the file is looked up by name and the candidate sharing the
 * longest run of trailing path segments wins. Pure: no VS Code, testable.
 */

const segments = (p: string) => p.split(/[\\/]+/).filter(Boolean);

/** Trailing path segments two paths share (`a/b/c.py` and `x/b/c.py` share 2). */
export function sharedTail(a: string, b: string): number {
  const x = segments(a);
  const y = segments(b);
  let n = 0;
  while (n < x.length && n < y.length && x[x.length - 1 - n] === y[y.length - 1 - n]) n++;
  return n;
}

/**
 * The workspace file (from `candidates`, absolute paths with the frame's base name) that `tracePath`
 * most likely names: the longest shared tail; a tie between different files is undecidable and
 * gives undefined rather than a guess.
 */
export function bestSourceMatch(tracePath: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestTail = 0;
  let tie = false;
  for (const c of candidates) {
    const t = sharedTail(tracePath, c);
    if (t > bestTail) {
      best = c;
      bestTail = t;
      tie = false;
    } else if (t === bestTail && t > 0 && c !== best) {
      tie = true;
    }
  }
  return bestTail > 0 && !tie ? best : undefined;
}

/** Whether `file` lies inside one of `folders` (absolute paths). */
export function insideFolders(file: string, folders: readonly string[]): boolean {
  const f = segments(file);
  return folders.some((d) => {
    const s = segments(d);
    return s.length <= f.length && s.every((p, i) => p === f[i]);
  });
}
