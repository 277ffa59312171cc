import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { readCifar10Parquet, type DecodePng } from './cifarParquet';
import { CIFAR10_CLASS_NAMES } from './cifar10';
import { DataError } from './types';

// Made by scripts/fixtures/make_hub_fixtures.py (pyarrow + Pillow) in the hub's schema and layout.
const HUB = 'fixtures/hub';
const TEST_FILE = `${HUB}/datasets/uoft-cs/cifar10/resolve/main/plain_text/test-00000-of-00001.parquet`;
const TRAIN_FILE = `${HUB}/datasets/uoft-cs/cifar10/resolve/main/plain_text/train-00000-of-00001.parquet`;
const read = (path: string) => new Uint8Array(readFileSync(path));

const decodePng: DecodePng = async (png) => {
  const image = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  return { width: image.width, height: image.height, channels: 4, data: new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength) };
};

// The fixture script's pixel formula, recomputed (see its docstring).
const PALETTE = [[200, 60, 60], [60, 200, 60], [60, 60, 200], [200, 200, 60], [200, 60, 200], [60, 200, 200], [140, 140, 140], [220, 140, 40], [40, 140, 220], [120, 60, 160]];
const DIRECTIONS = [[1, 0], [0, 1], [1, 1], [1, -1], [1, 0], [0, 1], [1, 1], [1, -1], [2, 1], [1, 2]];
const PERIODS = [4, 4, 4, 4, 8, 8, 8, 8, 6, 6];
function unit(key: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(key)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}
// Python's round() rounds halves to even.
const roundHalfEven = (x: number) => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x));
function expectedPixel(split: string, i: number, x: number, y: number): number[] {
  const label = i % 10;
  const key = `${split}/${i}`;
  const [dx, dy] = DIRECTIONS[label];
  const phase = roundHalfEven(8 * unit(`${key}/phase`));
  // Python's // floors (x·dx + y·dy is negative for some stripe directions).
  const stripe = ((Math.floor((x * dx + y * dy + phase) / PERIODS[label]) % 2) + 2) % 2;
  const noise = roundHalfEven(20 * unit(`${key}/noise/${Math.floor(x / 4)}/${Math.floor(y / 4)}`) - 10);
  return [0, 1, 2].map((c) => Math.max(0, Math.min(255, PALETTE[label][c] + roundHalfEven(24 * unit(`${key}/jitter/${c}`) - 12) + (stripe ? 48 : -48) + noise)));
}

async function dataError(promise: Promise<unknown>): Promise<DataError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DataError);
  return error as DataError;
}

describe('readCifar10Parquet', () => {
  it('reads the hub-layout test file: every row, its label and its pixels', async () => {
    const progress: [number, number][] = [];
    const dataset = await readCifar10Parquet(read(TEST_FILE), { fileName: 'test.parquet', decode: decodePng, onProgress: (done, total) => progress.push([done, total]) });
    expect(dataset.labels.length).toBe(200);
    expect([dataset.height, dataset.width, dataset.numClasses]).toEqual([32, 32, 10]);
    expect(dataset.classNames).toEqual(CIFAR10_CLASS_NAMES);
    expect(dataset.images.length).toBe(200 * 32 * 32 * 3);
    expect(Array.from(dataset.labels)).toEqual(Array.from({ length: 200 }, (_, i) => i % 10));
    // Rows of the first, a middle and the last row group (64 rows each), every pixel.
    for (const i of [0, 77, 199]) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const at = ((i * 32 + y) * 32 + x) * 3;
          expect(Array.from(dataset.images.subarray(at, at + 3)), `image ${i} pixel (${x}, ${y})`).toEqual(expectedPixel('test', i, x, y));
        }
      }
    }
    expect(progress).toHaveLength(200);
    expect(progress[0]).toEqual([1, 200]);
    expect(progress.at(-1)).toEqual([200, 200]);
  });

  it('reads the train file the same way', async () => {
    const dataset = await readCifar10Parquet(read(TRAIN_FILE), { fileName: 'train.parquet', decode: decodePng });
    expect(dataset.labels.length).toBe(100);
    const at = ((13 * 32 + 5) * 32 + 30) * 3;
    expect(Array.from(dataset.images.subarray(at, at + 3))).toEqual(expectedPixel('train', 13, 30, 5));
  });

  it('names the missing column and lists the columns it found', async () => {
    const error = await dataError(readCifar10Parquet(read(`${HUB}/broken/missing-label.parquet`), { fileName: 'missing-label.parquet', decode: decodePng }));
    expect(error.file).toBe('missing-label.parquet');
    expect(error.message).toContain('no column "label"');
    expect(error.message).toContain('Columns found: img (struct<bytes: binary, path: string>)');
  });

  it('names a column of the wrong type', async () => {
    const error = await dataError(readCifar10Parquet(read(`${HUB}/broken/string-label.parquet`), { fileName: 'string-label.parquet', decode: decodePng }));
    expect(error.message).toContain('column "label" is string, expected an integer class');
    expect(error.message).toContain('label (string)');
  });

  it('names the row whose cell is not a PNG, without calling the decoder on it', async () => {
    const decoded: number[] = [];
    const counting: DecodePng = async (png) => {
      decoded.push(png.length);
      return decodePng(png);
    };
    const error = await dataError(readCifar10Parquet(read(`${HUB}/broken/not-png.parquet`), { fileName: 'not-png.parquet', decode: counting }));
    expect(error.file).toBe('not-png.parquet row 2');
    expect(error.message).toContain('is not a PNG (its 16 bytes start 47 49 46 38 39 61 20 6e');
    expect(decoded.length).toBeGreaterThan(0);
    expect(decoded).not.toContain(16);
  });

  it('names a label out of range, and an image that is not 32×32', async () => {
    const label = await dataError(readCifar10Parquet(read(`${HUB}/broken/label-out-of-range.parquet`), { fileName: 'labels.parquet', decode: decodePng }));
    expect(label.message).toBe('labels.parquet row 1: has label 10, out of range 0..9');
    const size = await dataError(readCifar10Parquet(read(`${HUB}/broken/wrong-size.parquet`), { fileName: 'size.parquet', decode: decodePng }));
    expect(size.message).toBe('size.parquet row 3: is 16×16, not 32×32 as CIFAR-10\'s images are');
  });

  it('names the row a decoder rejects', async () => {
    let calls = 0;
    const failing: DecodePng = async (png) => {
      if (calls++ === 5) throw new Error('bad IDAT');
      return decodePng(png);
    };
    const error = await dataError(readCifar10Parquet(read(TEST_FILE), { fileName: 'test.parquet', decode: failing }));
    expect(error.message).toBe('test.parquet row 5: is not a readable PNG (bad IDAT)');
  });

  it('names the first bad row in file order, though decodes run side by side', async () => {
    let calls = 0;
    const racing: DecodePng = async (png) => {
      const call = calls++;
      if (call === 7) throw new Error('fails first');
      if (call === 3) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('fails later');
      }
      return decodePng(png);
    };
    const error = await dataError(readCifar10Parquet(read(TEST_FILE), { fileName: 'test.parquet', decode: racing }));
    expect(error.message).toBe('test.parquet row 3: is not a readable PNG (fails later)');
  });

  it('rejects bytes that are not parquet, and a truncated file', async () => {
    const png = await dataError(readCifar10Parquet(new TextEncoder().encode('<!doctype html><p>Not found</p>'), { fileName: 'page.html', decode: decodePng }));
    expect(png.message).toMatch(/^page\.html: is not a readable parquet file \(/);
    const whole = read(TEST_FILE);
    const truncated = await dataError(readCifar10Parquet(whole.subarray(0, whole.length >> 1), { fileName: 'half.parquet', decode: decodePng }));
    expect(truncated.message).toMatch(/^half\.parquet: is not a readable parquet file/);
  });
});
