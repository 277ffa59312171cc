// Each layer kind's gradients, as the engine computes them, against central finite differences.
// Every check also shows it can fail: the same comparison flags a gradient that is off by 10% in a
// single element, and the BN check flags the "statistics as constants" gradient.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../rng';
import { SpecBuilder } from '../models/builder';
import { buildModelSpec } from '../models/registry';
import type { BatchNormNode, ModelSpec } from '../models/spec';
import { ACTIVATIONS } from './activations';
import { runSpec } from './forward';
import { compareGradients, INPUT, relativeError, type GradientCheckOptions } from './gradientCheck';
import { assignParams, createModel, disposeModel, type Model } from './model';

const TOLERANCE = 1e-2;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function tinySpec(resolution: number, build: (b: SpecBuilder) => string): ModelSpec {
  const b = new SpecBuilder({ model: 'mobilenet_v2', width: 1, resolution, numClasses: 2, stem: 'imagenet' });
  return b.build(build(b));
}

function randomTensor(shape: number[], seed: number, low = -1, high = 1): tf.Tensor {
  const rng = createRng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => rng.uniform(low, high)), shape);
}

function randomValues(model: Model, names: string[], seed: number, low = -1, high = 1): Record<string, Float32Array> {
  const rng = createRng(seed);
  return Object.fromEntries(
    names.map((name) => [name, Float32Array.from({ length: model.variables.get(name)!.size }, () => rng.uniform(low, high))]),
  );
}

/** Checks every named gradient and that the check would catch a 10% error in one element. */
async function expectGradients(model: Model, x: tf.Tensor, names: string[], options: GradientCheckOptions): Promise<void> {
  const comparisons = await compareGradients(model, x, names, options);
  for (const [name, { analytic, numeric }] of comparisons) {
    const error = relativeError(analytic, numeric);
    expect(error, `${name}: relative error ${error}`).toBeLessThan(TOLERANCE);
    expect(Math.max(...numeric.map(Math.abs)), `${name}: a gradient check needs a non-zero gradient`).toBeGreaterThan(1e-3);
    let largest = 0;
    numeric.forEach((n, i) => {
      if (Math.abs(n) > Math.abs(numeric[largest])) largest = i;
    });
    const wrong = analytic.map((a, i) => (i === largest ? a * 1.1 : a));
    expect(relativeError(wrong, numeric), `${name}: a 10% error must be detected`).toBeGreaterThan(TOLERANCE);
  }
}

async function withModel(spec: ModelSpec, run: (model: Model) => Promise<void>): Promise<void> {
  const model = createModel(spec, { seed: 3 });
  try {
    await run(model);
  } finally {
    disposeModel(model);
  }
}

describe('gradients vs central finite differences (CPU, float32)', () => {
  it('conv 3×3, stride 2, symmetric padding 1, with bias', async () => {
    const spec = tinySpec(5, (b) => b.conv('conv', b.input, { outChannels: 4, kernel: 3, stride: 2, bias: true }));
    expect(spec.nodes[1].outShape).toEqual([3, 3, 4]);
    await withModel(spec, async (model) => {
      assignParams(model, randomValues(model, ['conv.bias'], 1));
      const x = randomTensor([2, 5, 5, 3], 2);
      await expectGradients(model, x, [INPUT, 'conv.weight', 'conv.bias'], { training: true, eps: 1e-2 });
      x.dispose();
    });
  });

  it('depthwise conv 3×3 stride 2 and 5×5 stride 1', async () => {
    const spec = tinySpec(6, (b) => {
      const x = b.conv('dw3', b.input, { outChannels: 3, kernel: 3, stride: 2, groups: 'depthwise' });
      return b.conv('dw5', x, { outChannels: 3, kernel: 5, stride: 1, groups: 'depthwise' });
    });
    await withModel(spec, async (model) => {
      const x = randomTensor([2, 6, 6, 3], 4);
      await expectGradients(model, x, [INPUT, 'dw3.weight', 'dw5.weight'], { training: true, eps: 1e-2 });
      x.dispose();
    });
  });

  it('batch norm in training mode (batch statistics, hand-written backward)', async () => {
    const spec = tinySpec(3, (b) => b.batchNorm('bn', b.input, { eps: 1e-5, momentum: 0.1 }));
    await withModel(spec, async (model) => {
      assignParams(model, { ...randomValues(model, ['bn.weight'], 5, 0.5, 1.5), ...randomValues(model, ['bn.bias'], 6) });
      const x = randomTensor([2, 3, 3, 3], 7, -2, 2);
      const options = { training: true, eps: 1e-2 };
      await expectGradients(model, x, [INPUT, 'bn.weight', 'bn.bias'], options);

      // Treating the batch statistics as constants (eval mode with running stats = batch stats)
      // gives a different dx: the check must reject it.
      const [mean, variance] = tf.tidy(() => {
        const moments = tf.moments(x, [0, 1, 2]);
        return [moments.mean, moments.variance];
      });
      assignParams(model, { 'bn.running_mean': await mean.data(), 'bn.running_var': await variance.data() });
      tf.dispose([mean, variance]);
      const trainingCheck = (await compareGradients(model, x, [INPUT], options)).get(INPUT)!;
      const constantStats = (await compareGradients(model, x, [INPUT], { ...options, training: false })).get(INPUT)!;
      expect(relativeError(constantStats.analytic, trainingCheck.numeric)).toBeGreaterThan(0.1);
      x.dispose();
    });
  });

  it('batch norm in eval mode (running statistics)', async () => {
    const spec = tinySpec(3, (b) => b.batchNorm('bn', b.input, { eps: 1e-3, momentum: 0.01 }));
    await withModel(spec, async (model) => {
      assignParams(model, {
        ...randomValues(model, ['bn.weight', 'bn.running_var'], 8, 0.5, 1.5),
        ...randomValues(model, ['bn.bias', 'bn.running_mean'], 9),
      });
      const x = randomTensor([2, 3, 3, 3], 10, -2, 2);
      await expectGradients(model, x, [INPUT, 'bn.weight', 'bn.bias'], { training: false, eps: 1e-2 });
      x.dispose();
    });
  });

  it('squeeze-and-excitation block (avg pool, 1×1 fc1 + relu, fc2 + hardsigmoid, channel scaling)', async () => {
    const spec = tinySpec(4, (b) => {
      let s = b.globalAvgPool('se.avgpool', b.input);
      s = b.conv('se.fc1', s, { outChannels: 8, kernel: 1, bias: true });
      s = b.activation('se.activation', s, 'relu');
      s = b.conv('se.fc2', s, { outChannels: 3, kernel: 1, bias: true });
      s = b.activation('se.scale_activation', s, 'hardsigmoid');
      return b.scaleChannels('se', b.input, s);
    });
    await withModel(spec, async (model) => {
      // Keep fc1's pre-activations clear of relu's kink (its gradient there is torch's, tested below).
      assignParams(model, {
        ...randomValues(model, ['se.fc1.weight', 'se.fc2.weight', 'se.fc2.bias'], 11, -0.5, 0.5),
        'se.fc1.bias': new Float32Array(8).fill(0.5),
      });
      const x = randomTensor([2, 4, 4, 3], 12);
      await expectGradients(model, x, [INPUT, 'se.fc1.weight', 'se.fc1.bias', 'se.fc2.weight', 'se.fc2.bias'], {
        training: true,
        eps: 1e-2,
      });
      x.dispose();
    });
  });

  for (const fn of ['relu', 'relu6', 'hardswish', 'hardsigmoid'] as const) {
    it(`${fn} (inputs across every piece, clear of the kinks)`, async () => {
      const spec = tinySpec(4, (b) => b.activation(fn, b.input, fn));
      await withModel(spec, async (model) => {
        const rng = createRng(13);
        const kinks = [-3, 0, 3, 6];
        const values = Float32Array.from({ length: 2 * 4 * 4 * 3 }, () => {
          let v: number;
          do v = rng.uniform(-5, 8);
          while (kinks.some((k) => Math.abs(v - k) < 0.05));
          return v;
        });
        const x = tf.tensor(values, [2, 4, 4, 3]);
        await expectGradients(model, x, [INPUT], { training: true, eps: 1e-2, maxElements: 96 });
        x.dispose();
      });
    });
  }

  it('activations have torch’s gradients at the kinks', async () => {
    const at = [-3, 0, 3, 6];
    const expected = {
      relu: [0, 0, 1, 1],
      relu6: [0, 0, 1, 0],
      hardsigmoid: [0, 1 / 6, 0, 0],
      hardswish: [-0.5, 0.5, 1.5, 1],
    };
    for (const [fn, want] of Object.entries(expected)) {
      const grad = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(ACTIVATIONS[fn as keyof typeof expected](x)))(tf.tensor1d(at)));
      const got = Array.from(await grad.data());
      grad.dispose();
      got.forEach((g, i) => expect(g, `${fn}'(${at[i]})`).toBeCloseTo(want[i], 6));
    }
  });

  it('linear, flatten and dropout (fixed seed: the same mask in every evaluation)', async () => {
    const spec = tinySpec(2, (b) => {
      const flat = b.flatten('flatten', b.input);
      const dropped = b.dropout('dropout', flat, 0.5);
      return b.linear('fc', dropped, { outFeatures: 5, weightInit: { kind: 'normal', std: 0.5 }, biasInit: { kind: 'uniform', bound: 1 } });
    });
    await withModel(spec, async (model) => {
      const x = randomTensor([3, 2, 2, 3], 14);
      const options = { training: true, dropoutSeed: 99, eps: 1e-2 };
      await expectGradients(model, x, [INPUT, 'fc.weight', 'fc.bias'], options);
      // Dropout zeroes about half the input gradient and scales the rest by 1/(1 − p).
      const inputGrad = (await compareGradients(model, x, [INPUT], { ...options, maxElements: 36 })).get(INPUT)!;
      const zeros = inputGrad.analytic.filter((g) => g === 0).length;
      expect(zeros).toBeGreaterThan(6);
      expect(zeros).toBeLessThan(30);
      x.dispose();
    });
  });

  it('residual add, global average pool and max pool (torch padding)', async () => {
    const spec = tinySpec(5, (b) => {
      const branch = b.conv('branch', b.input, { outChannels: 3, kernel: 1 });
      const sum = b.add('add', b.input, branch);
      const pooled = b.maxPool('maxpool', sum, 3, 2, 1);
      return b.globalAvgPool('avgpool', pooled);
    });
    await withModel(spec, async (model) => {
      const x = randomTensor([2, 5, 5, 3], 15, -2, 2);
      await expectGradients(model, x, [INPUT, 'branch.weight'], { training: true, eps: 1e-3 });
      x.dispose();
    });
  });
});

describe('the ViT ops vs central finite differences (CPU, float32)', () => {
  const vitOptions = { training: true, eps: 1e-2 };
  // Token specs on an R×R "image" of 3 channels: to_tokens gives [R·R, 3].
  const tokenSpec = (resolution: number, build: (b: SpecBuilder, tokens: string) => string) =>
    tinySpec(resolution, (b) => build(b, b.toTokens('tokens', b.input)));
  const linearInit = { weightInit: { kind: 'normal', std: 0.5 }, biasInit: { kind: 'uniform', bound: 0.5 } } as const;

  it('layer norm over tokens (x, γ, β; eps from the node)', async () => {
    const spec = tokenSpec(3, (b, tokens) => b.layerNorm('ln', b.linear('fc', tokens, { outFeatures: 6, ...linearInit }), 1e-6));
    await withModel(spec, async (model) => {
      assignParams(model, { ...randomValues(model, ['ln.weight'], 20, 0.5, 1.5), ...randomValues(model, ['ln.bias'], 21) });
      const x = randomTensor([2, 3, 3, 3], 22, -2, 2);
      await expectGradients(model, x, [INPUT, 'fc.weight', 'ln.weight', 'ln.bias'], vitOptions);
      x.dispose();
    });
  });

  it('attention (2 heads of 4: the qkv layout, scale, softmax) after a qkv linear over tokens', async () => {
    const spec = tokenSpec(3, (b, tokens) => b.attention('attn', b.linear('qkv', tokens, { outFeatures: 24, ...linearInit }), 2));
    const node = spec.nodes.find((n) => n.id === 'attn');
    expect(node).toMatchObject({ heads: 2, headDim: 4, scale: 0.5, outShape: [9, 8] });
    await withModel(spec, async (model) => {
      const x = randomTensor([2, 3, 3, 3], 23);
      await expectGradients(model, x, [INPUT, 'qkv.weight', 'qkv.bias'], { ...vitOptions, maxElements: 72 });
      x.dispose();
    });
  });

  it('gelu (exact erf form)', async () => {
    const spec = tinySpec(4, (b) => b.activation('gelu', b.input, 'gelu'));
    await withModel(spec, async (model) => {
      const x = randomTensor([2, 4, 4, 3], 24, -4, 4);
      await expectGradients(model, x, [INPUT], { ...vitOptions, maxElements: 96 });
      x.dispose();
    });
  });

  it('gelu is torch’s x·Φ(x), not the tanh approximation', async () => {
    // torch.nn.functional.gelu at these points (float64, approximate='none').
    const at = [-3, -1, -0.5, 0.5, 1, 2];
    const torchGelu = [-0.0040496977, -0.15865525, -0.15426877, 0.34573123, 0.84134475, 1.9544997];
    const y = tf.tidy(() => ACTIVATIONS.gelu(tf.tensor1d(at)));
    const got = Array.from(await y.data());
    y.dispose();
    got.forEach((v, i) => expect(v, `gelu(${at[i]})`).toBeCloseTo(torchGelu[i], 6));
  });

  it('token embedding, attention mixing the tokens and the class token', async () => {
    const spec = tokenSpec(2, (b, tokens) => {
      const embedded = b.tokenEmbed('pos_embed', b.linear('qkv_in', tokens, { outFeatures: 12, ...linearInit }), {
        classToken: { kind: 'normal', std: 0.5 },
        positionEmbedding: { kind: 'normal', std: 0.5 },
      });
      return b.classToken('pool', b.attention('attn', embedded, 1));
    });
    await withModel(spec, async (model) => {
      const x = randomTensor([3, 2, 2, 3], 25);
      await expectGradients(model, x, [INPUT, 'cls_token', 'pos_embed', 'qkv_in.weight'], { ...vitOptions, maxElements: 60 });
      x.dispose();
    });
  });

  it('a whole tiny ViT (width 0.25, depth 2, cifar stem, 16×16)', async () => {
    const spec = buildModelSpec({ model: 'vit_tiny', width: 0.25, resolution: 16, numClasses: 5, stem: 'cifar', depth: 2 });
    await withModel(spec, async (model) => {
      // Layer norms away from init's unit γ and zero β, so every term of their gradients is exercised
      // (random biases elsewhere, the same in every token, leave the input's gradient in float32 noise).
      const norms = Object.values(spec.params).filter((p) => p.role === 'ln_gamma' || p.role === 'ln_beta');
      assignParams(model, randomValues(model, norms.filter((p) => p.role === 'ln_gamma').map((p) => p.name), 29, 0.5, 1.5));
      assignParams(model, randomValues(model, norms.filter((p) => p.role === 'ln_beta').map((p) => p.name), 26, -0.5, 0.5));
      const x = randomTensor([2, 16, 16, 3], 28);
      // A small step: the error of the central difference shrinks as eps² down to 3e-3 (checked: 8%
      // at 4e-2, 2% at 2e-2, 0.5% at 1e-2, 0.05% at 3e-3 on proj.bias and cls_token).
      const names = [INPUT, 'cls_token', 'pos_embed', 'patch_embed.proj.weight', 'blocks.0.norm1.weight', 'blocks.0.attn.qkv.weight', 'blocks.0.attn.proj.bias', 'blocks.1.mlp.fc1.weight', 'blocks.1.norm2.bias', 'norm.weight', 'head.weight'];
      await expectGradients(model, x, names, { ...vitOptions, eps: 3e-3, maxElements: 16 });
      x.dispose();
    });
  });
});

// Finite differences through a whole deep net in float32 are ill-conditioned (batch norm over few
// values per channel, ReLU kinks), so whole models are checked against tfjs's auto-diff of the
// textbook formulation instead: same parameters, same input, gradients of every parameter.
describe('whole models: engine gradients = auto-diff of the naive formulation', () => {
  const naiveActivation: Record<string, (x: tf.Tensor) => tf.Tensor> = {
    relu: tf.relu,
    relu6: tf.relu6,
    hardsigmoid: (x) => tf.div(tf.relu6(tf.add(x, 3)), 6),
    hardswish: (x) => tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6)),
    gelu: (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))),
  };

  type BatchStatistics = Map<BatchNormNode, [tf.Tensor, tf.Tensor]>;

  /** `collect` receives each training-mode batch norm's batch mean and biased variance (kept). */
  function naiveForward(model: Model, x: tf.Tensor, training: boolean, collect?: BatchStatistics): tf.Tensor {
    const values = new Map<string, tf.Tensor>();
    const p = (name: string) => model.variables.get(name)!;
    for (const node of model.spec.nodes) {
      const [a, b] = node.inputs.map((id) => values.get(id)!);
      let y: tf.Tensor;
      switch (node.op) {
        case 'input': y = x; break;
        case 'conv2d':
          y = node.groups === 1
            ? tf.conv2d(a as tf.Tensor4D, p(node.weight) as tf.Tensor4D, node.stride, node.padding)
            : tf.depthwiseConv2d(a as tf.Tensor4D, p(node.weight) as tf.Tensor4D, node.stride, node.padding);
          if (node.bias) y = tf.add(y, p(node.bias));
          break;
        case 'batchnorm': {
          const { mean, variance } = training ? tf.moments(a, [0, 1, 2]) : { mean: p(node.runningMean), variance: p(node.runningVar) };
          if (training) collect?.set(node, [tf.keep(mean), tf.keep(variance)]);
          y = tf.add(tf.mul(tf.div(tf.sub(a, mean), tf.sqrt(tf.add(variance, node.eps))), p(node.gamma)), p(node.beta));
          break;
        }
        case 'activation': y = naiveActivation[node.fn](a); break;
        case 'add': y = tf.add(a, b); break;
        case 'scale_channels': y = tf.mul(a, b); break;
        case 'global_avg_pool': y = tf.mean(a, [1, 2], true); break;
        case 'maxpool': y = tf.maxPool(a as tf.Tensor4D, node.kernel, node.stride, node.padding); break;
        case 'flatten': y = tf.reshape(a, [a.shape[0], -1]); break;
        case 'linear': {
          const rows = tf.matMul(tf.reshape(a, [-1, node.inFeatures]), p(node.weight) as tf.Tensor2D);
          y = tf.add(tf.reshape(rows, [...a.shape.slice(0, -1), node.outFeatures]), p(node.bias!));
          break;
        }
        case 'layernorm': {
          const { mean, variance } = tf.moments(a, -1, true);
          y = tf.add(tf.mul(tf.div(tf.sub(a, mean), tf.sqrt(tf.add(variance, node.eps))), p(node.gamma)), p(node.beta));
          break;
        }
        case 'to_tokens': y = tf.reshape(a, [a.shape[0], -1, a.shape[3]!]); break;
        case 'token_embed': {
          const [n, , d] = a.shape;
          y = tf.add(tf.concat([tf.tile(tf.reshape(p(node.classToken), [1, 1, d!]), [n, 1, 1]), a], 1), p(node.positionEmbedding));
          break;
        }
        case 'attention': {
          // Per head, sliced out of [q | k | v] (a formulation of its own, not the engine's transposes).
          const [n, t] = a.shape;
          const dim = node.heads * node.headDim;
          const outs = Array.from({ length: node.heads }, (_, h) => {
            const part = (s: number) => tf.slice(a, [0, 0, s * dim + h * node.headDim], [n, t!, node.headDim]) as tf.Tensor3D;
            return tf.matMul(tf.softmax(tf.mul(tf.matMul(part(0), part(1), false, true), node.scale)), part(2));
          });
          y = tf.concat(outs, 2);
          break;
        }
        case 'class_token': y = tf.reshape(tf.slice(a, [0, 0, 0], [a.shape[0], 1, -1]), [a.shape[0], -1]); break;
        case 'dropout': y = a; break;
        default: throw new Error(`naive forward: ${node.op}`);
      }
      values.set(node.id, y);
    }
    return values.get(model.spec.output)!;
  }

  /** Each batch norm's batch statistics in a training-mode pass over x. */
  function batchStatisticsOf(model: Model, x: tf.Tensor): BatchStatistics {
    const stats: BatchStatistics = new Map();
    tf.dispose(tf.tidy(() => naiveForward(model, x, true, stats)));
    return stats;
  }

  const cases = [
    { model: 'mobilenet_v3_small', width: 0.25, resolution: 16, batch: 4, modes: [true, false] },
    { model: 'mobilenet_v2', width: 0.25, resolution: 12, batch: 2, modes: [true] },
    { model: 'resnet18', width: 0.125, resolution: 8, batch: 3, modes: [true, false] },
    { model: 'vit_tiny', width: 0.25, resolution: 16, batch: 2, modes: [true] },
  ] as const;
  for (const { model: id, width, resolution, batch, modes } of cases) {
    for (const training of modes) {
      it(`${id} in ${training ? 'training' : 'eval'} mode`, async () => {
        const spec = buildModelSpec({ model: id, width, resolution, numClasses: 5, stem: 'cifar', ...(id === 'vit_tiny' ? { depth: 2 } : {}) });
        await withModel(spec, async (model) => {
          const x = randomTensor([batch, resolution, resolution, 3], 17);
          const r = randomTensor([batch, 5], 18);
          if (!training) {
            // Running statistics of this batch: at init (0 and 1) the signal fades through
            // eval-mode MobileNets and their early gradients would be vacuously ~0.
            const stats = batchStatisticsOf(model, x);
            for (const [node, [mean, variance]] of stats) {
              assignParams(model, { [node.runningMean]: await mean.data(), [node.runningVar]: await variance.data() });
            }
            tf.dispose([...stats.values()].flat());
          }
          const trainable = [...model.variables.values()].filter((v) => v.trainable);
          const gradients = (run: () => tf.Tensor) =>
            tf.tidy(() => {
              const { grads } = tf.variableGrads(() => tf.sum(tf.mul(run(), r)), trainable);
              return trainable.map((v) => grads[v.name]);
            });
          const engine = gradients(() => runSpec(model, x, { training }));
          const naive = gradients(() => naiveForward(model, x, training));
          const engineValues = await Promise.all(engine.map((g) => g.data()));
          const naiveValues = await Promise.all(naive.map((g) => g.data()));
          // Relative to each tensor's scale, floored at 1e-3 of the largest: some gradients are
          // exactly 0 in theory (β of a BN whose consumers all end in training-mode BNs: Σ dx = 0)
          // and both sides are rounding noise there.
          const globalScale = Math.max(...naiveValues.map((n) => Math.max(...Array.from(n, Math.abs))));
          for (const [i, variable] of trainable.entries()) {
            let worst = 0;
            let scale = 1e-3 * globalScale;
            naiveValues[i].forEach((n, j) => {
              scale = Math.max(scale, Math.abs(n));
              worst = Math.max(worst, Math.abs(engineValues[i][j] - n));
            });
            // float32 rounding differs between the two formulations through ~50 layers.
            expect(worst / scale, `${variable.name}: relative error ${worst / scale}`).toBeLessThan(5e-3);
          }
          // Not vacuous: the first layer's gradient is a sizeable fraction of the largest.
          expect(Math.max(...Array.from(naiveValues[0], Math.abs))).toBeGreaterThan(1e-3 * globalScale);
          tf.dispose([...engine, ...naive, x, r]);
        });
      });
    }
  }
});
