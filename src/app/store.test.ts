// The store's requests to its workers: the charts' profiles at most once per interval while the
// configuration changes on every keystroke (the first at once, the newest at the end), and the
// training worker (tfjs) started by the first request that needs it, not by loading the store.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProfileWorkerRequest, WorkerRequest } from '../lab/protocol';
import { DEFAULT_CONFIG } from '../lab/config';

const profileSent: ProfileWorkerRequest[] = [];
const trainingSent: WorkerRequest[] = [];
let trainingWorkersStarted = 0;

vi.mock('./profileClient', () => ({
  startProfileWorker: () => ({ send: (request: ProfileWorkerRequest) => profileSent.push(request) }),
}));
vi.mock('./workerClient', () => ({
  startTrainingWorker: () => {
    trainingWorkersStarted += 1;
    return { send: (request: WorkerRequest) => trainingSent.push(request), terminate: () => undefined };
  },
}));

const { useLabStore, PROFILE_REQUEST_INTERVAL_MS } = await import('./store');

describe('the lab store', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('asks for profiles at most once per interval, the newest configuration last', () => {
    const { requestProfiles } = useLabStore.getState();
    requestProfiles({ ...DEFAULT_CONFIG, batchSize: 1 });
    expect(profileSent.map((r) => r.type === 'profile' && r.request.batch)).toEqual([1]);
    // Keystrokes within the interval: none sent yet, the newest kept.
    requestProfiles({ ...DEFAULT_CONFIG, batchSize: 12 });
    requestProfiles({ ...DEFAULT_CONFIG, batchSize: 128 });
    expect(profileSent).toHaveLength(1);
    vi.advanceTimersByTime(PROFILE_REQUEST_INTERVAL_MS);
    expect(profileSent.map((r) => r.type === 'profile' && r.request.batch)).toEqual([1, 128]);
    // The answer to the newest request is the one kept.
    const ids = profileSent.map((r) => r.requestId);
    expect(new Set(ids).size).toBe(2);
  });

  it('starts the training worker at the first request that needs it', () => {
    expect(trainingWorkersStarted).toBe(0);
    vi.stubGlobal('document', { baseURI: 'http://localhost/' });
    useLabStore.getState().startRun();
    expect(trainingWorkersStarted).toBe(1);
    expect(trainingSent.map((r) => r.type)).toEqual(['init', 'start']);
    useLabStore.getState().connect();
    expect(trainingWorkersStarted).toBe(1);
  });
});
