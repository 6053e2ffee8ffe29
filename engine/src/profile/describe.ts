import { summarizeModel } from '../onnx/summary';
import { DataType, ValueInfoProto } from '../onnx/types';
import { declaredDims, fedInputs } from '../runtime/feeds';
import { ModelSummaryView } from '../protocol/webview';
import { ModelSource } from './model-source';

/** The static description the custom editor shows before a model runs. */
export function describeModel(src: ModelSource): ModelSummaryView {
  const s = summarizeModel(src.model);
  return {
    name: src.name,
    source: src.source,
    sizeBytes: src.sizeBytes,
    params: s.params,
    weightsBytes: s.weightsBytes,
    opset: s.opset,
    opsets: s.opsets,
    irVersion: s.irVersion,
    producer: s.producer,
    nodeCount: s.nodeCount,
    opCounts: s.opCounts,
    inputs: fedInputs(src.model).map(describeValue),
    outputs: src.model.graph.output.map(describeValue),
  };
}

function describeValue(v: ValueInfoProto): { name: string; type: string; dims: Array<number | string> } {
  const tt = v.type?.tensorType;
  if (!tt) return { name: v.name, type: 'non-tensor', dims: [] };
  return {
    name: v.name,
    type: (DataType[tt.elemType] ?? String(tt.elemType)).toLowerCase(),
    dims: declaredDims(tt.shape),
  };
}
