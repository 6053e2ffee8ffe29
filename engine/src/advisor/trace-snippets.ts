/**
 * The Python the trace rules propose: small, self-contained edits of the user's PyTorch program,
 * each with comments naming the line it changes. Only the parts the evidence calls for are
 * included (no pinned-memory advice for a trace without host-to-device copies). Pure strings.
 */

export interface InputPipelineCauses {
  /** The DataLoader's `__next__` ran while the GPU idled. */
  dataLoader: boolean;
  /** Host-to-device copies from pageable memory were seen. */
  pageableCopies: boolean;
  /** `.to()` / `copy_` ran while the GPU idled. */
  copies: boolean;
  /** The host waited for the device (`cuda*Synchronize`, `.item()`). */
  syncs: boolean;
  /** Framework ops on the host (aten, autograd, CUDA runtime calls) fill the idle time: the host issues work slower than the GPU runs it. */
  hostBound: boolean;
  /** The program already runs under torch.compile. */
  compiled: boolean;
}

export function inputPipelineSnippet(c: InputPipelineCauses): string {
  const lines: string[] = [];
  if (c.dataLoader || c.pageableCopies) {
    lines.push(
      '# Load and collate batches in worker processes, into page-locked memory, ahead of the GPU:',
      'loader = torch.utils.data.DataLoader(',
      '    dataset, batch_size=batch_size, shuffle=True,',
      '    num_workers=8,            # was 0: the main process loaded every batch while the GPU waited',
      '    pin_memory=True,          # page-locked buffers: copies run asynchronously',
      '    persistent_workers=True,  # keep the workers between epochs',
      '    prefetch_factor=4,        # batches each worker keeps ready',
      ')',
    );
  }
  if (c.copies || c.pageableCopies) {
    if (lines.length) lines.push('');
    lines.push('# Copy without blocking the host (asynchronous only from pinned memory: DataLoader(pin_memory=True)):', 'inputs = inputs.to(device, non_blocking=True)', 'targets = targets.to(device, non_blocking=True)');
  }
  if (c.syncs) {
    if (lines.length) lines.push('');
    lines.push(
      '# Do not wait for the GPU inside the step: no torch.cuda.synchronize(), .item(), .cpu() or print(tensor)',
      '# per iteration. Accumulate on the device and read the value every N steps instead:',
      'running_loss += loss.detach()',
      'if step % 100 == 0:',
      '    print(running_loss.item() / 100); running_loss.zero_()',
    );
  }
  if (c.hostBound) {
    if (lines.length) lines.push('');
    lines.push(
      '# The host issues ops slower than the GPU runs them: give each op more work, or issue fewer ops.',
      '# A larger batch per step grows the GPU work while the per-op host cost stays the same:',
      'loader = torch.utils.data.DataLoader(dataset, batch_size=2 * batch_size, ...)  # scale the learning rate to match',
      c.compiled ? '# Already compiled: replay the compiled graphs as CUDA graphs too (static shapes):' : '# Fewer, fused ops and CUDA-graph replay (PyTorch 2.x):',
      'model = torch.compile(model, mode="reduce-overhead")',
    );
  }
  if (lines.length === 0) lines.push('# Find what the host does between kernels (see the evidence) and overlap it with GPU work,', '# e.g. prepare the next batch in DataLoader workers (num_workers > 0, pin_memory=True).');
  return lines.join('\n');
}

export function overlapCommunicationSnippet(wrapper: 'ddp' | 'fsdp' | 'unknown'): string {
  if (wrapper === 'fsdp') {
    return [
      '# Prefetch the next shards while this layer computes, so all-gathers hide behind kernels:',
      'from torch.distributed.fsdp import FullyShardedDataParallel as FSDP, BackwardPrefetch',
      'model = FSDP(',
      '    model,',
      '    forward_prefetch=True,',
      '    backward_prefetch=BackwardPrefetch.BACKWARD_PRE,',
      '    limit_all_gathers=True,',
      ')',
    ].join('\n');
  }
  return [
    '# Start all-reducing gradient buckets while backward still runs, with buckets that fill sooner:',
    'model = torch.nn.parallel.DistributedDataParallel(',
    '    model, device_ids=[local_rank],',
    '    bucket_cap_mb=10,                  # default 25: smaller buckets start their all-reduce earlier in backward (measure 10-50)',
    '    gradient_as_bucket_view=True,      # no copy between gradients and buckets',
    '    static_graph=True,                 # same graph every step: DDP can reorder buckets to match backward',
    ')',
    '# Under gradient accumulation, skip the all-reduce on the steps that only accumulate:',
    '# with model.no_sync(): loss.backward()',
  ].join('\n');
}

export function autocastSnippet(dtype: 'bfloat16' | 'float16', training: boolean): string {
  const lines = [`# Run products and convolutions in ${dtype} on tensor cores; autocast keeps reductions and softmax in fp32.`];
  if (training && dtype === 'float16') lines.push('scaler = torch.cuda.amp.GradScaler()  # fp16 gradients underflow without loss scaling');
  lines.push(`with torch.autocast(device_type="cuda", dtype=torch.${dtype}):`, '    outputs = model(inputs)');
  if (training) lines.push('    loss = criterion(outputs, targets)');
  if (training && dtype === 'float16') lines.push('scaler.scale(loss).backward()', 'scaler.step(optimizer)', 'scaler.update()');
  else if (training) lines.push('loss.backward()  # outside autocast', 'optimizer.step()');
  return lines.join('\n');
}

export function compileSnippet(training: boolean, compiled: boolean): string {
  return [
    compiled ? '# Already compiled: add CUDA-graph replay, one launch instead of hundreds.' : '# Fuse the many small kernels and replay them as CUDA graphs: one launch instead of hundreds.',
    'model = torch.compile(model, mode="reduce-overhead")  # PyTorch 2.x; "reduce-overhead" uses CUDA graphs',
    '# Without torch.compile: capture the step once and replay it (static shapes and buffers):',
    'g = torch.cuda.CUDAGraph()',
    'with torch.cuda.graph(g):',
    training ? '    static_loss = step(static_inputs, static_targets)' : '    static_outputs = model(static_inputs)',
    '# each iteration: static_inputs.copy_(batch); g.replay()',
  ].join('\n');
}

export function memorySnippet(training: boolean): string {
  if (!training) {
    return [
      '# Inference keeps no activations for backward; what fills the device is weights, batch and cache:',
      'model = model.to(dtype=torch.bfloat16)   # or float16: half the bytes per weight',
      'with torch.inference_mode():              # no autograd bookkeeping',
      '    for batch in torch.split(inputs, batch_size // 2):  # smaller batches: activations shrink with them',
      '        outputs = model(batch)',
    ].join('\n');
  }
  return [
    '# Keep fewer activations: recompute each block in backward instead of storing its activations.',
    'from torch.utils.checkpoint import checkpoint',
    'def forward(self, x):',
    '    for block in self.blocks:',
    '        x = checkpoint(block, x, use_reentrant=False)',
    '    return x',
    '',
    '# Or halve the micro-batch and accumulate gradients over two of them (same effective batch):',
    'for i, (inputs, targets) in enumerate(loader):  # loader built with batch_size // 2',
    '    loss = criterion(model(inputs), targets) / 2',
    '    loss.backward()',
    '    if i % 2 == 1:',
    '        optimizer.step(); optimizer.zero_grad(set_to_none=True)',
    '',
    '# Sharding weights, gradients and optimizer state (ZeRO / FSDP): size it first with',
    '#   twb memory-plan --params <parameter count> --gpus <data-parallel GPUs> --zero 2',
  ].join('\n');
}

export function quantizeDynamicSnippet(): string {
  return [
    '# Store nn.Linear weights in int8 and quantize activations on the fly (CPU inference):',
    'import torch.ao.quantization',
    'model.eval()',
    'qmodel = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)',
    'with torch.inference_mode():',
    '    outputs = qmodel(inputs)',
  ].join('\n');
}
