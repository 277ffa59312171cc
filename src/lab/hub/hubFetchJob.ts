// The page's hub download job ('hub_fetch' in protocol.ts), run by the training worker: the file is
// fetched into the cache with throttled progress, and the job ends in exactly one of done,
// cancelled (its signal) or error (the message names the URL and status, or the storage needed).
import type { HubFetchResponse, WorkerRequest } from '../protocol';
import type { BlobCache } from '../run/environment';
import { Throttle } from '../run/runState';
import { fetchHubFile, isAbortError } from './hubFiles';

/** Progress at most this often (the last is always sent). */
const PROGRESS_INTERVAL_MS = 200;

export interface HubFetchJobContext {
  fetch: (url: string, init?: RequestInit) => Promise<Response>;
  cache: BlobCache;
  signal: AbortSignal;
  post: (message: HubFetchResponse) => void;
  now?: () => number;
  retryDelaysMs?: readonly number[];
}

export async function runHubFetchJob(request: Extract<WorkerRequest, { type: 'hub_fetch' }>, context: HubFetchJobContext): Promise<void> {
  const { jobId } = request;
  const now = context.now ?? (() => performance.now());
  const throttle = new Throttle(PROGRESS_INTERVAL_MS);
  try {
    const result = await fetchHubFile(request.file, {
      hubUrl: request.hubUrl,
      fetch: context.fetch,
      cache: context.cache,
      signal: context.signal,
      requireStored: true,
      retryDelaysMs: context.retryDelaysMs,
      onProgress: (loadedBytes, totalBytes) => {
        if (throttle.ready(now(), loadedBytes === totalBytes)) context.post({ type: 'hub_fetch_progress', jobId, loadedBytes, totalBytes });
      },
    });
    context.post({ type: 'hub_fetch_done', jobId, bytes: result.bytes.length, sha256: result.sha256, fromCache: result.fromCache, droppedCorruptEntry: result.droppedCorruptEntry });
  } catch (error) {
    if (isAbortError(error) || context.signal.aborted) context.post({ type: 'hub_fetch_cancelled', jobId });
    else context.post({ type: 'hub_fetch_error', jobId, message: error instanceof Error ? error.message : String(error) });
  }
}
