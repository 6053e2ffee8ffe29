/**
 * A worker thread's script: the bundle's `<bundle>.js` beside the running code when built, else
 * the TypeScript source (tests and benches run under `node --import tsx`). Node 20 does not apply
 * `--import` hooks to a worker's entry file, so the source is loaded through tsx's require hook
 * from a small eval.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { TwbError } from './errors';

/** `here`: the caller's `__dirname` (dist/ once bundled); `source`: the worker's .ts beside the caller. */
export function workerEntry(here: string, bundle: string, source: string): { script: string; eval: boolean } {
  const bundled = path.join(here, `${bundle}.js`);
  if (existsSync(bundled)) return { script: bundled, eval: false };
  let tsx: string;
  try {
    tsx = require.resolve('tsx/cjs');
  } catch {
    throw new TwbError('internal', `the worker script is missing: expected ${bundled} (run npm run build)`);
  }
  return { script: `require(${JSON.stringify(tsx)}); require(${JSON.stringify(path.join(here, source))});`, eval: true };
}
