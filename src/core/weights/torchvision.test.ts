import { describe, expect, it } from 'vitest';
import { formulaStateDict, loadTorchFixture } from '../../../scripts/fixtures/torchFixtures';
import { buildModelSpec } from '../models/registry';
import type { ModelSpec } from '../models/spec';
import { readSafetensors, writeSafetensors } from './safetensors';
import {
  exportTorchStateDict,
  headParamNames,
  importTorchStateDict,
  labToTorch,
  paramLayouts,
  permute,
  torchShapeOf,
  torchToLab,
  type StateDictTensor,
} from './torchvision';

const spec = (model: 'mobilenet_v2' | 'mobilenet_v3_small' | 'resnet18', numClasses = 10): ModelSpec =>
  buildModelSpec({ model, width: 1, resolution: 32, numClasses, stem: 'imagenet' });

/** Index of the first differing element (or -1), cheap on millions of values. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const iota = (n: number) => Float32Array.from({ length: n }, (_, i) => i);

describe('layouts', () => {
  it('transposes conv OIHW ⇄ HWIO, depthwise [C,1,kh,kw] ⇄ [kh,kw,C,1], linear [out,in] ⇄ [in,out]', () => {
    // conv: torch [O=2, I=3, kh=2, kw=2]
    const torchConv = iota(24);
    const lab = torchToLab(torchConv, [2, 3, 2, 2], 'conv');
    // lab[y][x][i][o] = torch[o][i][y][x]
    const at = (y: number, x: number, i: number, o: number) => lab[((y * 2 + x) * 3 + i) * 2 + o];
    expect(at(1, 0, 2, 1)).toBe(torchConv[((1 * 3 + 2) * 2 + 1) * 2 + 0]);
    expect(at(0, 1, 1, 0)).toBe(torchConv[((0 * 3 + 1) * 2 + 0) * 2 + 1]);
    expect(Array.from(labToTorch(lab, [2, 2, 3, 2], 'conv'))).toEqual(Array.from(torchConv));
    expect(torchShapeOf([3, 3, 16, 32], 'conv')).toEqual([32, 16, 3, 3]);

    // depthwise: torch [C=3, 1, kh=2, kw=2] → lab [2, 2, 3, 1]; lab[y][x][c] = torch[c][y][x]
    const torchDw = iota(12);
    const labDw = torchToLab(torchDw, [3, 1, 2, 2], 'depthwise');
    expect(labDw[(1 * 2 + 0) * 3 + 2]).toBe(torchDw[(2 * 2 + 1) * 2 + 0]);
    expect(Array.from(labToTorch(labDw, [2, 2, 3, 1], 'depthwise'))).toEqual(Array.from(torchDw));
    expect(torchShapeOf([3, 3, 96, 1], 'depthwise')).toEqual([96, 1, 3, 3]);

    // linear: torch [out=2, in=3] → lab [3, 2]
    expect(Array.from(torchToLab([0, 1, 2, 3, 4, 5], [2, 3], 'linear'))).toEqual([0, 3, 1, 4, 2, 5]);
    expect(Array.from(labToTorch([0, 3, 1, 4, 2, 5], [3, 2], 'linear'))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(torchToLab([1, 2, 3], [3], 'same'))).toEqual([1, 2, 3]);
  });

  it('permute handles any rank and rejects wrong sizes', () => {
    const data = iota(2 * 3 * 4);
    const p = permute(data, [2, 3, 4], [2, 0, 1]); // out [4, 2, 3]: out[k][i][j] = in[i][j][k]
    expect(p[(3 * 2 + 1) * 3 + 2]).toBe(data[(1 * 3 + 2) * 4 + 3]);
    expect(() => permute(data, [5, 5], [1, 0])).toThrow(/25/);
  });

  it('classifies every parameter of the zoo', () => {
    const layouts = paramLayouts(spec('mobilenet_v2'));
    expect(layouts['features.0.0.weight']).toBe('conv');
    expect(layouts['features.1.conv.0.0.weight']).toBe('depthwise');
    expect(layouts['features.2.conv.0.0.weight']).toBe('conv');
    expect(layouts['classifier.1.weight']).toBe('linear');
    expect(layouts['classifier.1.bias']).toBe('same');
    expect(layouts['features.0.1.running_var']).toBe('same');
    const v3 = paramLayouts(spec('mobilenet_v3_small'));
    expect(v3['features.1.block.1.fc1.weight']).toBe('conv'); // SE 1×1 conv
    expect(v3['features.1.block.0.0.weight']).toBe('depthwise');
    expect(headParamNames(spec('mobilenet_v3_small'))).toEqual(['classifier.3.weight', 'classifier.3.bias']);
    expect(headParamNames(spec('resnet18'))).toEqual(['fc.weight', 'fc.bias']);
  });
});

describe('torchvision state_dict import/export', () => {
  for (const model of ['mobilenet_v2', 'mobilenet_v3_small', 'resnet18'] as const) {
    it(`${model}: a torchvision state_dict (from safetensors) round-trips through the lab layout`, () => {
      const fixture = loadTorchFixture(model);
      const s = spec(model);
      const file = readSafetensors(writeSafetensors(formulaStateDict(fixture)));
      const { values, ignored, notLoaded } = importTorchStateDict(s, file.tensors);
      expect(notLoaded).toEqual([]);
      expect(ignored.every((k) => k.endsWith('.num_batches_tracked'))).toBe(true);
      expect(ignored.length).toBe(fixture.state_dict.filter((e) => e.kind === 'num_batches_tracked').length);
      for (const [name, p] of Object.entries(s.params)) expect(values[name].length, name).toBe(p.shape.reduce((a, b) => a * b, 1));

      const exported = exportTorchStateDict(s, values, { numBatchesTracked: 0 });
      expect(Object.keys(exported).sort()).toEqual(Object.keys(file.tensors).sort());
      for (const [name, t] of Object.entries(file.tensors)) {
        expect(exported[name].shape, name).toEqual(t.shape);
        expect(firstDifference(exported[name].data as ArrayLike<number>, t.data), name).toBe(-1);
      }
      // …and the exported file is byte-identical to the original.
      expect(Buffer.from(writeSafetensors(exported)).equals(Buffer.from(writeSafetensors(formulaStateDict(fixture))))).toBe(true);
    });
  }

  const sd = (): Record<string, StateDictTensor> => {
    const fixture = loadTorchFixture('mobilenet_v3_small');
    return readSafetensors(writeSafetensors(formulaStateDict(fixture))).tensors;
  };

  it('names every mismatch (missing, unexpected, shape with both shapes, dtype) and loads nothing', () => {
    const s = spec('mobilenet_v3_small');
    const bad = sd();
    delete bad['features.0.1.weight'];
    bad['features.99.weight'] = { dtype: 'F32', shape: [3], data: [1, 2, 3] };
    bad['features.1.block.0.0.weight'] = { dtype: 'F32', shape: [16, 3, 3, 1], data: new Float32Array(144) };
    bad['features.0.1.bias'] = { dtype: 'I64', shape: [16], data: new Float64Array(16) };
    let message = '';
    try {
      importTorchStateDict(s, bad, { source: 'w.safetensors' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^w\.safetensors does not match mobilenet_v3_small \(2 wrong shape\/dtype, 1 unexpected, 1 missing; nothing was loaded\)/);
    expect(message).toContain('missing key "features.0.1.weight" (expected shape [16])');
    expect(message).toContain('unexpected key "features.99.weight" (shape [3])');
    expect(message).toContain('key "features.1.block.0.0.weight": shape [16, 3, 3, 1] in the file, expected [16, 1, 3, 3]');
    expect(message).toContain('key "features.0.1.bias": dtype I64, expected a float dtype');
  });

  it('a 1000-class (ImageNet) head is a clear error, or skipped on request', () => {
    const s = spec('mobilenet_v3_small', 1000);
    const tenClass = sd();
    expect(() => importTorchStateDict(s, tenClass)).toThrow(/key "classifier\.3\.weight": shape \[10, 1024\] in the file, expected \[1000, 1024\]/);
    const { values, notLoaded, ignored } = importTorchStateDict(s, tenClass, { skip: headParamNames(s) });
    expect(notLoaded).toEqual(['classifier.3.weight', 'classifier.3.bias']);
    expect(ignored).toContain('classifier.3.weight');
    expect(values['classifier.3.weight']).toBeUndefined();
    expect(values['classifier.0.weight'].length).toBe(576 * 1024);
  });

  it('export validates sizes and names', () => {
    const s = spec('resnet18');
    expect(() => exportTorchStateDict(s, { 'fc.bias': [1, 2] }, { names: ['fc.bias'] })).toThrow(/"fc.bias": 2 values, shape \[10\] needs 10/);
    expect(() => exportTorchStateDict(s, {}, { names: ['nope'] })).toThrow(/unknown parameter "nope"/);
    const fc = exportTorchStateDict(s, { 'fc.weight': iota(5120) }, { names: ['fc.weight'] });
    expect(fc['fc.weight'].shape).toEqual([10, 512]);
    expect(fc['fc.weight'].data[1]).toBe(10); // lab [512, 10]: torch[0][1] = lab[1][0]
  });
});
