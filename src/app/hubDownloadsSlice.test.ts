// The store's half for hub downloads the page starts: one job per file, its progress, Cancel, and
// the cache listing refreshed once a file is in.
import { describe, expect, it } from 'vitest';
import { createStore } from 'zustand/vanilla';
import type { WorkerRequest } from '../lab/protocol';
import { DEFAULT_CONFIG, type LabConfig } from '../lab/config';
import { hubCacheKey } from '../lab/hub/hubUrl';
import { HUB_CIFAR10_FILES } from '../lab/hub/hubCifar10';
import { createHubDownloadsSlice, type HubDownloadsState } from './hubDownloadsSlice';

interface TestState extends HubDownloadsState {
  config: LabConfig;
  cacheRevision: number;
}

function setup() {
  const sent: WorkerRequest[] = [];
  let slice!: ReturnType<typeof createHubDownloadsSlice<TestState>>;
  const store = createStore<TestState>()((set, get) => {
    slice = createHubDownloadsSlice<TestState>(set, get, (request) => sent.push(request));
    return { ...slice.state, config: { ...DEFAULT_CONFIG, hubUrl: 'http://127.0.0.1:8000' }, cacheRevision: 0 };
  });
  return { store, slice, sent };
}

const { file } = HUB_CIFAR10_FILES.test;
const key = hubCacheKey(file);

describe('hub downloads slice', () => {
  it('asks the worker for the file at the configured hub, follows its progress and refreshes the cache listing when done', () => {
    const { store, slice, sent } = setup();
    store.getState().startHubDownload(file);
    store.getState().startHubDownload(file);
    expect(sent).toEqual([{ type: 'hub_fetch', jobId: expect.any(Number), file, hubUrl: 'http://127.0.0.1:8000' }]);
    const jobId = (sent[0] as Extract<WorkerRequest, { type: 'hub_fetch' }>).jobId;
    slice.onHubFetchMessage({ type: 'hub_fetch_progress', jobId, loadedBytes: 100, totalBytes: 400 });
    expect(store.getState().hubDownloads[key]).toMatchObject({ status: 'downloading', loadedBytes: 100, totalBytes: 400 });
    slice.onHubFetchMessage({ type: 'hub_fetch_done', jobId, bytes: 400, sha256: 'ab', fromCache: false, droppedCorruptEntry: false });
    expect(store.getState().hubDownloads[key]).toMatchObject({ status: 'done', loadedBytes: 400 });
    expect(store.getState().cacheRevision).toBe(1);
  });

  it('cancels the running job, reports errors, and ignores answers of unknown jobs', () => {
    const { store, slice, sent } = setup();
    store.getState().cancelHubDownload(file);
    expect(sent).toEqual([]);
    store.getState().startHubDownload(file);
    const jobId = (sent[0] as Extract<WorkerRequest, { type: 'hub_fetch' }>).jobId;
    store.getState().cancelHubDownload(file);
    expect(sent[1]).toEqual({ type: 'cancel_hub_fetch', jobId });
    slice.onHubFetchMessage({ type: 'hub_fetch_cancelled', jobId });
    expect(store.getState().hubDownloads[key].status).toBe('cancelled');

    store.getState().startHubDownload(file);
    const second = (sent[2] as Extract<WorkerRequest, { type: 'hub_fetch' }>).jobId;
    slice.onHubFetchMessage({ type: 'hub_fetch_error', jobId: second + 100, message: 'not mine' });
    slice.onHubFetchMessage({ type: 'hub_fetch_error', jobId: second, message: 'HTTP 404' });
    expect(store.getState().hubDownloads[key]).toMatchObject({ status: 'error', message: 'HTTP 404' });
    expect(store.getState().cacheRevision).toBe(0);
  });
});
