/**
 * The subset of ONNX's protobuf schema (onnx.proto, IR version ≤ 11) that the workbench reads and
 * writes. Field names follow onnx.proto in camelCase. Tensor payloads are kept as `Uint8Array` views
 * into the decoded file, never copied, so that large models stay cheap to inspect.
 */

/** TensorProto.DataType values. */
export enum DataType {
  UNDEFINED = 0,
  FLOAT = 1,
  UINT8 = 2,
  INT8 = 3,
  UINT16 = 4,
  INT16 = 5,
  INT32 = 6,
  INT64 = 7,
  STRING = 8,
  BOOL = 9,
  FLOAT16 = 10,
  DOUBLE = 11,
  UINT32 = 12,
  UINT64 = 13,
  COMPLEX64 = 14,
  COMPLEX128 = 15,
  BFLOAT16 = 16,
  FLOAT8E4M3FN = 17,
  FLOAT8E4M3FNUZ = 18,
  FLOAT8E5M2 = 19,
  FLOAT8E5M2FNUZ = 20,
  UINT4 = 21,
  INT4 = 22,
}

/** AttributeProto.AttributeType values. */
export enum AttributeType {
  UNDEFINED = 0,
  FLOAT = 1,
  INT = 2,
  STRING = 3,
  TENSOR = 4,
  GRAPH = 5,
  FLOATS = 6,
  INTS = 7,
  STRINGS = 8,
  TENSORS = 9,
  GRAPHS = 10,
  SPARSE_TENSOR = 11,
  TYPE_PROTO = 13,
}

export interface StringStringEntry {
  key: string;
  value: string;
}

/** A tensor. Exactly one payload field is normally set; `rawData` is little-endian. */
export interface TensorProto {
  name: string;
  dataType: DataType;
  /** Shape; empty for a scalar. */
  dims: number[];
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: bigint[];
  doubleData?: number[];
  uint64Data?: bigint[];
  stringData?: Uint8Array[];
  /** Set when the payload lives in a separate file (`dataLocation` = 1). */
  externalData?: StringStringEntry[];
  /** 0 = DEFAULT, 1 = EXTERNAL. */
  dataLocation?: number;
  docString?: string;
}

/** One dimension: a fixed size, a symbolic name, or unknown (both absent). */
export interface Dimension {
  dimValue?: number;
  dimParam?: string;
}

/** TypeProto; only tensor types carry a shape here, other kinds are kept as an opaque tag. */
export interface TypeProto {
  tensorType?: { elemType: DataType; shape?: Dimension[] };
  /** Sequence, map, optional or sparse types: the field number of the kind, for messages. */
  otherKind?: number;
  /** The original bytes of a non-tensor type, so a round trip keeps it. */
  rawBytes?: Uint8Array;
}

export interface ValueInfoProto {
  name: string;
  type?: TypeProto;
  docString?: string;
}

export interface AttributeProto {
  name: string;
  type: AttributeType;
  f?: number;
  i?: bigint;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: bigint[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  /** Reference to an attribute of the calling function (functions only). */
  refAttrName?: string;
  docString?: string;
}

export interface NodeProto {
  name: string;
  opType: string;
  /** '' (or 'ai.onnx') is the default ONNX domain. */
  domain: string;
  input: string[];
  output: string[];
  attribute: AttributeProto[];
  docString?: string;
}

export interface GraphProto {
  name: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
  docString?: string;
}

export interface OperatorSetId {
  /** '' is the default ONNX domain. */
  domain: string;
  version: number;
}

export interface ModelProto {
  irVersion: number;
  opsetImport: OperatorSetId[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph: GraphProto;
  metadataProps?: StringStringEntry[];
  /** Fields the codec does not model (functions, training info), kept verbatim for round trips. */
  unknownFields?: Array<{ field: number; wireType: number; bytes: Uint8Array }>;
}
