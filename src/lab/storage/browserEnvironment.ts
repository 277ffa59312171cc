// The run environment of the browser's training worker: the page's fetch, and IndexedDB for the
// CIFAR-10 archive and the bases pretrained in this browser.
import type { RunEnvironment } from '../run/environment';
import { deleteCachedBlob, getCachedBlob, putCachedBlob } from './indexedDb';
import { getPretrainedWeights } from './pretrainedStore';

/** `freeBytes`: what the origin's storage can still take (navigator.storage, which the worker has). */
export function browserRunEnvironment(baseUrl: string, freeBytes?: () => Promise<number | null>): RunEnvironment {
  return {
    baseUrl,
    fetch: (url, init) => fetch(url, init),
    dataCache: {
      get: async (key) => {
        const cached = await getCachedBlob(key);
        return cached ? { blob: cached.blob, source: cached.info.source, meta: cached.info.meta } : null;
      },
      put: (key, blob, source, meta) => putCachedBlob(key, blob, source, meta),
      delete: (key) => deleteCachedBlob(key),
      freeBytes,
    },
    pretrainedBases: { get: getPretrainedWeights },
  };
}
