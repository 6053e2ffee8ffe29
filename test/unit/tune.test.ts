/**
 * `twb tune`: the Pareto front and best pick (pure), the eval split, the search order, the budget
 * verdict, and real tunings of builtin:tiny-bert at a small shape on a self-labelled eval file: the
 * best respects the budget on the search part and its held-back check is reported; over-budget
 * trials say why; the trial budget, patience and Ctrl-C stop the search with their reasons; the best
 * model and config are kept and `twb profile --config` runs them. No assertion depends on timing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { argmaxRows } from '../../engine/src/analysis/error-metrics';
import { parseArgs } from '../../engine/src/cli/args';
import { TUNE_OPTIONS, tuneCommand } from '../../engine/src/cli/tune-command';
import type { SuggestionsReport } from '../../engine/src/schema/advice';
import type { TuningReport } from '../../engine/src/schema/tuning';
import { parseTuningReport } from '../../engine/src/schema/validate-tuning';
import { splitIndices } from '../../engine/src/tune/eval-split';
import { orderCandidates } from '../../engine/src/tune/order';
import { dominates, paretoFront, pickBest, TrialPoint, trialsWithoutGain } from '../../engine/src/tune/pareto';
import { budgetBreaches } from '../../engine/src/tune/request';
import { searchSpace } from '../../engine/src/tune/space';
import { builtinModel, feedsFor, runModel } from './helpers/models';
import { runTwb } from './helpers/cli';

const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-tune-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** An eval file whose labels are the fp32 model's own predictions: the original's accuracy is exactly 1. */
async function selfLabelledEval(name: string, examples: number, withLabels = true): Promise<string> {
  const model = builtinModel('tiny-bert');
  const seq = 16;
  const feeds = feedsFor(model, examples, seq, 7);
  const out = await runModel(model, feeds);
  const nested = (input: string) => {
    const data = [...(feeds[input]!.data as BigInt64Array)].map(Number);
    return Array.from({ length: examples }, (_, b) => data.slice(b * seq, (b + 1) * seq));
  };
  const file = path.join(dir, name);
  const inputs = { input_ids: nested('input_ids'), attention_mask: nested('attention_mask') };
  writeFileSync(file, JSON.stringify(withLabels ? { inputs, labels: [...argmaxRows(out.logits!.data, 2)] } : { inputs }));
  return file;
}

interface TuneRun {
  code: number;
  stdout: string;
  status: string[];
}

async function tune(args: string[], opts: { signal?: AbortSignal; onStatus?: (line: string) => void } = {}): Promise<TuneRun> {
  const out: string[] = [];
  const status: string[] = [];
  const io = {
    stdout: (s: string) => out.push(s),
    stderr: (s: string) => out.push(s),
    status: (line: string | null) => {
      if (line === null) return;
      status.push(line);
      opts.onStatus?.(line);
    },
    cwd: dir,
  };
  const code = await tuneCommand(parseArgs(args, TUNE_OPTIONS, 'tune'), io, opts.signal);
  return { code, stdout: out.join('\n'), status };
}

const readReport = (name: string): TuningReport => parseTuningReport(readFileSync(path.join(dir, name), 'utf8'));
const SMALL = ['--batch', '2', '--seq', '16', '--runs', '3', '--threads', '2'];

const p = (id: string, latency: number, accuracy: number, sizeBytes: number): TrialPoint => ({ id, latency, accuracy, sizeBytes });

test('dominance needs no worse on every axis and better on one', () => {
  assert.ok(dominates(p('a', 1, 0.9, 10), p('b', 2, 0.9, 10)), 'faster, same otherwise');
  assert.ok(dominates(p('a', 1, 0.95, 10), p('b', 1, 0.9, 10)), 'more accurate');
  assert.ok(!dominates(p('a', 1, 0.9, 10), p('b', 1, 0.9, 10)), 'equal points do not dominate');
  assert.ok(!dominates(p('a', 1, 0.8, 10), p('b', 2, 0.9, 10)), 'faster but less accurate: a trade-off');
  assert.ok(!dominates(p('a', 1, 0.9, 20), p('b', 1, 0.9, 10)), 'larger');
});

test('the Pareto front keeps trade-offs and equal points, drops dominated ones', () => {
  const points = [p('fast', 1, 0.9, 30), p('small', 3, 0.9, 10), p('accurate', 2, 1, 30), p('worse', 2, 0.9, 30), p('twin', 1, 0.9, 30)];
  assert.deepEqual(paretoFront(points), ['fast', 'small', 'accurate', 'twin']);
  assert.deepEqual(paretoFront([]), []);
});

test('the best is the fastest; near-ties in latency go to the smaller file', () => {
  assert.equal(pickBest([]), null);
  assert.equal(pickBest([p('slow', 2, 1, 10), p('fast', 1, 0.9, 30)]), 'fast');
  assert.equal(pickBest([p('fast', 1, 0.9, 30), p('tie-smaller', 1.01, 0.9, 10)]), 'tie-smaller', 'within 2% is a tie');
  assert.equal(pickBest([p('fast', 1, 0.9, 30), p('slower-smaller', 1.1, 0.9, 10)]), 'fast', '10% slower is not a tie');
  assert.equal(pickBest([p('a', 1, 0.9, 10), p('b', 1, 0.95, 10)]), 'b', 'same speed and size: the more accurate');
  assert.equal(pickBest([p('fast', 1, 0.9, 30), p('tie', 1.01, 0.9, 10)], 0), 'fast', 'no tolerance');
});

test('patience counts trials that add nothing to a front some trial within budget started', () => {
  const ids = ['a', 'b', 'c', 'd', 'e'];
  assert.equal(trialsWithoutGain(ids.slice(0, 2), []), 0, 'nothing within budget yet: no count');
  const a = p('a', 1, 0.9, 100);
  assert.equal(trialsWithoutGain(['a'], [a]), 0);
  assert.equal(trialsWithoutGain(['x', 'a', 'b'], [a]), 1, 'b was over budget after the front started');
  const dominated = p('c', 2, 0.8, 200);
  assert.equal(trialsWithoutGain(['a', 'b', 'c'], [a, dominated]), 2);
  const tradeOff = p('d', 0.5, 0.85, 100);
  assert.equal(trialsWithoutGain(['a', 'b', 'c', 'd'], [a, dominated, tradeOff]), 0, 'a trade-off joins the front and resets the count');
  assert.equal(trialsWithoutGain(ids, [a, dominated, tradeOff]), 1);
});

test('the eval split is seeded, disjoint, covers every example and leaves both parts non-empty', () => {
  const ids = Array.from({ length: 20 }, (_, i) => i);
  const a = splitIndices(ids, 0.3, 0);
  assert.deepEqual(a, splitIndices(ids, 0.3, 0), 'same seed, same split');
  assert.equal(a.heldBack.length, 6);
  assert.deepEqual([...a.search, ...a.heldBack].sort((x, y) => x - y), ids);
  assert.notDeepEqual(a.heldBack, splitIndices(ids, 0.3, 1).heldBack, 'another seed, another split');
  assert.notDeepEqual(a.heldBack, [0, 1, 2, 3, 4, 5], 'shuffled, not the first examples');
  const tiny = splitIndices([0, 1, 2, 3], 0.01, 0);
  assert.equal(tiny.heldBack.length, 1, 'at least one held back');
  assert.equal(splitIndices([0, 1, 2, 3], 0.99, 0).search.length, 1, 'at least one searched');
});

test('the budget names each bound a result breaks', () => {
  const budget = { maxAccuracyDrop: 0.02, minTop1Agreement: 0.95, trials: 8, patience: 3 };
  assert.deepEqual(budgetBreaches(budget, 0.02, 0.95), [], 'on the bounds is within');
  assert.deepEqual(budgetBreaches(budget, 1 - 0.98, 1), [], 'floating-point noise (1 − 0.98 > 0.02) is within');
  assert.deepEqual(budgetBreaches(budget, 0.05, 0.9), ['accuracy drop 5.0% > 2.0% allowed', 'top-1 agreement 90.0% < 95.0% required']);
  assert.deepEqual(budgetBreaches({ ...budget, maxAccuracyDrop: null }, 0.5, 0.96), [], 'an unbounded axis is never breached');
});

test('the search follows the advisor ranking, one variant of each pass in turn; passes it did not suggest come last', () => {
  const space = searchSpace('cpu');
  assert.deepEqual(space.skipped.map((s) => s.candidate), ['fp16'], 'fp16 is skipped on cpu');
  assert.match(space.skipped[0]!.reason, /slower than fp32 on the cpu provider/);
  assert.ok(searchSpace('webgpu').candidates.some((c) => c.id === 'fp16'));
  assert.throws(() => searchSpace('cpu', ['int3']), /unknown candidate "int3"; expected one of: int8-dynamic/);
  const suggestion = (id: string, speedup: number) => ({ id, estimate: { speedup } }) as SuggestionsReport['suggestions'][number];
  const advice = { suggestions: [suggestion('prune-heads', 1.3), suggestion('int8-static', 1.2)], quiet: [{ rule: 'quantization/int4-weight', why: 'too small' }] } as unknown as SuggestionsReport;
  const o = orderCandidates(space.candidates, advice, 'at batch 2, seq 16');
  assert.equal(o.by, 'advisor');
  assert.deepEqual(o.candidates.map((c) => c.id), [
    // suggested passes in rank order, one variant of each in turn
    'heads-0.25', 'int8-static-minmax', 'heads-0.5', 'int8-static-percentile',
    // then the passes the advisor did not suggest, likewise
    'int8-dynamic', 'int4-rtn-b32', 'int8-dynamic-per-channel', 'int4-rtn-b128', 'int4-gptq-b32',
  ]);
  assert.match(o.detail, /prune-heads est\. 1\.30×, int8-static est\. 1\.20×/);
  assert.match(o.detail, /int4-weight \(too small\)/);
  const plain = orderCandidates(space.candidates, null, 'advisor ranking turned off');
  assert.equal(plain.by, 'space');
  assert.deepEqual(plain.candidates, space.candidates);
});

test('a tuning keeps the best within budget, re-checks it on held-back examples, and its config profiles', async () => {
  await selfLabelledEval('eval.json', 20);
  const r = await tune(['builtin:tiny-bert', '--eval', 'eval.json', '--max-accuracy-drop', '0.02', '--candidates', 'int8-dynamic,heads-0.5,int4-rtn-b128', '--out-dir', 'out', '--json', 'tune.json', ...SMALL]);
  assert.equal(r.code, 0, r.stdout);
  const report = readReport('tune.json');
  assert.equal(report.kind, 'tuning');
  assert.deepEqual([report.eval.examples, report.eval.searchExamples, report.eval.heldBackExamples], [20, 14, 6]);
  assert.equal(report.baseline.accuracy, 1, 'labels are the original’s own predictions');
  assert.equal(report.baseline.heldBackAccuracy, 1);
  assert.equal(report.order.by, 'advisor', report.order.detail);
  assert.deepEqual([...report.order.candidates].sort(), ['heads-0.5', 'int4-rtn-b128', 'int8-dynamic']);
  assert.equal(report.trials.length, 3);
  assert.equal(report.stopped.reason, 'exhausted');
  for (const t of report.trials) {
    assert.equal(t.withinBudget, t.status === 'ok');
    if (t.status === 'over-budget') assert.match(t.reason ?? '', /^accuracy drop \d+\.\d% > 2\.0% allowed$/, t.id);
    if (t.accuracy !== null) assert.ok(Math.abs(t.accuracyDrop! - (1 - t.accuracy)) < 1e-12);
  }
  const heads = report.trials.find((t) => t.id === 'heads-0.5')!;
  assert.equal(heads.status, 'over-budget', 'half the heads, no fine-tuning: predictions flip');
  assert.ok(heads.accuracyDrop! > 0.02);
  const best = report.trials.find((t) => t.id === report.best);
  assert.ok(best, 'int8-dynamic keeps every prediction, so some trial is within budget');
  assert.ok(best.withinBudget && best.accuracyDrop! <= 0.02, 'the best respects the budget on the search part');
  assert.ok(report.pareto.includes(best.id));
  for (const id of report.pareto) assert.ok(report.trials.find((t) => t.id === id)!.withinBudget, `${id} on the front is within budget`);
  assert.ok(report.bestHeldBack, 'held-back check reported');
  assert.equal(report.bestHeldBack.withinBudget, true, `held back: ${JSON.stringify(report.bestHeldBack)}`);
  assert.ok(report.bestHeldBack.accuracyDrop <= 0.02);
  assert.match(r.stdout, /trial +change +latency +original +speedup +size +accuracy +drop +top-1 +in budget +pareto/);
  assert.match(r.stdout, new RegExp(`${best.id} ◀ best`));
  assert.match(r.stdout, /Held-back check \(6 examples\): accuracy 100\.0% .* within budget/);
  assert.equal(report.bestModel, path.join(dir, 'out', 'best.onnx'));
  assert.ok(existsSync(report.bestModel!) && existsSync(report.bestConfig!));
  assert.ok(!existsSync(path.join(dir, 'out', 'trials')), 'other trial models are deleted');
  const config = JSON.parse(readFileSync(report.bestConfig!, 'utf8'));
  assert.deepEqual([config.kind, config.model, config.config.batch, config.config.seq, config.fromRun], ['twb-config', 'best.onnx', 2, 16, report.id]);
  const profiled = await runTwb(dir, ['profile', '--config', 'out/best.twb.json', '--runs', '3', '--warmup', '1', '--profiled-runs', '1', '--quiet']);
  assert.equal(profiled.code, 0, profiled.stderr);
  // twb export reads the tuning report through its best config.
  const exported = await runTwb(dir, ['export', 'tune.json', '--format', 'twb', '--out', 'tuned.twb.json']);
  assert.equal(exported.code, 0, exported.stderr);
  assert.equal(JSON.parse(readFileSync(path.join(dir, 'tuned.twb.json'), 'utf8')).model, path.join('out', 'best.onnx'));
  const ort = await runTwb(dir, ['export', 'tune.json', '--format', 'ort', '--out', 'ort.json']);
  assert.equal(ort.code, 0, ort.stderr);
  assert.equal(JSON.parse(readFileSync(path.join(dir, 'ort.json'), 'utf8')).sessionOptions.executionProviders[0], 'cpu');
  const optimized = await runTwb(dir, ['export', 'tune.json', '--format', 'ort-model', '--out', 'best.ort.onnx']);
  assert.equal(optimized.code, 0, optimized.stderr);
  assert.match(optimized.stdout, new RegExp(`best model \\(${best.id}\\) as ONNX Runtime optimizes it`));
  assert.ok(existsSync(path.join(dir, 'best.ort.onnx')));
  const html = await runTwb(dir, ['export', 'tune.json', '--format', 'report', '--out', 'tune.html']);
  assert.equal(html.code, 0, html.stderr);
  assert.match(readFileSync(path.join(dir, 'tune.html'), 'utf8'), new RegExp(`"best":"${best.id}"`));
  const wrong = await runTwb(dir, ['export', 'tune.json', '--format', 'deepspeed']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /does not apply to a tuning report; from one: twb, ort, ort-python, ort-js, ort-model, report/);
});

test('--trials stops the search with reason trials; patience waits for a trial within budget', async () => {
  const r = await tune(['builtin:tiny-bert', '--eval', 'eval.json', '--candidates', 'int4-gptq-b32,heads-0.5,heads-0.25', '--trials', '2', '--patience', '5', '--no-advisor', '--out-dir', 'out2', '--json', 'trials.json', '--quiet', ...SMALL]);
  assert.equal(r.code, 0, r.stdout);
  const report = readReport('trials.json');
  assert.equal(report.order.by, 'space');
  assert.deepEqual(report.trials.map((t) => t.id), ['heads-0.25', 'heads-0.5'], 'the space order (GPTQ, the costliest, last)');
  assert.equal(report.stopped.reason, 'trials');
  assert.match(report.stopped.detail, /trial budget of 2 is spent; not tried: int4-gptq-b32/);
  // Nothing within budget: patience does not count, so every candidate still gets its chance.
  const c = await tune(['builtin:tiny-bert', '--eval', 'eval.json', '--candidates', 'heads-0.25,heads-0.5', '--patience', '1', '--max-accuracy-drop', '0', '--no-advisor', '--out-dir', 'out3', '--json', 'converged.json', '--quiet', ...SMALL]);
  assert.equal(c.code, 0, c.stdout);
  const none = readReport('converged.json');
  assert.deepEqual(none.trials.map((t) => [t.id, t.status]), [['heads-0.25', 'over-budget'], ['heads-0.5', 'over-budget']]);
  assert.equal(none.stopped.reason, 'exhausted');
  assert.equal(none.best, null);
  assert.match(c.stdout, /Best: none within budget/);
  assert.ok(!existsSync(path.join(dir, 'out3', 'best.onnx')));
});

test('Ctrl-C stops after the trial in flight; the partial report is written and the exit is 130', async () => {
  const controller = new AbortController();
  const r = await tune(['builtin:tiny-bert', '--eval', 'eval.json', '--candidates', 'heads-0.25,heads-0.5', '--max-accuracy-drop', '1', '--no-advisor', '--out-dir', 'out4', '--json', 'cancelled.json', ...SMALL], {
    signal: controller.signal,
    onStatus: (line) => {
      if (line.startsWith('trial 1/2')) controller.abort();
    },
  });
  assert.equal(r.code, 130);
  assert.ok(r.status.some((s) => /stopping after this trial/.test(s)), 'the status line says the stop is pending');
  const report = readReport('cancelled.json');
  assert.equal(report.stopped.reason, 'cancelled');
  assert.match(report.stopped.detail, /after 1 trial\(s\); not tried: heads-0\.5/);
  assert.deepEqual(report.trials.map((t) => [t.id, t.status]), [['heads-0.25', 'ok']], 'the trial in flight finished and counts');
  assert.equal(report.best, 'heads-0.25', 'a budget of 1 accepts any accuracy');
  assert.ok(report.bestHeldBack && existsSync(path.join(dir, 'out4', 'best.onnx')), 'the partial result is still checked and kept');
});

test('bad input fails before any trial with a message naming the problem', async () => {
  await selfLabelledEval('three.json', 3);
  await selfLabelledEval('unlabelled.json', 6, false);
  const cases: Array<[string[], RegExp]> = [
    [['builtin:tiny-bert'], /needs --eval FILE/],
    [['builtin:tiny-bert', '--eval', 'unlabelled.json'], /eval file ".*unlabelled\.json" has no "labels"/],
    [['builtin:tiny-bert', '--eval', 'three.json'], /has 3 labelled example\(s\); tuning needs at least 4/],
    [['builtin:tiny-bert', '--eval', 'eval.json', '--max-accuracy-drop', '1.5'], /--max-accuracy-drop must be a fraction in \[0, 1\], got 1\.5/],
    [['builtin:tiny-bert', '--eval', 'eval.json', '--min-top1', '2'], /--min-top1 must be a fraction in \[0, 1\], got 2/],
    [['builtin:tiny-bert', '--eval', 'eval.json', '--trials', '0'], /--trials must be an integer in \[1, 1000\], got 0/],
    [['builtin:tiny-bert', '--eval', 'eval.json', '--candidates', 'int8-dynamic,int2'], /unknown candidate "int2"; expected one of: int8-dynamic, /],
    [['builtin:tiny-bert', '--eval', 'missing.json'], /eval file ".*missing\.json" does not exist/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(tune([...args, '--out-dir', 'bad', '--quiet']), message, args.join(' '));
  }
  assert.ok(!existsSync(path.join(dir, 'bad', 'best.onnx')));
});

test('the report validator rejects a best that names no trial', () => {
  const report = readReport('tune.json');
  assert.throws(() => parseTuningReport(JSON.stringify({ ...report, best: 'int9' })), /tuning\.best: "int9" names no trial/);
  assert.throws(() => parseTuningReport(JSON.stringify({ ...report, stopped: { reason: 'bored', detail: '' } })), /tuning\.stopped\.reason: expected one of: trials, converged, exhausted, cancelled/);
});
