// esbuild options shared by scripts/build.mjs and the browser-test harness, so tests run exactly
// the bundle that ships.

/** The webview app (browser, one IIFE + its CSS) into `outdir`. */
export function webviewBuildOptions(outdir) {
  return {
    entryPoints: { main: 'webview/src/main.ts' },
    outdir,
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: false,
    minify: true,
    logLevel: 'warning',
    loader: { '.ttf': 'file', '.woff2': 'file' },
  };
}
