import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CompressionReport } from '../../engine/src/schema/compression';
import { parseCompressionJson, validateCompressionReport } from '../../engine/src/schema/validate-compression';
import { parseDocumentJson } from '../../engine/src/schema/validate-document';

const text = readFileSync(path.join(__dirname, '../fixtures/tiny-bert.int8.quant.json'), 'utf8');
const fixture = () => JSON.parse(text) as CompressionReport;

/** The fixture with one change made by `edit`. */
function broken(edit: (r: Record<string, unknown> & CompressionReport) => void): unknown {
  const r = fixture() as Record<string, unknown> & CompressionReport;
  edit(r);
  return r;
}

test('the int8 fixture is a valid report with the figures the view shows', () => {
  const r = parseCompressionJson(text);
  assert.equal(r.kind, 'quantization');
  assert.equal(r.config.mode, 'int8-dynamic');
  assert.equal(r.config.perChannel, true);
  assert.ok(r.layers.length > 0);
  assert.ok(r.sizeBytes.after < r.sizeBytes.before, 'int8 weights make the file smaller');
  for (const l of r.layers) {
    assert.ok(l.weightHistogram && l.activationHistogram, `${l.node} carries both histograms`);
    assert.equal(l.weightHistogram.before.length, l.weightHistogram.after.length);
  }
  assert.doesNotMatch(r.outFile, /^\/tmp\//, 'the fixture names a neutral output path');
});

test('reports with a wrong version, kind or field are rejected, naming the field', () => {
  const cases: Array<[unknown, RegExp]> = [
    [broken((r) => ((r as { schemaVersion: number }).schemaVersion = 2)), /report\.schemaVersion: compression report has schemaVersion 2; this version of the workbench reads 1/],
    [broken((r) => ((r as { kind: string }).kind = 'inference')), /report\.kind: expected one of: quantization, pruning, got "inference"/],
    [broken((r) => (r.kind = 'pruning')), /report\.kind: "pruning" does not match report\.config\.mode "int8-dynamic"/],
    [broken((r) => ((r.config as { mode: string }).mode = 'int3')), /report\.config\.mode: expected one of: int8-dynamic, int8-static, int4-weight, fp16, magnitude, 2:4, heads, got "int3"/],
    [broken((r) => ((r.layers[3] as { cosine: unknown }).cosine = '0.99')), /report\.layers\[3\]\.cosine: expected a number, got string/],
    [broken((r) => ((r.layers[0] as { cumulativeSqnrDb: unknown }).cumulativeSqnrDb = undefined)), /report\.layers\[0\]\.cumulativeSqnrDb: expected a number, got undefined/],
    [broken((r) => r.layers[1].weightHistogram?.after.pop()), /report\.layers\[1\]\.weightHistogram: before has \d+ bins but after has \d+/],
    [broken((r) => ((r.output as { sqnrDb: unknown }).sqnrDb = 'exact')), /report\.output\.sqnrDb: expected a number, got string/],
    [broken((r) => ((r as { skipped: unknown }).skipped = [{ node: 'n', opType: 'MatMul' }])), /report\.skipped\[0\]\.reason: expected a string, got undefined/],
    [broken((r) => ((r.config as { exclude: unknown }).exclude = 'layer0')), /report\.config\.exclude: expected an array, got string/],
    [[], /report: expected an object, got an array/],
  ];
  for (const [doc, message] of cases) assert.throws(() => validateCompressionReport(doc), message);
});

test('identical outputs (null SQNR), layers without isolation and an eval section are accepted', () => {
  const r = broken((d) => {
    d.output.sqnrDb = null;
    delete d.layers[0].sqnrDb;
    d.layers[1].cumulativeSqnrDb = null;
    d.eval = { file: 'eval.json', examples: 8, labels: 8, accuracyBefore: 0.875, accuracyAfter: 0.75 };
  });
  assert.equal(validateCompressionReport(r).eval?.accuracyAfter, 0.75);
  assert.throws(() => validateCompressionReport(broken((d) => ((d as { eval: unknown }).eval = { file: 'e', examples: 1 }))), /report\.eval\.labels: expected a number/);
});

test('kept documents: runs and reports are told apart by kind; anything else says what it expected', () => {
  const run = readFileSync(path.join(__dirname, '../fixtures/tiny-gpt.run.json'), 'utf8');
  assert.equal(parseDocumentJson(run).kind, 'inference');
  const doc = parseDocumentJson(text);
  assert.equal(doc.kind, 'compression');
  assert.equal(doc.kind === 'compression' && doc.report.id, fixture().id);
  assert.throws(() => parseDocumentJson('{"kind":"trace-of-something"}'), /document\.kind: expected one of: inference, quantization, pruning, training, variants, pipeline, memory-plan, suggestions, tuning, trace, got "trace-of-something"/);
  assert.throws(() => parseDocumentJson('{'), /not JSON/);
  assert.throws(() => parseCompressionJson('nope'), /not JSON/);
});
