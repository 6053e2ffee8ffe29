import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { buildTransformer } from '../../engine/src/model/transformer';
import { builtinSpec } from '../../engine/src/profile/model-source';
import { encodeModel } from '../../engine/src/onnx/codec';
import { AttributeType, DataType, GraphProto, ModelProto, NodeProto } from '../../engine/src/onnx/types';
import { valueInfo } from '../../engine/src/model/graph-builder';
import { tensorFromFloat32 } from '../../engine/src/onnx/tensor-data';
import { modelUnits, unitNames } from '../../engine/src/pipeline/units';
import { cutTensors, splitModel, splitModelTyped, StageModel } from '../../engine/src/pipeline/split';
import { openSession, FetchedTensor } from '../../engine/src/runtime/ort';
import { buildFeeds, FeedTensor, FeedType } from '../../engine/src/runtime/feeds';
import { TwbError } from '../../engine/src/util/errors';
import { assertValidOnnx, realdataModel, realdataPath } from './helpers/models';

const BUILTINS = ['tiny-gpt', 'tiny-bert'] as const;
const PARTITIONS: Record<string, number[][]> = {
  '2 stages': [[0, 1, 2], [3, 4, 5]],
  '3 stages': [[0, 1], [2, 3], [4, 5]],
  '6 stages': [[0], [1], [2], [3], [4], [5]],
};

function builtin(name: (typeof BUILTINS)[number]): ModelProto {
  return buildTransformer(builtinSpec(`builtin:${name}`), { seed: 0 });
}

async function runAlone(model: ModelProto, feeds: Record<string, FeedTensor>): Promise<Record<string, FetchedTensor>> {
  const s = await openSession(encodeModel(model), { executionProvider: 'cpu', threads: 1, optLevel: 'all' }, model.graph.name);
  try {
    return await s.fetch(feeds);
  } finally {
    await s.release();
  }
}

/** Runs the stages one after the other, each on the original feeds and what the earlier ones made. */
async function runComposed(stages: StageModel[], feeds: Record<string, FeedTensor>): Promise<Record<string, FetchedTensor>> {
  const values = new Map<string, FeedTensor>(Object.entries(feeds));
  const all: Record<string, FetchedTensor> = {};
  for (const [j, stage] of stages.entries()) {
    const stageFeeds: Record<string, FeedTensor> = {};
    for (const name of stage.inputs) {
      const v = values.get(name);
      assert.ok(v, `stage ${j} input "${name}" was made by no earlier stage`);
      stageFeeds[name] = v;
    }
    const out = await runAlone(stage.model, stageFeeds);
    assert.deepEqual(Object.keys(out).sort(), [...stage.outputs].sort(), `stage ${j} outputs`);
    for (const [name, t] of Object.entries(out)) {
      values.set(name, { type: t.type as FeedType, dims: t.dims, data: t.data as FeedTensor['data'] });
      all[name] = t;
    }
  }
  return all;
}

function maxAbsDiff(a: FetchedTensor, b: FetchedTensor): number {
  assert.deepEqual(a.dims, b.dims);
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(Number(a.data[i]) - Number(b.data[i])));
  return max;
}

async function assertComposes(model: ModelProto, stages: StageModel[], feeds: Record<string, FeedTensor>): Promise<void> {
  const whole = await runAlone(model, feeds);
  const composed = await runComposed(stages, feeds);
  assert.ok(Object.keys(whole).length > 0);
  for (const [name, t] of Object.entries(whole)) {
    assert.ok(composed[name], `output "${name}" comes out of some stage`);
    const diff = maxAbsDiff(t, composed[name]);
    assert.ok(diff <= 1e-5, `output "${name}": max |diff| ${diff} > 1e-5`);
  }
}

for (const name of BUILTINS) {
  test(`units of builtin ${name}: embed, layer 0..3, head`, () => {
    const units = modelUnits(builtin(name));
    assert.deepEqual(units.names, ['embed', 'layer 0', 'layer 1', 'layer 2', 'layer 3', 'head']);
    assert.deepEqual(units.layer, [null, 0, 1, 2, 3, null]);
    const model = builtin(name);
    const unitOf = (node: string) => units.names[units.unitOfNode[model.graph.node.findIndex((n) => n.name === node)]];
    assert.equal(unitOf('embed/token'), 'embed');
    assert.equal(unitOf('layer2/attn/qk_matmul'), 'layer 2');
    assert.equal(unitOf('final_ln'), 'head');
    assert.equal(unitOf('layer3/ffn/residual'), 'layer 3');
  });

  for (const [label, partition] of Object.entries(PARTITIONS)) {
    test(`builtin ${name} split into ${label} composes to the whole model and passes onnx.checker`, async (t) => {
      const model = builtin(name);
      const feeds = buildFeeds(model, { batch: 2, seq: 16, past: 0, named: {} }, 3).feeds;
      const stages = await splitModelTyped(model, partition, feeds);
      assert.equal(stages.length, partition.length);
      assert.deepEqual(stages.map((s) => s.units), partition);
      // Every node lands in exactly one stage; Constant nodes are copied, the rest are not.
      const counted = stages.flatMap((s) => s.model.graph.node.map((n) => n.name));
      assert.deepEqual([...new Set(counted)].sort(), model.graph.node.map((n) => n.name).sort());
      assert.equal(counted.length, model.graph.node.length);
      await assertComposes(model, stages, feeds);
      for (const s of stages) assertValidOnnx(s.model, t);
    });
  }
}

test('the causal mask made in embed reaches a stage two cuts away as its input', () => {
  const stages = splitModel(builtin('tiny-gpt'), PARTITIONS['3 stages']);
  assert.ok(stages[0].outputs.includes('mask/causal'));
  assert.ok(stages[2].inputs.includes('mask/causal'), 'routed straight to stage 2');
  assert.ok(!stages[1].outputs.includes('mask/causal'), 'not passed through stage 1');
  const cut = stages[2].model.graph.input.find((v) => v.name === 'mask/causal');
  assert.equal(cut?.type?.tensorType?.elemType, DataType.FLOAT);
});

test('without probing, cut tensors carry their element type only, and the stages still run in ORT', async () => {
  const model = builtin('tiny-bert');
  const stages = splitModel(model, PARTITIONS['3 stages']);
  assert.deepEqual(cutTensors(model, PARTITIONS['3 stages']), ['mask/padding', 'layer0/ffn/residual', 'layer2/ffn/residual']);
  const cut = stages[1].model.graph.input.find((v) => v.name === 'layer0/ffn/residual');
  assert.deepEqual(cut?.type, { tensorType: { elemType: DataType.FLOAT } });
  // Seq 24 differs from nothing the split saw: the stages fit any shape.
  await assertComposes(model, stages, buildFeeds(model, { batch: 3, seq: 24, past: 0, named: {} }, 4).feeds);
});

test('probed cut tensors get their type and rank, with dims left open for any batch and sequence', async () => {
  const model = builtin('tiny-gpt');
  const stages = await splitModelTyped(model, PARTITIONS['2 stages'], buildFeeds(model, { batch: 1, seq: 8, past: 0, named: {} }, 1).feeds);
  const shapeOf = (n: string) => stages[1].model.graph.input.find((v) => v.name === n)?.type?.tensorType;
  assert.deepEqual(shapeOf('layer1/ffn/residual'), { elemType: DataType.FLOAT, shape: [{}, {}, {}] });
  assert.deepEqual(shapeOf('mask/causal'), { elemType: DataType.FLOAT, shape: [{}, {}] });
  await assertComposes(model, stages, buildFeeds(model, { batch: 2, seq: 32, past: 0, named: {} }, 2).feeds);
});

test('units: null nodes between layers join the layer before, late nodes the current unit, any stored order', () => {
  const node = (name: string, input: string[], output: string): NodeProto => ({ name, opType: name.includes('w') ? 'Add' : 'Identity', domain: '', input, output: [output], attribute: [] });
  const nodes = [
    node('embed/in', ['x'], 'e'),
    node('layer0/w', ['e', 'layer0/b'], 'a0'),
    node('glue/cast', ['a0'], 'g'), // scoped, no layer: between layers → layer 0
    node('layer1/w', ['g', 'layer1/b'], 'a1'),
    node('layer0/late', ['a1'], 'l'), // lower layer after layer 1 → stays in layer 1
    node('layer2/w', ['l', 'layer2/b'], 'a2'),
    node('head/out', ['a2'], 'y'),
  ];
  const bias = (n: string) => tensorFromFloat32(n, [1], new Float32Array([1]));
  const make = (order: NodeProto[]): ModelProto => ({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'toy',
      node: order,
      initializer: ['layer0/b', 'layer1/b', 'layer2/b'].map(bias),
      input: [valueInfo('x', DataType.FLOAT, [1])],
      output: [valueInfo('y', DataType.FLOAT, [1])],
      valueInfo: [],
    },
  });
  const expected = ['embed', 'layer 0', 'layer 0', 'layer 1', 'layer 1', 'layer 2', 'head'];
  const stored = modelUnits(make(nodes));
  assert.deepEqual(stored.names, ['embed', 'layer 0', 'layer 1', 'layer 2', 'head']);
  assert.deepEqual(stored.unitOfNode.map((u) => stored.names[u]), expected);
  // Stored out of topological order: the walk sorts first, so the units are the same.
  const shuffled = [nodes[6], nodes[3], nodes[0], nodes[5], nodes[1], nodes[4], nodes[2]];
  const units = modelUnits(make(shuffled));
  assert.deepEqual(units.names, stored.names);
  assert.deepEqual(shuffled.map((n, i) => [n.name, units.names[units.unitOfNode[i]]]), shuffled.map((n) => [n.name, expected[nodes.indexOf(n)]]));
  assert.deepEqual(unitNames(make(nodes)), stored.names);
});

test('an If node\'s branches read a tensor from an earlier stage and a weight: both reach its stage', async (t) => {
  const node = (name: string, opType: string, input: string[], output: string, attribute: NodeProto['attribute'] = []): NodeProto => ({ name, opType, domain: '', input, output: [output], attribute });
  const branch = (name: string, body: NodeProto, out: string): GraphProto => ({ name, node: [body], initializer: [], input: [], output: [valueInfo(out, DataType.FLOAT, [2])], valueInfo: [] });
  const model: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'if-toy',
      node: [
        node('embed/neg', 'Neg', ['x'], 'e'),
        node('layer0/add', 'Add', ['e', 'layer0/b'], 'a0'),
        node('layer1/less', 'Less', ['layer1/zero', 'layer1/one'], 'cond'),
        node('layer1/if', 'If', ['cond'], 'y', [
          { name: 'then_branch', type: AttributeType.GRAPH, g: branch('then', node('then/mul', 'Mul', ['a0', 'layer1/scale'], 'then_out'), 'then_out') },
          { name: 'else_branch', type: AttributeType.GRAPH, g: branch('else', node('else/id', 'Identity', ['a0'], 'else_out'), 'else_out') },
        ]),
      ],
      initializer: [tensorFromFloat32('layer0/b', [2], new Float32Array([1, 2])), tensorFromFloat32('layer1/zero', [1], new Float32Array([0])), tensorFromFloat32('layer1/one', [1], new Float32Array([1])), tensorFromFloat32('layer1/scale', [2], new Float32Array([3, 5]))],
      input: [valueInfo('x', DataType.FLOAT, [2])],
      output: [valueInfo('y', DataType.FLOAT, [2])],
      valueInfo: [],
    },
  };
  assert.deepEqual(unitNames(model), ['embed', 'layer 0', 'layer 1']);
  const feeds: Record<string, FeedTensor> = { x: { type: 'float32', dims: [2], data: new Float32Array([1, 1]) } };
  const stages = await splitModelTyped(model, [[0, 1], [2]], feeds);
  assert.deepEqual(stages[1].inputs, ['a0'], 'the outer-scope read crosses the cut');
  assert.ok(stages[1].model.graph.initializer.some((w) => w.name === 'layer1/scale'), 'the weight only a branch reads is copied');
  assert.ok(!stages[0].model.graph.initializer.some((w) => w.name === 'layer1/scale'));
  await assertComposes(model, stages, feeds);
  const y = (await runComposed(stages, feeds)).y.data as Float32Array;
  assert.deepEqual([...y], [0, 5], '(-1 + [1, 2]) × [3, 5]');
  for (const s of stages) assertValidOnnx(s.model, t);
});

const REAL = 'onnxruntime-genai/tiny-random-gpt2-fp32/past.onnx';
test(`real model ${REAL} (contrib ops, per-layer present outputs) splits and composes`, { skip: !existsSync(realdataPath(REAL)) && !process.env.CI && 'shared/realdata not beside the checkout' }, async (t) => {
  const model = realdataModel(REAL);
  const units = modelUnits(model);
  assert.deepEqual(units.names, ['embed', 'layer 0', 'layer 1', 'layer 2', 'layer 3', 'layer 4', 'head']);
  const feeds = buildFeeds(model, { batch: 1, seq: 8, past: 2, named: {} }, 5).feeds;
  for (const partition of [[[0, 1, 2], [3, 4, 5, 6]], [[0, 1], [2, 3], [4], [5, 6]]]) {
    const stages = await splitModelTyped(model, partition, feeds);
    // present_0 (layer 0's cache) is an output of the model made by the first stage.
    assert.ok(stages[0].outputs.includes('present_0'));
    await assertComposes(model, stages, feeds);
    for (const s of stages) assertValidOnnx(s.model, t);
  }
});

const DISTIL = 'optimum/tiny-distilbert-classification/model.onnx';
test(`real model ${DISTIL} (Constant nodes, PyTorch export) splits per unit and composes`, { skip: !existsSync(realdataPath(DISTIL)) && !process.env.CI && 'shared/realdata not beside the checkout' }, async (t) => {
  const model = realdataModel(DISTIL);
  assert.deepEqual(unitNames(model), ['embed', 'layer 0', 'layer 1', 'head']);
  const feeds = buildFeeds(model, { batch: 2, seq: 8, past: 0, named: {} }, 2).feeds;
  const stages = await splitModelTyped(model, [[0], [1], [2], [3]], feeds);
  await assertComposes(model, stages, feeds);
  for (const s of stages) assertValidOnnx(s.model, t);
});

function rejectsWith(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TwbError, `expected a TwbError, got ${String(e)}`);
    assert.equal(e.code, 'usage');
    assert.match(e.message, pattern);
    return true;
  });
}

test('bad partitions are refused with a message naming the problem and the units', () => {
  const model = builtin('tiny-gpt');
  const units = /the model's units are 0 embed, 1 layer 0, 2 layer 1, 3 layer 2, 4 layer 3, 5 head/;
  rejectsWith(() => splitModel(model, []), /no stages given/);
  rejectsWith(() => splitModel(model, [[0, 1, 2], []]), /stage 1 has no units/);
  rejectsWith(() => splitModel(model, [[0, 1, 2], [3, 4]]), /units 5 \(head\) are in no stage/);
  rejectsWith(() => splitModel(model, [[0, 1, 2], [2, 3, 4, 5]]), /unit 2 \(layer 1\) is in stage 0 and stage 1/);
  rejectsWith(() => splitModel(model, [[0, 1, 2], [3, 4, 9]]), /stage 1 names unit 9, which does not exist/);
  rejectsWith(() => splitModel(model, [[3, 4, 5], [0, 1, 2]]), /out of order/);
  rejectsWith(() => splitModel(model, [[0, 2, 1], [3, 4, 5]]), /out of order/);
  rejectsWith(() => splitModel(model, [[0], [1], [2], [3], [4], [5], [6]]), /7 stages asked for, but the model has only 6 units/);
  try {
    splitModel(model, [[0, 1, 2], [3, 4]]);
  } catch (e) {
    assert.match((e as Error).message, units);
  }
});

test('a model with weights left in external data is refused until they are inlined', () => {
  const model = builtin('tiny-gpt');
  const [first, ...rest] = model.graph.initializer;
  const external = { ...first, rawData: undefined, dataLocation: 1, externalData: [{ key: 'location', value: 'weights.bin' }] };
  const broken: ModelProto = { ...model, graph: { ...model.graph, initializer: [external, ...rest] } };
  rejectsWith(() => splitModel(broken, PARTITIONS['2 stages']), new RegExp(`tensor "${first.name}" keeps its data in an external file`));
});
