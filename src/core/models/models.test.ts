import { describe, expect, it } from 'vitest';
import { loadAutogradProfile, loadTorchMacs } from '../../../scripts/fixtures/torchFixtures';
import { MODEL_IDS, type ModelId } from '../ids';
import { ownedParamNames } from '../profile/graph';
import { makeDivisible } from './builder';
import { countMacs, countParams, type MacCount } from './count';
import { buildModelSpec, DEFAULT_MODEL_OPTIONS, ModelOptionsError } from './registry';
import type { Conv2dNode, ModelOptions, ModelSpec, NodeSpec } from './spec';

const imagenet = (model: ModelId, overrides: Partial<ModelOptions> = {}): ModelSpec =>
  buildModelSpec({ model, ...DEFAULT_MODEL_OPTIONS, ...overrides });

function node(spec: ModelSpec, id: string): NodeSpec {
  const found = spec.nodes.find((n) => n.id === id);
  if (!found) throw new Error(`no node ${id}`);
  return found;
}

describe('torchvision counts at 224×224, 1000 classes, width 1, imagenet stem', () => {
  // torchvision's published metadata (torchvision/models/{mobilenetv2,mobilenetv3,resnet}.py, the
  // IMAGENET1K_V1 weights' `num_params` and `_ops`, the "GFLOPS" column of its model table, given to
  // 3 decimals; torchvision's "FLOPS" are multiply-accumulates of one image, conv and linear layers).
  const published: Record<ModelId, { params: number; gflops: number }> = {
    mobilenet_v2: { params: 3_504_872, gflops: 0.301 },
    mobilenet_v3_small: { params: 2_542_856, gflops: 0.057 },
    mobilenet_v3_large: { params: 5_483_032, gflops: 0.217 },
    resnet18: { params: 11_689_512, gflops: 1.814 },
    // timm's model card for vit_tiny_patch16_224 rounds to "5.7 M params, 1.3 GMACs"; the exact
    // figures: sum(p.numel() for p in timm.create_model('vit_tiny_patch16_224').parameters()), and
    // FlopCounterMode's forward FLOPs / 2 on that model (fixtures/torch/autograd_profile.json's
    // macs_224, scripts/fixtures/make_act_fixtures.py), 1.2537 G: 1.254 to 3 decimals.
    vit_tiny: { params: 5_717_416, gflops: 1.254 },
  };
  // Per kind of layer: PyTorch forward hooks on torchvision's own modules (fixtures/torch/macs.json,
  // scripts/fixtures/make_torch_fixtures.py): depthwise (groups > 1), pointwise (1×1, SE's fc1/fc2
  // included), other conv, linear. Papers quote slightly more (MobileNetV3-Large: 219 M, Small: 56 M
  // MAdds) because they also count SE scaling, pooling and activations; bias additions are not counted.
  // vit_tiny (timm): FlopCounterMode's forward FLOPs / 2 by aten op: convolution (the patch
  // embedding), addmm (linear layers over tokens), bmm (attention's q·kᵀ and P·v).
  const vitOps = loadAutogradProfile().macs_224.ops;
  const hooks: Record<ModelId, Omit<MacCount, 'attention'> & { attention?: number }> = {
    ...loadTorchMacs().imagenet_224,
    vit_tiny: { depthwise: 0, pointwise: 0, other_conv: vitOps['aten.convolution'], linear: vitOps['aten.addmm'], attention: vitOps['aten.bmm'], total: loadAutogradProfile().macs_224.total },
  };
  for (const model of MODEL_IDS) {
    it(`${model}: parameters as published, MACs as PyTorch counts them, total as published to its 3 decimals`, () => {
      const spec = imagenet(model);
      expect(countParams(spec)).toEqual({ total: published[model].params, trainable: published[model].params });
      const macs = countMacs(spec);
      // macs.json (the CNNs, counted before attention existed) has no attention column.
      expect(macs).toEqual({ attention: 0, ...hooks[model] });
      // Rounded as published: within half a unit of the last published digit (0.0005 GMACs).
      expect(Math.abs(macs.total / 1e9 - published[model].gflops)).toBeLessThanOrEqual(0.0005);
    });
  }

  it("the lab's default size (MobileNetV2 width 0.35, 32×32, CIFAR stem) counts as PyTorch's hooks do", () => {
    const { width, stem, num_classes: numClasses, ...macs } = loadTorchMacs().lab_default_32.mobilenet_v2 ?? ({} as never);
    expect(countMacs(buildModelSpec({ model: 'mobilenet_v2', width, resolution: 32, numClasses, stem }))).toEqual({ ...macs, attention: 0 });
  });
});

describe('parameter names and layouts are torchvision state_dict keys (lab HWIO)', () => {
  it('mobilenet_v2', () => {
    const spec = imagenet('mobilenet_v2');
    const names = Object.keys(spec.params);
    expect(names.slice(0, 12)).toEqual([
      'features.0.0.weight',
      'features.0.1.weight', 'features.0.1.bias', 'features.0.1.running_mean', 'features.0.1.running_var',
      'features.1.conv.0.0.weight',
      'features.1.conv.0.1.weight', 'features.1.conv.0.1.bias', 'features.1.conv.0.1.running_mean', 'features.1.conv.0.1.running_var',
      'features.1.conv.1.weight',
      'features.1.conv.2.weight',
    ]);
    expect(names.slice(-2)).toEqual(['classifier.1.weight', 'classifier.1.bias']);
    // 314 state_dict entries minus 52 num_batches_tracked buffers.
    expect(names).toHaveLength(262);
    expect(spec.params['features.0.0.weight'].shape).toEqual([3, 3, 3, 32]);
    expect(spec.params['features.1.conv.0.0.weight'].shape).toEqual([3, 3, 32, 1]);
    expect(spec.params['features.1.conv.1.weight'].shape).toEqual([1, 1, 32, 16]);
    expect(spec.params['features.2.conv.0.0.weight'].shape).toEqual([1, 1, 16, 96]);
    expect(spec.params['features.2.conv.1.0.weight'].shape).toEqual([3, 3, 96, 1]);
    expect(spec.params['features.2.conv.3.running_var'].shape).toEqual([24]);
    expect(spec.params['features.18.0.weight'].shape).toEqual([1, 1, 320, 1280]);
    expect(spec.params['classifier.1.weight'].shape).toEqual([1280, 1000]);
    expect(node(spec, 'classifier.0')).toMatchObject({ op: 'dropout', p: 0.2 });
    expect(node(spec, 'features.3.add').inputs).toEqual(['features.2.conv.3', 'features.3.conv.3']);
    expect(node(spec, 'features.1.conv.0.1')).toMatchObject({ op: 'batchnorm', eps: 1e-5, momentum: 0.1 });
    expect(spec.nodes.find((n) => n.id === 'features.2.add')).toBeUndefined();
    expect(node(spec, spec.output).outShape).toEqual([1000]);
  });

  it('mobilenet_v3_large and mobilenet_v3_small (SE, hardswish, classifier)', () => {
    const large = imagenet('mobilenet_v3_large');
    expect(large.params['features.1.block.0.0.weight'].shape).toEqual([3, 3, 16, 1]);
    // SE squeeze channels: _make_divisible(72 // 4, 8) = 24.
    expect(large.params['features.4.block.2.fc1.weight'].shape).toEqual([1, 1, 72, 24]);
    expect(large.params['features.4.block.2.fc1.bias'].shape).toEqual([24]);
    expect(large.params['features.4.block.2.fc2.weight'].shape).toEqual([1, 1, 24, 72]);
    expect(large.params['features.16.0.weight'].shape).toEqual([1, 1, 160, 960]);
    expect(large.params['classifier.0.weight'].shape).toEqual([960, 1280]);
    expect(large.params['classifier.3.weight'].shape).toEqual([1280, 1000]);
    expect(Object.keys(large.params).slice(-4)).toEqual(['classifier.0.weight', 'classifier.0.bias', 'classifier.3.weight', 'classifier.3.bias']);
    expect(node(large, 'features.4.block.2.scale_activation')).toMatchObject({ op: 'activation', fn: 'hardsigmoid' });
    expect(node(large, 'features.4.block.2').inputs).toEqual(['features.4.block.1.2', 'features.4.block.2.scale_activation']);
    expect(node(large, 'features.0.1')).toMatchObject({ eps: 0.001, momentum: 0.01 });
    expect(node(large, 'classifier.1')).toMatchObject({ op: 'activation', fn: 'hardswish' });
    expect(node(large, 'classifier.2')).toMatchObject({ op: 'dropout', p: 0.2 });
    expect(node(large, 'features.2.block.0.2')).toMatchObject({ fn: 'relu' });
    expect(node(large, 'features.7.block.0.2')).toMatchObject({ fn: 'hardswish' });

    const small = imagenet('mobilenet_v3_small');
    expect(small.params['features.1.block.1.fc1.weight'].shape).toEqual([1, 1, 16, 8]);
    expect(small.params['features.12.0.weight'].shape).toEqual([1, 1, 96, 576]);
    expect(small.params['classifier.0.weight'].shape).toEqual([576, 1024]);
    expect(node(small, 'features.1.block.0.0')).toMatchObject({ stride: 2, groups: 16 });
  });

  it('resnet18 (BasicBlock, downsample, maxpool, fc)', () => {
    const spec = imagenet('resnet18');
    const names = Object.keys(spec.params);
    expect(names.slice(0, 6)).toEqual([
      'conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'layer1.0.conv1.weight',
    ]);
    const bn2 = names.indexOf('layer2.0.bn2.running_var');
    expect(names.slice(bn2 + 1, bn2 + 3)).toEqual(['layer2.0.downsample.0.weight', 'layer2.0.downsample.1.weight']);
    expect(names.slice(-2)).toEqual(['fc.weight', 'fc.bias']);
    // 122 state_dict entries minus 20 num_batches_tracked buffers.
    expect(names).toHaveLength(102);
    expect(spec.params['conv1.weight'].shape).toEqual([7, 7, 3, 64]);
    expect(spec.params['layer1.0.conv1.weight'].shape).toEqual([3, 3, 64, 64]);
    expect(spec.params['layer2.0.downsample.0.weight'].shape).toEqual([1, 1, 64, 128]);
    expect(spec.params['fc.weight'].shape).toEqual([512, 1000]);
    expect(spec.params['layer1.0.downsample.0.weight']).toBeUndefined();
    expect(node(spec, 'maxpool')).toMatchObject({ kernel: 3, stride: 2, padding: 1, outShape: [56, 56, 64] });
    expect(node(spec, 'layer4.1.relu_after_add').outShape).toEqual([7, 7, 512]);
    expect(spec.params['fc.weight'].init).toEqual({ kind: 'kaiming_uniform', a: Math.sqrt(5) });
    expect(spec.params['fc.bias'].init).toEqual({ kind: 'uniform', bound: 1 / Math.sqrt(512) });
  });

  it('every spec is well formed: topological, each param used by a node, running stats frozen', () => {
    for (const model of MODEL_IDS) {
      const spec = buildModelSpec({ model, width: 0.5, resolution: 64, numClasses: 10, stem: 'cifar' });
      const seen = new Set<string>();
      const used = new Set<string>();
      spec.nodes.forEach((n, i) => {
        expect(i === 0).toBe(n.op === 'input');
        for (const input of n.inputs) expect(seen.has(input)).toBe(true);
        seen.add(n.id);
        for (const name of ownedParamNames(n)) used.add(name);
      });
      expect([...used].sort()).toEqual(Object.keys(spec.params).sort());
      for (const p of Object.values(spec.params)) {
        expect(p.trainable).toBe(!p.role.startsWith('bn_running'));
      }
      expect(node(spec, spec.output).outShape).toEqual([10]);
    }
  });
});

describe('options', () => {
  it('_make_divisible as torchvision', () => {
    expect([makeDivisible(32 * 0.35), makeDivisible(18), makeDivisible(16 * 0.25), makeDivisible(1280 * 1.4), makeDivisible(96 * 0.75)]).toEqual([16, 24, 8, 1792, 72]);
  });

  it('width scales channels as torchvision (MobileNetV2 keeps last_channel 1280 below width 1)', () => {
    const spec = buildModelSpec({ model: 'mobilenet_v2', width: 0.35, resolution: 224, numClasses: 1000, stem: 'imagenet' });
    expect(spec.params['features.0.0.weight'].shape).toEqual([3, 3, 3, 16]);
    expect(spec.params['classifier.1.weight'].shape).toEqual([1280, 1000]);
    const small = buildModelSpec({ model: 'mobilenet_v3_small', width: 0.5, resolution: 224, numClasses: 1000, stem: 'imagenet' });
    expect(small.params['classifier.0.weight'].shape).toEqual([288, 512]);
  });

  it('cifar stems: stride-1 first conv; MobileNetV2 also a stride-1 second stage; ResNet 3×3 conv, no maxpool', () => {
    const options = { width: 1, resolution: 32, numClasses: 10, stem: 'cifar' } as const;
    const v2 = buildModelSpec({ model: 'mobilenet_v2', ...options });
    expect((node(v2, 'features.0.0') as Conv2dNode).stride).toBe(1);
    expect((node(v2, 'features.2.conv.1.0') as Conv2dNode).stride).toBe(1);
    expect(node(v2, 'features.18.2').outShape).toEqual([4, 4, 1280]);
    const v3 = buildModelSpec({ model: 'mobilenet_v3_small', ...options });
    expect(node(v3, 'features.0.0')).toMatchObject({ stride: 1, outShape: [32, 32, 16] });
    const resnet = buildModelSpec({ model: 'resnet18', ...options });
    expect(resnet.params['conv1.weight'].shape).toEqual([3, 3, 3, 64]);
    expect(resnet.nodes.some((n) => n.op === 'maxpool')).toBe(false);
    expect(node(resnet, 'layer1.0.relu_after_add').outShape).toEqual([32, 32, 64]);
    // The stem changes no parameter count except ResNet's 7×7 → 3×3 conv.
    expect(countParams(resnet).total).toBe(countParams(buildModelSpec({ model: 'resnet18', ...options, stem: 'imagenet' })).total - 64 * 3 * 40);
  });

  it('rejects bad options with clear errors', () => {
    const ok: ModelOptions = { model: 'mobilenet_v2', width: 1, resolution: 32, numClasses: 10, stem: 'imagenet' };
    const bad: [Partial<ModelOptions> | Record<string, unknown>, RegExp][] = [
      [{ width: 0 }, /width must be a number > 0/],
      [{ width: Number.NaN }, /width/],
      [{ resolution: 7 }, /resolution must be an integer ≥ 8/],
      [{ resolution: 32.5 }, /resolution/],
      [{ numClasses: 1 }, /numClasses must be an integer ≥ 2/],
      [{ model: 'vgg16' }, /unknown model "vgg16" \(valid: mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large, resnet18, vit_tiny\)/],
      [{ stem: 'tiny' }, /unknown stem "tiny" \(valid: imagenet, cifar\)/],
    ];
    for (const [override, message] of bad) {
      const call = () => buildModelSpec({ ...ok, ...override } as ModelOptions);
      expect(call).toThrow(ModelOptionsError);
      expect(call).toThrow(message);
    }
    expect(() => buildModelSpec(ok)).not.toThrow();
  });
});
