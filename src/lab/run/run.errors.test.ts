// The run loop's error paths that a real device triggers and a test cannot: the training step
// throwing an allocation failure (out of memory) or failing after the WebGPU device was lost.
// The step is replaced by one that throws on its second call; everything else runs for real.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG, type LabConfig } from '../config';
import type { RunResponse } from '../protocol';
import { nothingServed, plainEnvironment } from './environment';
import { runTraining } from './run';
import { RunControl } from './runState';

const failure = vi.hoisted(() => ({ message: '' }));

vi.mock('../../core/train/step', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../core/train/step')>();
  let calls = 0;
  return {
    ...original,
    trainStep: async (...args: Parameters<typeof original.trainStep>) => {
      calls++;
      if (calls % 2 === 0) throw new Error(failure.message);
      return original.trainStep(...args);
    },
  };
});

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const TINY: LabConfig = { ...DEFAULT_CONFIG, width: 0.25, rank: 2, batchSize: 4, trainImages: 8, epochs: 1, patience: 10 };

async function runFailing(message: string, deviceLost: string | null): Promise<RunResponse[]> {
  failure.message = message;
  const messages: RunResponse[] = [];
  await runTraining({
    runId: 3,
    config: TINY,
    environment: plainEnvironment('http://127.0.0.1:9/', { fetch: nothingServed }),
    labVersion: 'test',
    measureMemory: false,
    control: new RunControl(),
    post: (m) => messages.push(m),
    adapter: 'test adapter',
    deviceLost: () => deviceLost,
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
    expect(error.message).toMatch(/WebGPU device was lost: reason: destroyed\. Reload the page/);
  });

  it('any other failure is shown as it is, not swallowed', async () => {
    const messages = await runFailing('shape mismatch in a kernel', null);
    const error = messages.at(-1)!;
    expect(error.type === 'run_error' && error.kind).toBe('internal');
    expect(error.type === 'run_error' && error.message).toBe('shape mismatch in a kernel');
  });
});
