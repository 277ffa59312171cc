// Files from the Hugging Face hub (or a mirror in its layout), downloaded whole, checked and cached:
// the ImageNet-pretrained timm bases and the CIFAR-10 parquet. No tfjs, no DOM: the training
// worker, the CLI and the tests share it, each passing its own fetch and cache.
//
// How the hub serves a file: GET {hub}/{repo}/resolve/{revision}/{path} (datasets under
// {hub}/datasets/…) answers with the file or, for large (LFS/Xet) files, a 302 to a CDN; both send
// CORS headers, and fetch follows the redirect. The hub puts the file's sha256 and size in
// X-Linked-Etag and X-Linked-Size on the 302 only, which a browser's fetch never sees (it cannot stop
// at a redirect); the CDN's own ETag is 64 hex digits too but another hash, so it is never read. The
// sha256 is computed here from the bytes: the cache keeps it beside the file and checks it on every read.
// Where the final response does expose X-Linked-Etag (a mirror serving the file itself), or the
// caller knows the sha256, the download is checked against it too.
//
// Nothing is half-cached: the file is put in the cache only once complete and checked (one
// IndexedDB transaction). An interrupted body resumes with a Range request where the server honours
// it, else restarts; a corrupt cache entry is dropped and the file fetched again.
import type { BlobCache } from '../run/environment';
import { DEFAULT_RETRY_DELAYS_MS, DownloadError, fetchServed } from '../run/fetchRetry';
import { hubCacheKey, hubFileUrl, type HubFile } from './hubUrl';

/** What the cache keeps beside a hub file's bytes (the entry's meta). */
export interface HubCacheMeta {
  hubFile: HubFile;
  sha256: string;
  bytes: number;
  url: string;
}

export const isHubCacheMeta = (meta: unknown): meta is HubCacheMeta =>
  typeof meta === 'object' &&
  meta !== null &&
  typeof (meta as HubCacheMeta).sha256 === 'string' &&
  typeof (meta as HubCacheMeta).bytes === 'number' &&
  typeof (meta as HubCacheMeta).hubFile === 'object';

export interface HubFetchOptions {
  hubUrl: string;
  fetch: (url: string, init?: RequestInit) => Promise<Response>;
  cache: BlobCache;
  signal?: AbortSignal;
  onProgress?: (loadedBytes: number, totalBytes: number | null) => void;
  /** The file's sha256 when known in advance (lower-case hex): a download that differs is refused. */
  expectedSha256?: string;
  /** A file that cannot be cached fails with StorageQuotaError, before downloading when the response's
   * length exceeds the free storage (the page's download job, whose point is the cache); otherwise it
   * is returned with `stored: false` (a run goes on with the bytes). */
  requireStored?: boolean;
  /** Waits before each retry of a failed request or interrupted body (default fetchRetry's). */
  retryDelaysMs?: readonly number[];
}

export interface HubFetchResult {
  bytes: Uint8Array;
  sha256: string;
  fromCache: boolean;
  /** Whether the file is in the cache now (false: the cache refused it, or keeps nothing). */
  stored: boolean;
  /** A cached copy failed its sha256 check and was dropped before this download. */
  droppedCorruptEntry: boolean;
}

/** The file could not be cached: says how much it needs and how much is free (when known). */
export class StorageQuotaError extends Error {
  override name = 'StorageQuotaError';
  constructor(
    message: string,
    readonly neededBytes: number,
    readonly freeBytes: number | null,
  ) {
    super(message);
  }
}

/** Thrown when the caller's signal aborts the download; nothing is cached. */
export const isAbortError = (error: unknown) => error instanceof Error && error.name === 'AbortError';

const abortError = () => new DOMException('The download was cancelled.', 'AbortError');

const throwIfAborted = (signal: AbortSignal | undefined) => {
  if (signal?.aborted) throw abortError();
};

/** A size for messages: MiB from 1 MiB up (as the page writes them), else bytes. */
const mb = (bytes: number) => (bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${bytes} bytes`);

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The sha256 a response states for its body: X-Linked-Etag as the hub writes it (quoted hex). */
function statedSha256(response: Response): string | null {
  const value = response.headers.get('x-linked-etag')?.replace(/^W\//, '').replace(/"/g, '').toLowerCase() ?? null;
  return value && SHA256_HEX.test(value) ? value : null;
}

/** The body's length, when the response says it (not for a compressed body, whose length differs). */
function statedLength(response: Response): number | null {
  if (response.headers.get('content-encoding')) return null;
  const length = Number(response.headers.get('content-length'));
  return Number.isSafeInteger(length) && length >= 0 && response.headers.get('content-length') !== null ? length : null;
}

/** Where a 206 answer to `bytes=from-` starts and the whole file's size, or null if it does not fit. */
function contentRange(response: Response): { start: number; total: number | null } | null {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
  if (!match) return null;
  return { start: Number(match[1]), total: match[3] === '*' ? null : Number(match[3]) };
}

/** Reads `response`'s body onto `chunks`, reporting progress; returns whether it ended cleanly. */
async function readInto(response: Response, chunks: Uint8Array[], loaded: { bytes: number }, total: number | null, options: HubFetchOptions): Promise<{ ok: true } | { ok: false; why: string }> {
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    chunks.push(bytes);
    loaded.bytes += bytes.length;
    options.onProgress?.(loaded.bytes, total);
    return { ok: true };
  }
  const reader = response.body.getReader();
  const onAbort = () => void reader.cancel().catch(() => {});
  options.signal?.addEventListener('abort', onAbort);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      throwIfAborted(options.signal);
      if (done) return { ok: true };
      chunks.push(value);
      loaded.bytes += value.length;
      options.onProgress?.(loaded.bytes, total);
    }
  } catch (error) {
    throwIfAborted(options.signal);
    return { ok: false, why: error instanceof Error ? error.message : String(error) };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1 && chunks[0].length === length) return chunks[0];
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/** The whole body of `url`: fetched with retries (fetchServed), an interrupted body resumed from where
 * it stopped (Range) or restarted, each retry after the next of the retry delays. */
async function download(url: string, what: string, options: HubFetchOptions, checkRoom: (totalBytes: number) => Promise<void>): Promise<{ bytes: Uint8Array; stated: string | null }> {
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const environment = (init?: RequestInit) => ({
    fetch: (target: string) => options.fetch(target, { ...init, signal: options.signal }),
    retryDelaysMs: delays,
  });
  let response = await fetchServed(environment(), url, what);
  if (!response) throw new DownloadError(`${what} is not on the hub: ${url} answered HTTP 404 Not Found. Check the repository, revision and hub URL.`, url, 404);
  let total = statedLength(response);
  let stated = statedSha256(response);
  if (total !== null) {
    try {
      await checkRoom(total);
    } catch (error) {
      await response.body?.cancel();
      throw error;
    }
  }
  options.onProgress?.(0, total);
  let chunks: Uint8Array[] = [];
  const loaded = { bytes: 0 };
  for (let attempt = 0; ; attempt++) {
    const read = await readInto(response, chunks, loaded, total, options);
    if (read.ok && (total === null || loaded.bytes === total)) return { bytes: concat(chunks, loaded.bytes), stated };
    const why = read.ok ? `the connection closed after ${loaded.bytes} of ${total} bytes` : `the download broke off after ${loaded.bytes}${total === null ? '' : ` of ${total}`} bytes (${read.why})`;
    if (attempt >= delays.length) throw new DownloadError(`${what} could not be downloaded from ${url}: ${why}, ${delays.length + 1} times.`, url, null);
    await new Promise((resolve) => setTimeout(resolve, delays[attempt]));
    throwIfAborted(options.signal);
    // Resume where it stopped when the server answers the range of the same file; else start over.
    const from = loaded.bytes;
    let next = from > 0 ? await fetchServed(environment({ headers: { Range: `bytes=${from}-` } }), url, what) : null;
    const range = next?.status === 206 ? contentRange(next) : null;
    const sameFile = next !== null && (stated === null || statedSha256(next) === null || statedSha256(next) === stated);
    if (next && range && range.start === from && (total === null || range.total === total) && sameFile) {
      response = next;
      continue;
    }
    if (next?.status !== 200 || !sameFile) {
      await next?.body?.cancel();
      next = await fetchServed(environment(), url, what);
    }
    if (!next) throw new DownloadError(`${what} is no longer on the hub: ${url} answered HTTP 404 Not Found.`, url, 404);
    response = next;
    chunks = [];
    loaded.bytes = 0;
    total = statedLength(response);
    stated = statedSha256(response);
    options.onProgress?.(0, total);
  }
}

/** What the browser's storage has free, when the cache can say. */
async function freeBytesOf(cache: BlobCache): Promise<number | null> {
  try {
    return (await cache.freeBytes?.()) ?? null;
  } catch {
    return null;
  }
}

/** Why `file` could not be cached: a full quota with the size needed, when the storage can say. */
function notStoredError(file: HubFile, needed: number, free: number | null): StorageQuotaError {
  const what = `${file.path} of ${file.repo} (${mb(needed)})`;
  return new StorageQuotaError(
    free !== null && free < needed
      ? `${what} cannot be cached: the browser's storage is full (${mb(free)} free, ${mb(needed)} needed). Free some space (“Clear cached data”, or other sites' data) and try again.`
      : `${what} could not be cached: the browser refused to store it${free === null ? ' (it may keep no storage here, as in some private windows)' : ''}. A run downloads it again each time.`,
    needed,
    free,
  );
}

/** The cached copy of `file` if its bytes still hash to the sha256 stored with them; a corrupt or
 * unreadable entry is deleted (and reported by `dropped`). */
async function readCached(file: HubFile, cache: BlobCache, expectedSha256: string | undefined): Promise<{ hit: { bytes: Uint8Array; sha256: string } | null; dropped: boolean }> {
  const key = hubCacheKey(file);
  const cached = await cache.get(key);
  if (!cached) return { hit: null, dropped: false };
  try {
    const meta = cached.meta;
    if (isHubCacheMeta(meta) && cached.blob.size === meta.bytes && (expectedSha256 === undefined || meta.sha256 === expectedSha256)) {
      const bytes = new Uint8Array(await cached.blob.arrayBuffer());
      const sha256 = await sha256Hex(bytes);
      if (sha256 === meta.sha256) return { hit: { bytes, sha256 }, dropped: false };
    }
  } catch {
    // An unreadable blob counts as corrupt: dropped below.
  }
  await cache.delete(key);
  return { hit: null, dropped: true };
}

/** Cached whole-file download, checked (sha256) on read; throws DownloadError naming URL and status. */
export async function fetchHubFile(file: HubFile, options: HubFetchOptions): Promise<HubFetchResult> {
  throwIfAborted(options.signal);
  const expected = options.expectedSha256?.toLowerCase();
  const { hit, dropped } = await readCached(file, options.cache, expected);
  if (hit) {
    options.onProgress?.(hit.bytes.length, hit.bytes.length);
    return { ...hit, fromCache: true, stored: true, droppedCorruptEntry: false };
  }
  const url = hubFileUrl(options.hubUrl, file);
  const what = `${file.path} of ${file.repo} (revision ${file.revision})`;
  const { bytes, stated } = await download(url, what, options, async (total) => {
    // Fail before downloading what the storage cannot hold.
    const free = options.requireStored ? await freeBytesOf(options.cache) : null;
    if (free !== null && free < total) throw notStoredError(file, total, free);
  });
  throwIfAborted(options.signal);
  const sha256 = await sha256Hex(bytes);
  for (const [claim, by] of [
    [expected, 'the lab expects'],
    [stated, 'the server stated (X-Linked-Etag)'],
  ] as const) {
    if (claim && claim !== sha256) throw new DownloadError(`${what} from ${url} is not the file ${by}: its sha256 is ${sha256}, not ${claim}. Nothing was cached.`, url, null);
  }
  throwIfAborted(options.signal);
  const meta: HubCacheMeta = { hubFile: file, sha256, bytes: bytes.length, url };
  const stored = await options.cache.put(hubCacheKey(file), new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), url, meta);
  if (!stored && options.requireStored) {
    throw notStoredError(file, bytes.length, await freeBytesOf(options.cache));
  }
  return { bytes, sha256, fromCache: false, stored, droppedCorruptEntry: dropped };
}
