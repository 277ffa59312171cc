// Fetching what a run needs (the checkpoint manifest, a checkpoint, a dataset) over a network that
// fails now and then: a dropped connection or a 5xx is retried with backoff; a 404 is an answer
// ("not served"), never retried; anything else fails with the URL and the status named. A run the
// user asked to start from a served file never silently starts from anything else.
import type { RunEnvironment } from './environment';

/** A failed download, said with its URL (and its HTTP status when there was one). */
export class DownloadError extends Error {
  override name = 'DownloadError';
  constructor(
    message: string,
    readonly url: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

/** Waits before each retry: three more tries over ~5 s by default. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [250, 1000, 4000];

const transient = (status: number) => status >= 500 || status === 408 || status === 429;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The response for `url`, or null when it is not served (404). Retries network errors and
 * transient statuses (5xx, 408, 429) after each of `environment.retryDelaysMs`; then throws a
 * DownloadError naming `what`, the URL and the last status or error.
 */
export async function fetchServed(environment: Pick<RunEnvironment, 'fetch' | 'retryDelaysMs'>, url: string, what: string): Promise<Response | null> {
  const delays = environment.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  let last = '';
  let lastStatus: number | null = null;
  for (let attempt = 0; attempt <= delays.length; attempt++) {
    if (attempt > 0) await sleep(delays[attempt - 1]);
    let response: Response;
    try {
      response = await environment.fetch(url);
    } catch (error) {
      // A cancelled download is an answer, not a network fault: never retried.
      if (error instanceof Error && error.name === 'AbortError') throw error;
      last = error instanceof Error ? error.message : String(error);
      lastStatus = null;
      continue;
    }
    if (response.ok) return response;
    if (response.status === 404) return null;
    lastStatus = response.status;
    last = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    if (!transient(response.status)) break;
  }
  const tries = delays.length + 1;
  throw new DownloadError(`${what} could not be downloaded from ${url}: ${last}${lastStatus === null || transient(lastStatus) ? ` (after ${tries} tries)` : ''}.`, url, lastStatus);
}
