// A finished run's downloads, built as the worker and the CLI build them, and the round trip a
// user can make: the fine-tuned weights imported as the base of a new run evaluate, before any
// fine-tuning, exactly as the first run's model did after it.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { unzip } from '../../core/data/zip';
import type { Model } from '../../core/nn/model';
import { createModel, disposeModel } from '../../core/nn/model';
import { applyMethod } from '../../core/adapters/definitions';
import { buildModelSpec } from '../../core/models/registry';
import { readSafetensors } from '../../core/weights/safetensors';
import { DEFAULT_CONFIG, methodOptionsOf, modelOptionsOf, type LabConfig } from '../config';
import { CSV_COLUMNS, exportProblems } from '../exports';
import { nothingServed, plainEnvironment } from './environment';
import { buildRunExport, ExportUnavailableError, type FinishedRun } from './exports';
import { recordRun, type RunRecord } from './record';
import { RunControl } from './runState';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const TINY: LabConfig = { ...DEFAULT_CONFIG, width: 0.25, rank: 2, batchSize: 4, trainImages: 8, epochs: 2, patience: 10 };

async function finishedRun(config: LabConfig, baseWeightsFile?: File): Promise<{ record: RunRecord; model: Model | null }> {
  let model: Model | null = null;
  const record = await recordRun(config, {
    // Nothing is served: the first run starts from random init.
    environment: plainEnvironment('http://127.0.0.1:9/', { fetch: nothingServed }),
    labVersion: 'test',
    measureMemory: false,
    control: new RunControl(),
    adapter: 'test adapter',
    deviceLost: () => null,
    baseWeightsFile,
    keepModel: (kept) => void (model = kept),
  });
  expect(record.error).toBeNull();
  return { record, model };
}

describe('the downloads of a finished run', () => {
  it.each(['lora', 'dora'] as const)('%s: fine-tuned weights imported as a new base evaluate as the run ended (same logits)', async (method) => {
    const config = { ...TINY, method, epochs: 1 };
    const first = await finishedRun(config);
    const model = first.model as Model | null;
    expect(model).not.toBeNull();
    if (!model) return;
    const run: FinishedRun = { model, config, record: first.record, labVersion: 'test' };
    let weights: Uint8Array;
    try {
      weights = (await buildRunExport(run, 'weights')).bytes;
    } finally {
      disposeModel(model);
    }
    expect(JSON.parse(readSafetensors(weights).metadata.lab_config)).toEqual(config);
    const second = await finishedRun({ ...config, baseWeights: 'imported' }, new File([weights.slice()], 'finetuned.safetensors'));
    if (second.model) disposeModel(second.model);
    const last = first.record.evalCurve.at(-1);
    expect(second.record.checkpoint).toMatchObject({ kind: 'loaded', origin: 'imported' });
    expect(second.record.baseline?.accuracy).toBe(last?.accuracy);
    expect(Math.abs((second.record.baseline?.loss ?? NaN) - (last?.loss ?? NaN))).toBeLessThan(1e-5 * Math.abs(last?.loss ?? 1));
  });

  it('keeps no tensor but the kept model, and builds every file of a LoRA run', async () => {
    const warm = await finishedRun({ ...TINY, epochs: 1 });
    if (warm.model) disposeModel(warm.model);
    const before = tf.memory().numTensors;
    const { record, model } = await finishedRun(TINY);
    if (!model) throw new Error('no model kept');
    const run: FinishedRun = { model, config: TINY, record, labVersion: 'test' };
    try {
      const zip = await buildRunExport(run, 'adapter');
      expect(zip.name).toBe('mobilenet_v2_w0.25_lora_seed0_peft_adapter.zip');
      const files = await unzip(zip.bytes, zip.name);
      expect(files.map((file) => file.path)).toEqual(['adapter_model.safetensors', 'adapter_config.json', 'base_model.safetensors', 'README.md']);
      const config = JSON.parse(new TextDecoder().decode(files[1].bytes ?? new Uint8Array())) as Record<string, unknown>;
      expect(config).toMatchObject({ peft_type: 'LORA', r: 2, lora_alpha: TINY.alpha, use_dora: false });

      const json = await buildRunExport(run, 'results_json');
      expect(JSON.parse(new TextDecoder().decode(json.bytes))).toEqual(JSON.parse(JSON.stringify(record)));
      const csv = new TextDecoder().decode((await buildRunExport(run, 'results_csv')).bytes).trimEnd().split('\n');
      expect(csv[0]).toBe(CSV_COLUMNS.join(','));
      // Step 0 (the baseline) and every step; the evaluations on the rows of steps 2 and 4.
      expect(csv.slice(1).map((line) => line.split(',')[0])).toEqual(['0', '1', '2', '3', '4']);
      expect(csv[1]).toBe(`0,0,,${record.baseline?.accuracy},${record.baseline?.loss}`);
      expect(csv[3]).toBe(`2,1,${record.lossCurve[1]},${record.evalCurve[0].accuracy},${record.evalCurve[0].loss}`);
      expect(csv[4]).toBe(`3,2,${record.lossCurve[2]},,`);
    } finally {
      disposeModel(model);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('says what a configuration cannot export, and refuses it', async () => {
    const depthwise = { ...TINY, adaptDepthwise: true };
    const problems = exportProblems(depthwise);
    expect(problems.weights).toMatch(/LoRA adapts depthwise convs/);
    expect(problems.adapter).toMatch(/PEFT 0\.21 gives a grouped conv a grouped lora_B/);
    expect(problems.results_json).toBeNull();
    expect(exportProblems({ ...TINY, method: 'fft' })).toEqual({ weights: null, adapter: 'only LoRA and DoRA have a PEFT adapter', results_json: null, results_csv: null });
    // Refused before the model or the record is read: a fresh model of the configuration will do.
    const model = createModel(applyMethod(buildModelSpec(modelOptionsOf(depthwise)), depthwise.method, methodOptionsOf(depthwise)), { seed: 0 });
    try {
      await expect(buildRunExport({ model, config: depthwise, record: {} as RunRecord, labVersion: 'test' }, 'weights')).rejects.toThrow(ExportUnavailableError);
    } finally {
      disposeModel(model);
    }
  });
});
