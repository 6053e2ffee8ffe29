import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, OptionSpec } from '../../engine/src/cli/args';

const spec: Record<string, OptionSpec> = {
  runs: { kind: 'int', help: '' },
  ep: { kind: 'string', help: '' },
  dim: { kind: 'list', help: '' },
  quiet: { kind: 'flag', help: '' },
};

test('values, = form, lists and flags', () => {
  const p = parseArgs(['m.onnx', '--runs', '3', '--ep=cpu', '--dim', 'a=1', '--dim', 'b=2', '--quiet'], spec, 'profile');
  assert.deepEqual(p.positionals, ['m.onnx']);
  assert.deepEqual(p.options, { runs: 3, ep: 'cpu', dim: ['a=1', 'b=2'], quiet: true });
});

test('unknown options list the valid ones', () => {
  assert.throws(() => parseArgs(['--bogus'], spec, 'profile'), /unknown option --bogus for "twb profile"; expected one of: --runs, --ep, --dim, --quiet/);
});

test('bad and missing values are usage errors', () => {
  assert.throws(() => parseArgs(['--runs', 'x'], spec, 'profile'), (e: Error & { code?: string }) => e.code === 'usage' && /non-negative integer/.test(e.message));
  assert.throws(() => parseArgs(['--runs'], spec, 'profile'), /needs a value/);
  assert.throws(() => parseArgs(['--ep', '--quiet'], spec, 'profile'), /needs a value/);
});
