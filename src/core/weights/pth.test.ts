// The .pth reader on files written by Debian's torch 1.13 (fixtures/pth, made by
// scripts/fixtures/make_pth_fixtures.py): values as torch reads them back, and every kind of bad
// file refused with a named error while the model keeps its weights.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeZip } from '../../../scripts/fixtures/imageArchives';
import { formulaValues, type FormulaKind } from '../../../scripts/fixtures/torchFixtures';
import { unzip } from '../data/zip';
import { buildModelSpec } from '../models/registry';
import type { ModelOptions } from '../models/spec';
import { createModel, disposeModel, readParams } from '../nn/model';
import { exportTorchvisionSafetensors, loadTorchvisionFile } from './load';
import { PickleError } from './pickle';
import { looksLikePth, PthError, readPth } from './pth';
import { readSafetensors, type SafetensorsDtype } from './safetensors';
import { paramLayouts, torchToLab, type StateDictTensor } from './torchvision';

const DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/pth');
const MODEL_FILE = 'mobilenet_v3_small_w005_cifar.pth';
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(DIR, name)));

interface ExpectedTensor {
  dtype: string;
  shape: number[];
  values: (number | boolean)[];
}

interface Expected {
  torch: string;
  files: {
    [MODEL_FILE]: {
      model: ModelOptions;
      num_batches_tracked: number;
      keys: { name: string; dtype: string; shape: number[]; kind: FormulaKind; sum: number }[];
    };
    'tensors.pth': { keys: Record<string, ExpectedTensor> };
    'legacy.pth': { keys: Record<string, ExpectedTensor> };
    'tensors_torch2.pth': { torch: string; keys: Record<string, ExpectedTensor> };
  };
}
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Expected;
const modelFixture = expected.files[MODEL_FILE];

const TORCH_DTYPES: Record<string, SafetensorsDtype> = {
  float32: 'F32', float16: 'F16', bfloat16: 'BF16', float64: 'F64', int64: 'I64', int32: 'I32', uint8: 'U8', bool: 'BOOL',
};

/** The tensors are those torch.load gave: keys in order, dtypes, shapes, values (float64 rounds to float32). */
function expectTensors(sd: Record<string, StateDictTensor>, keys: Record<string, ExpectedTensor>): void {
  expect(Object.keys(sd)).toEqual(Object.keys(keys));
  for (const [name, want] of Object.entries(keys)) {
    const dtype = TORCH_DTYPES[want.dtype];
    expect(sd[name].dtype, name).toBe(dtype);
    expect(sd[name].shape, name).toEqual(want.shape);
    const values = want.values.map((v) => (dtype === 'F64' ? Math.fround(Number(v)) : Number(v)));
    expect(Array.from(sd[name].data), name).toEqual(values);
  }
}

/** The torch.save zip of `file` with some entries' bytes replaced (written by Node's zlib-based fixture writer). */
async function rezip(file: string, replace: (path: string, bytes: Uint8Array) => Uint8Array): Promise<Uint8Array> {
  const entries = await unzip(fixture(file), file);
  return makeZip(entries.map((e) => ({ path: e.path, data: replace(e.path, e.bytes!) })));
}

/** A torch.save zip holding {"w": float32 tensor (size, stride, offset) on storage "0"}, pickled as torch
 * does (`epoch`: also an int entry, as a training checkpoint has). */
function handMadePth(
  view: { numel: number; offset: number; size: number[]; stride: number[] },
  storage: Uint8Array,
  { byteorder, epoch }: { byteorder?: string; epoch?: number } = {},
): Uint8Array {
  const text = (value: string) => {
    const b = new TextEncoder().encode(value);
    return [0x58, b.length, 0, 0, 0, ...b]; // BINUNICODE
  };
  const global = (module: string, name: string) => [0x63, ...new TextEncoder().encode(`${module}\n${name}\n`)];
  const int = (n: number) => [0x4b, n]; // BININT1
  const tuple = (items: number[]) => [0x28, ...items.flatMap(int), 0x74]; // MARK … TUPLE
  const pickle = [
    0x80, 2, 0x7d, 0x28, ...text('w'), ...global('torch._utils', '_rebuild_tensor_v2'),
    0x28, 0x28, ...text('storage'), ...global('torch', 'FloatStorage'), ...text('0'), ...text('cpu'), ...int(view.numel), 0x74, 0x51,
    ...int(view.offset), ...tuple(view.size), ...tuple(view.stride), 0x89, ...global('collections', 'OrderedDict'), 0x29, 0x52, 0x74, 0x52,
    ...(epoch === undefined ? [] : [...text('epoch'), ...int(epoch)]),
    0x75, 0x2e,
  ];
  const entries = [{ path: 'archive/data.pkl', data: new Uint8Array(pickle) }, { path: 'archive/data/0', data: storage }];
  if (byteorder) entries.push({ path: 'archive/byteorder', data: new TextEncoder().encode(byteorder) });
  return makeZip(entries);
}

describe('readPth on torch.save files', () => {
  it("reads the model's state_dict: every key, shape, dtype and value as torch wrote it", async () => {
    const bytes = fixture(MODEL_FILE);
    expect(looksLikePth(bytes)).toBe(true);
    const sd = await readPth(bytes, MODEL_FILE);
    expect(Object.keys(sd)).toEqual(modelFixture.keys.map((k) => k.name));
    for (const key of modelFixture.keys) {
      const t = sd[key.name];
      expect(t.dtype, key.name).toBe(TORCH_DTYPES[key.dtype]);
      expect(t.shape, key.name).toEqual(key.shape);
      const values = Array.from(t.data);
      if (key.kind === 'num_batches_tracked') {
        expect(values, key.name).toEqual([modelFixture.num_batches_tracked]);
        expect(t.data).toBeInstanceOf(Float64Array);
      } else {
        // The formula rebuilds torch's float32 values bit for bit; torch's float64 sum checks the formula.
        expect(values, key.name).toEqual(Array.from(formulaValues(key.name, key.kind, key.shape)));
        expect(values.reduce((a, b) => a + b, 0), key.name).toBeCloseTo(key.sum, 9);
      }
    }
  });

  it('reads views, shared storages, strides and every dtype as torch.load gives them', async () => {
    const sd = await readPth(fixture('tensors.pth'), 'tensors.pth');
    expectTensors(sd, expected.files['tensors.pth'].keys);
    // The non-contiguous cases really are: torch wrote the transposed tensor's storage in its original order.
    expect(Array.from(sd.transposed.data)).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
  });

  it("reads a torch 2.x file (byteorder, .format_version, .storage_alignment, .data/serialization_id records)", async () => {
    expect(expected.files['tensors_torch2.pth'].torch).toMatch(/^2\./);
    const sd = await readPth(fixture('tensors_torch2.pth'), 'tensors_torch2.pth');
    expectTensors(sd, expected.files['tensors_torch2.pth'].keys);
    expect(expected.files['tensors_torch2.pth'].keys).toEqual(expected.files['tensors.pth'].keys);
  });

  it("reads the legacy (pre-1.6, non-zip) format of torch.save", async () => {
    const bytes = fixture('legacy.pth');
    expect(looksLikePth(bytes)).toBe(true);
    expectTensors(await readPth(bytes, 'legacy.pth'), expected.files['legacy.pth'].keys);
    for (const length of [bytes.length - 1, bytes.length - 40, 300]) {
      const error = await readPth(bytes.subarray(0, length), 'old.pth').catch((e: unknown) => e);
      expect(error, `${length} bytes`).toBeInstanceOf(Error);
      expect((error as Error).message, `${length} bytes`).toMatch(/^old\.pth(: is truncated: storage "\d+" (needs \d+ bytes, \d+ are left|is missing)| \(state_dict\): truncated pickle)/);
    }
  });

  it('reads big-endian storages when byteorder says so', async () => {
    const values = [1.5, -2, 0.25, 3];
    const data = new Uint8Array(16);
    values.forEach((v, i) => new DataView(data.buffer).setFloat32(4 * i, v, false));
    const pth = handMadePth({ numel: 4, offset: 1, size: [3], stride: [1] }, data, { byteorder: 'big' });
    expect(Array.from((await readPth(pth, 'big.pth')).w.data)).toEqual([-2, 0.25, 3]);
  });

  it('refuses a view that reaches beyond its storage, before reading any value', async () => {
    const pth = handMadePth({ numel: 4, offset: 1, size: [2, 2], stride: [2, 1] }, new Uint8Array(16));
    await expect(readPth(pth, 'view.pth')).rejects.toThrow(
      /^view\.pth: tensor "w" \(size \[2, 2\], stride \[2, 1\], offset 1\) reaches element 4 of storage "0", which holds 4$/,
    );
  });

  it('refuses a pickle that would run code, naming the global', async () => {
    await expect(readPth(fixture('tampered_system.pth'), 'tampered_system.pth')).rejects.toThrow(PickleError);
    await expect(readPth(fixture('tampered_system.pth'), 'tampered_system.pth')).rejects.toThrow(
      /^tampered_system\.pth \(data\.pkl\): forbidden global posix\.system: .*nothing was run .*a state_dict of tensors only/,
    );
    await expect(readPth(fixture('tampered_eval.pth'), 'tampered_eval.pth')).rejects.toThrow(/forbidden global builtins\.eval/);
  });

  it('refuses a truncated file, and a storage shorter than its tensors', async () => {
    const bytes = fixture(MODEL_FILE);
    for (const length of [Math.floor(bytes.length * 0.6), bytes.length - 10]) {
      const error = await readPth(bytes.subarray(0, length), 'cut.pth').catch((e: unknown) => e);
      expect(error, `${length} bytes`).toBeInstanceOf(PthError);
      expect((error as Error).message).toMatch(/^cut\.pth: is truncated/);
    }
    const short = await rezip('tensors.pth', (path, data) => (path === 'tensors/data/0' ? data.subarray(0, 40) : data));
    await expect(readPth(short, 'short.pth')).rejects.toThrow(/^short\.pth: storage "0" has 40 bytes, but 15 × F32 need 60$/);
  });

  it('refuses what is not a state_dict of tensors', async () => {
    const checkpoint = handMadePth({ numel: 1, offset: 0, size: [], stride: [] }, new Uint8Array(4), { epoch: 3 });
    await expect(readPth(checkpoint, 'ckpt.pth')).rejects.toThrow(
      /^ckpt\.pth is not a plain state_dict: "epoch" \(int\) is not a tensor\. Save the model's state_dict itself: torch\.save\(model\.state_dict\(\), path\)$/,
    );
    await expect(readPth(new TextEncoder().encode('hello'), 'x.pth')).rejects.toThrow(/^x\.pth is not a PyTorch file/);
    const noPickle = await rezip('tensors.pth', (_, data) => data);
    const entries = (await unzip(noPickle)).filter((e) => !e.path.endsWith('data.pkl'));
    await expect(readPth(makeZip(entries.map((e) => ({ path: e.path, data: e.bytes! }))), 'np.pth')).rejects.toThrow(/^np\.pth: no <archive>\/data\.pkl/);
  });
});

describe('loadTorchvisionFile', () => {
  const options = (): ModelOptions => modelFixture.model;

  it('sniffs the format by content: the .pth loads into the lab model as the same state_dict in safetensors does', async () => {
    const fromPth = createModel(buildModelSpec(options()), { seed: 1 });
    const fromSafetensors = createModel(buildModelSpec(options()), { seed: 2 });
    try {
      const result = await loadTorchvisionFile(fromPth, fixture(MODEL_FILE), { source: 'weights.bin' });
      expect(result.notLoaded).toEqual([]);
      expect(result.ignored.every((name) => name.endsWith('.num_batches_tracked'))).toBe(true);
      // Every parameter is the formula's torch value in lab layout.
      const params = await readParams(fromPth);
      const layouts = paramLayouts(fromPth.spec);
      for (const key of modelFixture.keys) {
        if (key.kind === 'num_batches_tracked') continue;
        const want = torchToLab(formulaValues(key.name, key.kind, key.shape), key.shape, layouts[key.name]);
        expect(Array.from(params[key.name]), key.name).toEqual(Array.from(want));
      }
      // Round trip through safetensors (the other format, same function).
      const safetensors = await exportTorchvisionSafetensors(fromPth);
      expect(looksLikePth(safetensors)).toBe(false);
      await loadTorchvisionFile(fromSafetensors, safetensors, { source: 'weights.pth' });
      const other = await readParams(fromSafetensors);
      for (const name of Object.keys(params)) expect(Array.from(other[name]), name).toEqual(Array.from(params[name]));
      expect(readSafetensors(safetensors).tensors['features.0.0.weight'].shape).toEqual(modelFixture.keys[0].shape);
    } finally {
      disposeModel(fromPth);
      disposeModel(fromSafetensors);
    }
  });

  it('a file that fails (wrong shapes, forbidden pickle, truncated) leaves the model as it was and leaks no tensor', async () => {
    const model = createModel(buildModelSpec({ ...options(), numClasses: 5 }), { seed: 3 });
    try {
      const before = await readParams(model);
      const tensors = tf.memory().numTensors;
      await expect(loadTorchvisionFile(model, fixture(MODEL_FILE), { source: MODEL_FILE })).rejects.toThrow(
        /^mobilenet_v3_small_w005_cifar\.pth does not match mobilenet_v3_small \(2 wrong shape\/dtype; nothing was loaded\):\n {2}key "classifier\.3\.weight": shape \[10, (\d+)\] in the file, expected \[5, \1\] \(torch layout\)\n {2}key "classifier\.3\.bias": shape \[10\] in the file, expected \[5\]/,
      );
      await expect(loadTorchvisionFile(model, fixture('tampered_system.pth'))).rejects.toThrow(PickleError);
      await expect(loadTorchvisionFile(model, fixture(MODEL_FILE).subarray(0, 5000))).rejects.toThrow(PthError);
      expect(tf.memory().numTensors).toBe(tensors);
      const after = await readParams(model);
      for (const name of Object.keys(before)) expect(Array.from(after[name]), name).toEqual(Array.from(before[name]));
    } finally {
      disposeModel(model);
    }
  });
});
