import { describe, expect, it } from 'vitest';
import { makeZip } from '../../../scripts/fixtures/imageArchives';
import { importImageFolder, importPathKind, planImageFolder, type DecodeImage, type ImportEntry } from './imageFolder';
import { imageByteLength, type Dataset } from './types';
import { unzip } from './zip';

/**
 * The fake decoder reads "rgb R G B" as a 3×2 image of that colour, "rgba ..." as RGBA, and fails
 * on anything else, as a browser decoder fails on bytes that are not an image.
 */
const fakeDecode: DecodeImage = async (bytes) => {
  const text = new TextDecoder().decode(bytes);
  const match = /^(rgba?) (\d+) (\d+) (\d+)$/.exec(text);
  if (!match) throw new Error('The source image could not be decoded.');
  const channels = match[1] === 'rgba' ? 4 : 3;
  const pixel = [Number(match[2]), Number(match[3]), Number(match[4]), 255].slice(0, channels);
  const data = new Uint8Array(3 * 2 * channels);
  for (let p = 0; p < 6; p++) data.set(pixel, p * channels);
  return { width: 3, height: 2, channels, data };
};

const image = (path: string, r: number, g = 0, b = 0): ImportEntry => ({ path, bytes: new TextEncoder().encode(`rgb ${r} ${g} ${b}`) });
const file = (path: string, content = 'x'): ImportEntry => ({ path, bytes: new TextEncoder().encode(content) });

/** The red channel of each image's first pixel: the fixtures give each image its own red. */
const reds = (dataset: Dataset) => Array.from({ length: dataset.labels.length }, (_, i) => dataset.images[i * imageByteLength(dataset)]);

/** `count` images per class under vww/, red = a unique id per image. */
function vww(count: number): ImportEntry[] {
  const entries: ImportEntry[] = [];
  for (let i = 0; i < count; i++) {
    entries.push(image(`vww/person/p${i}.png`, i, 200));
    entries.push(image(`vww/no_person/n${i}.jpg`, 100 + i, 50));
  }
  return entries;
}

describe('importPathKind', () => {
  it('tells images from other files and from the junk systems leave behind', () => {
    expect(importPathKind('vww/person/a.PNG')).toBe('image');
    expect(importPathKind('vww/person/b.jpeg')).toBe('image');
    expect(importPathKind('vww/person/c.webp')).toBe('image');
    expect(importPathKind('vww/person/')).toBe('directory');
    expect(importPathKind('vww/README.md')).toBe('other');
    expect(importPathKind('vww/person/png')).toBe('other');
    expect(importPathKind('vww/.DS_Store')).toBe('junk');
    expect(importPathKind('__MACOSX/vww/person/._a.png')).toBe('junk');
    expect(importPathKind('vww/person/Thumbs.db')).toBe('junk');
  });
});

describe('importImageFolder', () => {
  it('names classes after the first folder under the root, sorted, and resizes every image', async () => {
    const entries = [
      image('vww/person/b.png', 10, 20, 30),
      image('vww/person/nested/deeper/c.png', 11, 20, 30),
      image('vww/no_person/a.jpg', 40, 50, 60),
      image('vww/no_person/z.jpg', 41, 50, 60),
      file('vww/README.txt'),
      file('vww/.DS_Store'),
      file('__MACOSX/vww/person/._b.png'),
    ];
    const progress: number[] = [];
    const result = await importImageFolder(entries, { size: 4, seed: 0, decode: fakeDecode, onProgress: (done) => progress.push(done) });
    expect(result.summary).toEqual({
      source: 'vww',
      root: 'vww/',
      size: 4,
      classes: [
        { name: 'no_person', images: 2 },
        { name: 'person', images: 2 },
      ],
      split: { train: 2, val: 0, test: 2 },
      skipped: ['vww/README.txt'],
      skippedCount: 1,
    });
    expect(progress).toEqual([1, 2, 3, 4]);
    const all = [result.train, result.val, result.test];
    for (const dataset of all) {
      expect(dataset).toMatchObject({ height: 4, width: 4, numClasses: 2, classNames: ['no_person', 'person'] });
      expect(dataset.images.length).toBe(dataset.labels.length * 4 * 4 * 3);
    }
    // A solid 3×2 image stays solid at 4×4; its label is its class's position.
    const pairs = all.flatMap((dataset) => reds(dataset).map((red, i) => [red, dataset.labels[i]]));
    expect(pairs.sort((a, b) => a[0] - b[0])).toEqual([
      [10, 1],
      [11, 1],
      [40, 0],
      [41, 0],
    ]);
    const { train } = result;
    expect(Array.from(train.images.subarray(0, 3))).toEqual([reds(train)[0], train.labels[0] === 1 ? 20 : 50, train.labels[0] === 1 ? 30 : 60]);
  });

  it('takes class folders at the top level of a zip, and the same root however deep it is', async () => {
    const flat = await importImageFolder([image('cat/1.png', 1), image('cat/2.png', 2), image('dog/3.png', 3), image('dog/4.png', 4)], { size: 2, seed: 0, decode: fakeDecode });
    expect(flat.summary).toMatchObject({ source: 'dropped folders', root: '', classes: [{ name: 'cat', images: 2 }, { name: 'dog', images: 2 }] });
    const pets = ['cat/1.png', 'cat/2.png', 'dog/3.png', 'dog/4.png'].map((path, i) => image(`home/me/pets/${path}`, i));
    const deep = await importImageFolder([...pets, { path: 'home/me/', bytes: null }], {
      size: 2,
      seed: 0,
      decode: fakeDecode,
      archiveName: 'pets.zip',
    });
    expect(deep.summary).toMatchObject({ source: 'pets.zip', root: 'home/me/pets/', classes: [{ name: 'cat' }, { name: 'dog' }] });
  });

  it('composites RGBA over white', async () => {
    const entries = [{ path: 'a/1.png', bytes: new TextEncoder().encode('rgba 0 0 0') }, image('a/2.png', 7), image('b/1.png', 7), image('b/2.png', 7)];
    const decodeTransparent: DecodeImage = async (bytes, path, size) => {
      const decoded = await fakeDecode(bytes, path, size);
      if (decoded.channels === 4) for (let p = 3; p < decoded.data.length; p += 4) decoded.data[p] = 0;
      return decoded;
    };
    const result = await importImageFolder(entries, { size: 2, seed: 0, decode: decodeTransparent });
    const pixels = [result.train, result.test].flatMap((dataset) => Array.from({ length: dataset.labels.length }, (_, i) => Array.from(dataset.images.subarray(i * 12, i * 12 + 3))));
    expect(pixels).toContainEqual([255, 255, 255]);
  });

  it('splits each class train/val/test with the seed: disjoint, complete, stratified, reproducible', async () => {
    const entries = vww(10);
    const first = await importImageFolder(entries, { size: 2, seed: 3, decode: fakeDecode });
    const again = await importImageFolder([...entries].reverse(), { size: 2, seed: 3, decode: fakeDecode });
    const other = await importImageFolder(entries, { size: 2, seed: 4, decode: fakeDecode });
    expect(first.summary.split).toEqual({ train: 14, val: 2, test: 4 });
    const ids = (result: typeof first) => [reds(result.train), reds(result.val), reds(result.test)];
    // The order of the files does not matter, the seed does.
    expect(ids(again)).toEqual(ids(first));
    expect(ids(other)).not.toEqual(ids(first));
    const [train, val, test] = ids(first);
    expect([...train, ...val, ...test].sort((a, b) => a - b)).toEqual([...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => 100 + i)]);
    for (const split of [first.train, first.val, first.test]) {
      const counts = [0, 0];
      split.labels.forEach((label) => counts[label]++);
      expect(counts[0]).toBe(counts[1]);
    }
  });

  it('keeps at least one training and one test image per class', async () => {
    const result = await importImageFolder([...vww(2), image('vww/person/p9.png', 9)], { size: 2, seed: 0, decode: fakeDecode });
    // 2 no_person: 1 train, 1 test; 3 person: 1 train, 1 val, 1 test.
    expect(result.summary.split).toEqual({ train: 2, val: 1, test: 2 });
    expect(new Set(result.train.labels)).toEqual(new Set([0, 1]));
    expect(new Set(result.test.labels)).toEqual(new Set([0, 1]));
  });

  it('reads a zip end to end, and names the archive in its errors', async () => {
    const zip = makeZip([
      { path: 'vww/' },
      { path: 'vww/person/a.png', data: new TextEncoder().encode('rgb 1 2 3'), method: 'deflate' },
      { path: 'vww/person/b.png', data: new TextEncoder().encode('rgb 1 2 4'), method: 'deflate' },
      { path: 'vww/no_person/c.png', data: new TextEncoder().encode('rgb 4 5 6'), method: 'store' },
      { path: 'vww/no_person/d.png', data: new TextEncoder().encode('rgb 4 5 7'), method: 'store' },
    ]);
    const entries = await unzip(zip, 'vww.zip', (path) => importPathKind(path) === 'image');
    const result = await importImageFolder(entries, { size: 2, seed: 0, decode: fakeDecode, archiveName: 'vww.zip' });
    expect(result.summary.classes).toEqual([
      { name: 'no_person', images: 2 },
      { name: 'person', images: 2 },
    ]);
    const broken = makeZip([
      { path: 'vww/person/a.png', data: new TextEncoder().encode('rgb 1 2 3') },
      { path: 'vww/person/b.png', data: new TextEncoder().encode('rgb 1 2 3') },
      { path: 'vww/no_person/b.png', data: new TextEncoder().encode('GIF89a garbage') },
      { path: 'vww/no_person/c.png', data: new TextEncoder().encode('rgb 1 2 3') },
    ]);
    const brokenEntries = await unzip(broken, 'vww.zip');
    await expect(importImageFolder(brokenEntries, { size: 2, seed: 0, decode: fakeDecode, archiveName: 'vww.zip' })).rejects.toThrow(
      'vww.zip/vww/no_person/b.png: is not a readable image (The source image could not be decoded.)',
    );
  });

  describe('bad input is one DataError naming the file and the problem', () => {
    const options = { size: 4, seed: 0, decode: fakeDecode };

    it('an unreadable image', async () => {
      const entries = [...vww(2), file('vww/person/broken.png', 'not an image')];
      await expect(importImageFolder(entries, options)).rejects.toMatchObject({
        name: 'DataError',
        file: 'vww/person/broken.png',
        message: 'vww/person/broken.png: is not a readable image (The source image could not be decoded.)',
      });
    });

    it('an empty image file', async () => {
      await expect(importImageFolder([...vww(2), file('vww/person/zero.png', '')], options)).rejects.toThrow('vww/person/zero.png: is not a readable image (the file is empty)');
    });

    it('a decoder that returns the wrong number of bytes', async () => {
      const short: DecodeImage = async () => ({ width: 3, height: 2, channels: 3, data: new Uint8Array(5) });
      await expect(importImageFolder(vww(2), { ...options, decode: short })).rejects.toThrow(/vww\/no_person\/n0\.jpg: is not a readable image \(5 bytes for 3×2×3\)/);
    });

    it('an empty class folder', async () => {
      const entries = [...vww(2), { path: 'vww/cat/', bytes: null }];
      await expect(importImageFolder(entries, options)).rejects.toThrow('vww/cat/: class folder has no images: add images or remove the folder');
    });

    it('a class folder holding only files that are not images', async () => {
      const entries = [...vww(2), file('vww/cat/notes.txt')];
      await expect(importImageFolder(entries, options)).rejects.toThrow('vww/cat/: class folder has no images (only 1 other file, e.g. notes.txt)');
    });

    it('a class with a single image', async () => {
      await expect(importImageFolder([...vww(2), image('vww/cat/only.png', 1)], options)).rejects.toThrow('vww/cat/: class folder has only 1 image (only.png): each class needs at least 2, one to train on and one to test');
    });

    it('fewer than 2 classes', async () => {
      const entries = [image('vww/person/a.png', 1), image('vww/person/b.png', 2)];
      await expect(importImageFolder(entries, options)).rejects.toThrow(/the chosen folder: needs at least 2 class folders, found 1 \(person in vww\/\)/);
      await expect(importImageFolder(entries, { ...options, archiveName: 'one.zip' })).rejects.toThrow(/^one\.zip: needs at least 2 class folders/);
    });

    it('no images at all', async () => {
      await expect(importImageFolder([], options)).rejects.toThrow('the chosen folder: contains no images: expected one folder per class holding PNG/JPG/JPEG/GIF/BMP/WEBP files');
      await expect(importImageFolder([file('docs/a.pdf'), { path: 'docs/', bytes: null }], { ...options, archiveName: 'docs.zip' })).rejects.toThrow(
        'docs.zip: contains no images (found 1 other file, e.g. docs/a.pdf)',
      );
    });

    it('an image outside any class folder', async () => {
      await expect(importImageFolder([image('cat/1.png', 1), image('cat/2.png', 1), image('stray.png', 2)], options)).rejects.toThrow(/^stray\.png: is not inside a class folder/);
    });

    it('checks the layout before decoding anything', async () => {
      let decoded = 0;
      const counting: DecodeImage = (bytes, path, size) => {
        decoded++;
        return fakeDecode(bytes, path, size);
      };
      await expect(importImageFolder([...vww(3), { path: 'vww/cat/', bytes: null }], { ...options, decode: counting })).rejects.toThrow(/cat/);
      expect(decoded).toBe(0);
    });
  });

  it('plans the layout without decoding', () => {
    const plan = planImageFolder([image('x/a/1.png', 1), image('x/a/2.png', 1), image('x/b/2.png', 2), image('x/b/3.png', 2), file('x/b/info.txt')]);
    expect(plan.root).toBe('x/');
    expect(plan.classes.map((entry) => [entry.name, entry.images.length, entry.others.length])).toEqual([
      ['a', 2, 0],
      ['b', 2, 1],
    ]);
    expect(plan.skipped).toEqual(['x/b/info.txt']);
  });
});
