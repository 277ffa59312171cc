// WebGPU kernels for the engine's hot spots (fused.ts calls them), a file per kind of op.
//
// On WebGPU, tfjs runs batch norm and the activations' gradients as chains of generic kernels, and
// its broadcasting binary ops (x·γ with γ per channel) decode a 4-D coordinate per element: on
// SwiftShader a broadcast Multiply of an [8, 32, 32, 48] tensor took ~110 ms where an elementwise
// one took ~2 ms. These kernels do each job in one pass. Where the channel count is a multiple of
// 4 they take four channels per invocation (vec4), which on SwiftShader costs about what one does:
// the per-lane loads, not the arithmetic, set the pace (programs.ts). Their sizes are uniforms, so
// one pipeline serves every shape: compiling the ~160 shape-specialised pipelines a MobileNetV2
// step once needed took ~15 s of its first step on SwiftShader (58 pipelines now). The scalar
// fallbacks (odd channel counts) still bake the channel count in (`index % CHANNELS`).
//
// Each is registered for the 'webgpu' backend only; fused.ts falls back to plain tfjs ops (the
// reference the e2e test compares these kernels with) on every other backend.
import * as tf from '@tensorflow/tfjs';
import { ACTIVATION_KERNELS } from './activations';
import { BATCH_NORM_KERNELS } from './batchNorm';
import { CHANNEL_KERNELS } from './channels';
import { CONV_KERNELS } from './conv';
import { LAYER_NORM_KERNELS } from './layerNorm';
import { MATMUL_KERNELS } from './matmul';
import { KERNELS, type KernelName } from './names';
import { OPTIMIZER_KERNELS } from './optimizer';
import type { KernelFuncs } from './programs';
import { QUANTIZED_KERNELS } from './quantized';
import { SOFTMAX_KERNELS } from './softmax';

export { KERNELS } from './names';

/** Every kernel, from the file of its kind. */
const kernelFuncs: KernelFuncs = {
  ...BATCH_NORM_KERNELS,
  ...CHANNEL_KERNELS,
  ...ACTIVATION_KERNELS,
  ...MATMUL_KERNELS,
  ...CONV_KERNELS,
  ...OPTIMIZER_KERNELS,
  ...LAYER_NORM_KERNELS,
  ...QUANTIZED_KERNELS,
  ...SOFTMAX_KERNELS,
};

let registered = false;

/** Registers the kernels for the 'webgpu' backend (once; harmless where WebGPU never starts). */
export function registerWebGpuKernels(): void {
  if (registered) return;
  registered = true;
  const missing = Object.values(KERNELS).filter((name: KernelName) => kernelFuncs[name] === undefined);
  if (missing.length > 0) throw new Error(`registerWebGpuKernels: no WebGPU kernel for ${missing.join(', ')}`);
  for (const [kernelName, kernelFunc] of Object.entries(kernelFuncs)) {
    tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: kernelFunc as tf.KernelFunc });
  }
}
