// The run environment of the lab's run loop in Node: `file:` URLs are read from disk (a missing
// file answers 404, as a static server would), anything else goes to Node's fetch. The default base
// is the repository's public/ folder, where the shipped checkpoints and their manifest live.
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { plainEnvironment, type RunEnvironment } from '../../src/lab/run/environment';

export async function fileFetch(url: string): Promise<Response> {
  if (!url.startsWith('file:')) return fetch(url);
  try {
    return new Response(await readFile(fileURLToPath(url)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Response(null, { status: 404, statusText: 'Not Found' });
    throw error;
  }
}

/** Fetches relative to `base` (a folder, or an http(s) URL); public/ by default. */
export function nodeRunEnvironment(base = 'public'): RunEnvironment {
  const baseUrl = /^https?:\/\//.test(base) ? (base.endsWith('/') ? base : `${base}/`) : `${pathToFileURL(resolve(base)).href}/`;
  return plainEnvironment(baseUrl, { fetch: fileFetch });
}
