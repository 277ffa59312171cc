// The hub download module against a fake hub (a fetch that serves bytes in the hub's layout and
// misbehaves on demand) and an in-memory cache: progress, the cache and its sha256 check, cancel,
// HTTP errors named with URL and status, interrupted bodies (resumed, restarted, or failed with
// nothing cached) and a full storage quota reported with the size needed.
import { describe, expect, it } from 'vitest';
import type { BlobCache, CachedBlob } from '../run/environment';
import { DownloadError } from '../run/fetchRetry';
import { fetchHubFile, isAbortError, sha256Hex, StorageQuotaError, type HubFetchOptions } from './hubFiles';
import { hubCacheKey, hubFileUrl, type HubFile } from './hubUrl';

const HUB = 'http://hub.test';
const FILE: HubFile = { repoType: 'model', repo: 'timm/mobilenetv3_small_100.lamb_in1k', revision: 'main', path: 'model.safetensors' };
const URL_OF_FILE = 'http://hub.test/timm/mobilenetv3_small_100.lamb_in1k/resolve/main/model.safetensors';
const BYTES = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37 + 11) % 256);

class MemoryCache implements BlobCache {
  readonly entries = new Map<string, CachedBlob>();
  puts = 0;
  constructor(private readonly room = Infinity) {}
  async get(key: string) {
    return this.entries.get(key) ?? null;
  }
  async put(key: string, blob: Blob, source: string, meta?: unknown) {
    this.puts++;
    if (blob.size > this.room) return false;
    this.entries.set(key, { blob, source, meta });
    return true;
  }
  async delete(key: string) {
    this.entries.delete(key);
  }
  async freeBytes() {
    return Number.isFinite(this.room) ? this.room : null;
  }
}

type Behaviour = {
  status?: number;
  /** Bytes of the body sent before the connection breaks. */
  breakAfter?: number;
  /** Honour `Range: bytes=N-` with a 206. */
  ranges?: boolean;
  headers?: Record<string, string>;
  /** Never finish the body (until aborted). */
  stall?: boolean;
};

/** A fetch serving BYTES at the file's URL; `behave(n)` shapes the n-th request. Records requests. */
function fakeHub(behave: (n: number) => Behaviour = () => ({})) {
  const requests: { url: string; range: string | null }[] = [];
  const fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    const range = new Headers(init?.headers).get('range');
    const n = requests.push({ url, range }) - 1;
    const b = behave(n);
    if (init?.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    if (b.status) return new Response(null, { status: b.status, statusText: b.status === 404 ? 'Not Found' : 'Service Unavailable' });
    if (url !== URL_OF_FILE) return new Response(null, { status: 404 });
    const from = b.ranges && range ? Number(/^bytes=(\d+)-$/.exec(range)![1]) : 0;
    const body = BYTES.subarray(from);
    const sent = b.breakAfter === undefined ? body.length : Math.min(b.breakAfter, body.length);
    // Two chunks, so that progress is seen mid-way; then the end, a break, or nothing (a stall).
    const half = Math.floor(sent / 2);
    const chunks = [body.slice(0, half), body.slice(half, sent)];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = chunks.shift();
        if (chunk) return controller.enqueue(chunk);
        if (b.stall) return new Promise<void>(() => {});
        if (sent < body.length) controller.error(new TypeError('network error'));
        else controller.close();
      },
    });
    const headers: Record<string, string> = { 'content-length': String(body.length), ...b.headers };
    if (from > 0) headers['content-range'] = `bytes ${from}-${BYTES.length - 1}/${BYTES.length}`;
    return new Response(stream, { status: from > 0 ? 206 : 200, headers });
  };
  return { fetch, requests };
}

const options = (hub: ReturnType<typeof fakeHub>, cache: BlobCache, extra: Partial<HubFetchOptions> = {}): HubFetchOptions => ({
  hubUrl: HUB,
  fetch: hub.fetch,
  cache,
  retryDelaysMs: [0, 0],
  ...extra,
});

describe('hubFileUrl', () => {
  it('lays out model and dataset files as the hub does, the revision as one segment', () => {
    expect(hubFileUrl('https://huggingface.co/', FILE)).toBe('https://huggingface.co/timm/mobilenetv3_small_100.lamb_in1k/resolve/main/model.safetensors');
    expect(hubFileUrl('https://mirror.example/hf', { repoType: 'dataset', repo: 'uoft-cs/cifar10', revision: 'refs/convert/parquet', path: 'plain_text/train/0000.parquet' })).toBe(
      'https://mirror.example/hf/datasets/uoft-cs/cifar10/resolve/refs%2Fconvert%2Fparquet/plain_text/train/0000.parquet',
    );
  });
});

describe('fetchHubFile', () => {
  it('downloads with progress, caches the file with its sha256, and reads it back from the cache without a request', async () => {
    const hub = fakeHub();
    const cache = new MemoryCache();
    const progress: [number, number | null][] = [];
    const first = await fetchHubFile(FILE, options(hub, cache, { onProgress: (loaded, total) => progress.push([loaded, total]) }));
    expect(first.fromCache).toBe(false);
    expect(first.stored).toBe(true);
    expect(first.bytes).toEqual(BYTES);
    expect(first.sha256).toBe(await sha256Hex(BYTES));
    expect(progress[0]).toEqual([0, 1000]);
    expect(progress).toContainEqual([500, 1000]);
    expect(progress.at(-1)).toEqual([1000, 1000]);
    expect(cache.entries.get(hubCacheKey(FILE))?.meta).toMatchObject({ sha256: first.sha256, bytes: 1000, url: URL_OF_FILE });

    const second = await fetchHubFile(FILE, options(hub, cache));
    expect(second).toMatchObject({ fromCache: true, sha256: first.sha256, droppedCorruptEntry: false });
    expect(second.bytes).toEqual(BYTES);
    expect(hub.requests).toHaveLength(1);
  });

  it('drops a cached copy whose bytes no longer match its sha256 and fetches the file again', async () => {
    const hub = fakeHub();
    const cache = new MemoryCache();
    await fetchHubFile(FILE, options(hub, cache));
    const entry = cache.entries.get(hubCacheKey(FILE))!;
    const corrupt = BYTES.slice();
    corrupt[10] ^= 0xff;
    cache.entries.set(hubCacheKey(FILE), { ...entry, blob: new Blob([corrupt]) });

    const again = await fetchHubFile(FILE, options(hub, cache));
    expect(again).toMatchObject({ fromCache: false, droppedCorruptEntry: true, stored: true });
    expect(again.bytes).toEqual(BYTES);
    expect(hub.requests).toHaveLength(2);
    expect(await (await cache.get(hubCacheKey(FILE)))!.blob.arrayBuffer()).toEqual(BYTES.buffer);
  });

  it('says 404 with the URL, and a hub that stays down with the URL and its status after the retries', async () => {
    const missing = fetchHubFile({ ...FILE, repo: 'timm/no_such_model' }, options(fakeHub(), new MemoryCache()));
    await expect(missing).rejects.toThrow(DownloadError);
    await expect(missing).rejects.toThrow(/timm\/no_such_model\/resolve\/main\/model\.safetensors answered HTTP 404/);

    const hub = fakeHub(() => ({ status: 503 }));
    const cache = new MemoryCache();
    const down = fetchHubFile(FILE, options(hub, cache));
    await expect(down).rejects.toThrow(`could not be downloaded from ${URL_OF_FILE}: HTTP 503 Service Unavailable (after 3 tries)`);
    await expect(down).rejects.toMatchObject({ status: 503, url: URL_OF_FILE });
    expect(cache.puts).toBe(0);
  });

  it('resumes an interrupted body with a Range request where the server honours it', async () => {
    const hub = fakeHub((n) => (n === 0 ? { breakAfter: 300, ranges: true } : { ranges: true }));
    const cache = new MemoryCache();
    const result = await fetchHubFile(FILE, options(hub, cache));
    expect(result.bytes).toEqual(BYTES);
    expect(hub.requests.map((r) => r.range)).toEqual([null, 'bytes=300-']);
    expect(cache.entries.size).toBe(1);
  });

  it('restarts an interrupted body where the server ignores the range', async () => {
    const hub = fakeHub((n) => (n === 0 ? { breakAfter: 300 } : {}));
    const result = await fetchHubFile(FILE, options(hub, new MemoryCache()));
    expect(result.bytes).toEqual(BYTES);
    expect(hub.requests).toHaveLength(2);
  });

  it('caches nothing when the body keeps breaking off, and says how far it got', async () => {
    const hub = fakeHub(() => ({ breakAfter: 300 }));
    const cache = new MemoryCache();
    const broken = fetchHubFile(FILE, options(hub, cache));
    await expect(broken).rejects.toThrow(DownloadError);
    await expect(broken).rejects.toThrow(/broke off after 300 of 1000 bytes/);
    expect(cache.puts).toBe(0);
    expect(cache.entries.size).toBe(0);
  });

  it('stops on its signal mid-body with an AbortError and caches nothing', async () => {
    const hub = fakeHub(() => ({ stall: true }));
    const cache = new MemoryCache();
    const controller = new AbortController();
    const download = fetchHubFile(FILE, options(hub, cache, { signal: controller.signal, onProgress: (loaded) => loaded > 0 && controller.abort() }));
    const error = await download.then(
      () => null,
      (e: unknown) => e,
    );
    expect(isAbortError(error)).toBe(true);
    expect(cache.puts).toBe(0);
    expect(hub.requests).toHaveLength(1);
  });

  it('refuses a file whose sha256 differs from the stated X-Linked-Etag or the expected one, caching nothing', async () => {
    const wrong = 'a'.repeat(64);
    const cache = new MemoryCache();
    await expect(fetchHubFile(FILE, options(fakeHub(() => ({ headers: { 'x-linked-etag': `"${wrong}"` } })), cache))).rejects.toThrow(/X-Linked-Etag.*not a{64}/);
    await expect(fetchHubFile(FILE, options(fakeHub(), cache, { expectedSha256: wrong }))).rejects.toThrow(/the lab expects/);
    expect(cache.puts).toBe(0);
    const right = await sha256Hex(BYTES);
    const ok = await fetchHubFile(FILE, options(fakeHub(() => ({ headers: { 'x-linked-etag': `"${right}"` } })), cache, { expectedSha256: right }));
    expect(ok.sha256).toBe(right);
  });

  it('reports a full quota with the size needed: before the body when the job needs the cache, after it otherwise', async () => {
    const hub = fakeHub();
    const cache = new MemoryCache(400);
    const job = fetchHubFile(FILE, options(hub, cache, { requireStored: true }));
    await expect(job).rejects.toThrow(StorageQuotaError);
    await expect(job).rejects.toThrow('storage is full (400 bytes free, 1000 bytes needed)');
    await expect(job).rejects.toMatchObject({ neededBytes: 1000, freeBytes: 400 });
    expect(cache.puts).toBe(0);

    const run = await fetchHubFile(FILE, options(hub, cache));
    expect(run).toMatchObject({ stored: false, fromCache: false });
    expect(run.bytes).toEqual(BYTES);
  });
});
