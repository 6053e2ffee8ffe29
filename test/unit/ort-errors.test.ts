import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyOrtError } from '../../engine/src/runtime/ort-errors';

const ctx = { stage: 'load' as const, model: 'm.onnx', ep: 'cpu' };

test('a missing kernel names the op, opset, node and provider', () => {
  const e = classifyOrtError(new Error("Could not find an implementation for GemmFastGelu(1) node with name 'GemmFastGelu_0'"), ctx);
  assert.equal(e.code, 'unsupported-op');
  assert.match(e.message, /no cpu kernel for op GemmFastGelu \(opset 1\), node "GemmFastGelu_0"/);
});

test('a node failure at run time names the op and strips source paths', () => {
  const raw = "[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Non-zero status code returned while running Attention node. Name:'Attention_0' Status Message: /onnxruntime_src/onnxruntime/contrib_ops/cpu/bert/attention_base.cc:123 onnxruntime::contrib::AttentionBase::CheckMask mask_index dimension 1 must be 64";
  const e = classifyOrtError(new Error(raw), { ...ctx, stage: 'run' });
  assert.equal(e.code, 'run-failed');
  assert.match(e.message, /op Attention \(node "Attention_0"\) failed on cpu: .*mask_index dimension 1 must be 64/);
  assert.doesNotMatch(e.message, /onnxruntime_src|\.cc:/);
});

test('protobuf failures are invalid-model errors', () => {
  const e = classifyOrtError(new Error('Failed to load model because protobuf parsing failed.'), ctx);
  assert.equal(e.code, 'invalid-model');
  assert.match(e.message, /m\.onnx: not a valid ONNX model/);
});

test('C++ signatures and check conditions are dropped, the human sentence kept', () => {
  const reshape = "Non-zero status code returned while running Reshape node. Name:'reshape_x' Status Message: /onnxruntime_src/onnxruntime/core/providers/cpu/tensor/reshape_helper.h:91 onnxruntime::ReshapeHelper::ReshapeHelper(const onnxruntime::TensorShape&, onnxruntime::TensorShapeVector&, bool) input_shape_size == requested_shape_size was false. The input tensor cannot be reshaped to the requested shape. Input shape:{1,3}, requested shape:{1,1,1,1}";
  assert.match(classifyOrtError(new Error(reshape), { ...ctx, stage: 'run' }).message, /node "reshape_x"\) failed on cpu: The input tensor cannot be reshaped to the requested shape\. Input shape:\{1,3\}/);
  const beam = "Non-zero status code returned while running BeamSearch node. Name:'BeamSearch_gpt2' Status Message: /onnxruntime_src/onnxruntime/contrib_ops/cpu/transformers/beam_search.cc:251 virtual onnxruntime::common::Status onnxruntime::contrib::transformers::BeamSearch::Compute(onnxruntime::OpKernelContext*) const BeamSearch does not support float16 model on CPU execution provider. Use float32 model or CUDA execution provider instead.";
  assert.match(classifyOrtError(new Error(beam), { ...ctx, stage: 'run' }).message, /failed on cpu: BeamSearch does not support float16 model on CPU/);
  const gpu = '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters';
  assert.match(classifyOrtError(new Error(gpu), ctx).message, /: Failed to get a WebGPU adapter: No supported adapters$/);
});
