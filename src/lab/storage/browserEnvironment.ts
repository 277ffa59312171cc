// The run environment of the browser's training worker: the page's fetch, and IndexedDB for the
// CIFAR-10 archive and the bases pretrained in this browser.
import type { RunEnvironment } from '../run/environment';
import { deleteCachedBlob, getCachedBlob, putCachedBlob } from './indexedDb';
import { getPretrainedWeights } from './pretrainedStore';

export function browserRunEnvironment(baseUrl: string): RunEnvironment {
  return {
    baseUrl,
    fetch: (url) => fetch(url),
    dataCache: {
      get: async (key) => {
        const cached = await getCachedBlob(key);
        return cached ? { blob: cached.blob, source: cached.info.source } : null;
      },
      put: (key, blob, source) => putCachedBlob(key, blob, source),
      delete: (key) => deleteCachedBlob(key),
    },
    pretrainedBases: { get: getPretrainedWeights },
  };
}
