// The analytic profiler on the model zoo under every method: PyTorch's counter convention
// reproduces the study's ~20:1 backward:forward FLOP ratio on MobileNetV2, the correct count gives
// ~2:1, and every model × method profile is consistent with the spec it was computed from.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_DIR } from '../../../scripts/fixtures/torchFixtures';
import { applyMethod, methodOptions } from '../adapters';
import { METHOD_IDS, MODEL_IDS, type ModelId } from '../ids';
import { countMacs } from '../models/count';
import { buildModelSpec } from '../models/registry';
import { DEFAULT_RANGE_FINDER, topLeftSingularSubspaceCost } from '../optim/linalg';
import { optimizerCostOfMethod, profileSpec } from './profile';
import type { FlopProfile } from './types';

/** Backward (input + weight) over forward FLOPs of the convs and linear layers: the ops
 * torch.utils.flop_counter.FlopCounterMode counts (it has no formula for BN or activations). */
function convBackwardForwardRatio(flops: FlopProfile): number {
  const { conv, linear } = flops.byKind;
  return (conv.backward_input + conv.backward_weight + linear.backward_input + linear.backward_weight) / (conv.forward + linear.forward);
}

const spec224 = (model: ModelId) => buildModelSpec({ model, width: 1, resolution: 224, numClasses: 1000, stem: 'imagenet' });

describe('backward:forward FLOPs, full fine-tuning at 224×224', () => {
  const mobilenet = profileSpec(spec224('mobilenet_v2'), { batch: 1, optimizer: { kind: 'adam' } });

  it("reproduces the study's ~20:1 on MobileNetV2 with PyTorch's conv-backward convention", () => {
    const ratio = convBackwardForwardRatio(mobilenet.flops.torchConvention);
    expect(ratio).toBeGreaterThan(18);
    expect(ratio).toBeLessThan(21);
  });

  it('is ~2:1 counted correctly (no input gradient for the first conv)', () => {
    const ratio = convBackwardForwardRatio(mobilenet.flops.correct);
    expect(ratio).toBeGreaterThan(1.9);
    expect(ratio).toBeLessThan(2);
  });

  it('differs only in the grouped convs’ weight gradients', () => {
    const { correct, torchConvention } = mobilenet.flops;
    expect(torchConvention.byPhase.forward).toBe(correct.byPhase.forward);
    expect(torchConvention.byPhase.backward_input).toBe(correct.byPhase.backward_input);
    const resnet = profileSpec(spec224('resnet18'), { batch: 1, optimizer: { kind: 'adam' } });
    expect(resnet.flops.torchConvention.byPhase).toEqual(resnet.flops.correct.byPhase);
  });

  it('counts the same forward multiply-accumulates as the model zoo', () => {
    const spec = spec224('mobilenet_v2');
    const { conv, linear } = profileSpec(spec, { batch: 2, optimizer: { kind: 'adam' } }).flops.correct.byKind;
    // 2 × MACs per image × batch, plus the classifier's bias adds (2 · 1000).
    expect(conv.forward + linear.forward).toBe(2 * 2 * countMacs(spec).total + 2 * 1000);
  });
});

describe('every model under every method', () => {
  const options = methodOptions();
  for (const model of MODEL_IDS) {
    const base = buildModelSpec({ model, width: 0.5, resolution: 64, numClasses: 10, stem: 'imagenet' });
    const profiles = Object.fromEntries(
      METHOD_IDS.map((method) => {
        const spec = applyMethod(base, method, options);
        return [method, { spec, profile: profileSpec(spec, { batch: 4, optimizer: optimizerCostOfMethod(method, options) }) }];
      }),
    );

    it(`${model}: consistent groups, peaks and FLOPs`, () => {
      for (const method of METHOD_IDS) {
        const { spec, profile } = profiles[method];
        const trainableBytes = 4 * profile.params.trainable;
        for (const memory of [profile.memory.analytic, profile.memory.pytorch]) {
          expect(memory.maxBytesByGroup.grad).toBe(trainableBytes);
          expect(memory.peak.total).toBe(Math.max(...memory.timeline.map((p) => p.total)));
          expect(memory.sumOfGroupMaxima).toBeGreaterThanOrEqual(memory.peak.total);
          for (const point of memory.timeline) expect(Math.min(...Object.values(point.bytes))).toBeGreaterThanOrEqual(0);
        }
        // Both views hold the same parameters, gradients and optimizer state.
        const { analytic, pytorch } = profile.memory;
        expect(pytorch.maxBytesByGroup.param).toBe(analytic.maxBytesByGroup.param);
        expect(pytorch.maxBytesByGroup.opt).toBe(analytic.maxBytesByGroup.opt);
        if (method === 'galore') {
          // Recounted here from the parameter shapes, as GaLore defines its state (not through the
          // profiler's own galoreCost): each ≥2-D weight seen as torch's (C_out, rest) matrix keeps
          // its projector (smaller side × r) and two moments (r × larger side), r = min(rank, smaller
          // side); every other trainable parameter Adam's two moments. The refresh runs the range
          // finder on the matrix oriented with the projected (smaller) side as rows; its per-matrix
          // cost is checked against the kernels that actually run in linalg.test.ts.
          const { rank } = options.galore;
          let opt = 0;
          let refresh = 0;
          for (const p of Object.values(spec.params).filter((q) => q.trainable)) {
            const size = p.shape.reduce((a, b) => a * b, 1);
            // GaLore projects the conv and linear weights; the rest (a ViT's 2-D embeddings too) take Adam.
            if (p.role !== 'conv_weight' && p.role !== 'linear_weight') {
              opt += 2 * 4 * size;
              continue;
            }
            const outputs = p.shape.at(-1) === 1 && p.shape.length === 4 ? p.shape[2] : (p.shape.at(-1) as number); // depthwise [kh, kw, C, 1]
            const [small, large] = [Math.min(outputs, size / outputs), Math.max(outputs, size / outputs)];
            const r = Math.min(rank, small);
            opt += 4 * (small * r + 2 * r * large);
            refresh += topLeftSingularSubspaceCost(small, large, rank, DEFAULT_RANGE_FINDER).totalFlops;
          }
          expect(analytic.maxBytesByGroup.opt).toBe(opt);
          expect(profile.flops.correct.projectorRefresh).toBe(refresh);
        } else {
          expect(analytic.maxBytesByGroup.opt).toBe(2 * trainableBytes);
        }
        const { correct } = profile.flops;
        expect(correct.total).toBeCloseTo(Object.values(correct.byPhase).reduce((a, b) => a + b, 0), 3);
        // Weight gradients only where weights train.
        expect(correct.byPhase.backward_weight > 0).toBe(profile.params.trainable > 0);
      }
      // Freezing never adds weight-gradient FLOPs, and the adapters keep fewer gradients than FFT.
      const fft = profiles.fft.profile;
      for (const method of ['bn_head', 'lora', 'dora'] as const) {
        const { profile } = profiles[method];
        expect(profile.flops.correct.byPhase.backward_weight).toBeLessThan(fft.flops.correct.byPhase.backward_weight);
        expect(profile.memory.analytic.maxBytesByGroup.grad).toBeLessThan(fft.memory.analytic.maxBytesByGroup.grad);
      }
    });
  }
});

describe("GaLore's optimizer state against the GaLore reference", () => {
  // fixtures/torch/galore_state.json: the bytes of state (projectors and moments, float32) that the
  // reference (galore_torch's GaLoreProjector with Adam, rank 4; scripts/fixtures/make_galore_fixtures.py)
  // allocated in one step of each torchvision model, every parameter trained.
  // vit_tiny's is in autograd_profile.json (make_act_fixtures.py's vit_galore_state, 32×32 with
  // 16-pixel patches): the reference projecting the linear layers' and the patch conv's weights.
  const reference = JSON.parse(readFileSync(join(FIXTURE_DIR, 'galore_state.json'), 'utf8')) as {
    rank: number;
    models: Record<ModelId, { opt_bytes: number }>;
  };
  reference.models.vit_tiny = (
    JSON.parse(readFileSync(join(FIXTURE_DIR, 'autograd_profile.json'), 'utf8')) as { galore_state_vit_tiny: { rank: number; opt_bytes: number } }
  ).galore_state_vit_tiny;
  for (const model of MODEL_IDS) {
    it(`${model}: the OPT group is what the reference allocates`, () => {
      const options = methodOptions({ galore: { ...methodOptions().galore, rank: reference.rank } });
      const spec = applyMethod(buildModelSpec({ model, width: 1, resolution: 32, numClasses: 10, stem: 'imagenet' }), 'galore', options);
      const profile = profileSpec(spec, { batch: 1, optimizer: optimizerCostOfMethod('galore', options) });
      expect(profile.memory.analytic.maxBytesByGroup.opt).toBe(reference.models[model].opt_bytes);
    });
  }
});
