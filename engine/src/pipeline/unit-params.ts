/** Bytes of weights each unit (embed, layer N, head) of an ONNX graph holds, from its initializers. */
import type { ModelProto } from '../onnx/types';
import { tensorByteSize } from '../onnx/tensor-data';
import { modelUnits } from './units';

/** By unit name; an initializer shared by several units counts in the first that uses it. */
export function unitParamBytes(model: ModelProto): Map<string, number> {
  const units = modelUnits(model);
  const inits = new Map(model.graph.initializer.map((t) => [t.name, t]));
  const counted = new Set<string>();
  const bytes = new Map<string, number>();
  model.graph.node.forEach((n, i) => {
    const unit = units.names[units.unitOfNode[i]];
    for (const input of n.input) {
      const t = inits.get(input);
      if (!t || counted.has(input)) continue;
      counted.add(input);
      bytes.set(unit, (bytes.get(unit) ?? 0) + tensorByteSize(t));
    }
  });
  return bytes;
}
