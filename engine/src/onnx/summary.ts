import { DataType, ModelProto } from './types';
import { tensorByteSize } from './tensor-data';

/** Static facts about a model, read from its graph without running it. */
export interface ModelSummary {
  /** Elements in all initializers except int64 (shape constants) and string (vocabularies) ones. */
  params: number;
  /** Bytes of all initializers, inline or external. */
  weightsBytes: number;
  /** Opset of the default domain. */
  opset: number;
  opsets: Record<string, number>;
  irVersion: number;
  producer: string;
  nodeCount: number;
  /** Node count by `domain::opType` (default domain written without prefix), subgraphs excluded. */
  opCounts: Record<string, number>;
  /** Files holding external tensor data, relative to the model. */
  externalFiles: string[];
}

export function summarizeModel(model: ModelProto): ModelSummary {
  let params = 0;
  let weightsBytes = 0;
  const external = new Set<string>();
  for (const t of model.graph.initializer) {
    const elements = t.dims.reduce((a, b) => a * b, 1);
    if (t.dataType !== DataType.INT64 && t.dataType !== DataType.STRING) params += elements;
    weightsBytes += tensorByteSize(t);
    const location = t.externalData?.find((e) => e.key === 'location')?.value;
    if (location) external.add(location);
  }
  const opsets: Record<string, number> = {};
  for (const o of model.opsetImport) opsets[o.domain === 'ai.onnx' ? '' : o.domain] = o.version;
  const opCounts: Record<string, number> = {};
  for (const n of model.graph.node) {
    const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}::${n.opType}` : n.opType;
    opCounts[key] = (opCounts[key] ?? 0) + 1;
  }
  return {
    params,
    weightsBytes,
    opset: opsets[''] ?? 0,
    opsets,
    irVersion: model.irVersion,
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    nodeCount: model.graph.node.length,
    opCounts,
    externalFiles: [...external],
  };
}
