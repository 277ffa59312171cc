// A quantized frozen base in the profiler: analytic PARAM at the stored bytes (packed codes plus
// scales), the float32 copy of a quantized weight as TEMP while its layer runs; and the measured
// step on the CPU backend (MobileNetV2 w0.35, CIFAR stem, 32×32, LoRA; a tiny vit_tiny, LoRA on
// qkv/proj/fc1/fc2 and the head) sees exactly those PARAM bytes, with the other groups inside the
// bands of measured.agreement.test.ts.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { applyMethod, methodOptions } from '../adapters';
import type { FrozenWeightFormat } from '../ids';
import { buildModelSpec } from '../models/registry';
import type { ModelSpec } from '../models/spec';
import { storedBytes } from '../quant/blockwise';
import { quantizeFrozenBase } from '../quant/quantizeBase';
import { compareMeasuredWithAnalytic, type MeasuredVsAnalytic } from './measuredCompare';
import { measureMethodStep } from './measuredRun';
import { optimizerCostOfMethod, profileSpec } from './profile';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const OPTIONS = methodOptions();
const BATCH = 2;
const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

type Net = 'mobilenet_v2' | 'vit_tiny';

function loraSpec(format: FrozenWeightFormat, net: Net = 'mobilenet_v2'): ModelSpec {
  const base =
    net === 'mobilenet_v2'
      ? buildModelSpec({ model: 'mobilenet_v2', width: 0.35, resolution: 32, numClasses: 10, stem: 'cifar' })
      : buildModelSpec({ model: 'vit_tiny', width: 0.25, resolution: 16, numClasses: 10, stem: 'cifar' });
  return quantizeFrozenBase(applyMethod(base, 'lora', OPTIONS), 'lora', format);
}

const analyticOf = (spec: ModelSpec) => profileSpec(spec, { batch: BATCH, optimizer: optimizerCostOfMethod('lora', OPTIONS) });

describe('analytic profile of a quantized base', () => {
  it('PARAM counts each quantized weight at its packed codes plus float32 scales, everything else float32', () => {
    const fp32 = analyticOf(loraSpec('fp32'));
    for (const format of ['int8', 'nf4'] as const) {
      const spec = loraSpec(format);
      const quantized = Object.values(spec.params).filter((p) => p.storage);
      const saved = quantized.reduce((sum, p) => sum + numel(p.shape) * 4 - storedBytes(format, numel(p.shape)), 0);
      const analytic = analyticOf(spec);
      expect(analytic.memory.analytic.maxBytesByGroup.param).toBe(fp32.memory.analytic.maxBytesByGroup.param - saved);
      // By hand for one depthwise conv, 3×3×48 (432 values → 7 blocks, 16 pad values).
      const node = analytic.nodes.find((n) => n.nodeId === 'features.4.conv.1.0');
      const dw = spec.params['features.4.conv.1.0.weight'];
      expect(numel(dw.shape)).toBe(432);
      expect(node?.paramBytes).toBe(format === 'int8' ? 448 + 28 : 224 + 28);
      // GRAD, OPT and ACT are those of the float32 base.
      for (const group of ['grad', 'opt', 'act'] as const) {
        expect(analytic.memory.analytic.maxBytesByGroup[group], group).toBe(fp32.memory.analytic.maxBytesByGroup[group]);
      }
    }
  });

  it("a quantized conv's float32 weight is TEMP at its forward and, when it passes dX, at its backward", () => {
    const fp32 = analyticOf(loraSpec('fp32')).memory.analytic.timeline;
    const int8Spec = loraSpec('int8');
    const int8 = analyticOf(int8Spec).memory.analytic.timeline;
    const at = (timeline: typeof fp32, phase: string, op: string) => timeline.find((p) => p.phase === phase && p.op === op)!;
    const weightBytes = numel(int8Spec.params['features.4.conv.1.0.weight'].shape) * 4;
    for (const phase of ['forward', 'backward'] as const) {
      expect(at(int8, phase, 'features.4.conv.1.0').bytes.temp - at(fp32, phase, 'features.4.conv.1.0').bytes.temp, phase).toBe(weightBytes);
    }
    // The stem conv passes no input gradient: no copy in its backward (it runs none).
    expect(int8.some((p) => p.phase === 'backward' && p.op === 'features.0.0')).toBe(false);
  });
});

const measurements = new Map<string, Promise<{ comparison: MeasuredVsAnalytic; leaked: number }>>();

function measure(format: FrozenWeightFormat, net: Net = 'mobilenet_v2') {
  let result = measurements.get(`${net}/${format}`);
  if (!result) {
    result = (async () => {
      const spec = loraSpec(format, net);
      const before = tf.memory().numTensors;
      const measured = await measureMethodStep(spec, 'lora', OPTIONS, { batch: BATCH, kernelTimes: false });
      return { comparison: compareMeasuredWithAnalytic(measured, analyticOf(spec), spec), leaked: tf.memory().numTensors - before };
    })();
    measurements.set(`${net}/${format}`, result);
  }
  return result;
}

describe('measured step on a quantized base (CPU backend): MobileNetV2 w0.35 32×32, vit_tiny w0.25 16×16 (12 blocks, as in measured.agreement); LoRA', () => {
  for (const [net, format] of [...(['fp32', 'int8', 'nf4'] as const).map((f) => ['mobilenet_v2', f] as const), ['vit_tiny', 'int8'], ['vit_tiny', 'nf4']] as const) {
    it(`${net} ${format}: PARAM (packed codes + scales), GRAD and OPT equal the analytic bytes; ACT and peak in the agreement bands; no leak`, async () => {
      const { comparison, leaked } = await measure(format, net);
      for (const group of ['param', 'grad', 'opt'] as const) {
        expect(comparison.maxBytesByGroup[group].measured, group).toBe(comparison.maxBytesByGroup[group].analytic);
      }
      const act = comparison.maxBytesByGroup.act.ratio;
      expect(act >= 1 && act <= 1.05, `ACT ratio ${act}`).toBe(true);
      expect(comparison.peak.ratio >= 0.985 && comparison.peak.ratio <= 1.15, `peak ratio ${comparison.peak.ratio}`).toBe(true);
      expect(leaked).toBe(0);
    });
  }

  it('the quantized base lowers measured PARAM and peak below the float32 base', async () => {
    const [fp32, int8, nf4] = await Promise.all((['fp32', 'int8', 'nf4'] as const).map((format) => measure(format)));
    const param = (r: typeof fp32) => r.comparison.maxBytesByGroup.param.measured;
    expect(param(int8)).toBeLessThan(param(fp32));
    expect(param(nf4)).toBeLessThan(param(int8));
    expect(int8.comparison.peak.measured).toBeLessThan(fp32.comparison.peak.measured);
  });
});

afterAll(async () => {
  const rows = ['net/format: PARAM measured=analytic | ACT ratio | TEMP measured/analytic | peak ratio'];
  for (const [format, result] of measurements) {
    const { comparison: c } = await result;
    const g = c.maxBytesByGroup;
    rows.push(`${format}: ${g.param.measured}=${g.param.analytic} | ${g.act.ratio.toFixed(4)} | ${g.temp.measured}/${g.temp.analytic} | ${c.peak.ratio.toFixed(4)}`);
  }
  console.log(rows.join('\n'));
});
