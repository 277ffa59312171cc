// The worker's run loop in Node on the tfjs CPU backend: a tiny fine-tune from start to summary,
// with pause/resume, stop, early stopping and tensor disposal checked on the messages it posts.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type LabConfig } from '../config';
import { exportProblems } from '../exports';
import type { RunResponse } from '../protocol';
import { nothingServed, plainEnvironment } from './environment';
import { runTraining } from './run';
import { RunControl } from './runState';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const TINY: LabConfig = { ...DEFAULT_CONFIG, width: 0.25, rank: 2, batchSize: 4, trainImages: 8, epochs: 2, patience: 10 };

async function run(config: LabConfig, control = new RunControl(), onMessage?: (message: RunResponse, control: RunControl) => void) {
  const messages: RunResponse[] = [];
  await runTraining({
    runId: 7,
    config,
    // Nothing is served there: no manifest, so the run starts from random init and says so.
    environment: plainEnvironment('http://127.0.0.1:9/', { fetch: nothingServed }),
    labVersion: 'test',
    measureMemory: false,
    control,
    post: (message) => {
      messages.push(message);
      onMessage?.(message, control);
    },
    adapter: 'test adapter',
    deviceLost: () => null,
  });
  return messages;
}

describe('runTraining', () => {
  it('runs a tiny fine-tune to a summary, posting progress, evals and the baseline', async () => {
    await run(TINY); // warm-up: kernels and caches of the first run are not leaks
    const before = tf.memory().numTensors;
    const messages = await run(TINY);
    expect(tf.memory().numTensors).toBe(before);
    const types = messages.map((m) => m.type);
    expect(types).not.toContain('run_error');
    const started = messages.find((m) => m.type === 'run_started');
    expect(started).toMatchObject({ stepsPerEpoch: 2, totalSteps: 4, trainImages: 8, testImages: 16, checkpoint: { kind: 'none' } });
    const baseline = messages.find((m) => m.type === 'run_baseline');
    // A shift has a clean split: its accuracy is a number (a missing message fails here, too).
    expect(baseline).toMatchObject({ type: 'run_baseline', baseline: { epoch: 0, step: 0 }, cleanAccuracy: expect.any(Number) });
    const steps = messages.flatMap((m) => (m.type === 'run_progress' ? m.losses.map((p) => p.step) : []));
    expect(steps).toEqual([1, 2, 3, 4]);
    const evals = messages.filter((m) => m.type === 'run_eval');
    expect(evals).toHaveLength(2);
    const done = messages.at(-1)!;
    expect(done.type).toBe('run_done');
    if (done.type !== 'run_done') return;
    expect(done.reason).toBe('completed');
    expect(done.summary.steps).toBe(4);
    expect(done.summary.epochsRun).toBe(2);
    expect(done.summary.trainLoss).toHaveLength(4);
    expect(done.summary.evalAccuracy).toHaveLength(2);
    const lastEval = evals.at(-1)!;
    if (lastEval.type === 'run_eval') expect(done.summary.finalAccuracy).toBe(lastEval.point.accuracy);
    expect(done.summary.peakBytesByGroup.act).toBeGreaterThan(0);
    expect(done.summary.flopsByPhase.forward).toBeGreaterThan(0);
    // What it cannot export, worked out here for the page (exports.ts).
    expect(done.exportProblems).toEqual(exportProblems(TINY));
  });

  it('trains on an NF4 frozen base: the same run on the quantized weights, PARAM at the stored bytes, no leak', async () => {
    const summaryOf = async (config: LabConfig) => {
      const messages = await run(config);
      const done = messages.at(-1)!;
      if (done.type !== 'run_done') throw new Error(`run ended with ${done.type}`);
      return done.summary;
    };
    const fp32 = await summaryOf(TINY);
    // (int8 runs the same code with the other unpacking; e2e/quantized.spec.ts runs it in the page.)
    for (const frozenWeights of ['nf4'] as const) {
      const before = tf.memory().numTensors;
      const quantized = await summaryOf({ ...TINY, frozenWeights });
      expect(tf.memory().numTensors).toBe(before);
      expect(quantized.steps).toBe(fp32.steps);
      // The same seed, data and init, but the forward runs on the quantized base: close, not equal.
      expect(quantized.trainLoss[0]).not.toBe(fp32.trainLoss[0]);
      expect(Math.abs(quantized.trainLoss[0] - fp32.trainLoss[0])).toBeLessThan(0.1 * fp32.trainLoss[0]);
      expect(quantized.peakBytesByGroup.param).toBeLessThan(0.5 * fp32.peakBytesByGroup.param);
      expect(quantized.peakBytesByGroup.grad).toBe(fp32.peakBytesByGroup.grad);
    }
  });

  it('pauses, resumes and stops between steps', async () => {
    let paused = false;
    const messages = await run({ ...TINY, epochs: 3 }, new RunControl(), (message, control) => {
      if (message.type === 'run_progress' && message.step === 1 && !paused) {
        paused = true;
        control.pause();
        setTimeout(() => control.resume(), 50);
      }
      if (message.type === 'run_progress' && message.step === 3) control.stop();
    });
    expect(messages.some((m) => m.type === 'run_phase' && m.paused)).toBe(true);
    const done = messages.at(-1)!;
    expect(done.type === 'run_done' && done.reason).toBe('stopped');
    expect(done.type === 'run_done' && done.summary.steps).toBe(3);
  });

  it('with patience 1, stops at the first epoch that does not beat the best', async () => {
    const messages = await run({ ...TINY, epochs: 4, patience: 1 });
    const done = messages.at(-1)!;
    expect(done.type).toBe('run_done');
    if (done.type !== 'run_done') return;
    const accuracies = done.summary.evalAccuracy;
    const improving = accuracies.every((accuracy, i) => i === 0 || accuracy > accuracies[i - 1]);
    if (improving) {
      expect(done.summary.epochsRun).toBe(4);
      expect(done.reason).toBe('completed');
    } else {
      // Only the last epoch failed to improve, and the run stopped there.
      expect(accuracies.slice(0, -1).every((accuracy, i) => i === 0 || accuracy > accuracies[i - 1])).toBe(true);
      expect(accuracies.at(-1)!).toBeLessThanOrEqual(Math.max(...accuracies.slice(0, -1)));
      expect(done.summary.stoppedEarly).toBe(done.summary.epochsRun < 4);
    }
  });

  it('explains a task it cannot run instead of failing silently', async () => {
    const messages = await run({ ...TINY, task: 'custom' });
    const error = messages.at(-1)!;
    expect(error.type).toBe('run_error');
    expect(error.type === 'run_error' && error.kind).toBe('data');
  });
});
