import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { renderRunReport } from '../../engine/src/export/html-report';
import { validateRun } from '../../engine/src/schema/validate-run';
import { REPO_ROOT } from './helpers/paths';

const run = validateRun(JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/tiny-gpt.run.json'), 'utf8')));
const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64');

test('the report inlines the bundle and allows exactly it by hash, nothing remote', () => {
  const assets = { script: 'console.log("</script> inside a string")', style: 'body{color:red}' };
  const html = renderRunReport(run, assets);
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
  assert.match(csp, /default-src 'none'/);
  const inlined = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  assert.equal(inlined, 'console.log("<\\/script> inside a string")', 'a closing tag inside the script is escaped');
  assert.ok(csp.includes(`'sha256-${sha(inlined)}'`), 'script hash covers the inlined text');
  assert.ok(csp.includes(`'sha256-${sha(assets.style)}'`));
  assert.doesNotMatch(html, /https?:\/\//);
});

test('the boot data is the run, escaped so no markup can break out of its block', () => {
  const evil = { ...run, model: { ...run.model, name: '</script><script>alert(1)</script>' } };
  const html = renderRunReport(evil, { script: '', style: '' });
  const boot = /<script type="application\/json" id="twb-boot">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  assert.doesNotMatch(boot, /</);
  const parsed = JSON.parse(boot);
  assert.equal(parsed.mode, 'report');
  assert.equal(parsed.runs[0].model.name, evil.model.name);
  assert.equal(parsed.runs[0].ops.length, run.ops.length);
  assert.match(html, /<title>&lt;\/script&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt; — Transformer Workbench<\/title>/);
});
