// The in-run roofline: how many GFLOP/s a plain square matmul reaches on the active backend. The
// bench divides a training step's achieved rate by it ("what this GPU can do through this backend").
// Two kernels are timed, tfjs's tf.matMul and the one the lab's engine dispatches (kernels/fused.ts
// matMul2d: its 4×4-tiled kernel on SwiftShader, tfjs's elsewhere); the roofline is the faster.
import * as tf from '@tensorflow/tfjs';
import { matMul2d } from '../kernels/fused';

export interface MatmulRateOptions {
  /** Side n of the n×n · n×n product (2n³ FLOPs). */
  size: number;
  /** Timed samples after one warm-up sample; the median is reported. */
  samples: number;
  /** A sample chains enough matmuls to last at least this long, so launch and read-back latency amortise. */
  minSampleMs: number;
}

export const DEFAULT_MATMUL_RATE_OPTIONS: MatmulRateOptions = { size: 1024, samples: 3, minSampleMs: 200 };

/** Which matmul a rate was measured with: tfjs's tf.matMul, or the lab engine's matMul2d. */
export type MatmulKernel = 'tfjs' | 'lab';

export interface MatmulRate {
  /** The faster kernel: the roofline's. */
  kernel: MatmulKernel;
  /** Each kernel's rate (GFLOP/s), measured the same way one after the other (absent in reports
   * written before the lab's matmul was timed: there the roofline is tfjs's). */
  byKernel?: Record<MatmulKernel, number>;
  size: number;
  matmulsPerSample: number;
  sampleMs: number[];
  medianSampleMs: number;
  /** 2n³ · matmulsPerSample / median sample time. */
  gflopPerSecond: number;
}

export async function measureMatmulRate(options: MatmulRateOptions = DEFAULT_MATMUL_RATE_OPTIONS): Promise<MatmulRate> {
  const tfjs = await measureWith((a, b) => tf.matMul(a, b), options);
  const lab = await measureWith((a, b) => matMul2d(a, b), options);
  const [kernel, best] = lab.gflopPerSecond > tfjs.gflopPerSecond ? (['lab', lab] as const) : (['tfjs', tfjs] as const);
  return { kernel, byKernel: { tfjs: tfjs.gflopPerSecond, lab: lab.gflopPerSecond }, ...best };
}

async function measureWith(
  product: (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor,
  { size, samples, minSampleMs }: MatmulRateOptions,
): Promise<Omit<MatmulRate, 'kernel' | 'byKernel'>> {
  const a = tf.randomNormal([size, size], 0, 1, 'float32', 1) as tf.Tensor2D;
  const b = tf.randomNormal([size, size], 0, 1, 'float32', 2) as tf.Tensor2D;
  try {
    /** Issues `count` products and waits for the last one: the queue runs in order, so all are done. */
    const timeSample = async (count: number) => {
      const start = performance.now();
      for (let i = 0; i < count - 1; i++) product(a, b).dispose();
      const last = product(a, b);
      await last.data();
      last.dispose();
      return performance.now() - start;
    };
    await timeSample(1); // compiles the kernel
    const singleMs = await timeSample(1);
    const matmulsPerSample = Math.max(1, Math.ceil(minSampleMs / Math.max(singleMs, 1e-3)));
    const sampleMs: number[] = [];
    for (let i = 0; i < samples; i++) sampleMs.push(await timeSample(matmulsPerSample));
    const medianSampleMs = median(sampleMs);
    const gflopPerSecond = (2 * size ** 3 * matmulsPerSample) / (medianSampleMs * 1e6);
    return { size, matmulsPerSample, sampleMs, medianSampleMs, gflopPerSecond };
  } finally {
    a.dispose();
    b.dispose();
  }
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
