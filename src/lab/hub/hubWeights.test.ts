// Base weights 'hub' end to end in Node against the loopback hub stand-in (e2e/hubServer.ts: the
// hub's layout, its 302 to a CDN, CORS): timm-format ImageNet weights made from the lab's spec load
// onto a width-1 model at 32×32 (every weight but the 1000-class head), the second run reads the
// cache, a size the weights do not fit is refused before any request, and a run fine-tunes from
// them with a new head that trains. Also the configuration's rules: the hub base needs width 1 and
// the ImageNet stem, the Hub URL is an http(s) URL and travels in links.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubPath, startHubServer, timmBaseFixture, type HubServer } from '../../../e2e/hubServer';
import { DataError } from '../../core/data/types';
import { buildModelSpec } from '../../core/models/registry';
import { createModel, disposeModel, readParams, type Model } from '../../core/nn/model';
import { readSafetensors } from '../../core/weights/safetensors';
import { labToTorch, paramLayouts } from '../../core/weights/torchvision';
import { DEFAULT_CONFIG, methodOptionsOf, validateConfig, type LabConfig } from '../config';
import { decodePermalink, encodePermalink } from '../permalink';
import type { RunResponse } from '../protocol';
import { plainEnvironment, type BlobCache, type CachedBlob } from '../run/environment';
import { runTraining } from '../run/run';
import { RunControl } from '../run/runState';
import { hubBaseBytesOf, hubBaseFileOf } from './hubBases';
import { hubCacheKey } from './hubUrl';
import { loadHubBase } from './hubWeights';

const FILE = hubBaseFileOf('mobilenet_v3_small');
const BYTES = timmBaseFixture('mobilenet_v3_small');
const VIT_FILE = hubBaseFileOf('vit_tiny');
const VIT_BYTES = timmBaseFixture('vit_tiny');
let hub: HubServer;

function memoryCache(): BlobCache {
  const entries = new Map<string, CachedBlob>();
  return {
    get: async (key) => entries.get(key) ?? null,
    put: async (key, blob, source, meta) => (entries.set(key, { blob, source, meta }), true),
    delete: async (key) => void entries.delete(key),
  };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  hub = await startHubServer({ files: [{ file: FILE, bytes: BYTES }, { file: VIT_FILE, bytes: VIT_BYTES }] });
});
afterAll(() => hub.close());

const HUB_CONFIG: LabConfig = { ...DEFAULT_CONFIG, model: 'mobilenet_v3_small', width: 1, resolution: 32, stem: 'imagenet', baseWeights: 'hub' };

describe('loadHubBase', () => {
  it('loads every weight but the ImageNet head onto a width-1 model at 32×32, then from the cache', async () => {
    expect(hubPath(FILE)).toBe('/timm/mobilenetv3_small_100.lamb_in1k/resolve/main/model.safetensors');
    // The size the page announces is the file's, bar its header and step counters.
    expect(Math.abs(BYTES.length - hubBaseBytesOf('mobilenet_v3_small'))).toBeLessThan(64 * 1024);
    const spec = buildModelSpec({ model: 'mobilenet_v3_small', width: 1, resolution: 32, stem: 'imagenet', numClasses: 10 });
    const model = createModel(spec, { seed: 1 });
    const cache = memoryCache();
    try {
      const headBefore = (await readParams(model))['classifier.3.weight'];
      const status = await loadHubBase(model, spec, { hubUrl: hub.url, fetch: (url, init) => fetch(url, init), cache });
      expect(status).toMatchObject({ kind: 'loaded', origin: 'hub', headSkipped: true, fromCache: false, file: 'timm/mobilenetv3_small_100.lamb_in1k (revision main)' });
      const values = await readParams(model);
      // timm's conv_stem is the lab's features.0.0, in torch's layout.
      const stem = readSafetensors(BYTES).tensors['conv_stem.weight'];
      expect(Array.from(labToTorch(values['features.0.0.weight'], spec.params['features.0.0.weight'].shape, paramLayouts(spec)['features.0.0.weight']))).toEqual(Array.from(stem.data));
      expect(Array.from(values['classifier.3.weight'])).toEqual(Array.from(headBefore));

      const again = await loadHubBase(model, spec, { hubUrl: hub.url, fetch: (url, init) => fetch(url, init), cache });
      expect(again).toMatchObject({ fromCache: true, sha256: status.sha256 });
      expect(hub.requests(FILE)).toBe(1);
    } finally {
      disposeModel(model);
    }
  });

  it('resumes a body the connection dropped with a Range request after the redirect, and caches the whole file', async () => {
    const spec = buildModelSpec({ model: 'mobilenet_v3_small', width: 1, resolution: 32, stem: 'imagenet', numClasses: 10 });
    const model = createModel(spec, { seed: 1 });
    const cache = memoryCache();
    hub.setFault(FILE, { kind: 'truncate', afterBytes: 3_000_000, times: 1 });
    const before = hub.ranges(FILE).length;
    try {
      const status = await loadHubBase(model, spec, { hubUrl: hub.url, fetch: (url, init) => fetch(url, init), cache, retryDelaysMs: [0] });
      expect(status).toMatchObject({ fromCache: false });
      expect(hub.ranges(FILE).slice(before)).toEqual([null, 'bytes=3000000-']);
      expect((await cache.get('hub/model/timm/mobilenetv3_small_100.lamb_in1k@main/model.safetensors'))?.blob.size).toBe(BYTES.length);
    } finally {
      hub.setFault(FILE, null);
      disposeModel(model);
    }
  });

  it('refuses a size the weights do not fit, naming the fix, before any request', async () => {
    const spec = buildModelSpec({ model: 'mobilenet_v3_small', width: 0.5, resolution: 32, stem: 'cifar', numClasses: 10 });
    const model = createModel(spec, { seed: 1 });
    const before = hub.requests(FILE);
    try {
      const loading = loadHubBase(model, spec, { hubUrl: hub.url, fetch: (url, init) => fetch(url, init), cache: memoryCache() });
      await expect(loading).rejects.toThrow(DataError);
      await expect(loading).rejects.toThrow('Base weights: The ImageNet-pretrained weights are those of width 1 with the ImageNet stem (at any resolution), not width 0.5 and the cifar stem: set Width to 1 and Stem to ImageNet');
      expect(hub.requests(FILE)).toBe(before);
    } finally {
      disposeModel(model);
    }
  });

  it('fine-tunes from them: the run says where the base came from, the body is ImageNet’s, and the new head trains', async () => {
    const config: LabConfig = { ...HUB_CONFIG, hubUrl: hub.url, method: 'bn_head', trainImages: 8, batchSize: 4, epochs: 1 };
    expect(validateConfig(config).filter((issue) => issue.severity === 'error')).toEqual([]);
    expect(methodOptionsOf(config).trainHead).toBe(true);
    const messages: RunResponse[] = [];
    let kept: Model | undefined;
    await runTraining({
      runId: 1,
      config,
      labVersion: 'test',
      environment: plainEnvironment('http://127.0.0.1:9/', { dataCache: memoryCache() }),
      control: new RunControl(),
      post: (message) => messages.push(message),
      measureMemory: false,
      adapter: 'cpu',
      deviceLost: () => null,
      keepModel: (model) => (kept = model),
    });
    expect(messages.find((m) => m.type === 'run_error')).toBeUndefined();
    const started = messages.find((m) => m.type === 'run_started');
    expect(started?.type === 'run_started' && started.checkpoint).toMatchObject({ kind: 'loaded', origin: 'hub', headSkipped: true });
    expect(messages.some((m) => m.type === 'run_done')).toBe(true);
    const fresh = createModel(kept!.spec, { seed: config.seed });
    try {
      const [after, initial] = [await readParams(kept!), await readParams(fresh)];
      const stem = readSafetensors(BYTES).tensors['conv_stem.weight'];
      expect(Array.from(labToTorch(after['features.0.0.weight'], kept!.spec.params['features.0.0.weight'].shape, paramLayouts(kept!.spec)['features.0.0.weight']))).toEqual(Array.from(stem.data));
      expect(after['classifier.3.weight'].length).toBe(1024 * 10);
      expect(Array.from(after['classifier.3.weight'])).not.toEqual(Array.from(initial['classifier.3.weight']));
    } finally {
      disposeModel(fresh);
      disposeModel(kept!);
    }
  });

  it('Stop cancels the download a run waits on: the run says so, nothing is cached, no tensor is left', async () => {
    const config: LabConfig = { ...HUB_CONFIG, hubUrl: 'http://hub.invalid', method: 'bn_head', trainImages: 8, batchSize: 4, epochs: 1 };
    const control = new RunControl();
    const cache = memoryCache();
    let requested = false;
    // A hub that answers the headers, then never sends the body: only the signal can end the wait.
    const fetchUntilAborted = (_url: string, init?: RequestInit) => {
      requested = true;
      const body = new ReadableStream<Uint8Array>({ start: () => {} });
      init?.signal?.addEventListener('abort', () => body.cancel().catch(() => {}));
      return Promise.resolve(new Response(body, { status: 200, headers: { 'Content-Length': '1000000' } }));
    };
    const messages: RunResponse[] = [];
    const before = tf.memory().numTensors;
    const run = runTraining({
      runId: 2,
      config,
      labVersion: 'test',
      environment: plainEnvironment('http://127.0.0.1:9/', { dataCache: cache, fetch: fetchUntilAborted }),
      control,
      post: (message) => messages.push(message),
      measureMemory: false,
      adapter: 'cpu',
      deviceLost: () => null,
    });
    await expect.poll(() => requested).toBe(true);
    control.stop();
    await run;
    const error = messages.find((m) => m.type === 'run_error');
    expect(error).toMatchObject({ kind: 'download', message: expect.stringContaining('Stopped during a download') });
    expect(messages.some((m) => m.type === 'run_started')).toBe(false);
    expect(await cache.get(hubCacheKey(hubBaseFileOf(config.model)))).toBeNull();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('loadHubBase of vit_tiny (timm/vit_tiny_patch16_224.augreg_in21k_ft_in1k)', () => {
  it('loads every weight but the head onto timm’s size (width 1, ImageNet stem, 224×224, 12 blocks)', async () => {
    expect(hubPath(VIT_FILE)).toBe('/timm/vit_tiny_patch16_224.augreg_in21k_ft_in1k/resolve/main/model.safetensors');
    expect(Math.abs(VIT_BYTES.length - hubBaseBytesOf('vit_tiny'))).toBeLessThan(64 * 1024);
    const spec = buildModelSpec({ model: 'vit_tiny', width: 1, resolution: 224, stem: 'imagenet', numClasses: 10 });
    const model = createModel(spec, { seed: 1 });
    try {
      const headBefore = (await readParams(model))['head.weight'];
      const status = await loadHubBase(model, spec, { hubUrl: hub.url, fetch: (url, init) => fetch(url, init), cache: memoryCache() });
      expect(status).toMatchObject({ kind: 'loaded', origin: 'hub', headSkipped: true, file: 'timm/vit_tiny_patch16_224.augreg_in21k_ft_in1k (revision main)' });
      const values = await readParams(model);
      const file = readSafetensors(VIT_BYTES).tensors;
      // pos_embed [1, 197, 192] in the file is the lab's [197, 192], value for value; qkv's [576, 192] is transposed.
      expect(file.pos_embed.shape).toEqual([1, 197, 192]);
      expect(Array.from(values.pos_embed)).toEqual(Array.from(file.pos_embed.data));
      const qkv = 'blocks.11.attn.qkv.weight';
      expect(Array.from(labToTorch(values[qkv], spec.params[qkv].shape, paramLayouts(spec)[qkv]))).toEqual(Array.from(file[qkv].data));
      expect(Array.from(values['head.weight'])).toEqual(Array.from(headBefore));
    } finally {
      disposeModel(model);
    }
  });

  it('refuses another resolution or depth, naming the fix, before any request', async () => {
    const spec = buildModelSpec({ model: 'vit_tiny', width: 1, resolution: 32, stem: 'imagenet', numClasses: 10, depth: 2 });
    const model = createModel(spec, { seed: 1 });
    const before = hub.requests(VIT_FILE);
    try {
      const loading = loadHubBase(model, spec, { hubUrl: hub.url, fetch: (url, init) => fetch(url, init), cache: memoryCache() });
      await expect(loading).rejects.toThrow(DataError);
      await expect(loading).rejects.toThrow(
        "Base weights: The ImageNet-pretrained vit_tiny weights are timm's at width 1, the ImageNet stem, 224×224 and 12 blocks, not 32×32, 2 blocks: set Width to 1, Stem to ImageNet, Resolution to 224 and Depth to 12",
      );
      expect(hub.requests(VIT_FILE)).toBe(before);
    } finally {
      disposeModel(model);
    }
  });
});

describe('the configuration of a hub base', () => {
  it('needs width 1 and the ImageNet stem, at any resolution; other bases do not care', () => {
    const issues = validateConfig({ ...HUB_CONFIG, width: 0.35, stem: 'cifar' });
    expect(issues).toContainEqual(expect.objectContaining({ field: 'baseWeights', severity: 'error', message: expect.stringContaining('not width 0.35 and the cifar stem') }));
    expect(validateConfig({ ...HUB_CONFIG, resolution: 64 }).filter((issue) => issue.severity === 'error')).toEqual([]);
    expect(validateConfig({ ...HUB_CONFIG, baseWeights: 'shipped', width: 0.35, stem: 'cifar' }).filter((issue) => issue.field === 'baseWeights')).toEqual([]);
    // The new head trains whatever the method; with other bases it follows the task.
    expect(methodOptionsOf(HUB_CONFIG).trainHead).toBe(true);
    expect(methodOptionsOf({ ...HUB_CONFIG, baseWeights: 'random' }).trainHead).toBe(false);
  });

  it('takes an http(s) Hub URL, checked only where the hub is used, and carries it in links', () => {
    for (const [url, problem] of [
      ['ftp://mirror.example', 'Must be an http:// or https:// URL.'],
      ['mirror.example', 'Enter a URL such as https://huggingface.co.'],
      ['https://mirror.example/?token=1', 'Without ?query or #fragment: files are fetched under it.'],
    ] as const) {
      expect(validateConfig({ ...HUB_CONFIG, hubUrl: url })).toContainEqual({ field: 'hubUrl', severity: 'error', message: problem });
      expect(validateConfig({ ...HUB_CONFIG, baseWeights: 'shipped', width: 0.35, stem: 'cifar', hubUrl: url })).toEqual([]);
    }
    const config = { ...HUB_CONFIG, hubUrl: 'http://127.0.0.1:8123/hf-mirror' };
    const decoded = decodePermalink(encodePermalink({ config }));
    expect(decoded.config).toEqual(config);
    expect(decoded.ignored).toEqual([]);
    const bad = decodePermalink(encodePermalink({ config }).replace(/hub=[^&]*/, 'hub=javascript%3Aalert(1)'));
    expect(bad.config.hubUrl).toBe(DEFAULT_CONFIG.hubUrl);
    expect(bad.ignored.join(' ')).toContain('Must be an http:// or https:// URL');
  });
});
