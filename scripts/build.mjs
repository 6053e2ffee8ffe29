// Builds every bundle into dist/:
//   twb.js            the CLI (node)              engine-server.js  the engine child process (node)
//   pipeline-worker.js  one pipeline stage's worker thread (node), loaded by twb.js and engine-server.js
//   trace-worker.js   a worker thread of the parallel trace import (node), loaded by twb.js and engine-server.js
//   extension.js      the VS Code extension host  webview/main.js   the webview app (browser) + main.css
// onnxruntime-node stays external (a native module); vscode is provided by the editor. tfjs's
// JavaScript is bundled; its .wasm binaries are copied to dist/tfjs; the optional native tfjs
// backends and Dawn (`webgpu`) stay external and are loaded only when installed.
// `--watch` rebuilds on change.
import { context } from 'esbuild';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { webviewBuildOptions } from './build-config.mjs';

const watch = process.argv.includes('--watch');
const node = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning', external: ['onnxruntime-node', 'vscode', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'webgpu', '*.wasm'] };

const targets = [
  { ...node, entryPoints: { twb: 'engine/src/cli.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
  { ...node, entryPoints: { 'engine-server': 'engine/src/server/main.ts' }, outdir: 'dist' },
  // A worker thread per pipeline stage (engine/src/pipeline/measure.ts looks for it beside the bundle).
  { ...node, entryPoints: { 'pipeline-worker': 'engine/src/pipeline/stage-worker.ts' }, outdir: 'dist' },
  // A worker thread of the parallel trace import (engine/src/trace/range-workers.ts looks for it beside the bundle).
  { ...node, entryPoints: { 'trace-worker': 'engine/src/trace/range-worker.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { extension: 'extension/src/extension.ts' }, outdir: 'dist' },
  webviewBuildOptions('dist/webview'),
].filter((t) => existsSync(Object.values(t.entryPoints)[0]));

for (const t of targets) {
  const ctx = await context(t);
  if (watch) await ctx.watch();
  else {
    await ctx.rebuild();
    await ctx.dispose();
  }
}
if (existsSync('dist/twb.js')) chmodSync('dist/twb.js', 0o755);

// The wasm backend loads its binaries from next to the bundle (engine/src/runtime/tfjs.ts wasmDir).
const wasmSrc = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
mkdirSync('dist/tfjs', { recursive: true });
for (const f of readdirSync(wasmSrc).filter((f) => f.endsWith('.wasm'))) copyFileSync(`${wasmSrc}/${f}`, `dist/tfjs/${f}`);
