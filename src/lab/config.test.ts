// The one mapping from the lab's configuration to model options: the unseen-classes task's new head
// predicts the 5 unseen classes whatever Classes says, in the charts' profiles, in the worker's
// model and so in the run's summary that the permalink carries.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifierLayers } from '../core/adapters/targets';
import { UNSEEN_FINE_TUNE_CLASSES } from '../core/data/tasks';
import { buildModelSpec } from '../core/models/registry';
import { nothingServed, plainEnvironment } from './run/environment';
import { runTraining } from './run/run';
import type { RunResponse } from './protocol';
import { RunControl } from './run/runState';
import { DEFAULT_CONFIG, headClassesOf, isFieldRelevant, modelOptionsOf, validateConfig, type LabConfig } from './config';
import { profileRequestOf } from './profileMethods';
import { profileMethods } from './profileMethods';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const shift: LabConfig = { ...DEFAULT_CONFIG, task: 'shift' };
const unseen: LabConfig = { ...DEFAULT_CONFIG, task: 'unseen_classes' };

const headOf = (config: LabConfig) => {
  const [head] = classifierLayers(buildModelSpec(modelOptionsOf(config)));
  return { inFeatures: head.inFeatures, outFeatures: head.outFeatures };
};

describe('modelOptionsOf', () => {
  it('gives the unseen-classes task a head of the 5 unseen classes, whatever Classes says', () => {
    expect(UNSEEN_FINE_TUNE_CLASSES).toHaveLength(5);
    for (const numClasses of [2, 10, 100]) {
      expect(modelOptionsOf({ ...unseen, numClasses }).numClasses).toBe(5);
      expect(headClassesOf({ ...unseen, numClasses })).toBe(5);
      expect(modelOptionsOf({ ...shift, numClasses }).numClasses).toBe(numClasses);
    }
    expect(headOf(unseen)).toEqual({ inFeatures: 1280, outFeatures: 5 });
    expect(headOf(shift)).toEqual({ inFeatures: 1280, outFeatures: 10 });
    expect(modelOptionsOf(unseen)).toEqual({ model: 'mobilenet_v2', width: 0.35, resolution: 32, numClasses: 5, stem: 'cifar' });
  });

  it('is what the charts profile: the unseen-classes charts cost a 1280×5 head', () => {
    expect(profileRequestOf(unseen).model.numClasses).toBe(5);
    const charts = profileMethods(profileRequestOf(unseen)).profiles;
    const sameModel = profileMethods(profileRequestOf({ ...shift, numClasses: 5 })).profiles;
    const tenWay = profileMethods(profileRequestOf(shift)).profiles;
    // FFT trains the head either way: the same model gives the same costs.
    expect(charts.fft!.params).toEqual(sameModel.fft!.params);
    expect(charts.fft!.flops.correct.byPhase).toEqual(sameModel.fft!.flops.correct.byPhase);
    expect(charts.fft!.memory.analytic.peak.total).toBe(sameModel.fft!.memory.analytic.peak.total);
    expect(tenWay.fft!.params.total - charts.fft!.params.total).toBe(1280 * 5 + 5);
  });

  it('hides Classes on the unseen-classes task, and does not validate it there', () => {
    expect(isFieldRelevant('numClasses', shift)).toBe(true);
    expect(isFieldRelevant('numClasses', unseen)).toBe(false);
    expect(validateConfig({ ...unseen, numClasses: 1 })).toEqual([]);
    expect(validateConfig({ ...shift, numClasses: 1 }).map((issue) => issue.field)).toEqual(['numClasses']);
  });

  it('is what the worker trains: its summary carries the charts’ costs of the 5-way head', async () => {
    const config: LabConfig = { ...unseen, width: 0.25, rank: 2, batchSize: 4, trainImages: 8, epochs: 1 };
    const messages: RunResponse[] = [];
    await runTraining({
      runId: 1,
      config,
      environment: plainEnvironment('http://127.0.0.1:9/', { fetch: nothingServed }), // nothing served: random init
      labVersion: 'test',
      measureMemory: false,
      control: new RunControl(),
      post: (message) => messages.push(message),
      adapter: 'test',
      deviceLost: () => null,
    });
    const done = messages.at(-1)!;
    expect(done.type).toBe('run_done');
    if (done.type !== 'run_done') return;
    const chart = profileMethods(profileRequestOf(config)).profiles.lora!;
    expect(done.summary.flopsByPhase).toEqual(chart.flops.correct.byPhase);
    expect(done.summary.peakBytesByGroup).toEqual(chart.memory.analytic.peak.bytes);
    expect(done.summary.sumOfGroupMaximaBytes).toBe(chart.memory.analytic.sumOfGroupMaxima);
    const tenWay = profileMethods(profileRequestOf({ ...config, task: 'shift' })).profiles.lora!;
    expect(done.summary.flopsByPhase).not.toEqual(tenWay.flops.correct.byPhase);
  });
});
