// cli forward --weights with a torch.save .pth (fixtures/pth, Debian's torch 1.13): the same logits,
// loss and gradients as the same weights in safetensors, written here from the fixtures' formula
// (so the .pth reader is not used to make the file it is compared with).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formulaValues, type FormulaKind } from '../fixtures/torchFixtures';
import type { ModelOptions } from '../../src/core/models/spec';
import { writeSafetensors, type TensorToWrite } from '../../src/core/weights/safetensors';
import { runForward } from './forward';

const PTH = 'fixtures/pth/mobilenet_v3_small_w005_cifar.pth';
const expected = JSON.parse(readFileSync('fixtures/pth/expected.json', 'utf8')) as {
  files: Record<string, { model: ModelOptions; keys: { name: string; shape: number[]; kind: FormulaKind | 'num_batches_tracked' }[] }>;
};
const fixture = expected.files['mobilenet_v3_small_w005_cifar.pth'];
const dir = mkdtempSync(join(tmpdir(), 'forward-pth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cli forward --weights FILE.pth', () => {
  it('gives what the same weights in safetensors give', async () => {
    const tensors: Record<string, TensorToWrite> = {};
    for (const key of fixture.keys) {
      tensors[key.name] = key.kind === 'num_batches_tracked' ? { dtype: 'I64', shape: key.shape, data: [0] } : { dtype: 'F32', shape: key.shape, data: formulaValues(key.name, key.kind, key.shape) };
    }
    const safetensors = join(dir, 'same.safetensors');
    writeFileSync(safetensors, writeSafetensors(tensors));
    const options = { modelOptions: fixture.model, seed: 0, labels: [1, 2, 3, 4, 5, 6, 7, 0], grads: true, json: true, input: { file: 'fixtures/torch/input_32x32_b8.safetensors' } };
    const fromPth = await runForward({ ...options, weights: PTH });
    const fromSafetensors = await runForward({ ...options, weights: safetensors });
    expect(fromPth).toEqual(fromSafetensors);
    const seeded = await runForward(options);
    expect(seeded.logits).not.toEqual(fromPth.logits);
  });
});
