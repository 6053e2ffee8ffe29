/**
 * The structural options: their CLI spelling, the masks each attention variant defines, that
 * sharing really shares (ONNX and tfjs alike) and the FLOPs each variant costs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  formatAttention,
  formatShareLayers,
  parseAttention,
  parseShareLayers,
  validateAttention,
  weightLayer,
} from '../../engine/src/model/variants';
import { bigbirdKeyBlocks, blockLayout, randomBlocks, structuralMask } from '../../engine/src/model/attention-masks';
import { buildTransformer, initialWeights } from '../../engine/src/model/transformer';
import { presetSpec, TransformerSpec } from '../../engine/src/model/spec';
import { loadTf } from '../../engine/src/runtime/tfjs';
import { createTfTransformer, weightShapes } from '../../engine/src/train/tf-model';
import { transformerFlops } from '../../engine/src/analysis/transformer-flops';
import { countFlops } from '../../engine/src/analysis/flops';
import { openSession } from '../../engine/src/runtime/ort';
import { encodeModel } from '../../engine/src/onnx/codec';
import { parseOrtProfile } from '../../engine/src/profile/ort-profile';
import type { ModelProto } from '../../engine/src/onnx/types';
import { assertValidOnnx, feedsFor } from './helpers/models';

const SMALL: TransformerSpec = { layers: 4, hidden: 32, heads: 4, ffn: 64, vocab: 50, maxSeq: 32, kind: 'encoder' };

const usage = (re: RegExp) => (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'usage' && re.test(e.message);

test('attention and share-layers spellings round-trip', () => {
  for (const text of ['dense', 'window:32', 'bigbird:16,1,1', 'bigbird:8,0,3', 'linformer:64']) assert.equal(formatAttention(parseAttention(text)), text);
  assert.deepEqual(parseAttention(undefined), { kind: 'dense' });
  assert.deepEqual(parseAttention('bigbird:16,2,1'), { kind: 'bigbird', block: 16, global: 2, random: 1 });
  for (const text of ['none', 'all', '2']) assert.equal(formatShareLayers(parseShareLayers(text, 4), 4), text);
  assert.equal(parseShareLayers('all', 6), 6);
  assert.equal(formatShareLayers(4, 4), 'all');
});

test('bad spellings fail naming the syntax or the limit', () => {
  assert.throws(() => parseAttention('sparse:3'), usage(/dense\|window:W\|bigbird:W,G,R\|linformer:K/));
  assert.throws(() => parseAttention('window:0'), usage(/window:W must be a positive integer, got "0"/));
  assert.throws(() => parseAttention('window:x'), usage(/positive integer, got "x"/));
  assert.throws(() => parseAttention('bigbird:4,1'), usage(/three numbers W,G,R/));
  assert.throws(() => parseAttention('bigbird:4,-1,1'), usage(/global blocks G must be a whole number/));
  assert.throws(() => parseShareLayers('5', 4), usage(/more than the model's 4 layers; use all/));
  assert.throws(() => parseShareLayers('two', 4), usage(/--share-layers must be a positive integer/));
});

test('variants that do not fit the model are usage errors, in the builder and the tfjs model', () => {
  const spec = (attention: string, kind: 'encoder' | 'decoder' = 'encoder'): TransformerSpec => ({ ...SMALL, kind, attention: parseAttention(attention) });
  assert.throws(() => validateAttention(spec('linformer:8', 'decoder')), usage(/encoders only.*cannot be causal.*dense, window:W or bigbird:W,G,R/));
  assert.throws(() => validateAttention(spec('linformer:33')), usage(/projection length \(33\) is longer than the model's maxSeq \(32\)/));
  assert.throws(() => validateAttention(spec('window:64')), usage(/window \(64\) is longer than the model's maxSeq \(32\)/));
  assert.throws(() => validateAttention(spec('bigbird:64,0,0')), usage(/block size \(64\) is longer/));
  // 32 / 8 = 4 blocks: 1 global + 3 neighbours leave none unseen.
  assert.throws(() => validateAttention(spec('bigbird:8,1,0')), usage(/fewer than the 4 blocks of 8 tokens in maxSeq 32/));
  validateAttention(spec('bigbird:4,1,2'));
  validateAttention(spec('linformer:32'));
  assert.throws(() => buildTransformer(spec('linformer:8', 'decoder')), usage(/cannot be causal/));
  assert.throws(() => weightShapes(spec('window:64')), usage(/window \(64\)/));
});

/** A matrix written as rows of 0/1 characters. */
function matrix(rows: string[]): Uint8Array {
  return Uint8Array.from(rows.join('').split(''), Number);
}

const maskOf = (attention: string, kind: 'encoder' | 'decoder', seq: number, maxSeq = 32, layer = 0) =>
  structuralMask({ kind, maxSeq, attention: parseAttention(attention) }, layer, seq);

test('dense masks: causal for a decoder, everything for an encoder', () => {
  assert.deepEqual(maskOf('dense', 'decoder', 4), matrix(['1000', '1100', '1110', '1111']));
  assert.deepEqual(maskOf('dense', 'encoder', 3), matrix(['111', '111', '111']));
});

test('window W=2 at S=6: |i−j| < 2 for an encoder, 0 ≤ i−j < 2 for a decoder', () => {
  assert.deepEqual(maskOf('window:2', 'encoder', 6), matrix(['110000', '111000', '011100', '001110', '000111', '000011']));
  assert.deepEqual(maskOf('window:2', 'decoder', 6), matrix(['100000', '110000', '011000', '001100', '000110', '000011']));
});

/** Expands a block-level matrix to tokens (block size w), optionally causal, cut to seq. */
function expand(blocks: string[], w: number, seq: number, causal: boolean): Uint8Array {
  const out = new Uint8Array(seq * seq);
  for (let i = 0; i < seq; i++) for (let j = 0; j < seq; j++) out[i * seq + j] = blocks[Math.floor(i / w)][Math.floor(j / w)] === '1' && (!causal || j <= i) ? 1 : 0;
  return out;
}

test('BigBird without random blocks: global rows and columns plus neighbour blocks (hand-written)', () => {
  // 12 tokens in 6 blocks of 2; block 0 is global.
  const blocks = ['111111', '111000', '111100', '101110', '100111', '100011'];
  assert.deepEqual(maskOf('bigbird:2,1,0', 'encoder', 12, 12), expand(blocks, 2, 12, false));
  assert.deepEqual(maskOf('bigbird:2,1,0', 'decoder', 12, 12), expand(blocks, 2, 12, true));
  // Shorter than maxSeq, with a partial last block: the same pattern cut to [7, 7].
  assert.deepEqual(maskOf('bigbird:2,1,0', 'encoder', 7, 12), expand(blocks, 2, 7, false));
});

test('BigBird random blocks: seeded per layer and block, new blocks only, past-only for a decoder', () => {
  const v = { block: 2, global: 1, random: 2 };
  const enc = randomBlocks(v, 'encoder', 0, 32); // 16 blocks
  assert.deepEqual(enc, randomBlocks(v, 'encoder', 0, 32), 'same seed, same blocks');
  assert.notDeepEqual(enc, randomBlocks(v, 'encoder', 1, 32), 'each layer draws its own');
  assert.deepEqual(enc[0], [], 'a global query block needs no random blocks');
  enc.slice(1).forEach((list, i) => {
    const b = i + 1;
    assert.equal(list.length, 2, `block ${b} draws R blocks`);
    assert.equal(new Set(list).size, 2, 'without repeats');
    for (const c of list) assert.ok(c >= 1 && Math.abs(c - b) > 1, `block ${b}: random block ${c} is neither global nor a neighbour`);
  });
  const dec = randomBlocks(v, 'decoder', 0, 32);
  dec.forEach((list, b) => {
    for (const c of list) assert.ok(c < b - 1, `decoder block ${b}: random block ${c} is in the past`);
    assert.equal(list.length, Math.min(2, Math.max(0, b - 2)), `decoder block ${b}: as many as there are earlier blocks`);
  });
  // The key-block sets are the union, a block reached twice counted once.
  const sets = bigbirdKeyBlocks(v, 'encoder', 0, 32);
  assert.deepEqual([...sets[1]].sort((a, b) => a - b), [0, 1, 2, ...enc[1]].sort((a, b) => a - b));
  assert.equal(sets[1].size, 5, 'block 1: global 0 is also its neighbour b−1');
  assert.equal(sets[5].size, 6, 'block 5: 1 global + 3 neighbours + 2 random');
});

test('every mask is its maxSeq mask cut to [S, S] (prefix-consistent)', () => {
  for (const [attention, kind] of [['window:3', 'encoder'], ['window:3', 'decoder'], ['bigbird:2,1,2', 'encoder'], ['bigbird:3,2,1', 'decoder'], ['bigbird:4,0,3', 'encoder']] as const) {
    for (const layer of [0, 3]) {
      const full = maskOf(attention, kind, 32, 32, layer);
      for (const s of [1, 5, 8, 17, 31]) {
        const cut = new Uint8Array(s * s);
        for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) cut[i * s + j] = full[i * 32 + j];
        assert.deepEqual(maskOf(attention, kind, s, 32, layer), cut, `${attention} ${kind} layer ${layer} S=${s}`);
      }
    }
  }
});

test('the block layout covers exactly the mask, each key once (duplicates dropped)', () => {
  for (const [attention, kind, seq] of [['window:3', 'encoder', 20], ['window:4', 'decoder', 32], ['bigbird:2,1,2', 'encoder', 17], ['bigbird:2,2,1', 'decoder', 32], ['bigbird:3,0,2', 'encoder', 32]] as const) {
    const spec = { kind, maxSeq: 32, attention: parseAttention(attention) };
    const L = blockLayout(spec, 1, seq);
    const mask = structuralMask(spec, 1, seq);
    const seen = new Uint8Array(seq * seq);
    for (let i = 0; i < L.globalRows; i++) for (let j = 0; j < seq; j++) seen[i * seq + j] += L.globalAllowed[i * seq + j];
    for (let q = 0; q < L.blocks - L.globalBlocks; q++) {
      for (let r = 0; r < L.block; r++) {
        const i = (L.globalBlocks + q) * L.block + r;
        for (let c = 0; c < L.cols; c++) {
          if (!L.allowed[(q * L.block + r) * L.cols + c]) continue;
          assert.ok(i < seq, 'padding rows attend to nothing');
          seen[i * seq + L.keyPos[q * L.cols + c]]++;
        }
      }
    }
    assert.deepEqual(seen, mask, `${attention} ${kind} S=${seq}`);
  }
});

/** Float weights of the ONNX model (non-constant initializers), summed. */
function onnxParams(model: ModelProto): number {
  return model.graph.initializer.filter((t) => t.dataType === 1 && !t.name.startsWith('const/')).reduce((a, t) => a + t.dims.reduce((x, d) => x * Number(d), 1), 0);
}

test('sharing shares: ONNX and tfjs count the same parameters; `all` removes (layers − 1) layers', async () => {
  const { tf } = await loadTf('cpu');
  for (const [attention, kind] of [['dense', 'encoder'], ['dense', 'decoder'], ['linformer:8', 'encoder'], ['bigbird:4,1,1', 'decoder']] as const) {
    const counts: Record<string, number> = {};
    let perLayer = 0;
    for (const share of [1, 2, 4]) {
      const spec: TransformerSpec = { ...SMALL, kind, attention: parseAttention(attention), shareLayers: share };
      const onnx = onnxParams(buildTransformer(spec, { seed: 3 }));
      const weights = initialWeights(spec, 3);
      const model = createTfTransformer(tf, spec, weights);
      assert.equal(model.paramCount(), onnx, `${attention} ${kind} share ${share}: tfjs and ONNX parameter counts`);
      model.dispose();
      counts[share] = onnx;
      if (share === 1) perLayer = [...weights].filter(([n]) => n.startsWith('layer0/')).reduce((a, [, w]) => a + w.length, 0);
    }
    const label = `${attention} ${kind}`;
    assert.equal(counts[1] - counts[4], 3 * perLayer, `${label}: all-sharing removes 3 layers of ${perLayer}`);
    assert.equal(counts[1] - counts[2], 2 * perLayer, `${label}: groups of 2 remove 2 layers`);
    if (attention.startsWith('linformer')) assert.ok(perLayer > 32 * 8, 'the Linformer projection is a per-layer weight');
  }
});

test('a shared model passes onnx.checker and every layer of a group reads its first layer\'s weights', (t) => {
  for (const [share, kind, attention] of [[4, 'encoder', 'dense'], [2, 'decoder', 'window:4'], [2, 'encoder', 'linformer:8'], [4, 'decoder', 'bigbird:4,1,1']] as const) {
    const spec: TransformerSpec = { ...SMALL, kind, shareLayers: share, attention: parseAttention(attention) };
    const model = buildTransformer(spec, { seed: 1 });
    assertValidOnnx(model, t);
    const inits = new Set(model.graph.initializer.map((i) => i.name));
    for (let l = 0; l < spec.layers; l++) {
      const owner = `layer${weightLayer(l, share)}/`;
      const read = model.graph.node.filter((n) => n.name.startsWith(`layer${l}/`)).flatMap((n) => n.input).filter((i) => inits.has(i) && !i.startsWith('const/'));
      assert.ok(read.length >= 16, `layer ${l} reads its weights`);
      for (const name of read) assert.ok(name.startsWith(owner), `${attention} share ${share}: layer ${l} reads ${name}, expected ${owner}*`);
    }
    assert.equal([...inits].filter((n) => n.startsWith('layer1/')).length, 0, 'layer 1 declares no weights of its own');
  }
});

test('Linformer adds only its projections: every other weight is the dense one, E ~ N(0, 1/K)', () => {
  const dense = initialWeights(SMALL, 5);
  const lin = initialWeights({ ...SMALL, attention: parseAttention('linformer:16') }, 5);
  for (const [name, w] of dense) assert.deepEqual(lin.get(name), w, name);
  const extra = [...lin.keys()].filter((n) => !dense.has(n));
  assert.deepEqual(extra, ['layer0/attn/linformer_e', 'layer1/attn/linformer_e', 'layer2/attn/linformer_e', 'layer3/attn/linformer_e']);
  const e = lin.get('layer0/attn/linformer_e')!;
  assert.equal(e.length, 32 * 16);
  const variance = e.reduce((a, x) => a + x * x, 0) / e.length;
  assert.ok(Math.abs(variance - 1 / 16) < 0.015, `variance ${variance}`);
});

/** Sum of analysis/flops.ts over every kernel ORT ran (optimizations off: nodes map 1:1). */
async function ortFlops(model: ModelProto, batch: number, seq: number): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-flops-'));
  try {
    const s = await openSession(encodeModel(model), { executionProvider: 'cpu', threads: 1, optLevel: 'disabled', profilePrefix: path.join(dir, 'p') }, 'model');
    await s.run(feedsFor(model, batch, seq));
    s.endProfiling();
    await s.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'))!;
    const kernels = parseOrtProfile(readFileSync(path.join(dir, file), 'utf8')).kernels;
    return kernels.reduce((a, k) => a + countFlops({ opType: k.opType, domain: '', inputs: k.inputShapes, outputs: k.outputShapes }), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('transformerFlops agrees with the FLOP counter on the ONNX model ORT runs (dense and Linformer)', async () => {
  for (const spec of [presetSpec('builtin:tiny-gpt'), presetSpec('builtin:tiny-bert'), { ...SMALL, attention: parseAttention('linformer:8') }]) {
    const [batch, seq] = [2, 24];
    const counted = await ortFlops(buildTransformer(spec), batch, seq);
    assert.equal(transformerFlops(spec, batch, seq).forward, counted, `${spec.kind} ${formatAttention(spec.attention)}`);
  }
});

test('attention FLOPs: dense grows as S², window, BigBird and Linformer as S', () => {
  const long: TransformerSpec = { ...presetSpec('builtin:tiny-bert'), maxSeq: 1024 };
  const ratio = (attention: string, kind: 'encoder' | 'decoder' = 'encoder') => {
    const spec = { ...long, kind, attention: parseAttention(attention) };
    return transformerFlops(spec, 1, 1024).attention / transformerFlops(spec, 1, 512).attention;
  };
  assert.equal(ratio('dense'), 4);
  assert.equal(ratio('window:32'), 2);
  assert.equal(ratio('window:32', 'decoder'), 2);
  assert.equal(ratio('linformer:64'), 2);
  const bb = ratio('bigbird:32,1,2');
  assert.ok(bb > 1.9 && bb < 2.2, `bigbird ratio ${bb}`);
  // At 1024 tokens, window:32 computes 3 blocks of 32 keys per query: 96/1024 of dense.
  const at = (attention: string) => transformerFlops({ ...long, attention: parseAttention(attention) }, 1, 1024).attention;
  assert.equal(at('window:32') / at('dense'), 96 / 1024);
  const f = transformerFlops(long, 2, 128);
  assert.equal(f.forward, f.attention + f.projections + f.ffn + f.head);
  assert.equal(f.trainingStep, 3 * f.forward);
  assert.deepEqual(f.perLayer, Array(4).fill(f.perLayer[0]));
});

test('issue #9 spellings: mixer, dynamic-conv:K, adaptive-span:MAX[,RAMP] round-trip; the default ramp is MAX/8, at least 1', () => {
  for (const text of ['mixer', 'dynamic-conv:3', 'dynamic-conv:31', 'adaptive-span:16', 'adaptive-span:16,4', 'adaptive-span:3']) assert.equal(formatAttention(parseAttention(text)), text);
  assert.deepEqual(parseAttention('mixer'), { kind: 'mixer' });
  assert.deepEqual(parseAttention('dynamic-conv:7'), { kind: 'dynamic-conv', kernel: 7 });
  assert.deepEqual(parseAttention('adaptive-span:16'), { kind: 'adaptive-span', maxSpan: 16, ramp: 2 });
  assert.deepEqual(parseAttention('adaptive-span:3'), { kind: 'adaptive-span', maxSpan: 3, ramp: 1 });
  assert.deepEqual(parseAttention('adaptive-span:16,5'), { kind: 'adaptive-span', maxSpan: 16, ramp: 5 });
  // A ramp equal to the default prints in the short form, so one variant has one spelling.
  assert.equal(formatAttention(parseAttention('adaptive-span:16,2')), 'adaptive-span:16');
});

test('issue #9 bad spellings and misfits fail naming the syntax or the limit', () => {
  assert.throws(() => parseAttention('sparse:3'), usage(/mixer\|dynamic-conv:K\|adaptive-span:MAX\[,RAMP\]/));
  assert.throws(() => parseAttention('mixer:4'), usage(/"mixer:4" is not one of/));
  assert.throws(() => parseAttention('dynamic-conv'), usage(/is not one of .*dynamic-conv:K/));
  assert.throws(() => parseAttention('dynamic-conv:0'), usage(/dynamic-conv:K must be a positive integer, got "0"/));
  assert.throws(() => parseAttention('adaptive-span:8,0'), usage(/ramp must be a positive integer, got "0"/));
  assert.throws(() => parseAttention('adaptive-span:8,2,1'), usage(/takes MAX or MAX,RAMP/));
  assert.throws(() => parseAttention('adaptive-span:x'), usage(/largest span MAX must be a positive integer, got "x"/));
  const spec = (attention: string, kind: 'encoder' | 'decoder' = 'encoder'): TransformerSpec => ({ ...SMALL, kind, attention: parseAttention(attention) });
  assert.throws(() => validateAttention(spec('dynamic-conv:33', 'decoder')), usage(/kernel \(33 taps\) is longer than the model's maxSeq \(32\)/));
  assert.throws(() => validateAttention(spec('adaptive-span:33')), usage(/largest span \(33\) is longer than the model's maxSeq \(32\)/));
  assert.throws(() => buildTransformer(spec('dynamic-conv:40')), usage(/kernel \(40 taps\)/));
  for (const ok of ['mixer', 'dynamic-conv:32', 'adaptive-span:32,8']) for (const kind of ['encoder', 'decoder'] as const) validateAttention(spec(ok, kind));
});

test('transformerFlops agrees with the FLOP counter on the ONNX model ORT runs (mixer, dynamic-conv, adaptive span)', async () => {
  for (const attention of ['mixer', 'dynamic-conv:5', 'adaptive-span:8']) {
    for (const kind of ['encoder', 'decoder'] as const) {
      const spec: TransformerSpec = { ...SMALL, layers: 2, kind, attention: parseAttention(attention) };
      const [batch, seq] = [2, 24];
      const counted = await ortFlops(buildTransformer(spec), batch, seq);
      assert.equal(transformerFlops(spec, batch, seq).forward, counted, `${kind} ${attention}`);
    }
  }
});

test('issue #9 FLOPs: hand-computed for a small decoder; dynamic-conv linear in S, mixer quadratic, adaptive span dense', () => {
  // 2 layers, hidden 8, 2 heads, ffn 16, vocab 10; batch 1, 4 tokens. Per layer: FFN 2·2·4·8·16 = 2048;
  // head 2·4·8·10 = 640. Mixer: 2 token products 2·(8 channels)·4·4 = 256 each, no projections.
  // Dynamic-conv K=3: v + out 2·2·4·8·8 = 1024, kernel 2·4·8·(2·3) = 384, taps 2·4·3·8 = 192.
  // Adaptive span: dense, projections 4·2·4·64 = 2048, scores + context 2·2·4·4·8 = 512.
  const tiny: TransformerSpec = { layers: 2, hidden: 8, heads: 2, ffn: 16, vocab: 10, maxSeq: 8, kind: 'decoder' };
  const at = (attention: string) => transformerFlops({ ...tiny, attention: parseAttention(attention) }, 1, 4);
  const pick = (f: ReturnType<typeof at>) => [f.attention, f.projections, f.ffn, f.head, f.forward];
  assert.deepEqual(pick(at('mixer')), [1024, 0, 4096, 640, 5760]);
  assert.deepEqual(pick(at('dynamic-conv:3')), [384, 2816, 4096, 640, 7936]);
  assert.deepEqual(pick(at('adaptive-span:4')), [1024, 4096, 4096, 640, 9856]);
  assert.deepEqual(at('dynamic-conv:3').perLayer, [192 + 1408 + 2048, 192 + 1408 + 2048]);

  const long: TransformerSpec = { ...presetSpec('builtin:tiny-gpt'), maxSeq: 1024 };
  const f = (attention: string, seq: number) => transformerFlops({ ...long, attention: parseAttention(attention) }, 2, seq);
  for (const seq of [64, 256, 512]) {
    assert.equal(f('dynamic-conv:7', 2 * seq).attention, 2 * f('dynamic-conv:7', seq).attention, `dynamic-conv attention linear at ${seq}`);
    assert.equal(f('dynamic-conv:7', 2 * seq).forward, 2 * f('dynamic-conv:7', seq).forward, 'and so is the whole forward pass');
    assert.equal(f('mixer', 2 * seq).attention, 4 * f('mixer', seq).attention, `mixer quadratic at ${seq}`);
    assert.equal(f('adaptive-span:64', seq).forward, f('dense', seq).forward, 'adaptive span costs dense');
  }
  assert.equal(f('mixer', 128).projections, 0);
});
