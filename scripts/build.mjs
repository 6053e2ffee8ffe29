// Bundles the engine's CLI into dist/ (onnxruntime-node stays external: it is a native module).
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

await build({
  entryPoints: { twb: 'engine/src/cli.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external: ['onnxruntime-node'],
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
chmodSync('dist/twb.js', 0o755);
