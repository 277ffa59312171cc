// The engine against PyTorch: torchvision state_dicts (fixtures/torch, made by
// scripts/fixtures/make_torch_fixtures.py) through the `cli forward` path — safetensors file →
// torchvision import → training-mode forward → the trainer's gradients → torchvision layout.
// Tolerances: logits and loss 1e-4 relative, gradients 1e-3 (measures in torchFixtures.ts), or twice
// PyTorch's own float32 error where that is larger: at the lab's default size (width 0.35, CIFAR
// stem) a few gradients are ill-conditioned in float32 (PyTorch's float32 run is 1.5% off the
// float64 reference for features.7.conv.3.weight, and the lab's is off by the same 1.5%).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/core/weights/safetensors';
import { FIXTURE_DIR, FIXTURE_MODELS, fixtureErrors, formulaStateDict, loadTorchFixture } from '../fixtures/torchFixtures';
import { parseFlags } from './flags';
import { forwardCommand, forwardOptionsFromFlags, runForward } from './forward';

const dir = mkdtempSync(join(tmpdir(), 'torch-fixtures-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cli forward agrees with PyTorch (train mode, float64 reference)', () => {
  for (const name of FIXTURE_MODELS) {
    it(name, async () => {
      const fixture = loadTorchFixture(name);
      const { model } = fixture;
      // The torchvision state_dict as safetensors: byte-identical to the file the fixture script
      // writes (SHA-256 checked in src/core/weights/safetensors.test.ts).
      const weights = join(dir, `${name}.safetensors`);
      writeFileSync(weights, writeSafetensors(formulaStateDict(fixture)));
      const argv = [
        '--model', model,
        '--classes', String(fixture.options.num_classes),
        '--resolution', String(fixture.options.resolution),
        '--width', String(fixture.options.width),
        '--stem', fixture.options.stem,
        '--weights', weights,
        '--input', `${join(FIXTURE_DIR, fixture.input.file)}:${fixture.input.key}`,
        '--labels', fixture.labels.join(','),
        '--json', '--grads',
      ];
      // As `npm run cli -- forward …` does, minus printing: the JSON it prints is this result.
      const result = await runForward(forwardOptionsFromFlags(parseFlags(argv, forwardCommand.flags)));
      const errors = fixtureErrors(JSON.parse(JSON.stringify(result)), fixture);
      // One line per model in the test log: the measured errors (and PyTorch's own float32 errors).
      console.log(`${name}: ${JSON.stringify(errors)}; torch float32: ${JSON.stringify(fixture.torch_float32_rel_err)}`);
      expect(errors.missingGrads).toEqual([]);
      expect(errors.extraGrads).toEqual([]);
      expect(errors.logits).toBeLessThan(1e-4);
      expect(errors.loss).toBeLessThan(1e-4);
      const torchError = (measure: 'grads_l2' | 'grads_first5') => fixture.torch_float32_rel_err[measure] as number;
      expect(errors.gradsL2, errors.gradsL2Param).toBeLessThan(Math.max(1e-3, 2 * torchError('grads_l2')));
      expect(errors.gradsFirst5, errors.gradsFirst5Param).toBeLessThan(Math.max(1e-3, 2 * torchError('grads_first5')));
    }, 600_000); // resnet18's backward takes tens of seconds on tfjs's pure-JS CPU backend
  }
});
