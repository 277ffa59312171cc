// The shipped checkpoints' manifest (public/checkpoints/manifest.json), read the one way a run and
// the page both read it. No tfjs here: the page imports it to offer the base-weights choice.
import type { ShippedCheckpoint } from '../baseWeights';
import type { RunEnvironment } from './environment';
import { DownloadError, fetchServed } from './fetchRetry';

/** The manifest's checkpoints, or null when none is served (404). A manifest that cannot be had
 * (network, 5xx after retries) or read is an error naming the URL: it never reads as "none". */
export async function fetchManifest(environment: Pick<RunEnvironment, 'baseUrl' | 'fetch' | 'retryDelaysMs'>): Promise<ShippedCheckpoint[] | null> {
  const url = new URL('checkpoints/manifest.json', environment.baseUrl).href;
  const response = await fetchServed(environment, url, 'The checkpoint manifest');
  if (!response) return null;
  let manifest: { checkpoints?: unknown };
  try {
    manifest = (await response.json()) as { checkpoints?: unknown };
  } catch (error) {
    throw new DownloadError(`The checkpoint manifest ${url} is not readable JSON: ${error instanceof Error ? error.message : String(error)}.`, url, response.status);
  }
  if (!Array.isArray(manifest.checkpoints)) throw new DownloadError(`The checkpoint manifest ${url} lists no "checkpoints".`, url, response.status);
  return manifest.checkpoints as ShippedCheckpoint[];
}
