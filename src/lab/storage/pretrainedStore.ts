// Base models pretrained in the browser ("Pretrain base model"), cached in IndexedDB beside the
// data (storage.ts): the safetensors bytes as a Blob, with the accuracy and settings as the
// record's meta, under pretrainedWeightsKey(options, task). The worker writes and reads them; the
// page lists them (the Base weights choice, the data cache) and "Clear cached data" removes them.
// No tfjs here: the page imports this module.
import type { PretrainedWeightsInfo } from '../baseWeights';
import { isPretrainedWeightsKey } from '../../core/train/pretrainTasks';
import { getCachedBlob, listCachedData, putCachedBlob } from './indexedDb';

export const PRETRAINED_SOURCE = 'pretrained in this browser';

const isInfo = (meta: unknown): meta is PretrainedWeightsInfo =>
  typeof meta === 'object' && meta !== null && typeof (meta as PretrainedWeightsInfo).key === 'string' && typeof (meta as PretrainedWeightsInfo).cleanTestAccuracy === 'number';

/** Where IndexedDB is unavailable, the bases pretrained since the worker started (until a reload). */
const sessionOnly = new Map<string, { blob: Blob; info: PretrainedWeightsInfo }>();

/** Stores a pretrained base; false when the browser keeps no IndexedDB (or refused): then it is
 * kept in this context's memory until a reload. */
export async function storePretrainedWeights(info: PretrainedWeightsInfo, bytes: Uint8Array): Promise<boolean> {
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
  const stored = await putCachedBlob(info.key, blob, PRETRAINED_SOURCE, info);
  if (stored) sessionOnly.delete(info.key);
  else sessionOnly.set(info.key, { blob, info });
  return stored;
}

/** The cached base under `key` (bytes and what it is), or null. */
export async function getPretrainedWeights(key: string): Promise<{ bytes: ArrayBuffer; info: PretrainedWeightsInfo } | null> {
  const cached = await getCachedBlob(key);
  if (cached && isInfo(cached.info.meta)) return { bytes: await cached.blob.arrayBuffer(), info: cached.info.meta };
  const kept = sessionOnly.get(key);
  return kept ? { bytes: await kept.blob.arrayBuffer(), info: kept.info } : null;
}

/** Every cached pretrained base, newest first; null where IndexedDB is unavailable. */
export async function listPretrainedWeights(): Promise<PretrainedWeightsInfo[] | null> {
  const entries = await listCachedData();
  if (!entries) return null;
  return entries
    .filter((entry) => isPretrainedWeightsKey(entry.key) && isInfo(entry.meta))
    .map((entry) => entry.meta as PretrainedWeightsInfo)
    .sort((a, b) => b.storedAt - a.storedAt);
}
