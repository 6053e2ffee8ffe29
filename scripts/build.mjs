// Builds every bundle into dist/:
//   twb.js            the CLI (node)              engine-server.js  the engine child process (node)
//   extension.js      the VS Code extension host  webview/main.js   the webview app (browser) + main.css
// onnxruntime-node stays external (a native module); vscode is provided by the editor.
// `--watch` rebuilds on change.
import { context } from 'esbuild';
import { chmodSync, existsSync } from 'node:fs';
import { webviewBuildOptions } from './build-config.mjs';

const watch = process.argv.includes('--watch');
const node = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning', external: ['onnxruntime-node', 'vscode'] };

const targets = [
  { ...node, entryPoints: { twb: 'engine/src/cli.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
  { ...node, entryPoints: { 'engine-server': 'engine/src/server/main.ts' }, outdir: 'dist' },
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
