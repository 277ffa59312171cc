// What a run needs from the world it runs in, passed in so that the same run loop runs in the
// browser's training worker (fetch, IndexedDB), in Node (the CLI, `npm run study`) and in tests:
// where files are fetched from, where downloaded data is cached, and where bases pretrained in the
// browser are kept.
import type { PretrainedWeightsInfo } from '../baseWeights';

export interface CachedBlob {
  blob: Blob;
  /** Where it came from: a URL or a file name. */
  source: string;
  /** What was stored with it (a hub file's sha256 and size: hub/hubFiles.ts). */
  meta?: unknown;
}

/** A key → blob cache that may refuse (no storage, full quota): then `put` says false. */
export interface BlobCache {
  get(key: string): Promise<CachedBlob | null>;
  put(key: string, blob: Blob, source: string, meta?: unknown): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Bytes the storage can still take, where it can say (to report a full quota with the size needed). */
  freeBytes?(): Promise<number | null>;
}

/** The bases pretrained in this browser ("Pretrain base model"), by pretrainedKeyOf. */
export interface PretrainedBases {
  get(key: string): Promise<{ bytes: ArrayBuffer; info: PretrainedWeightsInfo } | null>;
}

export interface RunEnvironment {
  /** Checkpoints (checkpoints/manifest.json) and data are fetched relative to it. */
  baseUrl: string;
  fetch: (url: string, init?: RequestInit) => Promise<Response>;
  /** Where the CIFAR-10 archive is kept between runs. */
  dataCache: BlobCache;
  pretrainedBases: PretrainedBases;
  /** Waits before each retry of a failed download (fetchRetry.ts; default 250 ms, 1 s, 4 s). */
  retryDelaysMs?: readonly number[];
}

export const NO_BLOB_CACHE: BlobCache = { get: async () => null, put: async () => false, delete: async () => {} };
export const NO_PRETRAINED_BASES: PretrainedBases = { get: async () => null };

/** A fetch for which nothing is served: every URL answers 404 (tests of runs from random init). */
export const nothingServed = async (): Promise<Response> => new Response(null, { status: 404, statusText: 'Not Found' });

/** An environment that fetches from `baseUrl` and keeps nothing (Node, tests). */
export function plainEnvironment(baseUrl: string, overrides: Partial<Omit<RunEnvironment, 'baseUrl'>> = {}): RunEnvironment {
  return { baseUrl, fetch: (url, init) => fetch(url, init), dataCache: NO_BLOB_CACHE, pretrainedBases: NO_PRETRAINED_BASES, ...overrides };
}
