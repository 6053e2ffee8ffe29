// Lint rules that keep the architecture honest (DESIGN.md): the engine knows nothing of VS Code or
// the DOM, and each native runtime has exactly one importer.
import tseslint from 'typescript-eslint';

const restrict = (paths, patterns = []) => ['error', { paths, patterns }];
const vscodeBan = { name: 'vscode', message: 'The engine must not import vscode (DESIGN.md boundaries).' };
const ortBan = { name: 'onnxruntime-node', message: 'Only engine/src/runtime/ort.ts imports onnxruntime-node.' };
const tfjsBan = { group: ['@tensorflow/*'], message: 'Only engine/src/runtime/tfjs.ts imports tfjs.' };
const requireOf = (pattern, message) => ({ selector: `CallExpression[callee.name='require'][arguments.0.value=/${pattern}/]`, message });
const ortRequire = requireOf('^onnxruntime-node$', ortBan.message);
const tfjsRequire = requireOf('^@tensorflow\\/', tfjsBan.message);

export default tseslint.config(
  { ignores: ['scratch/**', 'dist/**', 'out/**', 'node_modules/**', 'test-output/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['engine/src/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': restrict([vscodeBan, ortBan], [tfjsBan]),
      'no-restricted-globals': ['error', 'window', 'document', 'navigator'],
      'no-restricted-syntax': ['error', ortRequire, tfjsRequire],
    },
  },
  {
    files: ['engine/src/runtime/ort.ts'],
    rules: { 'no-restricted-imports': restrict([vscodeBan], [tfjsBan]), 'no-restricted-syntax': ['error', tfjsRequire] },
  },
  {
    files: ['engine/src/runtime/tfjs.ts'],
    rules: { 'no-restricted-imports': restrict([vscodeBan, ortBan]), 'no-restricted-syntax': ['error', ortRequire] },
  },
  {
    // The extension host is a thin adapter: the engine runs in its own process.
    files: ['extension/src/**/*.ts'],
    rules: { 'no-restricted-imports': restrict([ortBan], [tfjsBan]), 'no-restricted-syntax': ['error', ortRequire, tfjsRequire] },
  },
  {
    // The webview knows nothing of Node or VS Code; from the engine it may use pure data modules only.
    files: ['webview/src/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        [{ name: 'vscode', message: 'The webview talks to the host through postMessage only.' }, ortBan],
        [
          tfjsBan,
          { group: ['node:*', 'fs', 'path', 'child_process', 'os'], message: 'The webview runs in a browser: no Node modules.' },
          // gitignore-style negations cannot re-include files under an excluded folder, hence a regex.
          // The pipeline simulator and the ZeRO model are pure too: the views re-plan as the user moves a control;
          // tune/describe words a tuning's changes and budget the way the CLI does.
          {
            regex: '(^|/)engine/src/(?!(schema|protocol)/|util/format$|analysis/pipeline/(plan|schedules|simulate|partition)$|analysis/zero-memory$|tune/describe$)',
            message: 'The webview may import only engine/src/schema, engine/src/protocol, engine/src/util/format, the pure planners (analysis/pipeline, analysis/zero-memory) and tune/describe.',
          },
        ],
      ),
    },
  },
);
