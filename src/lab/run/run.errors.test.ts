// The run loop's error paths that a real device triggers and a test cannot: the training step
// throwing an allocation failure (out of memory) or failing after the WebGPU device was lost, and
// a configuration over the device's buffer limits. The step is replaced by one that throws on its
// second call, the device by a fake with small limits; everything else runs for real.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG, type LabConfig } from '../config';
import type { RunResponse } from '../protocol';
import { nothingServed, plainEnvironment } from './environment';
import { runTraining } from './run';
import { RunControl } from './runState';
import { GpuError } from '../../core/gpuDevice';

const failure = vi.hoisted(() => ({ error: (): unknown => new Error('') }));
const gpu = vi.hoisted(() => ({ limits: null as { maxBufferSize: number; maxStorageBufferBindingSize: number } | null }));

vi.mock('../../core/gpuDevice', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../core/gpuDevice')>();
  return { ...original, activeGpuDevice: () => (gpu.limits ? { limits: gpu.limits } : null) };
});

vi.mock('../../core/train/step', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../core/train/step')>();
  let calls = 0;
  return {
    ...original,
    trainStep: async (...args: Parameters<typeof original.trainStep>) => {
      calls++;
      if (calls % 2 === 0) throw failure.error();
      return original.trainStep(...args);
    },
  };
});

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const TINY: LabConfig = { ...DEFAULT_CONFIG, width: 0.25, rank: 2, batchSize: 4, trainImages: 8, epochs: 1, patience: 10 };

async function runFailing(message: string | Error, deviceLost: string | null, options: { lostAfterError?: string; config?: LabConfig } = {}): Promise<RunResponse[]> {
  failure.error = () => (message instanceof Error ? message : new Error(message));
  const messages: RunResponse[] = [];
  await runTraining({
    runId: 3,
    config: options.config ?? TINY,
    environment: plainEnvironment('http://127.0.0.1:9/', { fetch: nothingServed }),
    labVersion: 'test',
    measureMemory: false,
    control: new RunControl(),
    post: (m) => messages.push(m),
    adapter: 'test adapter',
    deviceLost: () => deviceLost,
    ...(options.lostAfterError ? { awaitDeviceLoss: async () => options.lostAfterError ?? null } : {}),
  });
  return messages;
}

describe('runTraining error paths', () => {
  it('an allocation failure is reported as out of memory, with the analytic peak by group that explains it', async () => {
    const before = tf.memory().numTensors;
    const messages = await runFailing('Failed to allocate buffer of 268435456 bytes: out of memory', null);
    const error = messages.at(-1)!;
    expect(error.type).toBe('run_error');
    if (error.type !== 'run_error') return;
    expect(error.kind).toBe('out_of_memory');
    expect(error.message).toMatch(/^Out of memory: Failed to allocate buffer/);
    expect(error.memoryBreakdown?.act).toBeGreaterThan(0);
    expect(error.memoryBreakdown?.param).toBeGreaterThan(0);
    // The step before the failure was reported; nothing leaks from the failed run.
    expect(messages.some((m) => m.type === 'run_progress')).toBe(true);
    expect(messages.some((m) => m.type === 'run_done')).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a failure after the device was lost says so, whatever the error reads', async () => {
    const messages = await runFailing('Buffer used in submit while destroyed', 'reason: destroyed');
    const error = messages.at(-1)!;
    expect(error.type).toBe('run_error');
    if (error.type !== 'run_error') return;
    expect(error.kind).toBe('device_lost');
    expect(error.message).toMatch(/^The WebGPU device was lost \(reason: destroyed\), so the run stopped; its curves so far are kept\. Start it again/);
  });

  it('a failure whose device loss is heard only after it (a rejected readback comes first) is the loss', async () => {
    const messages = await runFailing("Failed to execute 'mapAsync' on 'GPUBuffer': Buffer was unmapped before mapping was resolved.", null, { lostAfterError: 'reason: destroyed, “Device was destroyed”' });
    const error = messages.at(-1)!;
    expect(error.type === 'run_error' && error.kind).toBe('device_lost');
    expect(error.type === 'run_error' && error.message).toContain('(reason: destroyed, “Device was destroyed”)');
    // The step before the loss was reported (the curves so far).
    expect(messages.filter((m) => m.type === 'run_progress').flatMap((m) => (m.type === 'run_progress' ? m.losses.map((p) => p.step) : []))).toEqual([1]);
  });

  it('an error the device reported for a step (its error scope) is out of memory when it is about memory', async () => {
    const messages = await runFailing(new GpuError('validation', 'Buffer size (1610612736) exceeds the max buffer size limit (1073741824).'), null);
    const error = messages.at(-1)!;
    expect(error.type === 'run_error' && error.kind).toBe('out_of_memory');
    expect(error.type === 'run_error' && error.message).toBe('The GPU refused this step (validation error): Buffer size (1610612736) exceeds the max buffer size limit (1073741824).');
  });

  it('a layer output over the device’s buffer limit is refused before anything is allocated, naming the limit and a batch that fits', async () => {
    // 32×32, batch 4, width 0.25: the largest output (features.2's expansion) is 4·32·32·48·4 bytes = 786,432.
    gpu.limits = { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 500_000 };
    try {
      const before = tf.memory().numTensors;
      const messages = await runFailing('never reached', null);
      const error = messages.at(-1)!;
      expect(error.type).toBe('run_error');
      if (error.type !== 'run_error') return;
      expect(error.kind).toBe('out_of_memory');
      expect(error.message).toBe(
        'This configuration needs a 768 KiB buffer (the output of features.2.conv.0.0 at batch 4, 32×32), but this GPU\'s maxStorageBufferBindingSize is 500,000 bytes (488 KiB): ' +
          'no tensor can be larger, however much memory is free. Lower the batch size to 2 or less, or the resolution.',
      );
      expect(error.memoryBreakdown?.act).toBeGreaterThan(0);
      expect(messages.map((m) => m.type)).toEqual(['run_phase', 'run_error']);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      gpu.limits = null;
    }
  });

  it('any other failure is shown as it is, not swallowed', async () => {
    const messages = await runFailing('shape mismatch in a kernel', null);
    const error = messages.at(-1)!;
    expect(error.type === 'run_error' && error.kind).toBe('internal');
    expect(error.type === 'run_error' && error.message).toBe('shape mismatch in a kernel');
  });

  it('tfjs’s own dispatch-size check (a kernel over the device’s workgroup limit) says what to lower', async () => {
    const messages = await runFailing('Dispatch size exceeds WebGPU limits in Y or Z dimension.', null);
    const error = messages.at(-1)!;
    expect(error.type === 'run_error' && error.kind).toBe('out_of_memory');
    expect(error.type === 'run_error' && error.message).toMatch(/too large for one GPU dispatch .*lower the batch size or the resolution/);
  });
});
