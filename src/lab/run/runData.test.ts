// The run's data for the user's images and for CIFAR-10 from a chosen file, and the cache's
// fallback where there is no IndexedDB (Node here, private modes in browsers).
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type LabConfig } from '../config';
import { writeCifar10Archive } from '../../core/data/cifar10';
import { importImageFolder, type DecodeImage, type ImportEntry } from '../../core/data/imageFolder';
import { generateSyntheticDataset } from '../../core/data/synthetic';
import { nothingServed, plainEnvironment } from './environment';
import { buildRunData } from './runData';
import { cacheAvailable, clearCachedData, getCachedBlob, listCachedData, putCachedBlob } from '../storage/indexedDb';

const solid: DecodeImage = async (bytes) => ({ width: 2, height: 2, channels: 3, data: new Uint8Array(12).fill(bytes[0]) });

async function imported(perClass: number) {
  const entries: ImportEntry[] = [];
  for (const name of ['cat', 'dog', 'fox']) {
    for (let i = 0; i < perClass; i++) entries.push({ path: `pets/${name}/${i}.png`, bytes: new Uint8Array([i]) });
  }
  return importImageFolder(entries, { size: 8, seed: 1, decode: solid });
}

describe('buildRunData for the user’s images', () => {
  const custom: LabConfig = { ...DEFAULT_CONFIG, task: 'custom', numClasses: 3, trainImages: 8 };

  it('trains on the imported train split (capped, balanced) and tests on all of its test split, with a new head', async () => {
    const images = await imported(10);
    const data = await buildRunData(custom, plainEnvironment('http://127.0.0.1:9/', { fetch: nothingServed }), { customImages: images });
    expect(images.summary.split).toEqual({ train: 21, val: 3, test: 6 });
    expect(data).toMatchObject({ numClasses: 3, pretrainTask: 'source', cleanTest: null, source: 'your images (pets)' });
    expect(data.train.labels.length).toBe(8);
    expect(new Set(data.train.labels)).toEqual(new Set([0, 1, 2]));
    expect(data.test).toBe(images.test);
    expect(data.train).toMatchObject({ height: 8, width: 8, classNames: ['cat', 'dog', 'fox'] });
  });

  it('says to import images first when there are none', async () => {
    await expect(buildRunData(custom, plainEnvironment('http://127.0.0.1:9/', { fetch: nothingServed }), { customImages: null })).rejects.toThrow(/Your own images: none are imported yet/);
  });
});

describe('CIFAR-10 from a chosen file', () => {
  it('reads the file instead of downloading, and carries on when it cannot be cached', async () => {
    const train = generateSyntheticDataset({ split: 'train', count: 20 });
    const test = generateSyntheticDataset({ split: 'test', count: 10 });
    const archive = await writeCifar10Archive({ train, test });
    const file = new File([archive as Uint8Array<ArrayBuffer>], 'cifar-10-binary.tar.gz');
    const config: LabConfig = { ...DEFAULT_CONFIG, dataSource: 'cifar10', trainImages: 10 };
    // Nothing is served at the base URL: only the file can have given the data.
    const data = await buildRunData(config, plainEnvironment('http://127.0.0.1:9/', { fetch: nothingServed }), { cifarArchive: file });
    expect(data.train.labels.length).toBe(10);
    expect(data.test.labels.length).toBe(10);
    expect(data.source).toBe('CIFAR-10');
  });
});

describe('the data cache without IndexedDB', () => {
  it('reads as empty, refuses writes, and says it is unavailable', async () => {
    expect(typeof indexedDB).toBe('undefined');
    expect(await cacheAvailable()).toBe(false);
    expect(await getCachedBlob('cifar-10-binary.tar.gz')).toBeNull();
    expect(await putCachedBlob('cifar-10-binary.tar.gz', new Blob([new Uint8Array(4)]), 'test')).toBe(false);
    expect(await listCachedData()).toBeNull();
    expect(await clearCachedData()).toBe(false);
  });
});
