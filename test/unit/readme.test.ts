import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './helpers/paths';

const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const ci = readFileSync(path.join(REPO_ROOT, '.ci/run'), 'utf8');

/** The shell commands of README's Quick start, in order. */
function quickStartCommands(): string[] {
  const section = readme.split(/^## Quick start$/m)[1]?.split(/^## /m)[0] ?? '';
  return [...section.matchAll(/```sh\n([^\n]+)\n```/g)].map((m) => m[1].trim());
}

test('README gives exactly two commands: install + profile the built-in, install + test', () => {
  const cmds = quickStartCommands();
  assert.equal(cmds.length, 2);
  assert.match(cmds[0], /^npm ci && npx twb profile builtin:tiny-gpt\b/);
  assert.match(cmds[1], /^npm ci && npm test$/);
});

test('.ci/run runs the README test command', () => {
  const [, testCommand] = quickStartCommands();
  assert.ok(ci.split('\n').some((line) => line.trim() === testCommand), `.ci/run must contain the line: ${testCommand}`);
});
