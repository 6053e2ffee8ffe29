/**
 * ONNX ModelProto ⇄ bytes, by hand over the wire format in `protobuf.ts`. Field numbers are from
 * onnx.proto. Fields the workbench does not model are skipped on read, except at the top level of
 * the model, where they are kept verbatim (functions, training info) and written back.
 *
 * Writing follows onnx's own (C++ protobuf) serializer: ascending field numbers, `dims` and
 * attribute `ints`/`floats` unpacked (they are plain proto2 repeated fields), tensor payload arrays
 * packed (`[packed = true]` in onnx.proto). Reading accepts either form.
 */
import { ProtoReader, Tag, WireType } from './protobuf';
import type {
  AttributeProto,
  Dimension,
  GraphProto,
  ModelProto,
  NodeProto,
  OperatorSetId,
  StringStringEntry,
  TensorProto,
  TypeProto,
  ValueInfoProto,
} from './types';
import { TwbError } from '../util/errors';

// A Node Buffer is a Uint8Array whose subarrays are Buffers too; viewing it as a plain Uint8Array
// makes decoded payloads the same type (and deepStrictEqual) whether a file came from fs or fetch.
function plain(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Calls `each` for every field of the message under `r`. */
function fields(r: ProtoReader, each: (tag: Tag) => void): void {
  while (!r.done()) each(r.readTag());
}

function str(r: ProtoReader, t: Tag, where: string): string {
  r.expect(t, WireType.LEN, where);
  return r.readString(t);
}
function bytes(r: ProtoReader, t: Tag, where: string): Uint8Array {
  r.expect(t, WireType.LEN, where);
  return r.readBytes(t);
}
function int(r: ProtoReader, t: Tag, where: string): number {
  r.expect(t, WireType.VARINT, where);
  return r.readInt64Number();
}
function msg(r: ProtoReader, t: Tag, where: string): ProtoReader {
  r.expect(t, WireType.LEN, where);
  return r.readMessage(t);
}

// An empty packed field decodes to []; dropping it keeps decode → encode → decode stable, since the
// writer omits empty repeated fields.
function dropEmpty<T extends object>(o: T, keys: Array<keyof T>): T {
  for (const k of keys) if ((o[k] as unknown[] | undefined)?.length === 0) delete o[k];
  return o;
}

function decodeEntry(r: ProtoReader): StringStringEntry {
  const e: StringStringEntry = { key: '', value: '' };
  fields(r, (t) => {
    if (t.field === 1) e.key = str(r, t, 'StringStringEntryProto');
    else if (t.field === 2) e.value = str(r, t, 'StringStringEntryProto');
    else r.skip(t);
  });
  return e;
}

/** Decodes a serialized TensorProto (e.g. a `.pb` test tensor); payloads stay views of `bytes`. */
export function decodeTensor(bytes: Uint8Array): TensorProto {
  return readTensor(new ProtoReader(plain(bytes)));
}

function readTensor(r: ProtoReader): TensorProto {
  const w = 'TensorProto';
  const x: TensorProto = { name: '', dataType: 0, dims: [] };
  fields(r, (t) => {
    switch (t.field) {
      case 1: return r.readRepeated(t, WireType.VARINT, (p) => x.dims.push(p.readInt64Number()));
      case 2: return void (x.dataType = int(r, t, w));
      case 4: return r.readRepeatedFloat(t, (x.floatData ??= []), 4);
      case 5: return r.readRepeated(t, WireType.VARINT, (p) => (x.int32Data ??= []).push(p.readInt64Number()));
      case 6: return void (x.stringData ??= []).push(bytes(r, t, w));
      case 7: return r.readRepeated(t, WireType.VARINT, (p) => (x.int64Data ??= []).push(p.readInt64()));
      case 8: return void (x.name = str(r, t, w));
      case 9: return void (x.rawData = bytes(r, t, w));
      case 10: return r.readRepeatedFloat(t, (x.doubleData ??= []), 8);
      case 11: return r.readRepeated(t, WireType.VARINT, (p) => (x.uint64Data ??= []).push(p.readUint64()));
      case 12: return void (x.docString = str(r, t, w));
      case 13: return void (x.externalData ??= []).push(decodeEntry(msg(r, t, w)));
      case 14: return void (x.dataLocation = int(r, t, w));
      default: return void r.skip(t); // segment (3) and anything newer
    }
  });
  return dropEmpty(x, ['floatData', 'int32Data', 'int64Data', 'doubleData', 'uint64Data']);
}

function decodeDimension(r: ProtoReader): Dimension {
  const d: Dimension = {};
  fields(r, (t) => {
    if (t.field === 1) d.dimValue = int(r, t, 'TensorShapeProto.Dimension');
    else if (t.field === 2) d.dimParam = str(r, t, 'TensorShapeProto.Dimension');
    else r.skip(t); // denotation
  });
  return d;
}

function decodeType(r: ProtoReader): TypeProto {
  const ty: TypeProto = {};
  fields(r, (t) => {
    if (t.field === 1) ty.tensorType = decodeTensorType(msg(r, t, 'TypeProto'));
    else if (t.field !== 6 && t.wireType === WireType.LEN) {
      // Every length-delimited TypeProto field but denotation (6) is a member of the `value` oneof.
      ty.otherKind = t.field;
      ty.rawBytes = r.readBytes(t);
    } else r.skip(t);
  });
  return ty;
}

function decodeTensorType(r: ProtoReader): NonNullable<TypeProto['tensorType']> {
  const tt: NonNullable<TypeProto['tensorType']> = { elemType: 0 };
  fields(r, (t) => {
    if (t.field === 1) tt.elemType = int(r, t, 'TypeProto.Tensor');
    else if (t.field === 2) {
      // A present but empty shape means a scalar; an absent one means unknown rank.
      const shape: Dimension[] = (tt.shape = []);
      const s = msg(r, t, 'TypeProto.Tensor');
      fields(s, (u) => (u.field === 1 ? shape.push(decodeDimension(msg(s, u, 'TensorShapeProto'))) : s.skip(u)));
    } else r.skip(t);
  });
  return tt;
}

function decodeValueInfo(r: ProtoReader): ValueInfoProto {
  const v: ValueInfoProto = { name: '' };
  fields(r, (t) => {
    if (t.field === 1) v.name = str(r, t, 'ValueInfoProto');
    else if (t.field === 2) v.type = decodeType(msg(r, t, 'ValueInfoProto'));
    else if (t.field === 3) v.docString = str(r, t, 'ValueInfoProto');
    else r.skip(t);
  });
  return v;
}

function decodeAttribute(r: ProtoReader, depth: number): AttributeProto {
  const w = 'AttributeProto';
  const a: AttributeProto = { name: '', type: 0 };
  fields(r, (t) => {
    switch (t.field) {
      case 1: return void (a.name = str(r, t, w));
      case 2: return void (r.expect(t, WireType.I32, w), (a.f = r.readFloat()));
      case 3: return void (r.expect(t, WireType.VARINT, w), (a.i = r.readInt64()));
      case 4: return void (a.s = bytes(r, t, w));
      case 5: return void (a.t = readTensor(msg(r, t, w)));
      case 6: return void (a.g = decodeGraph(msg(r, t, w), depth + 1));
      case 7: return r.readRepeatedFloat(t, (a.floats ??= []), 4);
      case 8: return r.readRepeated(t, WireType.VARINT, (p) => (a.ints ??= []).push(p.readInt64()));
      case 9: return void (a.strings ??= []).push(bytes(r, t, w));
      case 10: return void (a.tensors ??= []).push(readTensor(msg(r, t, w)));
      case 11: return void (a.graphs ??= []).push(decodeGraph(msg(r, t, w), depth + 1));
      case 13: return void (a.docString = str(r, t, w));
      case 20: return void (a.type = int(r, t, w));
      case 21: return void (a.refAttrName = str(r, t, w));
      default: return void r.skip(t); // tp (14), sparse tensors (22, 23), type_protos (15)
    }
  });
  return dropEmpty(a, ['floats', 'ints']);
}

function decodeNode(r: ProtoReader, depth: number): NodeProto {
  const w = 'NodeProto';
  const n: NodeProto = { name: '', opType: '', domain: '', input: [], output: [], attribute: [] };
  fields(r, (t) => {
    switch (t.field) {
      case 1: return void n.input.push(str(r, t, w));
      case 2: return void n.output.push(str(r, t, w));
      case 3: return void (n.name = str(r, t, w));
      case 4: return void (n.opType = str(r, t, w));
      case 5: return void n.attribute.push(decodeAttribute(msg(r, t, w), depth));
      case 6: return void (n.docString = str(r, t, w));
      case 7: return void (n.domain = str(r, t, w));
      default: return void r.skip(t); // overload (8), metadata_props (9)
    }
  });
  return n;
}

/** Subgraph nesting (If/Loop/Scan bodies) beyond this is treated as corrupt, not recursed into. */
const MAX_GRAPH_DEPTH = 64;

function decodeGraph(r: ProtoReader, depth: number): GraphProto {
  const w = 'GraphProto';
  // Each level costs only a few bytes, so a corrupt or hostile file could otherwise overflow the stack.
  if (depth > MAX_GRAPH_DEPTH) {
    throw new TwbError('invalid-model', `subgraphs nested more than ${MAX_GRAPH_DEPTH} deep at byte ${r.pos}`);
  }
  const g: GraphProto = { name: '', node: [], initializer: [], input: [], output: [], valueInfo: [] };
  fields(r, (t) => {
    switch (t.field) {
      case 1: return void g.node.push(decodeNode(msg(r, t, w), depth));
      case 2: return void (g.name = str(r, t, w));
      case 5: return void g.initializer.push(readTensor(msg(r, t, w)));
      case 10: return void (g.docString = str(r, t, w));
      case 11: return void g.input.push(decodeValueInfo(msg(r, t, w)));
      case 12: return void g.output.push(decodeValueInfo(msg(r, t, w)));
      case 13: return void g.valueInfo.push(decodeValueInfo(msg(r, t, w)));
      default: return void r.skip(t); // sparse_initializer, quantization_annotation, metadata_props
    }
  });
  return g;
}

function decodeOpset(r: ProtoReader): OperatorSetId {
  const o: OperatorSetId = { domain: '', version: 0 };
  fields(r, (t) => {
    if (t.field === 1) o.domain = str(r, t, 'OperatorSetIdProto');
    else if (t.field === 2) o.version = int(r, t, 'OperatorSetIdProto');
    else r.skip(t);
  });
  return o;
}

/**
 * Decodes an ONNX model file. Tensor payloads are views into `bytes`, so keep it alive (and do not
 * modify it) while the model is in use. Throws a `TwbError('invalid-model')` naming the byte
 * offset when the bytes are truncated or are not an ONNX model.
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const w = 'ModelProto';
  const r = new ProtoReader(plain(bytes));
  const m: Omit<ModelProto, 'graph'> = { irVersion: 0, opsetImport: [] };
  let graph: GraphProto | undefined;
  const unknown: NonNullable<ModelProto['unknownFields']> = [];
  fields(r, (t) => {
    switch (t.field) {
      case 1: return void (m.irVersion = int(r, t, w));
      case 2: return void (m.producerName = str(r, t, w));
      case 3: return void (m.producerVersion = str(r, t, w));
      case 4: return void (m.domain = str(r, t, w));
      case 5: return void (m.modelVersion = int(r, t, w));
      case 6: return void (m.docString = str(r, t, w));
      case 7: return void (graph = decodeGraph(msg(r, t, w), 0));
      case 8: return void m.opsetImport.push(decodeOpset(msg(r, t, w)));
      case 14: return void (m.metadataProps ??= []).push(decodeEntry(msg(r, t, w)));
      default: return void unknown.push({ field: t.field, wireType: t.wireType, bytes: r.skip(t) });
    }
  });
  // Random bytes can parse as protobuf; an ONNX model always has a graph.
  if (graph === undefined) {
    const size = `${bytes.length} bytes`;
    throw new TwbError('invalid-model', `not an ONNX model: no graph (ModelProto field 7) in ${size}; truncated file?`);
  }
  if (unknown.length > 0) m.unknownFields = unknown;
  return { ...m, graph };
}

export { encodeModel, encodeTensor } from './codec-writer';
