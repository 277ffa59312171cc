// `cli finetune --export DIR`: the page's downloads written to a folder, and what a configuration
// cannot export said instead of written.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/core/weights/safetensors';
import { DEFAULT_CONFIG, type LabConfig } from '../../src/lab/config';
import { nothingServed, plainEnvironment } from '../../src/lab/run/environment';
import { runFinetune } from './finetune';

const TINY: LabConfig = { ...DEFAULT_CONFIG, width: 0.25, rank: 2, batchSize: 4, trainImages: 8, epochs: 1 };
let dir = '';

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'lab-export-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const environment = () => plainEnvironment('http://127.0.0.1:9/', { fetch: nothingServed });

describe('cli finetune --export', () => {
  it('writes the four downloads of a DoRA run, and frees the model', async () => {
    const before = tf.memory().numTensors;
    const out = join(dir, 'dora');
    const result = await runFinetune({ ...TINY, method: 'dora' }, { environment: environment(), exportDir: out });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.exports?.unavailable).toEqual([]);
    expect((await readdir(out)).sort()).toEqual([
      'mobilenet_v2_w0.25_dora_seed0_finetuned.safetensors',
      'mobilenet_v2_w0.25_dora_seed0_peft_adapter.zip',
      'mobilenet_v2_w0.25_dora_seed0_results.csv',
      'mobilenet_v2_w0.25_dora_seed0_results.json',
    ]);
    const weights = readSafetensors(await readFile(join(out, 'mobilenet_v2_w0.25_dora_seed0_finetuned.safetensors')));
    expect(Object.keys(weights.tensors).some((key) => key.includes('lora'))).toBe(false);
    const json = JSON.parse(await readFile(join(out, 'mobilenet_v2_w0.25_dora_seed0_results.json'), 'utf8')) as { steps: number };
    expect(json.steps).toBe(result.steps);
  });

  it('says why a full fine-tune has no PEFT adapter, and writes the rest', async () => {
    const out = join(dir, 'fft');
    const result = await runFinetune({ ...TINY, method: 'fft' }, { environment: environment(), exportDir: out });
    expect(result.exports?.unavailable).toEqual([{ kind: 'adapter', reason: 'only LoRA and DoRA have a PEFT adapter' }]);
    expect(result.exports?.written).toHaveLength(3);
    expect(await readdir(out)).toHaveLength(3);
  });
});
