/** Running decoded models in ONNX Runtime for analysis: sessions on in-memory bytes, outputs as fp32. */
import { encodeModel } from '../onnx/codec';
import { fromHalfArray } from '../onnx/float16';
import { DataType, ModelProto } from '../onnx/types';
import { FetchedTensor, openSession, Session, SessionSpec } from '../runtime/ort';
import { FEED_TYPES, FeedTensor } from '../runtime/feeds';
import { CapturedTensor, CaptureFn } from '../passes/types';
import { throwIfAborted } from '../util/abort';
import { exposeTensors } from './expose';

/** A fetched float tensor as fp32; undefined for integer and boolean tensors. */
export function fetchedAsFloat32(t: FetchedTensor): Float32Array | undefined {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') return fromHalfArray(t.data as Uint16Array);
  if (t.type === 'float64') return Float32Array.from(t.data as Float64Array);
  return undefined;
}

/** The ONNX element type of a fetched tensor's ORT type name. */
export function elemTypeOf(type: string): DataType | undefined {
  const hit = Object.entries(FEED_TYPES).find(([, name]) => name === type);
  return hit ? (Number(hit[0]) as DataType) : undefined;
}

/** Opens a session on a decoded model, runs `fn`, and always releases it. */
export async function withModelSession<T>(model: ModelProto, spec: SessionSpec, label: string, fn: (s: Session) => Promise<T>): Promise<T> {
  const session = await openSession(encodeModel(model), spec, label);
  try {
    return await fn(session);
  } finally {
    await session.release();
  }
}

/**
 * A CaptureFn backed by real runs of `model` on `batches`: exposes the requested tensors as outputs
 * and collects their fp32 values per batch. Graph inputs are answered from the feeds.
 */
export function captureWith(model: ModelProto, batches: Array<Record<string, FeedTensor>>, spec: SessionSpec, signal?: AbortSignal): CaptureFn {
  return async (tensors) => {
    const result = new Map<string, CapturedTensor>();
    for (const t of tensors) result.set(t, { dims: [], data: [] });
    const exposed = exposeTensors(model, tensors);
    await withModelSession(exposed, { ...spec, optLevel: 'disabled' }, 'calibration', async (s) => {
      for (const feeds of batches) {
        throwIfAborted(signal, 'calibration');
        const fromRun = await s.fetch(feeds, tensors.filter((t) => !(t in feeds)));
        for (const t of tensors) {
          const fed = feeds[t];
          const value: FetchedTensor | undefined = fed ? { type: fed.type, dims: fed.dims, data: fed.data } : fromRun[t];
          const data = value && fetchedAsFloat32(value);
          if (!value || !data) continue;
          result.get(t)!.dims.push(value.dims);
          result.get(t)!.data.push(data);
        }
      }
    });
    return result;
  };
}
