// The analytic profiler's 'pytorch' view and 'torch' FLOP convention against what PyTorch measured
// (fixtures/torch/autograd_profile.json, scripts/fixtures/make_act_fixtures.py): the bytes autograd
// saves for one step of timm's vit_tiny (small and 224×224) and of MobileNetV2 w0.35 (CIFAR stem),
// under full fine-tuning, norm affine + head and LoRA r = 4, and FlopCounterMode's matmul and
// convolution FLOPs by phase.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_DIR } from '../../../scripts/fixtures/torchFixtures';
import { applyMethod, methodOptions, selectTargets } from '../adapters';
import type { MethodId } from '../ids';
import { buildModelSpec } from '../models/registry';
import type { ModelOptions, ModelSpec } from '../models/spec';
import { analyseSpec, numel } from './graph';
import { profileSpec } from './profile';
import type { FlopsByPhase } from './types';

interface SavedEntry {
  bytes: number;
  dtype: string;
  shape: number[];
  module: string;
}

interface ReferenceCase {
  name: string;
  method: 'fft' | 'norm_head' | 'lora';
  batch: number;
  act: { bytes: number; entries: SavedEntry[] };
  flops: { forward: Record<string, number>; backward: Record<string, number> };
  peft_targets?: string[];
}

interface Reference {
  torch: string;
  configs: Record<string, { model: ModelOptions['model']; width: number; stem: ModelOptions['stem']; resolution: number; depth?: number; num_classes: number }>;
  cases: ReferenceCase[];
}

const reference = JSON.parse(readFileSync(join(FIXTURE_DIR, 'autograd_profile.json'), 'utf8')) as Reference;

const METHOD_OF: Record<ReferenceCase['method'], MethodId> = { fft: 'fft', norm_head: 'bn_head', lora: 'lora' };

function specOf(testCase: ReferenceCase): ModelSpec {
  const config = reference.configs[testCase.name.replace(/_b\d+$/, '')];
  const base = buildModelSpec({
    model: config.model,
    width: config.width,
    resolution: config.resolution,
    numClasses: config.num_classes,
    stem: config.stem,
    ...(config.depth !== undefined ? { depth: config.depth } : {}),
  });
  // The fixture's LoRA: r = 4, α = 4 (the lab's defaults), every dense conv and linear layer.
  return applyMethod(base, METHOD_OF[testCase.method], methodOptions({ rank: 4, alpha: 4 }));
}

/** cross_entropy's nll_loss saves the labels (int64) and a 0-dim total weight besides
 * log_softmax's output: the profiler counts the probabilities as the loss's ACT and leaves the
 * labels out (integers, an input of the step, as the lab's engine holds them too). */
function lossExtras(testCase: ReferenceCase): number {
  const extras = testCase.act.entries.filter((e) => e.module === 'loss' && (e.dtype === 'int64' || e.shape.length === 0));
  expect(extras.map((e) => e.bytes)).toEqual([8 * testCase.batch, 4]);
  return extras.reduce((sum, e) => sum + e.bytes, 0);
}

/** Dropout on a CPU (MobileNetV2's classifier.0, p = 0.2): torch's fused native_dropout, which saves
 * a bool mask (the view's rule, as on a GPU), is CUDA-only; its CPU path multiplies by a float32
 * noise tensor and saves that: 3 bytes more per element. */
function cpuDropoutMasks(testCase: ReferenceCase, spec: ModelSpec): number {
  let extra = 0;
  for (const node of spec.nodes) {
    if (node.op !== 'dropout') continue;
    const elements = testCase.batch * numel(node.outShape);
    expect(testCase.act.entries.find((e) => e.module === node.id)).toMatchObject({ dtype: 'float32', bytes: 4 * elements });
    extra += 3 * elements;
  }
  return extra;
}

/** FLOPs outside FlopCounterMode's matmuls and convolutions that the profiler adds to the conv and
 * linear rows: bias additions (forward) and bias gradients (Σ dY, backward). */
function biasFlops(spec: ModelSpec, batch: number, op: 'conv2d' | 'linear'): { forward: number; backward: number } {
  let forward = 0;
  let backward = 0;
  for (const node of spec.nodes) {
    if (node.op !== op || !node.bias) continue;
    forward += batch * numel(node.outShape);
    if (spec.params[node.bias].trainable) backward += batch * numel(node.outShape);
  }
  return { forward, backward };
}

const backward = (phases: FlopsByPhase): number => phases.backward_input + phases.backward_weight;

describe("PyTorch's saved tensors and FlopCounterMode against the analytic 'pytorch' view", () => {
  it(`the fixture was measured with FlopCounterMode and PEFT (torch ${reference.torch})`, () => {
    expect(reference.cases.map((c) => `${c.name} ${c.method}`)).toEqual(
      ['vit_small_b1', 'vit_small_b2', 'vit_224_b1', 'mobilenet_v2_w035_cifar_b2'].flatMap((name) => ['fft', 'norm_head', 'lora'].map((m) => `${name} ${m}`)),
    );
  });

  for (const testCase of reference.cases) {
    describe(`${testCase.name}, ${testCase.method}`, () => {
      const spec = specOf(testCase);
      const profile = profileSpec(spec, { batch: testCase.batch, optimizer: { kind: 'adam' } });

      it('ACT at the end of the forward pass: the bytes autograd saved, to the byte (labels and CPU dropout aside)', () => {
        const endOfForward = profile.memory.pytorch.timeline.find((p) => p.phase === 'forward' && p.op === 'loss');
        expect(endOfForward?.bytes.act).toBe(testCase.act.bytes - lossExtras(testCase) - cpuDropoutMasks(testCase, spec));
      });

      it("FLOPs: forward and backward conv, linear and attention matmuls as FlopCounterMode's", () => {
        const { byKind } = profile.flops.torchConvention;
        const { forward: f, backward: b } = testCase.flops;
        const conv = biasFlops(spec, testCase.batch, 'conv2d');
        const linear = biasFlops(spec, testCase.batch, 'linear');
        expect(byKind.conv.forward - conv.forward).toBe(f['aten.convolution'] ?? 0);
        expect(backward(byKind.conv) - conv.backward).toBe(b['aten.convolution_backward'] ?? 0);
        expect(byKind.linear.forward - linear.forward).toBe((f['aten.addmm'] ?? 0) + (f['aten.mm'] ?? 0));
        expect(backward(byKind.linear) - linear.backward).toBe(b['aten.mm'] ?? 0);
        expect(byKind.attention.forward).toBe(f['aten.bmm'] ?? 0);
        expect(backward(byKind.attention)).toBe(b['aten.bmm'] ?? 0);
      });

      if (testCase.peft_targets) {
        const targets = testCase.peft_targets;
        // ViT: target_modules=['qkv','proj','fc1','fc2','head'] (its suffix match takes patch_embed.proj
        // too); MobileNetV2: every dense conv and linear layer by name.
        it('LoRA adapts exactly the layers PEFT wrapped', () => {
          const base = specOf({ ...testCase, method: 'fft' });
          const adapted = selectTargets(base, methodOptions({})).map((node) => node.id);
          expect([...adapted].sort()).toEqual(targets);
          expect(analyseSpec(spec).spec.nodes.filter((n) => n.op === 'lora_add').map((n) => n.adapterOf).sort()).toEqual(targets);
        });
      }
    });
  }
});
