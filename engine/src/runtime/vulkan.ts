import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Why WebGPU (Dawn, in ONNX Runtime and in the `webgpu` package alike) can have no adapter on this
 * Linux machine, or undefined when the Vulkan loader is present. Checked up front because Dawn
 * otherwise prints native warnings to stderr and fails anyway.
 */
export function missingVulkanLoader(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':'), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/lib/x86_64-linux-gnu'];
  const found = dirs.some((d) => d && fs.existsSync(path.join(d, 'libvulkan.so.1')));
  return found ? undefined : 'no Vulkan loader (libvulkan.so.1) found, so WebGPU has no adapter';
}
