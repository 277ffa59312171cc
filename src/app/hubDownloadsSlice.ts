// Downloads of Hugging Face hub files the page starts (the hub's CIFAR-10 parquet files from the data
// card): the training worker fetches each into the browser's cache ('hub_fetch'), with progress and
// Cancel; a run then reads the cached copy. One download per file at a time, keyed by its cache key.
import type { StoreApi } from 'zustand';
import type { LabConfig } from '../lab/config';
import { hubCacheKey, type HubFile } from '../lab/hub/hubUrl';
import type { HubFetchResponse, WorkerRequest } from '../lab/protocol';

export interface HubDownload {
  jobId: number;
  file: HubFile;
  status: 'downloading' | 'done' | 'cancelled' | 'error';
  loadedBytes: number;
  /** null until (or unless) the server says. */
  totalBytes: number | null;
  /** The error in words (status 'error'). */
  message: string | null;
}

export interface HubDownloadsState {
  /** The last download of each file, by hubCacheKey. */
  hubDownloads: Record<string, HubDownload>;
  startHubDownload: (file: HubFile) => void;
  cancelHubDownload: (file: HubFile) => void;
}

interface HostState extends HubDownloadsState {
  config: LabConfig;
  /** Bumped when the cache changes, so the data card lists it again. */
  cacheRevision: number;
}

let nextJobId = 1;

export function createHubDownloadsSlice<S extends HostState>(
  set: StoreApi<S>['setState'],
  get: StoreApi<S>['getState'],
  send: (request: WorkerRequest) => void,
): { state: HubDownloadsState; onHubFetchMessage: (message: HubFetchResponse) => void } {
  const update = (jobId: number, change: (download: HubDownload) => Partial<HubDownload>) => {
    const downloads = get().hubDownloads;
    const key = Object.keys(downloads).find((candidate) => downloads[candidate].jobId === jobId);
    if (key === undefined) return;
    set({ hubDownloads: { ...downloads, [key]: { ...downloads[key], ...change(downloads[key]) } } } as unknown as Partial<S>);
  };

  const onHubFetchMessage = (message: HubFetchResponse) => {
    switch (message.type) {
      case 'hub_fetch_progress':
        update(message.jobId, () => ({ loadedBytes: message.loadedBytes, totalBytes: message.totalBytes }));
        break;
      case 'hub_fetch_done':
        update(message.jobId, () => ({ status: 'done', loadedBytes: message.bytes, totalBytes: message.bytes }));
        set({ cacheRevision: get().cacheRevision + 1 } as Partial<S>);
        break;
      case 'hub_fetch_cancelled':
        update(message.jobId, () => ({ status: 'cancelled' }));
        break;
      case 'hub_fetch_error':
        update(message.jobId, () => ({ status: 'error', message: message.message }));
        break;
    }
  };

  const state: HubDownloadsState = {
    hubDownloads: {},
    startHubDownload: (file) => {
      const key = hubCacheKey(file);
      if (get().hubDownloads[key]?.status === 'downloading') return;
      const jobId = nextJobId++;
      set({ hubDownloads: { ...get().hubDownloads, [key]: { jobId, file, status: 'downloading', loadedBytes: 0, totalBytes: null, message: null } } } as unknown as Partial<S>);
      send({ type: 'hub_fetch', jobId, file, hubUrl: get().config.hubUrl });
    },
    cancelHubDownload: (file) => {
      const download = get().hubDownloads[hubCacheKey(file)];
      if (download?.status === 'downloading') send({ type: 'cancel_hub_fetch', jobId: download.jobId });
    },
  };
  return { state, onHubFetchMessage };
}
