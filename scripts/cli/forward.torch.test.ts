// The engine against PyTorch: torchvision state_dicts (fixtures/torch, made by
// scripts/fixtures/make_torch_fixtures.py) through the `cli forward` path — safetensors file →
// torchvision import → training-mode forward → the trainer's gradients → torchvision layout.
// Tolerances: logits and loss 1e-4 relative, gradients 1e-3 (measures in torchFixtures.ts).
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
  for (const model of FIXTURE_MODELS) {
    it(model, async () => {
      const fixture = loadTorchFixture(model);
      // The torchvision state_dict as safetensors: byte-identical to the file the fixture script
      // writes (SHA-256 checked in src/core/weights/safetensors.test.ts).
      const weights = join(dir, `${model}.safetensors`);
      writeFileSync(weights, writeSafetensors(formulaStateDict(fixture)));
      const argv = [
        '--model', model,
        '--classes', String(fixture.options.num_classes),
        '--resolution', String(fixture.options.resolution),
        '--weights', weights,
        '--input', `${join(FIXTURE_DIR, fixture.input.file)}:${fixture.input.key}`,
        '--labels', fixture.labels.join(','),
        '--json', '--grads',
      ];
      // As `npm run cli -- forward …` does, minus printing: the JSON it prints is this result.
      const result = await runForward(forwardOptionsFromFlags(parseFlags(argv, forwardCommand.flags)));
      const errors = fixtureErrors(JSON.parse(JSON.stringify(result)), fixture);
      // One line per model in the test log: the measured errors (and PyTorch's own float32 errors).
      console.log(`${model}: ${JSON.stringify(errors)}; torch float32: ${JSON.stringify(fixture.torch_float32_rel_err)}`);
      expect(errors.missingGrads).toEqual([]);
      expect(errors.extraGrads).toEqual([]);
      expect(errors.logits).toBeLessThan(1e-4);
      expect(errors.loss).toBeLessThan(1e-4);
      expect(errors.gradsL2, errors.gradsL2Param).toBeLessThan(1e-3);
      expect(errors.gradsFirst5, errors.gradsFirst5Param).toBeLessThan(1e-3);
    }, 600_000); // resnet18's backward takes tens of seconds on tfjs's pure-JS CPU backend
  }
});
