// The in-run roofline: how many GFLOP/s a plain square matmul reaches on the active backend. The
// bench divides a training step's achieved rate by it ("what this GPU can do through this backend").
import * as tf from '@tensorflow/tfjs';

export interface MatmulRateOptions {
  /** Side n of the n×n · n×n product (2n³ FLOPs). */
  size: number;
  /** Timed samples after one warm-up sample; the median is reported. */
  samples: number;
  /** A sample chains enough matmuls to last at least this long, so launch and read-back latency amortise. */
  minSampleMs: number;
}

export const DEFAULT_MATMUL_RATE_OPTIONS: MatmulRateOptions = { size: 1024, samples: 3, minSampleMs: 200 };

export interface MatmulRate {
  size: number;
  matmulsPerSample: number;
  sampleMs: number[];
  medianSampleMs: number;
  /** 2n³ · matmulsPerSample / median sample time. */
  gflopPerSecond: number;
}

export async function measureMatmulRate(options: MatmulRateOptions = DEFAULT_MATMUL_RATE_OPTIONS): Promise<MatmulRate> {
  const { size, samples, minSampleMs } = options;
  const a = tf.randomNormal([size, size], 0, 1, 'float32', 1) as tf.Tensor2D;
  const b = tf.randomNormal([size, size], 0, 1, 'float32', 2) as tf.Tensor2D;
  try {
    /** Issues `count` products and waits for the last one: the queue runs in order, so all are done. */
    const timeSample = async (count: number) => {
      const start = performance.now();
      for (let i = 0; i < count - 1; i++) tf.matMul(a, b).dispose();
      const last = tf.matMul(a, b);
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
