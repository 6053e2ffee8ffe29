import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ProtoReader, ProtoWriter } from '../../engine/src/onnx/protobuf';
import { decodeModel, decodeTensor, encodeModel, encodeTensor } from '../../engine/src/onnx/codec';
import {
  bytesPerElement,
  elementCount,
  isExternal,
  readFloat32,
  tensorByteSize,
  tensorFromFloat32,
  tensorFromInt64,
} from '../../engine/src/onnx/tensor-data';
import { AttributeType, DataType, GraphProto, ModelProto } from '../../engine/src/onnx/types';
import { createRng } from '../../engine/src/util/rng';

const ONNX_DIR = path.resolve(__dirname, '../../../shared/realdata/onnx');
const modelFiles = readdirSync(ONNX_DIR, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.onnx'))
  .sort();
const load = (rel: string): Uint8Array => new Uint8Array(readFileSync(path.join(ONNX_DIR, rel)));

function varintBytes(v: number | bigint): number[] {
  const w = new ProtoWriter();
  w.varint(v);
  return [...w.finish()];
}

describe('protobuf varints', () => {
  const cases: Array<[bigint, number[]]> = [
    [0n, [0x00]],
    [127n, [0x7f]],
    [128n, [0x80, 0x01]],
    [2n ** 53n, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]],
    [-1n, [...Array(9).fill(0xff), 0x01]],
    [-(2n ** 63n), [...Array(9).fill(0x80), 0x01]],
    [2n ** 63n - 1n, [...Array(8).fill(0xff), 0x7f]],
  ];
  for (const [value, bytes] of cases) {
    test(`${value} encodes to ${bytes.length} bytes and reads back`, () => {
      assert.deepEqual(varintBytes(value), bytes);
      const r = new ProtoReader(new Uint8Array(bytes));
      assert.equal(r.readInt64(), value);
      assert.ok(r.done());
    });
  }

  test('numbers encode like bigints, negatives as 10-byte two’s complement', () => {
    for (const v of [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1, -1, -128, -(2 ** 40)]) {
      assert.deepEqual(varintBytes(v), varintBytes(BigInt(v)), `value ${v}`);
      assert.equal(new ProtoReader(new Uint8Array(varintBytes(v))).readInt64Number(), v);
    }
    assert.throws(() => varintBytes(2 ** 53), /cannot write/);
  });

  test('-1 reads as 2^64-1 unsigned; 2^53 is refused as a number but exact as a bigint', () => {
    assert.equal(new ProtoReader(new Uint8Array(varintBytes(-1n))).readUint64(), 2n ** 64n - 1n);
    const big = new ProtoReader(new Uint8Array(varintBytes(2n ** 53n)));
    assert.throws(() => big.readInt64Number(), /integer 9007199254740992 at byte 0 is too large/);
  });

  test('truncated and overlong varints name their offset', () => {
    assert.throws(() => new ProtoReader(new Uint8Array([0x05, 0x80, 0x80]), 1).readInt64(), {
      message: 'truncated varint at byte 1',
    });
    assert.throws(() => new ProtoReader(new Uint8Array(11).fill(0x80)).readInt64(), /longer than 10 bytes at byte 0/);
  });

  test('a length-delimited field running past the end says how far', () => {
    const r = new ProtoReader(new Uint8Array([0x3a, 0xa0, 0x1f, 1, 2, 3]));
    assert.throws(() => r.readBytes(r.readTag()), {
      message: 'length-delimited field 7 at byte 0 runs past end of buffer (needs 4000 bytes, 3 left)',
    });
  });

  test('bytes fields are views into the input, not copies', () => {
    const input = new Uint8Array([0x4a, 3, 7, 8, 9]);
    const raw = decodeTensor(input).rawData!;
    assert.equal(raw.buffer, input.buffer);
    assert.equal(raw.byteOffset, 2);
  });
});

describe('ONNX codec details', () => {
  test('repeated scalars are accepted packed and unpacked, even mixed', () => {
    const w = new ProtoWriter();
    w.int64(1, 2); // dims, unpacked
    w.packedInt64(1, [3, 4]); // dims, packed
    w.packedFloat(4, [1.5]);
    w.float(4, 2.5); // float_data, unpacked
    w.int64(2, DataType.FLOAT);
    const t = decodeTensor(w.finish());
    assert.deepEqual(t.dims, [2, 3, 4]);
    assert.deepEqual(t.floatData, [1.5, 2.5]);
  });

  test('float attributes are float32; ints stay bigint; scalar shapes survive', () => {
    const model = tinyModel();
    model.graph.node[0]!.attribute.push(
      { name: 'alpha', type: AttributeType.FLOAT, f: 0.1 },
      { name: 'axes', type: AttributeType.INTS, ints: [-1n, 2n ** 62n] },
    );
    const back = decodeModel(encodeModel(model));
    const [alpha, axes] = back.graph.node[0]!.attribute;
    assert.equal(alpha!.f, Math.fround(0.1));
    assert.deepEqual(axes!.ints, [-1n, 2n ** 62n]);
    assert.deepEqual(back.graph.output[0]!.type!.tensorType!.shape, []);
    assert.equal(back.graph.input[0]!.type!.tensorType!.shape, undefined);
  });

  test('unknown top-level fields (functions, training info) are written back in field order', () => {
    const model = tinyModel();
    model.unknownFields = [
      { field: 25, wireType: 2, bytes: new Uint8Array([0x0a, 1, 0x66]) },
      { field: 20, wireType: 2, bytes: new Uint8Array([]) },
      { field: 9, wireType: 0, bytes: new Uint8Array([0x96, 0x01]) },
    ];
    const back = decodeModel(encodeModel(model));
    assert.deepEqual(back.unknownFields?.map((f) => f.field), [9, 20, 25]);
    assert.deepEqual([...back.unknownFields![2]!.bytes], [0x0a, 1, 0x66]);
  });

  test('encoding is deterministic', () => {
    const model = decodeModel(load('optimum/tiny-distilbert-classification/model.onnx'));
    const a = encodeModel(model);
    const b = encodeModel(model);
    assert.deepEqual(a, b);
    assert.deepEqual(encodeModel(decodeModel(a)), a, 're-encoding a decoded encoding changes nothing');
    assert.deepEqual(encodeTensor(model.graph.initializer[0]!), encodeTensor(model.graph.initializer[0]!));
  });

  test('deeply nested subgraphs are refused, not recursed into', () => {
    let g: GraphProto = emptyGraph();
    for (let i = 0; i < 100; i++) {
      const outer = emptyGraph();
      const attribute = [{ name: 'then_branch', type: AttributeType.GRAPH, g }];
      outer.node.push({ name: '', opType: 'If', domain: '', input: [], output: [], attribute });
      g = outer;
    }
    assert.throws(() => decodeModel(encodeModel({ ...tinyModel(), graph: g })), /nested more than 64 deep at byte \d+/);
  });
});

describe('real ONNX files', () => {
  test('the shared model corpus is there', () => {
    assert.ok(modelFiles.length >= 10, `found ${modelFiles.length} in ${ONNX_DIR}`);
  });

  for (const rel of modelFiles) {
    test(`round trip: ${rel}`, () => {
      const first = decodeModel(load(rel));
      const encoded = encodeModel(first);
      const second = decodeModel(encoded);
      assert.deepStrictEqual(second, first);
      const counts = ({ graph: g }: ModelProto) =>
        [g.node, g.initializer, g.input, g.output].map((list) => list.length);
      assert.deepEqual(counts(second), counts(decodeModel(load(rel))));
      assert.ok(first.graph.node.length > 0 && first.opsetImport.length > 0);
    });
  }

  test('a Buffer from fs decodes like a plain Uint8Array', () => {
    const rel = 'onnxruntime/testdata/matmulnbits_add.onnx';
    assert.deepStrictEqual(decodeModel(readFileSync(path.join(ONNX_DIR, rel))), decodeModel(load(rel)));
  });

  test('onnx-written files re-encode byte for byte (same field order and packing as onnx)', () => {
    const original = load('optimum/tiny-distilbert-classification/model.onnx');
    assert.deepEqual(encodeModel(decodeModel(original)), original);
  });

  test('external-data initializer', () => {
    const m = decodeModel(load('onnxruntime/external_data/java-external-matmul.onnx'));
    const t = m.graph.initializer.find((x) => x.dataLocation === 1);
    assert.ok(t, 'an initializer with dataLocation 1');
    assert.ok(isExternal(t));
    assert.equal(t.rawData, undefined);
    const entry = (k: string) => t.externalData?.find((e) => e.key === k)?.value;
    assert.equal(entry('location'), 'external-matmul.out');
    assert.equal(tensorByteSize(t), Number(entry('length')));
    assert.throws(() => readFloat32(t), /external file "external-matmul.out"/);
  });

  test('symbolic input dims of a tiny DistilBERT', () => {
    const m = decodeModel(load('optimum/tiny-distilbert-classification/model.onnx'));
    for (const name of ['input_ids', 'attention_mask']) {
      const input = m.graph.input.find((i) => i.name === name);
      assert.ok(input, name);
      assert.equal(input.type?.tensorType?.elemType, DataType.INT64);
      assert.deepEqual(input.type?.tensorType?.shape?.map((d) => d.dimParam), ['batch', 'sequence']);
    }
  });

  test('BeamSearch node with a decoder subgraph', () => {
    const m = decodeModel(load('onnxruntime/testdata_transformers/tiny_gpt2_beamsearch.onnx'));
    const beam = m.graph.node.find((n) => n.opType === 'BeamSearch');
    assert.ok(beam);
    assert.equal(beam.domain, 'com.microsoft');
    const graphAttr = beam.attribute.find((a) => a.type === AttributeType.GRAPH);
    assert.ok(graphAttr?.g && graphAttr.g.node.length > 0 && graphAttr.g.initializer.length > 0);
    assert.equal(beam.attribute.find((a) => a.name === 'eos_token_id')?.i, 98n);
  });

  test('float initializers read back with the size their dims say', () => {
    const m = decodeModel(load('optimum/tiny-distilbert-classification/model.onnx'));
    const floats = m.graph.initializer.filter((t) => t.dataType === DataType.FLOAT);
    assert.ok(floats.length > 0);
    for (const t of floats) assert.equal(readFloat32(t).length * 4, tensorByteSize(t), t.name);
  });
});

describe('corrupt input', () => {
  const rel = 'optimum/tiny-distilbert-classification/model.onnx';

  test('truncated files throw an error naming a byte offset', () => {
    const bytes = load(rel);
    for (const cut of [1, 3, 25, 100, 1000, 50_000, Math.floor(bytes.length / 2), bytes.length - 1]) {
      assert.throws(
        () => decodeModel(bytes.subarray(0, cut)),
        (e: Error) => e instanceof Error && /(truncated .*|length-delimited field \d+) at byte \d+/.test(e.message),
        `cut at ${cut}`,
      );
    }
    // Cut right after a complete top-level field: well-formed protobuf, but no graph.
    assert.throws(() => decodeModel(bytes.subarray(0, 2)), /no graph \(ModelProto field 7\) in 2 bytes; truncated/);
  });

  test('random garbage and flipped bytes throw only invalid-model errors', () => {
    const rng = createRng(1234);
    const isModelError = (e: unknown): boolean =>
      e instanceof Error && (e as { code?: string }).code === 'invalid-model' && /byte|no graph/.test(e.message);
    for (let i = 0; i < 300; i++) {
      const garbage = Uint8Array.from({ length: rng.int(0, 3000) }, () => rng.int(0, 256));
      assert.throws(() => decodeModel(garbage), isModelError, `garbage #${i}`);
    }
    const small = load('onnxruntime/testdata/attention_distilbert.onnx');
    for (let i = 0; i < 300; i++) {
      const bad = small.slice();
      for (let k = 0; k < 4; k++) bad[rng.int(0, bad.length)] = rng.int(0, 256);
      try {
        decodeModel(bad); // a flip inside a name or payload is still a well-formed model
      } catch (e) {
        assert.ok(isModelError(e), `flip #${i}: ${String(e)}`);
      }
    }
  });
});

describe('tensor data', () => {
  test('element sizes, including 4-bit types and unsupported ones', () => {
    assert.equal(bytesPerElement(DataType.FLOAT16), 2);
    assert.equal(bytesPerElement(DataType.INT4), 0.5);
    assert.equal(tensorByteSize({ name: 'q', dataType: DataType.UINT4, dims: [3, 3] }), 5);
    assert.equal(elementCount([]), 1);
    assert.throws(() => bytesPerElement(DataType.STRING), /STRING/);
    assert.throws(() => bytesPerElement(99 as DataType), /99/);
    assert.throws(() => elementCount([2, -1]), /-1/);
  });

  test('float32 and int64 tensors round trip through the codec', () => {
    const f = tensorFromFloat32('w', [2, 2], new Float32Array([1, -2, 3.5, 0]));
    assert.deepEqual([...readFloat32(f)], [1, -2, 3.5, 0]);
    const i = tensorFromInt64('shape', [2], [-1n, 2n ** 40n]);
    const back = decodeTensor(encodeTensor(i));
    assert.equal(new DataView(back.rawData!.buffer, back.rawData!.byteOffset).getBigInt64(8, true), 2n ** 40n);
    assert.throws(() => tensorFromFloat32('w', [3], new Float32Array(2)), /"w" has shape \[3\] \(3 elements\) but 2/);
  });

  test('readFloat32 copies misaligned raw data and reads float_data', () => {
    const raw = new Uint8Array(9).subarray(1);
    new DataView(raw.buffer, 1).setFloat32(4, 7.25, true);
    assert.deepEqual([...readFloat32({ name: 'x', dataType: DataType.FLOAT, dims: [2], rawData: raw })], [0, 7.25]);
    assert.deepEqual([...readFloat32({ name: 'y', dataType: DataType.FLOAT, dims: [2], floatData: [1, 2] })], [1, 2]);
    assert.throws(() => readFloat32({ name: 'z', dataType: DataType.INT64, dims: [] }), /"z" has data type INT64/);
  });
});

function emptyGraph(): GraphProto {
  return { name: 'g', node: [], initializer: [], input: [], output: [], valueInfo: [] };
}

function tinyModel(): ModelProto {
  const graph = emptyGraph();
  graph.node.push({ name: 'relu', opType: 'Relu', domain: '', input: ['x'], output: ['y'], attribute: [] });
  graph.input.push({ name: 'x', type: { tensorType: { elemType: DataType.FLOAT } } });
  graph.output.push({ name: 'y', type: { tensorType: { elemType: DataType.FLOAT, shape: [] } } });
  return { irVersion: 9, opsetImport: [{ domain: '', version: 17 }], graph };
}
