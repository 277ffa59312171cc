// CIFAR-10 from the Hugging Face hub as a run reads it: the fixture parquet files served in the hub's
// layout by a fake fetch, cached in a memory cache, decoded with pngjs.
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type LabConfig } from '../config';
import type { DecodePng } from '../../core/data/cifarParquet';
import { DataError, imageByteLength, type Dataset } from '../../core/data/types';
import { hubCacheKey } from '../hub/hubUrl';
import { HUB_CIFAR10_FILES } from '../hub/hubCifar10';
import { plainEnvironment, type BlobCache, type CachedBlob } from './environment';
import { DownloadError } from './fetchRetry';
import { buildRunData } from './runData';

const HUB_URL = 'https://hub.test';
const FIXTURES = 'fixtures/hub';

const decodePng: DecodePng = async (png) => {
  const image = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  return { width: image.width, height: image.height, channels: 4, data: new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength) };
};

/** Serves files under fixtures/hub by their URL path (the hub's layout), with `overrides` by path; records what was asked. */
function hubServer(overrides: Record<string, string> = {}) {
  const requested: string[] = [];
  const fetch = async (url: string) => {
    requested.push(url);
    const path = decodeURIComponent(new URL(url).pathname);
    try {
      const bytes = readFileSync(`${FIXTURES}${overrides[path] ?? path}`);
      return new Response(bytes, { status: 200, headers: { 'content-length': String(bytes.length) } });
    } catch {
      return new Response(null, { status: 404, statusText: 'Not Found' });
    }
  };
  return { fetch, requested };
}

function memoryCache(): BlobCache & { entries: Map<string, CachedBlob> } {
  const entries = new Map<string, CachedBlob>();
  return {
    entries,
    get: async (key) => entries.get(key) ?? null,
    put: async (key, blob, source, meta) => {
      entries.set(key, { blob, source, meta });
      return true;
    },
    delete: async (key) => {
      entries.delete(key);
    },
  };
}

const hubConfig = (overrides: Partial<LabConfig> = {}): LabConfig => ({ ...DEFAULT_CONFIG, dataSource: 'hub_cifar10', hubUrl: HUB_URL, trainImages: 40, ...overrides });
const testPath = `/datasets/uoft-cs/cifar10/resolve/main/${HUB_CIFAR10_FILES.test.file.path}`;
const trainPath = `/datasets/uoft-cs/cifar10/resolve/main/${HUB_CIFAR10_FILES.train.file.path}`;

function imagesOf(dataset: Dataset): string[] {
  const size = imageByteLength(dataset);
  return Array.from({ length: dataset.labels.length }, (_, i) => Buffer.from(dataset.images.subarray(i * size, (i + 1) * size)).toString('base64'));
}

describe('CIFAR-10 from the Hugging Face hub', () => {
  it('splits the test file into train and test with the seed, and caches it', async () => {
    const server = hubServer();
    const cache = memoryCache();
    const environment = plainEnvironment('http://127.0.0.1:9/', { fetch: server.fetch, dataCache: cache, retryDelaysMs: [] });
    // Task "unseen classes" keeps the source splits as they are (no corruption), so they can be compared.
    const config = hubConfig({ task: 'unseen_classes' });
    const progress: [string, number, number][] = [];
    const data = await buildRunData(config, environment, { decodePng, onDataProgress: (what, done, total) => progress.push([what, done, total]) });
    expect(server.requested).toEqual([`${HUB_URL}${testPath}`]);
    expect(progress).toHaveLength(200);
    expect(progress.at(-1)).toEqual(['the CIFAR-10 test file', 200, 200]);
    expect(data.source).toBe('CIFAR-10 (Hugging Face hub)');
    // Classes 5–9 of 200 images: 100, of which 80 to train on (cut to 40) and 20 held out (all kept: the test count is 20 here).
    expect(data.train.labels.length).toBe(40);
    expect(data.test.labels.length).toBe(20);
    expect(new Set(data.test.labels)).toEqual(new Set([0, 1, 2, 3, 4]));
    const trainImages = new Set(imagesOf(data.train));
    expect(imagesOf(data.test).some((image) => trainImages.has(image))).toBe(false);
    expect(cache.entries.has(hubCacheKey(HUB_CIFAR10_FILES.test.file))).toBe(true);

    // A second run reads the cache (nothing is served any more) and splits the same way; another seed splits otherwise.
    const offline = plainEnvironment('http://127.0.0.1:9/', { fetch: hubServer({ [testPath]: '/missing' }).fetch, dataCache: cache, retryDelaysMs: [] });
    const again = await buildRunData(config, offline, { decodePng });
    expect(imagesOf(again.test)).toEqual(imagesOf(data.test));
    const reseeded = await buildRunData({ ...config, seed: 7 }, offline, { decodePng });
    expect(imagesOf(reseeded.test)).not.toEqual(imagesOf(data.test));
  });

  it('fine-tunes on the train file when asked, and tests on the test file', async () => {
    const server = hubServer();
    const environment = plainEnvironment('http://127.0.0.1:9/', { fetch: server.fetch, dataCache: memoryCache(), retryDelaysMs: [] });
    const data = await buildRunData(hubConfig({ hubTrainFile: true, task: 'unseen_classes', trainImages: 1000 }), environment, { decodePng });
    expect(server.requested).toEqual([`${HUB_URL}${testPath}`, `${HUB_URL}${trainPath}`]);
    // All 50 train-file images of classes 5–9, and the test file's 100.
    expect(data.train.labels.length).toBe(50);
    expect(data.test.labels.length).toBe(100);
  });

  it('names a file without its label column, loads nothing and keeps no copy of it', async () => {
    const cache = memoryCache();
    const environment = plainEnvironment('http://127.0.0.1:9/', { fetch: hubServer({ [testPath]: '/broken/missing-label.parquet' }).fetch, dataCache: cache, retryDelaysMs: [] });
    const error = await buildRunData(hubConfig(), environment, { decodePng }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toBe(
      `${HUB_URL}${testPath}: is not CIFAR-10 in the Hugging Face hub's layout: no column "label" (an integer class, 0–9). Columns found: img (struct<bytes: binary, path: string>).`,
    );
    expect(cache.entries.size).toBe(0);
  });

  it('says which URL was not found', async () => {
    const environment = plainEnvironment('http://127.0.0.1:9/', { fetch: hubServer({ [testPath]: '/missing' }).fetch, dataCache: memoryCache(), retryDelaysMs: [] });
    const error = await buildRunData(hubConfig(), environment, { decodePng }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as DownloadError).message).toContain(`${HUB_URL}${testPath}`);
    expect((error as DownloadError).status).toBe(404);
  });

  it('needs a PNG decoder', async () => {
    const environment = plainEnvironment('http://127.0.0.1:9/', { fetch: hubServer().fetch, dataCache: memoryCache(), retryDelaysMs: [] });
    await expect(buildRunData(hubConfig(), environment, {})).rejects.toThrow(/no PNG decoder/);
  });
});
