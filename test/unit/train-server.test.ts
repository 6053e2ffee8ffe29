import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineParamValidators } from '../../engine/src/protocol/engine';
import { Envelope } from '../../engine/src/protocol/envelope';
import { EngineServer, HandlerContext, Handlers } from '../../engine/src/server/server';
import { engineHandlers } from '../../engine/src/server/handlers';
import { TF_BACKENDS } from '../../engine/src/runtime/tfjs';
import { validateTrainingRun, validateVariantsReport } from '../../engine/src/schema/validate-training';
import type { TrainProgress } from '../../engine/src/train/request';

const train = (request: unknown) => engineParamValidators['train/run']({ request }, 'train/run');
const sweep = (request: unknown) => engineParamValidators['sweep/run']({ request }, 'sweep/run');

test('train/run: a full request passes; each bad field is named with what was expected', () => {
  const full = {
    model: 'builtin:tiny-gpt',
    specOverrides: { layers: 1, hidden: 32, heads: 2, ffn: 64 },
    task: 'sort',
    steps: 100,
    batch: 8,
    seq: 32,
    lr: 0.003,
    warmupSteps: 10,
    weightDecay: 0.01,
    clipNorm: 1,
    seed: 7,
    backend: 'wasm',
    attention: 'bigbird:16,1,1',
    shareLayers: 'all',
    evalEvery: 25,
    evalExamples: 64,
    profiledSteps: 2,
    saveOnnx: '/tmp/out.onnx',
  };
  assert.deepEqual(train(full), { request: full });
  assert.deepEqual(train({ model: 'builtin:tiny-bert' }), { request: { model: 'builtin:tiny-bert' } }, 'everything but the model is optional');
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ model: undefined }, /train\/run\.request\.model: expected a string, got undefined/],
    [{ model: ' ' }, /request\.model: expected a non-empty string/],
    [{ model: 'x'.repeat(257) }, /request\.model: 257 characters, more than the 256 allowed/],
    [{ task: 'translate' }, /request\.task: expected one of: count-compare, sort, char-lm, got "translate"/],
    [{ steps: 0 }, /request\.steps: expected an integer in \[1, 1000000\], got 0/],
    [{ steps: 2.5 }, /request\.steps: expected an integer/],
    [{ batch: 5000 }, /request\.batch: expected an integer in \[1, 4096\], got 5000/],
    [{ seq: Infinity }, /request\.seq: expected an integer in \[1, 65536\], got Infinity/],
    [{ lr: NaN }, /request\.lr: expected a number in \[0, 1\], got NaN/],
    [{ lr: 2 }, /request\.lr: expected a number in \[0, 1\], got 2/],
    [{ weightDecay: -1 }, /request\.weightDecay: expected a number in \[0, 1\]/],
    [{ seed: -1 }, /request\.seed: expected an integer in \[0, 4294967295\]/],
    [{ backend: 'cuda' }, /request\.backend: expected one of: auto, tensorflow, webgpu, wasm, cpu, got "cuda"/],
    [{ attention: 'sparse' }, /request\.attention: --attention "sparse" is not one of dense\|window:W\|bigbird:W,G,R\|linformer:K/],
    [{ attention: 'window:0' }, /request\.attention: --attention window:W must be a positive integer, got "0"/],
    [{ attention: 7 }, /request\.attention: expected a string, got number/],
    [{ shareLayers: 'some' }, /request\.shareLayers: expected none, all or a group size N, got "some"/],
    [{ specOverrides: { layers: 0 } }, /request\.specOverrides\.layers: expected an integer in \[1, 64\], got 0/],
    [{ specOverrides: 'big' }, /request\.specOverrides: expected an object, got string/],
    [{ profiledSteps: 1000 }, /request\.profiledSteps: expected an integer in \[1, 100\]/],
    [{ textFile: '' }, /request\.textFile: expected a non-empty string/],
    [{ saveOnnx: 'x'.repeat(5000) }, /request\.saveOnnx: 5000 characters, more than the 4096 allowed/],
  ];
  for (const [change, message] of cases) assert.throws(() => train({ ...full, ...change }), message, JSON.stringify(change).slice(0, 80));
  assert.throws(() => engineParamValidators['train/run']({}, 'train/run'), /train\/run\.request: expected an object, got undefined/);
});

test('sweep/run: variant labels, sequence lists and budgets are checked', () => {
  const full = {
    model: 'builtin:tiny-bert',
    variants: ['dense', 'window:32', 'bigbird:16,1,1', 'linformer:32', 'dense+share:all', 'window:16+share:2'],
    seqs: [64, 128, 256],
    batch: 4,
    seq: 128,
    task: 'count-compare',
    trainSteps: 50,
    seed: 1,
    backend: 'auto',
    pointBudgetMs: 30_000,
  };
  assert.deepEqual(sweep(full), { request: full });
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ variants: ['dense', 'local:4'] }, /request\.variants\[1\]: --attention "local:4" is not one of/],
    [{ variants: ['dense+share:most'] }, /request\.variants\[0\]: expected ATTENTION or ATTENTION\+share:none\|all\|N, got "dense\+share:most"/],
    [{ variants: ['dense+share:all+share:2'] }, /request\.variants\[0\]: expected ATTENTION or ATTENTION\+share/],
    [{ variants: Array.from({ length: 33 }, () => 'dense') }, /request\.variants: 33 items, more than the 32 allowed/],
    [{ seqs: [64, 0] }, /request\.seqs\[1\]: expected an integer in \[1, 65536\], got 0/],
    [{ seqs: '64,128' }, /request\.seqs: expected an array, got string/],
    [{ trainSteps: -5 }, /request\.trainSteps: expected an integer in \[0, 1000000\]/],
    [{ pointBudgetMs: 0 }, /request\.pointBudgetMs: expected a number in \[1, 3600000\], got 0/],
    [{ task: 'sorting' }, /request\.task: expected one of: count-compare, sort, char-lm/],
  ];
  for (const [change, message] of cases) assert.throws(() => sweep({ ...full, ...change }), message, JSON.stringify(change).slice(0, 80));
});

test('the protocol accepts exactly the tfjs backends the runtime knows', () => {
  for (const b of TF_BACKENDS) assert.doesNotThrow(() => train({ model: 'builtin:tiny-gpt', backend: b }));
});

test('profile/run: the variant fields are optional, strings and bounded', () => {
  const check = engineParamValidators['profile/run'];
  const request = { model: 'builtin:tiny-gpt', attention: 'window:16', shareLayers: 'all' };
  assert.deepEqual(check({ request }, 'profile/run'), { request });
  assert.throws(() => check({ request: { ...request, attention: 16 } }, 'profile/run'), /profile\/run\.request\.attention: expected a string, got number/);
  assert.throws(() => check({ request: { ...request, shareLayers: 'x'.repeat(17) } }, 'profile/run'), /request\.shareLayers: 17 characters, more than the 16 allowed/);
});

test('the engine server: a bad train/run is answered with the field; a good one runs with progress and can be cancelled', async () => {
  const sent: Envelope[] = [];
  let seenSignal: AbortSignal | undefined;
  const handlers = {
    'train/run': async (_params: unknown, ctx: HandlerContext) => {
      seenSignal = ctx.signal;
      const p: TrainProgress = { phase: 'train', step: 1, steps: 10, loss: 2.5, message: 'step 1/10' };
      ctx.emit('train/progress', { requestId: ctx.requestId, ...p });
      // Like the trainer: stop at the next step once cancelled and return what was done.
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
      return { kind: 'training', cancelled: true };
    },
  } as unknown as Handlers;
  const server = new EngineServer(handlers, (e) => sent.push(e));
  await server.receive({ kind: 'request', id: 1, method: 'train/run', params: { request: { model: 'builtin:tiny-gpt', steps: -1 } } });
  const pending = server.receive({ kind: 'request', id: 2, method: 'train/run', params: { request: { model: 'builtin:tiny-gpt', steps: 10 } } });
  await server.receive({ kind: 'cancel', id: 2 });
  await pending;
  const responses = sent.filter((e) => e.kind === 'response') as Array<{ id: number; ok?: unknown; err?: { code: string; message: string } }>;
  assert.equal(responses[0].id, 1);
  assert.equal(responses[0].err?.code, 'io');
  assert.match(responses[0].err?.message ?? '', /train\/run\.request\.steps: expected an integer in \[1, 1000000\], got -1/);
  assert.deepEqual(responses[1], { kind: 'response', id: 2, ok: { kind: 'training', cancelled: true } });
  assert.equal(seenSignal?.aborted, true);
  const progress = sent.find((e) => e.kind === 'event' && e.event === 'train/progress');
  assert.deepEqual(progress && progress.kind === 'event' ? progress.params : undefined, { requestId: 2, phase: 'train', step: 1, steps: 10, loss: 2.5, message: 'step 1/10' });
});

test('the real handlers train and sweep, with progress tagged by request id', async () => {
  const sent: Envelope[] = [];
  const server = new EngineServer(engineHandlers(), (e) => sent.push(e));
  const tiny = { layers: 1, hidden: 32, heads: 2, ffn: 64 };
  await server.receive({ kind: 'request', id: 7, method: 'train/run', params: { request: { model: 'builtin:tiny-gpt', specOverrides: tiny, steps: 3, batch: 2, seq: 8, backend: 'wasm' } } });
  await server.receive({ kind: 'request', id: 8, method: 'sweep/run', params: { request: { model: 'builtin:tiny-bert', specOverrides: tiny, variants: ['dense'], seqs: [8], seq: 8, batch: 1, backend: 'wasm' } } });
  const ok = (id: number) => {
    const r = sent.find((e) => e.kind === 'response' && e.id === id);
    assert.ok(r && 'ok' in r, `request ${id} answered ok: ${JSON.stringify(r).slice(0, 300)}`);
    return r.ok;
  };
  assert.equal(validateTrainingRun(ok(7)).loss.length, 3);
  assert.deepEqual(validateVariantsReport(ok(8)).variants.map((v) => v.label), ['dense']);
  const events = (name: string) => sent.filter((e) => e.kind === 'event' && e.event === name).map((e) => (e.kind === 'event' ? (e.params as { requestId: number }) : undefined));
  assert.ok(events('train/progress').length >= 3 && events('train/progress').every((p) => p?.requestId === 7));
  assert.ok(events('sweep/progress').length >= 1 && events('sweep/progress').every((p) => p?.requestId === 8));
});
