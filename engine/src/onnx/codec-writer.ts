/**
 * The encoding half of `codec.ts` (which re-exports it): types.ts structures → ONNX protobuf bytes.
 *
 * Field order and packing follow onnx's C++ serializer (ascending field numbers; `dims` and
 * attribute `ints`/`floats` unpacked, tensor payload arrays packed), so a model read from a file
 * produced by onnx usually re-encodes byte-for-byte. Fields equal to their proto default in a
 * non-optional property ('' names, 0 data types) are omitted; optional properties are written
 * whenever they are set, so a decoded `docString: ''` survives a round trip.
 */
import { ProtoWriter } from './protobuf';
import type {
  AttributeProto,
  Dimension,
  GraphProto,
  ModelProto,
  NodeProto,
  StringStringEntry,
  TensorProto,
  TypeProto,
  ValueInfoProto,
} from './types';

function nonEmpty(w: ProtoWriter, field: number, s: string): void {
  if (s !== '') w.string(field, s);
}
function optional(w: ProtoWriter, field: number, s: string | undefined): void {
  if (s !== undefined) w.string(field, s);
}
function entries(w: ProtoWriter, field: number, list: StringStringEntry[] | undefined): void {
  for (const e of list ?? []) {
    w.message(field, (m) => {
      nonEmpty(m, 1, e.key);
      nonEmpty(m, 2, e.value);
    });
  }
}

function writeTensor(w: ProtoWriter, t: TensorProto): void {
  for (const d of t.dims) w.int64(1, d);
  if (t.dataType !== 0) w.int64(2, t.dataType);
  if (t.floatData) w.packedFloat(4, t.floatData);
  if (t.int32Data) w.packedInt64(5, t.int32Data);
  for (const s of t.stringData ?? []) w.bytes(6, s);
  if (t.int64Data) w.packedInt64(7, t.int64Data);
  nonEmpty(w, 8, t.name);
  if (t.rawData) w.bytes(9, t.rawData);
  if (t.doubleData) w.packedFloat(10, t.doubleData, 8);
  if (t.uint64Data) w.packedInt64(11, t.uint64Data);
  optional(w, 12, t.docString);
  entries(w, 13, t.externalData);
  if (t.dataLocation !== undefined) w.int64(14, t.dataLocation);
}

/** Encodes one TensorProto as a standalone message (the format of ONNX `.pb` test tensors). */
export function encodeTensor(t: TensorProto): Uint8Array {
  const w = new ProtoWriter();
  writeTensor(w, t);
  return w.finish();
}

function writeDimension(w: ProtoWriter, d: Dimension): void {
  if (d.dimValue !== undefined) w.int64(1, d.dimValue);
  optional(w, 2, d.dimParam);
}

function writeType(w: ProtoWriter, ty: TypeProto): void {
  const tt = ty.tensorType;
  if (tt) {
    w.message(1, (m) => {
      if (tt.elemType !== 0) m.int64(1, tt.elemType);
      // An empty shape (a scalar) is still written: leaving it out would mean "rank unknown".
      const shape = tt.shape;
      if (shape) m.message(2, (s) => shape.forEach((d) => s.message(1, (x) => writeDimension(x, d))));
    });
  }
  if (ty.otherKind !== undefined && ty.rawBytes) w.bytes(ty.otherKind, ty.rawBytes);
}

function writeValueInfo(w: ProtoWriter, v: ValueInfoProto): void {
  nonEmpty(w, 1, v.name);
  const type = v.type;
  if (type) w.message(2, (m) => writeType(m, type));
  optional(w, 3, v.docString);
}

function writeAttribute(w: ProtoWriter, a: AttributeProto): void {
  nonEmpty(w, 1, a.name);
  if (a.f !== undefined) w.float(2, a.f);
  if (a.i !== undefined) w.int64(3, a.i);
  if (a.s) w.bytes(4, a.s);
  const { t, g } = a;
  if (t) w.message(5, (m) => writeTensor(m, t));
  if (g) w.message(6, (m) => writeGraph(m, g));
  for (const f of a.floats ?? []) w.float(7, f);
  for (const i of a.ints ?? []) w.int64(8, i);
  for (const s of a.strings ?? []) w.bytes(9, s);
  for (const x of a.tensors ?? []) w.message(10, (m) => writeTensor(m, x));
  for (const x of a.graphs ?? []) w.message(11, (m) => writeGraph(m, x));
  optional(w, 13, a.docString);
  if (a.type !== 0) w.int64(20, a.type);
  optional(w, 21, a.refAttrName);
}

function writeNode(w: ProtoWriter, n: NodeProto): void {
  for (const s of n.input) w.string(1, s);
  for (const s of n.output) w.string(2, s);
  nonEmpty(w, 3, n.name);
  nonEmpty(w, 4, n.opType);
  for (const a of n.attribute) w.message(5, (m) => writeAttribute(m, a));
  optional(w, 6, n.docString);
  nonEmpty(w, 7, n.domain);
}

function writeGraph(w: ProtoWriter, g: GraphProto): void {
  for (const n of g.node) w.message(1, (m) => writeNode(m, n));
  nonEmpty(w, 2, g.name);
  for (const t of g.initializer) w.message(5, (m) => writeTensor(m, t));
  optional(w, 10, g.docString);
  for (const v of g.input) w.message(11, (m) => writeValueInfo(m, v));
  for (const v of g.output) w.message(12, (m) => writeValueInfo(m, v));
  for (const v of g.valueInfo) w.message(13, (m) => writeValueInfo(m, v));
}

/**
 * Encodes a model to ONNX protobuf bytes. Deterministic: the same structure always gives the same
 * bytes. Tensor payloads are copied once, into the returned buffer. Unknown top-level fields are
 * written back in ascending field-number order, after the known fields with smaller numbers.
 */
export function encodeModel(model: ModelProto): Uint8Array {
  const w = new ProtoWriter();
  // A stable sort keeps repeated unknown fields (e.g. several functions) in their original order.
  const unknown = [...(model.unknownFields ?? [])].sort((a, b) => a.field - b.field);
  let u = 0;
  const unknownBefore = (field: number): void => {
    for (; u < unknown.length && unknown[u]!.field < field; u++) {
      const f = unknown[u]!;
      w.raw(f.field, f.wireType, f.bytes);
    }
  };
  const known: Array<[number, () => void]> = [
    [1, () => w.int64(1, model.irVersion)],
    [2, () => optional(w, 2, model.producerName)],
    [3, () => optional(w, 3, model.producerVersion)],
    [4, () => optional(w, 4, model.domain)],
    [5, () => model.modelVersion !== undefined && w.int64(5, model.modelVersion)],
    [6, () => optional(w, 6, model.docString)],
    [7, () => w.message(7, (m) => writeGraph(m, model.graph))],
    [8, () => model.opsetImport.forEach((o) => w.message(8, (m) => (nonEmpty(m, 1, o.domain), m.int64(2, o.version))))],
    [14, () => entries(w, 14, model.metadataProps)],
  ];
  for (const [field, write] of known) {
    unknownBefore(field);
    write();
  }
  unknownBefore(Infinity);
  return w.finish();
}
