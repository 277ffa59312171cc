// "Pretrain base model" in Node (tfjs CPU backend, no IndexedDB): a tiny job posts its phases,
// progress and a result with the clean accuracy, and a run with "Pretrained in this browser" then
// starts from it; a cancelled job stores nothing.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { pretrainedKeyOf } from '../lab/baseWeights';
import { DEFAULT_CONFIG, type LabConfig } from '../lab/config';
import { getPretrainedWeights } from '../lab/storage/pretrainedStore';
import type { PretrainResponse, RunResponse } from '../lab/protocol';
import { runPretraining } from './pretrain';
import { runTraining } from '../lab/run/run';
import { RunControl } from '../lab/run/runState';
import { nothingServed, plainEnvironment } from '../lab/run/environment';
import { buildModelSpec } from '../core/models/registry';
import { createModel, disposeModel } from '../core/nn/model';
import { evaluateDataset } from '../core/train/evaluation';
import { pretrainTestSet } from '../core/train/pretrainTasks';
import { loadTorchvisionSafetensors } from '../core/weights/load';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const TINY: LabConfig = { ...DEFAULT_CONFIG, model: 'mobilenet_v3_small', width: 0.25, rank: 2, batchSize: 4, trainImages: 8, epochs: 1 };

async function pretrain(config: LabConfig, control = new RunControl(), onMessage?: (message: PretrainResponse) => void) {
  const messages: PretrainResponse[] = [];
  await runPretraining({
    jobId: 3,
    config,
    epochs: 1,
    trainImages: 16,
    control,
    post: (message) => {
      messages.push(message);
      onMessage?.(message);
    },
    deviceLost: () => null,
  });
  return messages;
}

describe('runPretraining', () => {
  it('pretrains, measures and keeps a base that a run then starts from', async () => {
    const messages = await pretrain(TINY);
    expect(messages.filter((m) => m.type === 'pretrain_phase').map((m) => m.type === 'pretrain_phase' && m.phase)).toEqual(['preparing', 'training', 'evaluating', 'storing']);
    const progress = messages.filter((m) => m.type === 'pretrain_progress');
    // 16 images in batches of 16 (the recipe's 32, capped at the images): one step.
    expect(progress.at(-1)).toMatchObject({ step: 1, totalSteps: 1, epoch: 1, epochs: 1 });
    const done = messages.at(-1)!;
    expect(done.type).toBe('pretrain_done');
    if (done.type !== 'pretrain_done') return;
    expect(done.stored).toBe(false); // no IndexedDB in Node: kept for the session
    expect(done.info).toMatchObject({ key: pretrainedKeyOf(TINY), task: 'source', trainImages: 16, testImages: 100, epochs: 1, steps: 1, batchSize: 16, backend: 'cpu' });
    const stored = await getPretrainedWeights(pretrainedKeyOf(TINY));
    expect(stored?.bytes.byteLength).toBe(done.info.bytes);
    // The accuracy it reports is that of the weights it stored, on the split it names: measured
    // again here on a fresh model loaded from those bytes.
    const reloaded = createModel(buildModelSpec(done.info.options), { seed: 123 });
    try {
      loadTorchvisionSafetensors(reloaded, stored!.bytes, { source: 'the stored base' });
      const again = await evaluateDataset(reloaded, pretrainTestSet('source', done.info.testImages), { batchSize: Math.min(64, done.info.batchSize) });
      expect(done.info.cleanTestAccuracy).toBe(again.accuracy);
      expect(done.info.cleanTestLoss).toBeCloseTo(again.loss, 6);
    } finally {
      disposeModel(reloaded);
    }

    const runMessages: RunResponse[] = [];
    await runTraining({
      runId: 1,
      config: { ...TINY, baseWeights: 'browser' },
      environment: plainEnvironment('http://127.0.0.1:9/', { fetch: nothingServed, pretrainedBases: { get: getPretrainedWeights } }),
      labVersion: 'test',
      measureMemory: false,
      control: new RunControl(),
      post: (message) => runMessages.push(message),
      adapter: 'test',
      deviceLost: () => null,
    });
    expect(runMessages.find((m) => m.type === 'run_started')).toMatchObject({ checkpoint: { kind: 'loaded', origin: 'browser', cleanTestAccuracy: done.info.cleanTestAccuracy } });
    expect(runMessages.at(-1)?.type).toBe('run_done');
  });

  it('a cancel stops it and nothing is stored', async () => {
    const config: LabConfig = { ...TINY, resolution: 40 };
    const control = new RunControl();
    const messages = await pretrain(config, control, (message) => {
      if (message.type === 'pretrain_phase' && message.phase === 'training') control.stop();
    });
    expect(messages.at(-1)).toEqual({ type: 'pretrain_cancelled', jobId: 3 });
    expect(await getPretrainedWeights(pretrainedKeyOf(config))).toBeNull();
  });
});
