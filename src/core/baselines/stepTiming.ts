// Timing and memory measurement of a training step on the active backend, shared by the lab-core
// cells and the tf.layers baseline so both are measured the same way. A step resolves once its loss
// has been read back (`await data()`: never dataSync, which stalls WebGPU), so it is synchronised.
import * as tf from '@tensorflow/tfjs';

import { countDispatches } from '../kernels/webgpuRaw';
import { median } from './matmulRate';

/** A training step (forward, backward, update); resolves to its loss once read back from the device. */
export type TrainingStep = () => Promise<number>;

export interface StepTimingOptions {
  warmup: number;
  steps: number;
}

export interface StepTiming {
  warmupMs: number[];
  stepMs: number[];
  medianStepMs: number;
  /** Loss of each timed step (finite when the step is sound). */
  losses: number[];
}

/** Runs `warmup` untimed then `steps` timed steps. */
export async function timeSteps(step: TrainingStep, options: StepTimingOptions, onStep?: () => void): Promise<StepTiming> {
  const warmupMs: number[] = [];
  const stepMs: number[] = [];
  const losses: number[] = [];
  for (let i = 0; i < options.warmup + options.steps; i++) {
    const start = performance.now();
    const value = await step();
    const elapsed = performance.now() - start;
    if (i < options.warmup) warmupMs.push(elapsed);
    else {
      stepMs.push(elapsed);
      losses.push(value);
    }
    onStep?.();
  }
  return { warmupMs, stepMs, medianStepMs: median(stepMs), losses };
}

/** Times two steps in one loop, alternating which goes first (A B, B A, …), so drift in the
 * machine's load falls on both alike: warm-ups of each, then `steps` timed steps of each. */
export async function timeStepsAlternately(
  a: TrainingStep,
  b: TrainingStep,
  options: StepTimingOptions,
  onStep?: () => void,
): Promise<[StepTiming, StepTiming]> {
  const timings = [a, b].map(() => ({ warmupMs: [] as number[], stepMs: [] as number[], losses: [] as number[] }));
  const steps = [a, b];
  for (let i = 0; i < options.warmup + options.steps; i++) {
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    for (const which of order) {
      const start = performance.now();
      const value = await steps[which]();
      const elapsed = performance.now() - start;
      const timing = timings[which];
      if (i < options.warmup) timing.warmupMs.push(elapsed);
      else {
        timing.stepMs.push(elapsed);
        timing.losses.push(value);
      }
      onStep?.();
    }
  }
  const [ta, tb] = timings.map((t) => ({ ...t, medianStepMs: median(t.stepMs) }));
  return [ta, tb];
}

/** What tfjs's engine and backend hold, as `tf.memory()` reports it. */
export interface EngineMemory {
  /** Bytes of all live tensors (logical, every backend). */
  numBytes: number;
  numTensors: number;
  numDataBuffers: number;
  /** WebGPU: bytes of buffers in use, and allocated including the pool (PyTorch's "reserved"). */
  numBytesInGPU?: number;
  numBytesAllocatedInGPU?: number;
}

export function engineMemory(): EngineMemory {
  const memory = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
  return {
    numBytes: memory.numBytes,
    numTensors: memory.numTensors,
    numDataBuffers: memory.numDataBuffers,
    ...(memory.numBytesInGPU !== undefined ? { numBytesInGPU: memory.numBytesInGPU } : {}),
    ...(memory.numBytesAllocatedInGPU !== undefined ? { numBytesAllocatedInGPU: memory.numBytesAllocatedInGPU } : {}),
  };
}

export interface KernelTime {
  name: string;
  count: number;
  totalMs: number;
}

export interface ProfiledStep {
  /** `tf.profile`'s peak: the largest engine byte count after any kernel of the step, everything
   * alive in the page included (weights, optimizer state, the batch). */
  peakBytes: number;
  /** Engine bytes just before the step. */
  bytesBefore: number;
  /** peakBytes − bytesBefore: what the step itself added at its peak. */
  stepPeakAddedBytes: number;
  /** WebGPU: the largest count of GPU bytes in use after any kernel of the step (null on other
   * backends). tf.profile counts a buffer once per tensor object holding it, so a reshape, or the
   * tape's saved copy (tfjs clones every tensor a gradient saves), counts again; this counts each
   * buffer once, as the device holds it. */
  peakBufferBytes: number | null;
  newBytes: number;
  newTensors: number;
  /** Kernels the engine ran in the step (tf.profile's count, reshapes and identities included). */
  kernelCount: number;
  /** Compute dispatches the step recorded on WebGPU (0 on other backends): on a GPU, where a step
   * of these small networks is bound by per-dispatch overhead, the count sets the pace. */
  dispatches: number;
  /** Every kernel name with its count and total time (0 where the backend cannot time kernels),
   * slowest first. */
  kernelsByName: KernelTime[];
  memoryAfter: EngineMemory;
}

/** tfjs-core 4.x's Engine (engine.ts): every kernel runs through runKernelFunc. */
interface EngineInternals {
  runKernelFunc: (...args: unknown[]) => unknown;
}

/** The WebGPU backend's bytes of buffers in use (each buffer once; the free pool excluded), or
 * undefined on a backend that does not say. */
const gpuBytesInUse = () => (tf.memory() as { numBytesInGPU?: number }).numBytesInGPU;

/** Tracks the largest count of GPU bytes in use after each kernel until stop(); null where the
 * backend has no such count. Under tf.profile every dispatch is submitted on its own, so buffers
 * freed by a kernel are back in the pool before the next count. */
function watchBufferPeak(): { peak: () => number | null; stop: () => void } {
  const engine = tf.engine() as unknown as EngineInternals;
  const first = gpuBytesInUse();
  if (first === undefined) return { peak: () => null, stop: () => undefined };
  let peak = first;
  const original = engine.runKernelFunc;
  engine.runKernelFunc = function (this: unknown, ...args: unknown[]) {
    const out = original.apply(this, args);
    peak = Math.max(peak, gpuBytesInUse() ?? 0);
    return out;
  };
  return { peak: () => peak, stop: () => (engine.runKernelFunc = original) };
}

/** Profiles one step with `tf.profile` (slow: run it apart from the timed steps). */
export async function profileStep(step: TrainingStep): Promise<ProfiledStep> {
  const bytesBefore = tf.memory().numBytes;
  const buffers = watchBufferPeak();
  let profiled;
  try {
    profiled = await countDispatches(() =>
      tf.profile(async () => {
        await step();
      }),
    );
  } finally {
    buffers.stop();
  }
  const { result: info, dispatches } = profiled;
  const byName = new Map<string, KernelTime>();
  for (const kernel of info.kernels) {
    const ms = typeof kernel.kernelTimeMs === 'number' ? kernel.kernelTimeMs : 0;
    const entry = byName.get(kernel.name) ?? { name: kernel.name, count: 0, totalMs: 0 };
    entry.count++;
    entry.totalMs += ms;
    byName.set(kernel.name, entry);
  }
  const kernelsByName = [...byName.values()].sort((a, b) => b.totalMs - a.totalMs || b.count - a.count);
  return {
    peakBytes: info.peakBytes,
    bytesBefore,
    stepPeakAddedBytes: info.peakBytes - bytesBefore,
    peakBufferBytes: buffers.peak(),
    newBytes: info.newBytes,
    newTensors: info.newTensors,
    kernelCount: info.kernels.length,
    dispatches,
    kernelsByName,
    memoryAfter: engineMemory(),
  };
}
