import { encodeModel } from '../onnx/codec';
import { DataType } from '../onnx/types';
import { GraphBuilder } from './graph-builder';

let cached: Uint8Array | undefined;

/** A one-node model (Relu on float [1]) used to test whether an execution provider can open a session. */
export function probeModelBytes(): Uint8Array {
  if (!cached) {
    const g = new GraphBuilder();
    g.input('x', DataType.FLOAT, [1]);
    const y = g.op('probe/relu', 'Relu', ['x']);
    g.output(y, 'y', DataType.FLOAT, [1]);
    cached = encodeModel({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'transformer-workbench', graph: g.build('probe') });
  }
  return cached as Uint8Array;
}
