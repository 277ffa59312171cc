// The bench's soak: many steps of one fine-tune on the active backend, tf.memory() sampled every
// few steps, to show that tensors and GPU bytes stay flat once warm (a leak of one small tensor a
// step is invisible in a 5-step cell and fatal in an hour-long run). Each step trains on a new
// seeded batch, disposed after it, as a run's steps do.
import * as tf from '@tensorflow/tfjs';

import type { MethodId } from '../ids';
import type { ModelOptions } from '../models/spec';
import { createModel, disposeModel } from '../nn/model';
import { applyMethod } from '../adapters/definitions';
import { buildModelSpec } from '../models/registry';
import { createTrainer } from '../train/trainer';
import { benchMethodOptions, syntheticBatch, type StepCallback } from './benchCells';
import { median } from './matmulRate';
import { engineMemory } from './stepTiming';

export interface SoakRequest {
  model: ModelOptions;
  method: MethodId;
  /** LoRA/DoRA/GaLore rank; null for fft and bn_head. */
  rank: number | null;
  batch: number;
  steps: number;
  /** tf.memory() after every `sampleEvery`-th step (and after the last). */
  sampleEvery: number;
  /** Steps before memory is expected to be flat (shaders compiled, the buffer pool filled). */
  warmupSteps: number;
  seed: number;
  learningRate: number;
}

/** tf.memory() after a step; the GPU fields on WebGPU only. */
export interface SoakSample {
  step: number;
  numTensors: number;
  numBytes: number;
  numBytesInGPU: number | null;
  numBytesAllocatedInGPU: number | null;
}

/** Last sample minus the first one at or after warm-up (null where the backend does not report it). */
export interface SoakGrowth {
  fromStep: number;
  toStep: number;
  tensors: number;
  bytes: number;
  bytesInGPU: number | null;
  bytesAllocatedInGPU: number | null;
}

export interface SoakResult {
  request: SoakRequest;
  samples: SoakSample[];
  growth: SoakGrowth;
  /** No growth after warm-up in tensors, logical bytes, GPU bytes in use or allocated. */
  flat: boolean;
  medianStepMs: number;
  /** Loss of the first and last steps (finite when training stayed sound). */
  firstLoss: number;
  lastLoss: number;
}

/** The growth after warm-up and whether it is none, from samples in step order. */
export function soakGrowth(samples: readonly SoakSample[], warmupSteps: number): { growth: SoakGrowth; flat: boolean } {
  const after = samples.filter((sample) => sample.step >= warmupSteps);
  if (after.length < 2) throw new Error(`a soak needs two samples after its ${warmupSteps} warm-up steps, got ${after.length}`);
  const first = after[0];
  const last = after[after.length - 1];
  const gpu = (key: 'numBytesInGPU' | 'numBytesAllocatedInGPU') => (first[key] === null || last[key] === null ? null : last[key] - first[key]);
  const growth: SoakGrowth = {
    fromStep: first.step,
    toStep: last.step,
    tensors: last.numTensors - first.numTensors,
    bytes: last.numBytes - first.numBytes,
    bytesInGPU: gpu('numBytesInGPU'),
    bytesAllocatedInGPU: gpu('numBytesAllocatedInGPU'),
  };
  const flat = growth.tensors <= 0 && growth.bytes <= 0 && (growth.bytesInGPU ?? 0) <= 0 && (growth.bytesAllocatedInGPU ?? 0) <= 0;
  return { growth, flat };
}

/** Trains `request.steps` steps of the lab core, sampling the engine's memory; frees everything. */
export async function runSoak(request: SoakRequest, onStep?: StepCallback): Promise<SoakResult> {
  const options = benchMethodOptions(request.rank);
  const spec = applyMethod(buildModelSpec(request.model), request.method, options);
  const model = createModel(spec, { seed: request.seed });
  const samples: SoakSample[] = [];
  const stepMs: number[] = [];
  const losses: number[] = [];
  try {
    const trainer = createTrainer(model, { method: request.method, methodOptions: options, learningRate: request.learningRate });
    try {
      for (let step = 1; step <= request.steps; step++) {
        const batch = syntheticBatch(request.batch, request.model.resolution, request.model.numClasses, request.seed + step);
        try {
          const started = performance.now();
          losses.push(await trainer.step(batch));
          stepMs.push(performance.now() - started);
        } finally {
          tf.dispose([batch.x, batch.y]);
        }
        if (step % request.sampleEvery === 0 || step === request.steps) {
          const memory = engineMemory();
          samples.push({
            step,
            numTensors: memory.numTensors,
            numBytes: memory.numBytes,
            numBytesInGPU: memory.numBytesInGPU ?? null,
            numBytesAllocatedInGPU: memory.numBytesAllocatedInGPU ?? null,
          });
        }
        onStep?.();
      }
    } finally {
      trainer.dispose();
    }
  } finally {
    disposeModel(model);
  }
  return { request, samples, ...soakGrowth(samples, request.warmupSteps), medianStepMs: median(stepMs), firstLoss: losses[0], lastLoss: losses[losses.length - 1] };
}
