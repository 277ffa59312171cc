// Your own images in Node: a folder of PNG and JPEG files per class, decoded here and split as the
// page splits them, fine-tuned through the lab's run loop with a head of one output per class.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/lab/config';
import { runFinetune } from './finetune';
import { importImagesFromDisk, nodeDecodeImage } from './nodeImages';
import { useWasmBackend } from './wasm';

beforeAll(async () => {
  await useWasmBackend();
});

/** A 12×12 image of one colour with a seeded speckle. */
function pixels(rgb: [number, number, number], seed: number): Buffer {
  const data = Buffer.alloc(12 * 12 * 4);
  for (let i = 0; i < 12 * 12; i++) {
    const speckle = ((i * 2654435761 + seed * 97) >>> 0) % 40;
    data.set([rgb[0] + speckle, rgb[1] + speckle, rgb[2] + speckle, 255], i * 4);
  }
  return data;
}

function imagesFolder(): string {
  const root = join(mkdtempSync(join(tmpdir(), 'images-')), 'pets');
  for (const [name, rgb] of [['cat', [200, 40, 40]], ['dog', [40, 40, 200]]] as const) {
    mkdirSync(join(root, name), { recursive: true });
    for (let i = 0; i < 6; i++) {
      const png = new PNG({ width: 12, height: 12 });
      pixels([...rgb], i).copy(png.data);
      writeFileSync(join(root, name, `${i}.png`), PNG.sync.write(png));
    }
    writeFileSync(join(root, name, 'extra.jpg'), jpeg.encode({ width: 12, height: 12, data: pixels([...rgb], 99) }, 90).data);
  }
  writeFileSync(join(root, 'notes.txt'), 'not an image');
  return root;
}

describe('images from disk', () => {
  it('decode PNG and JPEG to the pixels written, and refuse other formats naming them', async () => {
    const png = new PNG({ width: 12, height: 12 });
    pixels([10, 20, 30], 1).copy(png.data);
    const decoded = await nodeDecodeImage(new Uint8Array(PNG.sync.write(png)), 'a.png', 12);
    expect(decoded).toMatchObject({ width: 12, height: 12, channels: 4 });
    expect(Array.from(decoded.data.slice(0, 8))).toEqual(Array.from(pixels([10, 20, 30], 1).subarray(0, 8)));
    const fromJpeg = await nodeDecodeImage(new Uint8Array(jpeg.encode({ width: 12, height: 12, data: pixels([10, 20, 30], 1) }, 100).data), 'a.JPG', 12);
    expect(fromJpeg).toMatchObject({ width: 12, height: 12, channels: 4 });
    // JPEG is lossy: within a few levels at quality 100.
    expect(Math.max(...Array.from(fromJpeg.data.slice(0, 48), (v, i) => Math.abs(v - pixels([10, 20, 30], 1)[i])))).toBeLessThan(12);
    await expect(nodeDecodeImage(new Uint8Array([1, 2, 3]), 'b.gif', 12)).rejects.toThrow(/reads PNG and JPEG images only/);
  });

  it('split by the seed and fine-tune a new two-class head', async () => {
    const folder = imagesFolder();
    const imported = await importImagesFromDisk(folder, 32, 0);
    expect(imported.summary).toMatchObject({ source: 'pets', classes: [{ name: 'cat', images: 7 }, { name: 'dog', images: 7 }], skippedCount: 1 });
    const result = await runFinetune({ ...DEFAULT_CONFIG, width: 0.25, task: 'custom', method: 'lora', rank: 2, batchSize: 4, epochs: 1, trainImages: 8 }, { imagesFolder: folder });
    expect(result.error).toBeNull();
    expect(result.config.numClasses).toBe(2);
    expect(result.checkpoint).toMatchObject({ kind: 'none' });
    expect(result.evalCurve).toHaveLength(1);
  }, 120_000);
});
