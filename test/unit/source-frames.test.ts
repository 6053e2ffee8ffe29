/** Jump to source: a trace's frame path (often from another machine) matched to a workspace file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestSourceMatch, insideFolders, sharedTail } from '../../extension/src/source-frames';

test('the workspace file sharing the longest path tail is the frame\'s file', () => {
  assert.equal(sharedTail('/home/alice/proj/models/bert.py', '/ws/proj/models/bert.py'), 3);
  assert.equal(sharedTail('models\\bert.py', '/ws/models/bert.py'), 2, 'Windows separators in a trace');
  const candidates = ['/ws/tools/bert.py', '/ws/src/models/bert.py'];
  assert.equal(bestSourceMatch('/home/alice/proj/src/models/bert.py', candidates), '/ws/src/models/bert.py');
  assert.equal(bestSourceMatch('/home/alice/proj/train.py', candidates), undefined, 'no file of that name');
  assert.equal(bestSourceMatch('/x/bert.py', candidates), undefined, 'two equally good files: no guess');
  assert.equal(bestSourceMatch('/x/bert.py', ['/ws/a/bert.py']), '/ws/a/bert.py');
});

test('only files inside a workspace folder count as the path itself', () => {
  assert.ok(insideFolders('/ws/src/a.py', ['/other', '/ws']));
  assert.ok(!insideFolders('/wsx/a.py', ['/ws']), 'a folder name prefix is not containment');
  assert.ok(!insideFolders('/etc/passwd', ['/ws']));
});
