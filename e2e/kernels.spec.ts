import { expect, test } from '@playwright/test';
import type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D } from '@tensorflow/tfjs';
import type { LabHarness } from './harness';

// The lab's own WebGPU kernels (src/core/kernels) against the plain tfjs ops they replace, on the
// same WebGPU device: batch norm's statistics (with the running statistics' in-place update),
// normalisation (with a fused relu/relu6) and backward, layer norm's forward and backward,
// multi-tensor Adam (in place), the activations and their gradients, global average pooling,
// per-channel affine maps and sums (DoRA, biases' gradients), DoRA's weight norm, Adam's and
// GaLore's updates (GaLore's projected step with its moments in place), the direct matmul
// (transposes, a column count that is not a multiple of 4, batches of matrices) and attention's
// scaled softmax and its gradient, plus the stride-1 depthwise input gradient computed as a flipped
// forward conv. Shapes have odd channel counts and a row count that is not a multiple of any
// workgroup size, and again a channel count that is a multiple of 4 (the vec4 kernels).
test('the fused WebGPU kernels equal the plain tfjs ops they replace', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(message.text());
  });
  await page.goto('/e2e/harness.html');
  const result = await page.evaluate(async () => {
    const report = await window.labHarnessReady;
    const { tf, fusedKernels: k, layers }: LabHarness = window.labHarness;
    type Outputs = Tensor | Tensor[];

    /** Max |fused − plain| over max |plain|, and which kernels the fused call dispatched. */
    async function compare(run: () => Outputs): Promise<{ error: number; kernels: string[] }> {
      let fusedOut: Outputs = [];
      const profile = await tf.profile(() => {
        fusedOut = run();
        return fusedOut;
      });
      k.setFusedKernels(false);
      let plainOut: Outputs;
      try {
        plainOut = run();
      } finally {
        k.setFusedKernels(true);
      }
      const fusedList = ([] as Tensor[]).concat(fusedOut);
      const plainList = ([] as Tensor[]).concat(plainOut);
      let worst = 0;
      for (let i = 0; i < plainList.length; i++) {
        const [a, b] = [await fusedList[i].data(), await plainList[i].data()];
        let scale = 1e-30;
        for (const v of b) scale = Math.max(scale, Math.abs(v));
        for (let j = 0; j < b.length; j++) worst = Math.max(worst, Math.abs(a[j] - b[j]) / scale);
      }
      tf.dispose([...fusedList, ...plainList]);
      return { error: worst, kernels: [...new Set(profile.kernels.map((kernel) => kernel.name))] };
    }

    const shape = [3, 5, 7, 13];
    const x = tf.randomNormal(shape, 0.5, 2, 'float32', 1);
    const dy = tf.randomNormal(shape, 0, 1, 'float32', 2);
    const gamma = tf.randomNormal([13], 1, 0.3, 'float32', 3) as Tensor1D;
    const beta = tf.randomNormal([13], 0, 0.3, 'float32', 4) as Tensor1D;
    const around = tf.randomUniform(shape, -5, 7, 'float32', 5);
    const big = tf.randomNormal([4, 33, 31, 6], 0, 1, 'float32', 6);
    /** A variable holding its data alone (in-place kernels need data no other tensor shares). */
    const own = (t: Tensor, trainable = true) => {
      const variable = tf.variable(t, trainable);
      t.dispose();
      return variable;
    };
    const stats = k.batchMoments(x);
    const [mean, variance] = tf.unstack(stats) as [Tensor1D, Tensor1D];
    const results: Record<string, { error: number; kernels: string[] }> = {};
    results.moments = await compare(() => k.batchMoments(x));
    results.momentsManyRows = await compare(() => k.batchMoments(big));
    // With the running statistics: updated in place on WebGPU, assigned in the plain version; each
    // run starts from fresh variables (an in-place kernel needs data no other tensor shares).
    const runningStart = [await tf.randomNormal([13], 0, 1, 'float32', 19).data(), await tf.randomUniform([13], 0.5, 2, 'float32', 20).data()];
    results.momentsRunningUpdate = await compare(() => {
      const running = { mean: own(tf.tensor1d(runningStart[0]), false), variance: own(tf.tensor1d(runningStart[1]), false), momentum: 0.1 };
      const out = k.batchMoments(x, running);
      return [out, running.mean, running.variance];
    });
    results.batchNormApply = await compare(() => k.batchNormApply(x, stats, gamma, beta, 1e-5));
    results.batchNormApplyRunning = await compare(() => k.batchNormApply(x, { mean, variance }, gamma, beta, 1e-5));
    // With the relu or relu6 that follows a batch norm applied in the same pass (models/fusion.ts).
    results.batchNormApplyRelu = await compare(() => k.batchNormApply(x, stats, gamma, beta, 1e-5, 'relu'));
    results.batchNormApplyRelu6 = await compare(() => k.batchNormApply(x, { mean, variance }, gamma, beta, 1e-5, 'relu6'));
    results.batchNormBackward = await compare(() => {
      const { dx, dGamma, dBeta } = k.batchNormBackward(dy, x, stats, gamma, 1e-5, true);
      return [dx as Tensor, dGamma, dBeta];
    });
    // Layer norm over the last axis (13 features, 105 rows): forward with the rows' statistics, backward.
    results.layerNorm = await compare(() => Object.values(k.layerNormForward(x, gamma, beta, 1e-6)));
    const rowStats = k.layerNormForward(x, gamma, beta, 1e-6);
    results.layerNormBackward = await compare(() => {
      const { dx, dGamma, dBeta } = k.layerNormBackward(dy, x, rowStats.mean, rowStats.invStd, gamma, true);
      return [dx as Tensor, dGamma, dBeta];
    });
    for (const fn of ['hardswish', 'hardsigmoid', 'gelu'] as const) results[fn] = await compare(() => k.activationForward(fn, around));
    for (const fn of ['relu', 'relu6', 'hardsigmoid', 'hardswish', 'gelu'] as const) {
      const saved = fn === 'hardswish' || fn === 'gelu' ? around : tf.relu6(around);
      results[`${fn}Grad`] = await compare(() => k.activationGrad(fn, dy, saved));
    }
    // Channel counts that are a multiple of 4 take the vec4 kernels (four channels per invocation):
    // the same comparisons on 20 channels, and the activations on a size that is a multiple of 4.
    const shape4 = [3, 5, 7, 20];
    const x4 = tf.randomNormal(shape4, 0.5, 2, 'float32', 61);
    const dy4 = tf.randomNormal(shape4, 0, 1, 'float32', 62);
    const gamma4 = tf.randomNormal([20], 1, 0.3, 'float32', 63) as Tensor1D;
    const beta4 = tf.randomNormal([20], 0, 0.3, 'float32', 64) as Tensor1D;
    const around4 = tf.randomUniform(shape4, -5, 7, 'float32', 65);
    const stats4 = k.batchMoments(x4);
    const [mean4, variance4] = tf.unstack(stats4) as [Tensor1D, Tensor1D];
    results.momentsVec4 = await compare(() => k.batchMoments(x4));
    results.momentsVec4ManyRows = await compare(() => k.batchMoments(tf.randomNormal([4, 33, 31, 8], 0, 1, 'float32', 66)));
    const runningStart4 = [await tf.randomNormal([20], 0, 1, 'float32', 67).data(), await tf.randomUniform([20], 0.5, 2, 'float32', 68).data()];
    results.momentsVec4RunningUpdate = await compare(() => {
      const running = { mean: own(tf.tensor1d(runningStart4[0]), false), variance: own(tf.tensor1d(runningStart4[1]), false), momentum: 0.1 };
      const out = k.batchMoments(x4, running);
      return [out, running.mean, running.variance];
    });
    results.batchNormApplyVec4 = await compare(() => k.batchNormApply(x4, stats4, gamma4, beta4, 1e-5));
    results.batchNormApplyVec4Relu6Running = await compare(() => k.batchNormApply(x4, { mean: mean4, variance: variance4 }, gamma4, beta4, 1e-5, 'relu6'));
    results.batchNormApplyVec4Relu = await compare(() => k.batchNormApply(x4, stats4, gamma4, beta4, 1e-5, 'relu'));
    // With the relu/relu6 the forward applied, masked in the backward (models/fusion.ts: the
    // activation's output gradient in, its mask recomputed at x̂·γ + β).
    results.batchNormBackwardMaskedRelu6 = await compare(() => {
      const { dx, dGamma, dBeta } = k.batchNormBackward(dy, x, stats, gamma, 1e-5, true, { activation: 'relu6', beta });
      return [dx as Tensor, dGamma, dBeta];
    });
    results.batchNormBackwardVec4MaskedRelu = await compare(() => {
      const { dx, dGamma, dBeta } = k.batchNormBackward(dy4, x4, stats4, gamma4, 1e-5, true, { activation: 'relu', beta: beta4 });
      return [dx as Tensor, dGamma, dBeta];
    });
    // γ × 4: x̂·γ + β spans both kinks of relu6 (0 and 6).
    const wideGamma4 = tf.mul(gamma4, 4) as Tensor1D;
    results.batchNormBackwardVec4MaskedRelu6 = await compare(() => {
      const { dx, dGamma, dBeta } = k.batchNormBackward(dy4, x4, stats4, wideGamma4, 1e-5, true, { activation: 'relu6', beta: beta4 });
      return [dx as Tensor, dGamma, dBeta];
    });
    results.batchNormBackwardVec4 = await compare(() => {
      const { dx, dGamma, dBeta } = k.batchNormBackward(dy4, x4, stats4, gamma4, 1e-5, true);
      return [dx as Tensor, dGamma, dBeta];
    });
    const rowStats4 = k.layerNormForward(x4, gamma4, beta4, 1e-6);
    results.layerNormBackwardVec4 = await compare(() => {
      const { dx, dGamma, dBeta } = k.layerNormBackward(dy4, x4, rowStats4.mean, rowStats4.invStd, gamma4, true);
      return [dx as Tensor, dGamma, dBeta];
    });
    results.channelSumsVec4 = await compare(() => Object.values(k.channelSums(dy4, x4)));
    for (const fn of ['hardswish', 'hardsigmoid', 'gelu'] as const) results[`${fn}Vec4`] = await compare(() => k.activationForward(fn, around4));
    for (const fn of ['relu', 'relu6', 'hardsigmoid', 'hardswish', 'gelu'] as const) {
      const saved = fn === 'hardswish' || fn === 'gelu' ? around4 : tf.relu6(around4);
      results[`${fn}GradVec4`] = await compare(() => k.activationGrad(fn, dy4, saved));
    }
    results.spatialMean = await compare(() => k.spatialMean(big as Tensor4D));
    results.channelAffine = await compare(() => k.channelAffine(x, gamma, beta));
    results.channelScale = await compare(() => k.channelAffine(x, gamma));
    results.channelAffineVec4 = await compare(() => k.channelAffine(x4, gamma4, beta4));
    results.channelScaleVec4 = await compare(() => k.channelAffine(x4, gamma4));
    results.channelShift = await compare(() => k.addBias(x, beta));
    results.channelShiftVec4 = await compare(() => k.addBias(x4, beta4));
    results.channelSums = await compare(() => Object.values(k.channelSums(dy, x)));
    results.channelSum = await compare(() => k.channelSum(dy));
    results.channelSumVec4 = await compare(() => k.channelSum(dy4));
    // Few rows per channel: a one-invocation workgroup (no reduction tree).
    const rows = tf.randomNormal([5, 13], 0, 1, 'float32', 18);
    results.channelSumsFewRows = await compare(() => Object.values(k.channelSums(rows, rows)));
    results.channelSumFewRows = await compare(() => k.channelSum(rows));
    results.momentsFewRows = await compare(() => k.batchMoments(rows));
    // DoRA's weight norm ‖W + s·AB‖ per output channel (one reduction) against its expanded plain form:
    // an odd channel count, then vec4 ones with 4 and 64 invocations per workgroup.
    for (const [seed, [rowCount, channels, rank]] of [[91, [37, 13, 3]], [92, [203, 24, 4]], [93, [2100, 8, 16]]] as const) {
      const weight = tf.randomNormal([rowCount, channels], 0, 0.5, 'float32', seed) as Tensor2D;
      const loraA = tf.randomNormal([rowCount, rank], 0, 0.5, 'float32', seed + 10) as Tensor2D;
      const loraB = tf.randomNormal([rank, channels], 0, 0.5, 'float32', seed + 20) as Tensor2D;
      results[`doraNorm${rowCount}x${channels}r${rank}`] = await compare(() => k.compositeNorm(weight, loraA, loraB, 0.75));
    }
    const a = tf.randomNormal([203, 12], 0, 1, 'float32', 7) as Tensor2D;
    const b = tf.randomNormal([12, 24], 0, 1, 'float32', 8) as Tensor2D;
    const bt = tf.randomNormal([10, 12], 0, 1, 'float32', 9) as Tensor2D;
    const d = tf.randomNormal([203, 20], 0, 1, 'float32', 10) as Tensor2D;
    results.matMul = await compare(() => k.matMul2d(a, b));
    results.matMulTransposeB10 = await compare(() => k.matMul2d(a, bt, false, true));
    results.matMulTransposeA = await compare(() => k.matMul2d(a, d, true, false));
    // M, K and N multiples of 4: the 4×4-tiled kernel (A·B, A·Bᵀ) and the row-reduction one (Aᵀ·B, few tiles, many rows).
    const a4 = tf.randomNormal([204, 12], 0, 1, 'float32', 81) as Tensor2D;
    results.matMulVec4 = await compare(() => k.matMul2d(a4, tf.randomNormal([12, 24], 0, 1, 'float32', 82) as Tensor2D));
    results.matMulVec4TransposeB = await compare(() => k.matMul2d(a4, tf.randomNormal([16, 12], 0, 1, 'float32', 83) as Tensor2D, false, true));
    results.matMulVec4TransposeA = await compare(() =>
      k.matMul2d(tf.randomNormal([2052, 12], 0, 1, 'float32', 84) as Tensor2D, tf.randomNormal([2052, 20], 0, 1, 'float32', 85) as Tensor2D, true, false),
    );
    // Aᵀ·B with many tiles (12 × 24): one invocation per tile.
    results.matMulVec4TransposeAManyTiles = await compare(() =>
      k.matMul2d(tf.randomNormal([36, 48], 0, 1, 'float32', 86) as Tensor2D, tf.randomNormal([36, 96], 0, 1, 'float32', 87) as Tensor2D, true, false),
    );
    // Batched (attention's products), one dispatch for the batch: the scalar kernel at odd sizes, the
    // 4×4-tiled one (A·B, A·Bᵀ), and Aᵀ·B as a row reduction (few tiles) and tiled (many).
    const batch3 = (shape: [number, number, number], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed) as Tensor3D;
    const batchedCases: [string, Tensor3D, Tensor3D, boolean, boolean][] = [
      ['Odd', batch3([3, 7, 5], 101), batch3([3, 5, 9], 102), false, false],
      ['OddTransposeB', batch3([3, 7, 5], 103), batch3([3, 9, 5], 104), false, true],
      ['OddTransposeA', batch3([3, 5, 7], 105), batch3([3, 5, 9], 106), true, false],
      ['Vec4', batch3([3, 12, 8], 107), batch3([3, 8, 16], 108), false, false],
      ['Vec4TransposeB', batch3([3, 12, 8], 109), batch3([3, 16, 8], 110), false, true],
      ['Vec4TransposeA', batch3([3, 40, 12], 111), batch3([3, 40, 16], 112), true, false],
      ['Vec4TransposeAManyTiles', batch3([2, 8, 64], 113), batch3([2, 8, 80], 114), true, false],
    ];
    for (const [label, left, right, transposeA, transposeB] of batchedCases) {
      results[`batchMatMul${label}`] = await compare(() => k.batchMatMul(left, right, transposeA, transposeB));
    }
    // Attention's softmax with its score scale, and its input gradient, over rows of 65 (odd) scores.
    const scores = tf.randomNormal([6, 65, 65], 0, 3, 'float32', 121);
    const probabilities = tf.softmax(tf.mul(scores, 0.25));
    const dProbabilities = tf.randomNormal([6, 65, 65], 0, 1, 'float32', 122);
    results.scaledSoftmax = await compare(() => k.scaledSoftmax(scores, 0.25));
    results.scaledSoftmaxGrad = await compare(() => k.scaledSoftmaxGrad(probabilities, dProbabilities, 0.25));
    const p = tf.randomNormal([7, 9], 0, 1, 'float32', 11);
    const g = tf.randomNormal([7, 9], 0, 1, 'float32', 12);
    const m = tf.randomNormal([7, 9], 0, 0.1, 'float32', 13);
    const v = tf.randomUniform([7, 9], 0, 0.01, 'float32', 14);
    results.adamMoment = await compare(() => k.adamMoment(m, g, p, 0.9, 0, false));
    results.adamMomentSquaredL2 = await compare(() => k.adamMoment(v, g, p, 0.999, 0.01, true));
    results.adamParam = await compare(() => k.adamParam(p, m, v, { stepSize: 1e-3 / 0.1, biasCorrection2Sqrt: Math.sqrt(0.001), eps: 1e-8, decay: 0.99 }));
    results.addScaled = await compare(() => k.addScaled(p, g, -0.0123));
    // GaLore's projected Adam step: both moments in place, the normalised step returned.
    results.adamDirection = await compare(() => {
      const expAvg = own(tf.randomNormal([7, 9], 0, 0.1, 'float32', 61), false);
      const expAvgSq = own(tf.randomUniform([7, 9], 0, 0.01, 'float32', 62), false);
      const direction = k.adamDirection(expAvg, expAvgSq, g, { beta1: 0.9, beta2: 0.999, biasCorrection2Sqrt: Math.sqrt(1 - 0.999 ** 3), eps: 1e-8 });
      return [direction, expAvg, expAvgSq];
    });
    // Multi-tensor Adam, in place: five parameters (two dispatches at three per group), L2 on.
    const shapes = [[7, 9], [13], [3, 3, 2, 5], [1], [130]];
    const starts = await Promise.all(shapes.map(async (shape, i) => [await tf.randomNormal(shape, 0, 1, 'float32', 30 + i).data(), await tf.randomNormal(shape, 0, 1, 'float32', 40 + i).data()]));
    const half = shapes.reduce((sum, shape) => sum + shape.reduce((a, b) => a * b, 1), 0);
    const momentsStart = await tf.randomUniform([2 * half], 0, 0.01, 'float32', 50).data();
    results.adamMulti = await compare(() => {
      const moments = own(tf.tensor1d(momentsStart), false);
      let offset = 0;
      const entries = shapes.map((shape, i) => {
        const entry = { param: own(tf.tensor(starts[i][0], shape)), grad: tf.tensor(starts[i][1], shape), offset };
        offset += entry.param.size;
        return entry;
      });
      k.adamMulti(moments, entries, { beta1: 0.9, beta2: 0.999, l2: 0.01, stepSize: 1e-3 / 0.19, biasCorrection2Sqrt: Math.sqrt(1 - 0.999 ** 2), eps: 1e-8, decay: 1 });
      tf.dispose(entries.map((e) => e.grad));
      return [moments, ...entries.map((e) => e.param)];
    });

    // Direct convs (SwiftShader only; elsewhere null and tfjs's kernels run): a dense conv with few
    // products per output at strides 1 and 2, a strided depthwise conv's input gradient, an odd
    // size so windows hang over the border.
    const convX = tf.randomNormal([2, 9, 7, 3], 0, 1, 'float32', 21) as Tensor4D;
    const convW = tf.randomNormal([3, 3, 3, 5], 0, 1, 'float32', 22) as Tensor4D;
    const depthX = tf.randomNormal([2, 9, 7, 5], 0, 1, 'float32', 23) as Tensor4D;
    const depthW = tf.randomNormal([3, 3, 5, 1], 0, 1, 'float32', 24) as Tensor4D;
    for (const stride of [1, 2]) {
      results[`conv2dStride${stride}`] = await compare(() => k.conv2dDirect(convX, convW, stride, 1) ?? tf.conv2d(convX, convW, stride, 1));
      const depthDy = tf.randomNormal(tf.depthwiseConv2d(depthX, depthW, stride, 1).shape, 0, 1, 'float32', 25 + stride) as Tensor4D;
      if (stride > 1) results[`depthwiseInputGradStride${stride}`] = await compare(
        () =>
          k.depthwiseInputGrad(depthDy, depthW, depthX.shape, stride, 1) ??
          (tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: depthDy, filter: depthW }, { strides: stride, pad: 1, dilations: 1, inputShape: depthX.shape }) as Tensor),
      );
    }

    // The vec4 depthwise kernels: forward, input and filter gradients at strides 1 and 2, against
    // tfjs's DepthwiseConv2dNative and its two backprop kernels; then the same pipelines again at
    // another size and channel count (their sizes are uniforms, so one pipeline serves both).
    for (const [seed, shape] of [[71, [2, 9, 7, 8]], [81, [1, 6, 10, 12]]] as const) {
      const channels = shape[3];
      const depth4X = tf.randomNormal([...shape], 0, 1, 'float32', seed) as Tensor4D;
      const depth4W = tf.randomNormal([3, 3, channels, 1], 0, 1, 'float32', seed + 1) as Tensor4D;
      for (const stride of [1, 2]) {
        const label = `Vec4C${channels}Stride${stride}`;
        results[`depthwiseConv${label}`] = await compare(() => k.depthwiseConvDirect(depth4X, depth4W, stride, 1) ?? tf.depthwiseConv2d(depth4X, depth4W, stride, 1));
        const dy4d = tf.randomNormal(tf.depthwiseConv2d(depth4X, depth4W, stride, 1).shape, 0, 1, 'float32', seed + 2 + stride) as Tensor4D;
        results[`depthwiseInputGrad${label}`] = await compare(
          () =>
            k.depthwiseInputGrad(dy4d, depth4W, depth4X.shape, stride, 1) ??
            (tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dy4d, filter: depth4W }, { strides: stride, pad: 1, dilations: 1, inputShape: depth4X.shape }) as Tensor),
        );
        results[`depthwiseFilterGrad${label}`] = await compare(
          () =>
            k.depthwiseFilterGrad(depth4X, dy4d, 3, stride, 1) ??
            (tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: depth4X, dy: dy4d }, { strides: stride, pad: 1, dilations: 1, filterShape: [3, 3, channels, 1] }) as Tensor),
        );
      }
    }

    // Stride-1 depthwise conv: the layer's input gradient (a flipped forward conv on WebGPU)
    // against tfjs's own gradient of depthwiseConv2d (DepthwiseConv2dNativeBackpropInput).
    const node = { id: 'dw', op: 'conv2d', inputs: ['x'], outShape: [7, 9, 5], inChannels: 5, outChannels: 5, kernel: 3, stride: 1, padding: 1, groups: 5, weight: 'w' };
    const dwX = tf.randomNormal([2, 7, 9, 5], 0, 1, 'float32', 15) as Tensor4D;
    const dwW = tf.randomNormal([3, 3, 5, 1], 0, 1, 'float32', 16) as Tensor4D;
    const dwDy = tf.randomNormal([2, 7, 9, 5], 0, 1, 'float32', 17);
    const wanted = { input: true, weight: false, bias: false };
    const ours = tf.grad((input: Tensor) =>
      tf.sum(tf.mul(layers.conv2dLayer(node as Parameters<typeof layers.conv2dLayer>[0], input as Tensor4D, dwW, undefined, wanted), dwDy)),
    )(dwX);
    const reference = tf.grad((input: Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(input as Tensor4D, dwW, 1, 1), dwDy)))(dwX);
    const [oursData, referenceData] = [await ours.data(), await reference.data()];
    let depthwiseError = 0;
    let depthwiseScale = 1e-30;
    for (const value of referenceData) depthwiseScale = Math.max(depthwiseScale, Math.abs(value));
    for (let i = 0; i < referenceData.length; i++) depthwiseError = Math.max(depthwiseError, Math.abs(oursData[i] - referenceData[i]) / depthwiseScale);
    return { backend: report.backend, adapter: report.adapter?.architecture ?? null, results, depthwiseError };
  });

  expect(errors).toEqual([]);
  expect(result.backend).toBe('webgpu');
  for (const [name, { error, kernels }] of Object.entries(result.results)) {
    // Each comparison must have dispatched the lab's kernel, or it compared tfjs with itself.
    const swiftShaderOnly = ['matMul', 'conv2d', 'depthwise'].some((prefix) => name.startsWith(prefix));
    const expectsLabKernel = !swiftShaderOnly || result.adapter === 'swiftshader';
    if (expectsLabKernel) expect(kernels.some((kernel) => kernel.startsWith('Lab')), `${name} ran ${kernels.join(', ')}`).toBe(true);
    expect(error, name).toBeLessThan(1e-5);
  }
  expect(result.depthwiseError).toBeLessThan(1e-5);
});

// The dequantization of a quantized frozen base (src/core/quant): WebGPU's one-dispatch kernel
// against the CPU backend's (quant/blockwise.ts's dequantizeBlockwise, which the CPU kernel runs),
// for int8 and NF4, on a size that is not a multiple of the block (padding dropped) and negative
// codes in every byte of a word.
test('the WebGPU dequant kernel equals the CPU backend on int8 and NF4 weights', async ({ page }) => {
  await page.goto('/e2e/harness.html');
  const result = await page.evaluate(async () => {
    const report = await window.labHarnessReady;
    const { tf, fusedKernels: k, quant }: LabHarness = window.labHarness;
    const shape = [3, 3, 37, 5];
    const size = shape.reduce((a, b) => a * b, 1);
    const values = Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.731) * (0.2 + (i % 97) / 50));
    const out: Record<string, { maxError: number; scale: number; kernels: string[]; shape: number[] }> = {};
    for (const format of ['int8', 'nf4'] as const) {
      const q = quant.quantizeBlockwise(values, format);
      const expected = quant.dequantizeBlockwise(q);
      const codes = tf.tensor1d(q.codes, 'int32');
      const scales = tf.tensor1d(q.scales, 'float32');
      let result: Tensor | null = null;
      const profile = await tf.profile(() => (result = k.dequantize(codes, scales, format, shape)));
      const got = await (result as unknown as Tensor).data();
      let maxError = 0;
      let scale = 0;
      for (let i = 0; i < size; i++) {
        maxError = Math.max(maxError, Math.abs(got[i] - expected[i]));
        scale = Math.max(scale, Math.abs(expected[i]));
      }
      out[format] = { maxError, scale, kernels: profile.kernels.map((kernel) => kernel.name), shape: (result as unknown as Tensor).shape };
      tf.dispose([codes, scales, result as unknown as Tensor]);
    }
    return { backend: report.backend, out };
  });
  expect(result.backend).toBe('webgpu');
  for (const [format, { maxError, scale, kernels, shape }] of Object.entries(result.out)) {
    expect(kernels, format).toEqual(['LabDequantize']);
    expect(shape, format).toEqual([3, 3, 37, 5]);
    // A float32 multiply and divide: within a few ulps of the largest value.
    expect(maxError / scale, format).toBeLessThan(1e-6);
  }
});

// The ViT's ops (src/core/nn: layer norm, attention, exact GELU, each with its hand-written backward)
// on WebGPU against the same ops on tfjs's CPU backend in the same page: forward values and every
// gradient, on small shapes with odd sizes (7 tokens, 2 heads of 5, 15 features).
test('the ViT ops (layer norm, attention, GELU) on WebGPU equal the CPU backend, forward and backward', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto('/e2e/harness.html');
  const result = await page.evaluate(async () => {
    const report = await window.labHarnessReady;
    const { tf, vitOps }: LabHarness = window.labHarness;
    /** Deterministic values in [−2, 2) (the same on both backends). */
    const values = (size: number, seed: number) => {
      let state = seed;
      return Float32Array.from({ length: size }, () => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        return (state / 2 ** 32) * 4 - 2;
      });
    };
    const [n, t, features, heads, headDim] = [3, 7, 15, 2, 5];
    const lnNode: Parameters<typeof vitOps.layerNorm>[0] = { id: 'ln', op: 'layernorm', inputs: ['x'], outShape: [t, features], features, gamma: 'g', beta: 'b', eps: 1e-6 };
    const attnNode: Parameters<typeof vitOps.attention>[0] = { id: 'attn', op: 'attention', inputs: ['qkv'], outShape: [t, heads * headDim], heads, headDim, scale: 1 / Math.sqrt(headDim) };
    const all = { input: true, gamma: true, beta: true };

    /** Every op's forward output and gradients (of Σ out·r) on the active backend, as arrays. */
    async function run(): Promise<Record<string, Float32Array>> {
      const x = tf.tensor3d(values(n * t * features, 1), [n, t, features]);
      const gamma = tf.tensor1d(values(features, 2).map((v) => 1 + v / 4));
      const beta = tf.tensor1d(values(features, 3));
      const qkv = tf.tensor3d(values(n * t * 3 * heads * headDim, 4), [n, t, 3 * heads * headDim]);
      const rLn = tf.tensor3d(values(n * t * features, 5), [n, t, features]);
      const rAttn = tf.tensor3d(values(n * t * heads * headDim, 6), [n, t, heads * headDim]);
      const out: Record<string, Float32Array> = {};
      const read = async (name: string, tensor: Tensor) => {
        out[name] = (await tensor.data()) as Float32Array;
        tensor.dispose();
      };
      await read('layerNorm', vitOps.layerNorm(lnNode, x, gamma, beta, all));
      const lnGrads = tf.grads((a: Tensor, g: Tensor, b: Tensor) => tf.sum(tf.mul(vitOps.layerNorm(lnNode, a, g as Tensor1D, b as Tensor1D, all), rLn)))([x, gamma, beta]);
      for (const [i, name] of ['layerNormDx', 'layerNormDGamma', 'layerNormDBeta'].entries()) await read(name, lnGrads[i]);
      await read('attention', vitOps.attention(attnNode, qkv, true));
      await read('attentionDqkv', tf.grad((a: Tensor) => tf.sum(tf.mul(vitOps.attention(attnNode, a, true), rAttn)))(qkv));
      await read('gelu', vitOps.gelu(x));
      await read('geluDx', tf.grad((a: Tensor) => tf.sum(tf.mul(vitOps.gelu(a), rLn)))(x));
      tf.dispose([x, gamma, beta, qkv, rLn, rAttn]);
      return out;
    }

    const tensorsBefore = tf.memory().numTensors;
    const onWebGpu = await run();
    const tensorsAfter = tf.memory().numTensors;
    const backend = tf.getBackend();
    await tf.setBackend('cpu');
    let onCpu: Record<string, Float32Array>;
    try {
      onCpu = await run();
    } finally {
      await tf.setBackend(backend);
    }
    const errorsByOp: Record<string, number> = {};
    for (const [name, reference] of Object.entries(onCpu)) {
      let scale = 1e-30;
      let worst = 0;
      reference.forEach((r, i) => {
        scale = Math.max(scale, Math.abs(r));
        worst = Math.max(worst, Math.abs(onWebGpu[name][i] - r));
      });
      errorsByOp[name] = worst / scale;
    }
    return { backend: report.backend, errorsByOp, tensors: [tensorsBefore, tensorsAfter] };
  });
  console.log(JSON.stringify(result));
  expect(errors).toEqual([]);
  expect(result.backend).toBe('webgpu');
  expect(Object.keys(result.errorsByOp).sort()).toEqual(['attention', 'attentionDqkv', 'gelu', 'geluDx', 'layerNorm', 'layerNormDBeta', 'layerNormDGamma', 'layerNormDx']);
  for (const [name, error] of Object.entries(result.errorsByOp)) expect(error, name).toBeLessThan(1e-5);
  expect(result.tensors[1]).toBe(result.tensors[0]);
});
