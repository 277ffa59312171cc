// The worker's hub download job: one final message per job (done, cancelled or error), progress
// throttled but always ending at the total, and the cache required (a refusal is an error).
import { describe, expect, it } from 'vitest';
import type { HubFetchResponse } from '../protocol';
import type { BlobCache, CachedBlob } from '../run/environment';
import { runHubFetchJob } from './hubFetchJob';
import type { HubFile } from './hubUrl';

const FILE: HubFile = { repoType: 'model', repo: 'timm/resnet18.tv_in1k', revision: 'main', path: 'model.safetensors' };
const BYTES = new Uint8Array(4096).map((_, i) => i % 251);

function memoryCache(accepts = true): BlobCache & { entries: Map<string, CachedBlob> } {
  const entries = new Map<string, CachedBlob>();
  return {
    entries,
    get: async (key) => entries.get(key) ?? null,
    put: async (key, blob, source, meta) => (accepts ? (entries.set(key, { blob, source, meta }), true) : false),
    delete: async (key) => void entries.delete(key),
  };
}

/** Serves BYTES in 16 chunks of 256 bytes. */
const serving = async (_url: string, init?: RequestInit) => {
  let at = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (init?.signal?.aborted) return controller.error(new DOMException('aborted', 'AbortError'));
      if (at >= BYTES.length) return controller.close();
      controller.enqueue(BYTES.slice(at, (at += 256)));
    },
  });
  return new Response(body, { headers: { 'content-length': String(BYTES.length) } });
};

async function job(fetch: typeof serving, cache: BlobCache, signal = new AbortController().signal) {
  const messages: HubFetchResponse[] = [];
  let clock = 0;
  await runHubFetchJob({ type: 'hub_fetch', jobId: 7, file: FILE, hubUrl: 'http://hub.test' }, { fetch, cache, signal, post: (m) => messages.push(m), now: () => (clock += 50), retryDelaysMs: [] });
  return messages;
}

describe('runHubFetchJob', () => {
  it('throttles progress, ends it at the total, then says done; a second job reads the cache', async () => {
    const cache = memoryCache();
    const first = await job(serving, cache);
    const progress = first.filter((m) => m.type === 'hub_fetch_progress');
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.length).toBeLessThan(17);
    expect(progress.at(-1)).toEqual({ type: 'hub_fetch_progress', jobId: 7, loadedBytes: 4096, totalBytes: 4096 });
    expect(first.at(-1)).toMatchObject({ type: 'hub_fetch_done', jobId: 7, bytes: 4096, fromCache: false, droppedCorruptEntry: false });
    const second = await job(async () => new Response(null, { status: 500 }), cache);
    expect(second.at(-1)).toMatchObject({ type: 'hub_fetch_done', fromCache: true });
  });

  it('says cancelled when its signal aborts, error with the URL and status when the hub fails, and error when the cache refuses', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await job(serving, memoryCache(), controller.signal)).toEqual([{ type: 'hub_fetch_cancelled', jobId: 7 }]);
    const failed = await job(async () => new Response(null, { status: 502, statusText: 'Bad Gateway' }), memoryCache());
    expect(failed).toEqual([
      { type: 'hub_fetch_error', jobId: 7, message: expect.stringContaining('http://hub.test/timm/resnet18.tv_in1k/resolve/main/model.safetensors: HTTP 502 Bad Gateway') },
    ]);
    const refused = await job(serving, memoryCache(false));
    expect(refused.at(-1)).toMatchObject({ type: 'hub_fetch_error', message: expect.stringContaining('could not be cached') });
  });
});
