// tfjs's WebAssembly backend in Node, for the scripts that train or evaluate many images
// (`npm run pretrain`, `cli evaluate`): XNNPACK with SIMD runs the lab's models 10–30× faster
// than the pure-JS CPU backend. It ships no training kernels, so the three the engine's
// backward pass runs are added here from forward ops it does have; and its BatchMatMul is
// ~8× slower with a transposed operand than a Transpose followed by a plain one (measured at
// [32768, 16]ᵀ·[32768, 96]), which the pointwise convs' backward does on every step.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { denseWeightGradAsConv, depthwiseWeightGradAsConv } from '../../src/core/nn/layers';
import { useCpuBackend } from './tfjs';

const WASM = 'wasm';

interface ConvGradAttrs {
  strides: number;
  pad: number;
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
}

/** A Tensor over a kernel's input that holds its own reference to the data: disposing it leaves the input intact. */
function tensorOf<T extends tf.Tensor>(info: tf.TensorInfo | undefined): T {
  if (!info) throw new Error('wasm training kernels: a kernel input is missing');
  const tensor = tf.engine().makeTensorFromTensorInfo(info) as T;
  tf.engine().backend.incRef(info.dataId);
  return tensor;
}

/** The engine calls conv kernels with square kernels, one stride and a symmetric numeric pad. */
function convAttrs(attrs: unknown): { stride: number; pad: number } {
  const { strides, pad } = attrs as ConvGradAttrs;
  if (typeof strides !== 'number' || typeof pad !== 'number') {
    throw new Error(`wasm training kernels: expected a numeric stride and pad, got ${JSON.stringify({ strides, pad })}`);
  }
  return { stride: strides, pad };
}

/**
 * dx of a depthwise conv: dy spread out by the stride (zeros between), padded so that a valid
 * depthwise conv with the spatially flipped filter gives back the input's height and width.
 */
export function depthwiseInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, stride: number, pad: number, inputShape: readonly number[]): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, outHeight, outWidth, channels] = dy.shape;
    const [, height, width] = inputShape;
    const kernel = filter.shape[0];
    let spread: tf.Tensor4D = dy;
    if (stride > 1) {
      const gaps = tf.pad(tf.reshape(dy, [n, outHeight, 1, outWidth, 1, channels]), [[0, 0], [0, 0], [0, stride - 1], [0, 0], [0, stride - 1], [0, 0]]);
      spread = tf.slice(tf.reshape(gaps, [n, outHeight * stride, outWidth * stride, channels]), [0, 0, 0, 0], [n, (outHeight - 1) * stride + 1, (outWidth - 1) * stride + 1, channels]) as tf.Tensor4D;
    }
    const [, spreadHeight, spreadWidth] = spread.shape;
    const before = kernel - 1 - pad;
    const padded = tf.pad(spread, [[0, 0], [before, height + pad - spreadHeight], [before, width + pad - spreadWidth], [0, 0]]);
    return tf.depthwiseConv2d(padded, tf.reverse(filter, [0, 1]) as tf.Tensor4D, 1, 'valid');
  });
}

/** The Node backends the training scripts offer, and the one flag that picks between them. */
export const NODE_BACKENDS = ['wasm', 'cpu'] as const;
export const BACKEND_FLAG = { name: 'backend', type: { kind: 'id', ids: NODE_BACKENDS }, description: 'tfjs backend (wasm is 10–30× faster here)', default: 'wasm' } as const;

/** Switches tfjs to `backend` (wasm with the training kernels it lacks, or the pure-JS CPU one). */
export async function useNodeBackend(backend: string): Promise<void> {
  if (backend === 'wasm') await useWasmBackend();
  else await useCpuBackend();
}

let registered = false;

/** Adds the missing training kernels and the faster transposed matmul to the wasm backend (once,
 * before it starts: BatchMatMul's setup runs when the backend initialises). */
function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: WASM,
    kernelFunc: ({ inputs, attrs }) => {
      const { stride, pad } = convAttrs(attrs);
      const kernel = (attrs as unknown as ConvGradAttrs).filterShape?.[0] as number;
      return tf.tidy(() => denseWeightGradAsConv(tensorOf(inputs.x), tensorOf(inputs.dy), kernel, stride, pad));
    },
  });
  tf.registerKernel({
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    backendName: WASM,
    kernelFunc: ({ inputs, attrs }) => {
      const { stride, pad } = convAttrs(attrs);
      const kernel = (attrs as unknown as ConvGradAttrs).filterShape?.[0] as number;
      return tf.tidy(() => depthwiseWeightGradAsConv(tensorOf(inputs.x), tensorOf(inputs.dy), kernel, stride, pad));
    },
  });
  tf.registerKernel({
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    backendName: WASM,
    kernelFunc: ({ inputs, attrs }) => {
      const { stride, pad } = convAttrs(attrs);
      const inputShape = (attrs as unknown as ConvGradAttrs).inputShape as number[];
      return tf.tidy(() => depthwiseInputGrad(tensorOf(inputs.dy), tensorOf(inputs.filter), stride, pad, inputShape));
    },
  });
  const matMul = tf.getKernel('BatchMatMul', WASM);
  if (!matMul) throw new Error('tfjs-backend-wasm registers no BatchMatMul kernel');
  tf.unregisterKernel('BatchMatMul', WASM);
  tf.registerKernel({
    ...matMul,
    kernelFunc: (args) => {
      const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return matMul.kernelFunc(args);
      const swapLastTwo = (t: tf.Tensor) => tf.transpose(t, [...t.shape.slice(0, -2).map((_, axis) => axis), t.rank - 1, t.rank - 2]);
      return tf.tidy(() => {
        const a = tensorOf(args.inputs.a);
        const b = tensorOf(args.inputs.b);
        return tf.matMul(transposeA ? swapLastTwo(a) : a, transposeB ? swapLastTwo(b) : b);
      });
    },
  });
}

export async function useWasmBackend(): Promise<void> {
  registerWasmTrainingKernels();
  if (!(await tf.setBackend(WASM))) throw new Error('tfjs: the wasm backend failed to start');
  await tf.ready();
}
