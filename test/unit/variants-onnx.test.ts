/**
 * Issue #9's attention variants in the ONNX builder: mixer, dynamic-conv and adaptive span build
 * valid models whose weights are exactly `attentionWeights`, run in ORT at any length up to
 * maxSeq, leak no future token (decoders) and no padding (encoders), see exactly their K taps
 * (dynamic-conv), and compute what an independent plain-loop reference of the design computes;
 * a profile of a built-in mixer says it mixes a fixed number of positions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTransformer, initialWeights } from '../../engine/src/model/transformer';
import type { TransformerSpec } from '../../engine/src/model/spec';
import { attentionWeights, mixerLengthWarning, parseAttention, weightLayer } from '../../engine/src/model/variants';
import { presetSpec } from '../../engine/src/model/spec';
import { loadModelSource } from '../../engine/src/profile/model-source';
import { convTapsBefore, maskRule, mixerTriangle, spanDistances } from '../../engine/src/model/attention-masks';
import { weightShapes } from '../../engine/src/train/tf-model';
import { readFloat32 } from '../../engine/src/onnx/tensor-data';
import { DataType, ModelProto } from '../../engine/src/onnx/types';
import { valueInfo } from '../../engine/src/model/graph-builder';
import { createRng } from '../../engine/src/util/rng';
import { assertValidOnnx, runModel } from './helpers/models';
import { referenceAttentionResidual } from './helpers/attention-reference';

const BASE = { layers: 2, hidden: 16, heads: 4, ffn: 32, vocab: 40, maxSeq: 12 } as const;
const NEW = ['mixer', 'dynamic-conv:3', 'dynamic-conv:4', 'adaptive-span:4,2'];
const KINDS = ['encoder', 'decoder'] as const;

const specOf = (attention: string, kind: 'encoder' | 'decoder', extra: Partial<TransformerSpec> = {}): TransformerSpec => ({ ...BASE, kind, attention: parseAttention(attention), ...extra });

/** Seeded ids [batch, seq]. */
function randomIds(batch: number, seq: number, seed: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: batch * seq }, () => rng.int(0, BASE.vocab));
}

/** Runs `model` on ids (and an encoder's mask); returns every output. */
async function run(model: ModelProto, ids: number[], batch: number, seq: number, mask?: number[]) {
  const int64 = (v: number[]) => ({ type: 'int64' as const, data: BigInt64Array.from(v, BigInt), dims: [batch, seq] });
  const feeds = { input_ids: int64(ids), ...(model.graph.input.some((i) => i.name === 'attention_mask') ? { attention_mask: int64(mask ?? Array(batch * seq).fill(1)) } : {}) };
  return runModel(model, feeds);
}

/** The model with an intermediate tensor [batch, sequence, hidden] also as a graph output. */
function withOutput(model: ModelProto, name: string): ModelProto {
  assert.ok(model.graph.node.some((n) => n.output.includes(name)), `a node produces ${name}`);
  return { ...model, graph: { ...model.graph, output: [...model.graph.output, valueInfo(name, DataType.FLOAT, ['batch', 'sequence', BASE.hidden])] } };
}

/** Max |a − b| over rows [from, to) of `width` values each. */
function rowsDiff(a: Float32Array, b: Float32Array, width: number, from: number, to: number): number {
  let m = 0;
  for (let i = from * width; i < to * width; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('the pure tables: conv taps, the mixer triangle, span distances and each new kind\'s mask rule', () => {
  assert.deepEqual([1, 2, 3, 4].map((k) => convTapsBefore('encoder', k)), [0, 0, 1, 1]);
  assert.deepEqual([1, 2, 3, 4].map((k) => convTapsBefore('decoder', k)), [0, 1, 2, 3]);
  assert.deepEqual(mixerTriangle(3), Float32Array.from([1, 1, 1, 0, 1, 1, 0, 0, 1]));
  assert.deepEqual(spanDistances('decoder', 3), Float32Array.from([0, -1, -2, 1, 0, -1, 2, 1, 0]));
  assert.deepEqual(spanDistances('encoder', 3), Float32Array.from([0, 1, 2, 1, 0, 1, 2, 1, 0]));
  const rows = (attention: string, kind: 'encoder' | 'decoder', i: number) =>
    Array.from({ length: 8 }, (_, j) => (maskRule({ kind, maxSeq: 8, attention: parseAttention(attention) }, 0)(i, j) ? 1 : 0)).join('');
  assert.equal(rows('dynamic-conv:4', 'encoder', 3), '00111100', 'encoder K=4: i−1 … i+2');
  assert.equal(rows('dynamic-conv:3', 'decoder', 3), '01110000', 'decoder K=3: i−2 … i');
  assert.equal(rows('adaptive-span:2,1', 'encoder', 3), '01111100', 'reach maxSpan + ramp = 3: |i − j| < 3');
  assert.equal(rows('adaptive-span:2,1', 'decoder', 3), '01110000');
  assert.equal(rows('mixer', 'decoder', 3), '11110000');
  assert.equal(rows('mixer', 'encoder', 3), '11111111');
});

test('every new variant builds, passes onnx.checker, runs at S < maxSeq and S = maxSeq, and declares exactly attentionWeights', async (t) => {
  for (const attention of NEW) {
    for (const kind of KINDS) {
      for (const share of [1, 2]) {
        const spec = specOf(attention, kind, { shareLayers: share });
        const label = `${attention} ${kind} share ${share}`;
        const model = buildTransformer(spec, { seed: 4 });
        if (share === 1) assertValidOnnx(model, t);
        const inits = new Map(model.graph.initializer.filter((i) => !i.name.startsWith('const/')).map((i) => [i.name, i]));
        // Weight-owning layers hold exactly the list; the rest of the model is what weightShapes says.
        const expected = new Map<string, number[]>();
        for (const [name, dims] of weightShapes({ ...spec, attention: undefined })) if (!/^layer\d+\/attn\//.test(name)) expected.set(name, dims);
        for (let l = 0; l < spec.layers; l++) {
          if (weightLayer(l, share) !== l) continue;
          for (const w of attentionWeights(spec)) {
            expected.set(`layer${l}/${w.name}`, w.dims);
            const data = readFloat32(inits.get(`layer${l}/${w.name}`)!);
            if (w.init === 'zeros') assert.ok(data.every((v) => v === 0), `${label}: ${w.name} starts at 0`);
            if (w.init === 'ones') assert.ok(data.every((v) => v === 1), `${label}: ${w.name} starts at 1`);
            if (w.init === 'normal') assert.ok(data.some((v) => v !== 0), `${label}: ${w.name} is drawn`);
          }
        }
        assert.deepEqual([...inits.keys()].sort(), [...expected.keys()].sort(), `${label}: initializer names`);
        for (const [name, dims] of expected) assert.deepEqual(inits.get(name)!.dims.map(Number), dims, `${label}: ${name} dims`);
        // …which is what the tfjs model holds, so trained weights load into the builder.
        assert.deepEqual(new Map([...weightShapes(spec)].sort()), new Map([...expected].sort()), `${label}: weightShapes`);
        if (share !== 1) continue;
        for (const seq of [1, 5, BASE.maxSeq]) {
          const out = await run(model, randomIds(2, seq, seq), 2, seq);
          assert.deepEqual(out.logits.dims, kind === 'decoder' ? [2, seq, BASE.vocab] : [2, 2], `${label} S=${seq}`);
          assert.ok(out.logits.data.every(Number.isFinite), `${label} S=${seq}: finite logits`);
        }
      }
    }
  }
});

test('decoders leak no future token: logits at positions ≤ t do not move when later ids change (mixer, dynamic-conv, adaptive span)', async () => {
  for (const attention of NEW) {
    const model = buildTransformer(specOf(attention, 'decoder'), { seed: 2 });
    for (const seq of [7, BASE.maxSeq]) {
      const ids = randomIds(1, seq, 9);
      const base = (await run(model, ids, 1, seq)).logits.data;
      for (const t of [0, 3, seq - 2]) {
        const changed = ids.map((id, i) => (i > t ? (id + 7) % BASE.vocab : id));
        const after = (await run(model, changed, 1, seq)).logits.data;
        assert.equal(rowsDiff(base, after, BASE.vocab, 0, t + 1), 0, `${attention} S=${seq}: positions ≤ ${t} unchanged`);
        assert.ok(rowsDiff(base, after, BASE.vocab, t + 1, t + 2) > 0, `${attention} S=${seq}: position ${t + 1} sees its own new token`);
      }
    }
  }
});

test('the mixer\'s fixed length: a decoder prefix computes what it does inside maxSeq', async () => {
  const model = buildTransformer(specOf('mixer', 'decoder'), { seed: 3 });
  const ids = randomIds(1, BASE.maxSeq, 5);
  const full = (await run(model, ids, 1, BASE.maxSeq)).logits.data;
  const prefix = (await run(model, ids.slice(0, 5), 1, 5)).logits.data;
  assert.ok(rowsDiff(full, prefix, BASE.vocab, 0, 5) < 1e-5);
});

test('a profile of a built-in mixer carries its fixed-length caveat; other variants carry none', async () => {
  const mixer = await loadModelSource('builtin:tiny-bert', 0, { attention: 'mixer' });
  assert.deepEqual(mixer.warnings, [mixerLengthWarning(presetSpec('builtin:tiny-bert'))]);
  assert.match(mixer.warnings![0], /mixes a fixed number of positions \(maxSeq 128\).*run this encoder at the length it was trained at/);
  for (const attention of ['dense', 'dynamic-conv:7', 'adaptive-span:32']) assert.equal((await loadModelSource('builtin:tiny-gpt', 0, { attention })).warnings, undefined, attention);
});

test('encoders ignore padding: changing padded ids leaves the logits exactly as they were', async () => {
  for (const attention of NEW) {
    const model = buildTransformer(specOf(attention, 'encoder'), { seed: 6 });
    const seq = 9;
    const ids = randomIds(2, seq, 1);
    // The second sequence is 2 tokens and 7 padding: padding within reach of the pooled first
    // position even for dynamic-conv's short kernels (2 layers of K=3 see 2 positions ahead).
    const mask = ids.map((_, i) => (i >= seq && i % seq >= 2 ? 0 : 1));
    const base = (await run(model, ids, 2, seq, mask)).logits.data;
    const padded = ids.map((id, i) => (mask[i] ? id : (id + 11) % BASE.vocab));
    assert.deepEqual((await run(model, padded, 2, seq, mask)).logits.data, base, `${attention}: padding changed the logits`);
    const token = ids.map((id, i) => (i === seq + 1 ? (id + 11) % BASE.vocab : id));
    assert.notDeepEqual((await run(model, token, 2, seq, mask)).logits.data, base, `${attention}: a real token does change them`);
  }
});

test('dynamic-conv\'s receptive field after one layer is exactly the K taps (encoder centred, decoder past)', async () => {
  for (const [attention, kind] of [['dynamic-conv:4', 'encoder'], ['dynamic-conv:3', 'encoder'], ['dynamic-conv:3', 'decoder']] as const) {
    const spec = specOf(attention, kind, { layers: 1 });
    const model = withOutput(buildTransformer(spec, { seed: 8 }), 'layer0/ffn/residual');
    const K = (spec.attention as { kernel: number }).kernel;
    const before = kind === 'decoder' ? K - 1 : Math.floor((K - 1) / 2);
    const seq = 8;
    const ids = randomIds(1, seq, 2);
    const base = (await run(model, ids, 1, seq))['layer0/ffn/residual'].data;
    for (let j = 0; j < seq; j++) {
      const after = (await run(model, ids.map((id, i) => (i === j ? (id + 5) % BASE.vocab : id)), 1, seq))['layer0/ffn/residual'].data;
      const seen = Array.from({ length: seq }, (_, i) => (rowsDiff(base, after, BASE.hidden, i, i + 1) > 0 ? 1 : 0)).join('');
      const taps = Array.from({ length: seq }, (_, i) => (j - i + before >= 0 && j - i + before < K ? 1 : 0)).join('');
      assert.equal(seen, taps, `${attention} ${kind}: the positions token ${j} reaches`);
    }
  }
});

/**
 * Initial weights made sharper and less symmetric: attention weights ×20, biases and LayerNorm
 * drawn, adaptive span's per-head parameters inside, at and beyond [0, 1], so every term of the
 * formulas (bias slices, taps, the ramp, the clips) moves the output by far more than 1e-4.
 */
function reshaped(spec: TransformerSpec, seed: number): Map<string, Float32Array> {
  const rng = createRng(seed + 100);
  const out = new Map<string, Float32Array>();
  for (const [name, w] of initialWeights(spec, seed)) {
    if (name.endsWith('/span')) out.set(name, Float32Array.from([1, 0.5, -0.3, 1.4].slice(0, w.length)));
    else if (name.endsWith('/bias') || name.endsWith('/scale')) out.set(name, w.map((v) => v + 0.2 * rng.normal()));
    else if (name.includes('/attn/')) out.set(name, w.map((v) => v * 20));
    else out.set(name, w);
  }
  return out;
}

test('the ONNX block equals a plain-loop reference of the design (layers: 1, ≤ 1e-4)', async () => {
  const cases: Array<[string, 'encoder' | 'decoder']> = [
    ['mixer', 'decoder'], ['mixer', 'encoder'],
    ['dynamic-conv:4', 'encoder'], ['dynamic-conv:3', 'decoder'],
    ['adaptive-span:4,2', 'decoder'], ['adaptive-span:3,2', 'encoder'],
  ];
  for (const [attention, kind] of cases) {
    const spec = specOf(attention, kind, { layers: 1 });
    const weights = reshaped(spec, 12);
    const model = withOutput(buildTransformer(spec, { weights }), 'layer0/attn/residual');
    const [batch, seq] = [2, 10];
    const ids = randomIds(batch, seq, 4);
    const mask = kind === 'encoder' ? ids.map((_, i) => (i >= seq && i % seq >= 7 ? 0 : 1)) : undefined;
    const ort = (await run(model, ids, batch, seq, mask))['layer0/attn/residual'].data;
    const ref = referenceAttentionResidual(spec, weights, ids, mask, batch, seq);
    let diff = 0;
    let moved = 0;
    const embedOnly = referenceEmbeddings(weights, ids, seq);
    for (let i = 0; i < ref.length; i++) {
      diff = Math.max(diff, Math.abs(ort[i] - ref[i]));
      moved = Math.max(moved, Math.abs(ref[i] - embedOnly[i]));
    }
    assert.ok(diff <= 1e-4, `${attention} ${kind}: max |ORT − reference| = ${diff}`);
    assert.ok(moved > 0.1, `${attention} ${kind}: the block moves the stream by ${moved}, enough for the tolerance to mean something`);
  }
});

/** token + position embeddings: the stream before the block. */
function referenceEmbeddings(weights: ReadonlyMap<string, Float32Array>, ids: number[], seq: number): Float64Array {
  const [tok, pos] = [weights.get('embed/token/weight')!, weights.get('embed/position/weight')!];
  const H = BASE.hidden;
  const out = new Float64Array(ids.length * H);
  for (let r = 0; r < ids.length; r++) for (let c = 0; c < H; c++) out[r * H + c] = tok[ids[r] * H + c] + pos[(r % seq) * H + c];
  return out;
}
