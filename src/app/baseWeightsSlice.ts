// The base-weights half of the store: what the choice can offer (the shipped checkpoints the manifest
// lists, the bases pretrained in this browser), the torchvision file the user imported, and a
// "Pretrain base model" job in the training worker (progress, cancel, result). The worker trains
// and caches; this only reduces its messages and lists IndexedDB.
import type { StoreApi } from 'zustand';
import { fetchManifest } from '../lab/run/manifest';
import type { PretrainPhase, PretrainResponse, WorkerRequest } from '../lab/protocol';
import { listPretrainedWeights } from '../lab/storage/pretrainedStore';
import { pretrainedKeyOf, type PretrainedWeightsInfo, type ShippedCheckpoint } from '../lab/baseWeights';
import type { ConfigField, LabConfig } from '../lab/config';

export interface PretrainJob {
  jobId: number;
  phase: PretrainPhase;
  step: number;
  totalSteps: number;
  epoch: number;
  epochs: number;
  /** Mean loss of the epoch so far (NaN before the first step). */
  loss: number;
  examplesPerSecond: number;
  cancelling: boolean;
}

export interface BaseWeightsState {
  /** The manifest's checkpoints: undefined while read, null when none is served. */
  shippedCheckpoints: ShippedCheckpoint[] | null | undefined;
  /** Why the manifest could not be read (network, server error), or null. */
  shippedCheckpointsError: string | null;
  /** Bases pretrained in this browser: undefined while read, null where IndexedDB is unavailable
   * (then only this session's, which the worker keeps until a reload). */
  pretrainedBases: PretrainedWeightsInfo[] | null | undefined;
  /** The torchvision safetensors file chosen under Base weights (sent with runs that use it). */
  baseWeightsFile: File | null;
  pretrainJob: PretrainJob | null;
  /** The last finished pretraining (`stored` false: kept until a reload only). */
  pretrainResult: { info: PretrainedWeightsInfo; stored: boolean } | null;
  /** The last pretraining's error, or that it was cancelled. */
  pretrainMessage: { kind: 'error' | 'cancelled'; text: string } | null;
  /** Bumped whenever the browser's cache changed (a base stored, the cache cleared): listings read again. */
  cacheRevision: number;
  loadBaseWeightSources: (baseUrl: string) => void;
  refreshPretrainedBases: () => Promise<void>;
  setBaseWeightsFile: (file: File | null) => void;
  startPretraining: (settings: { epochs: number; trainImages: number }) => void;
  cancelPretraining: () => void;
  /** After the cache was cleared elsewhere (DataCache). */
  noteCacheCleared: () => void;
}

interface HostState extends BaseWeightsState {
  config: LabConfig;
  validConfig: LabConfig;
  setField: <F extends ConfigField>(field: F, value: LabConfig[F]) => void;
}

let nextJobId = 1;

/** The shipped checkpoints, read as a run reads them (retries; only a 404 means none served); a
 * manifest that cannot be had is said so, never read as "none". */
async function readManifest(baseUrl: string): Promise<Pick<BaseWeightsState, 'shippedCheckpoints' | 'shippedCheckpointsError'>> {
  try {
    return { shippedCheckpoints: await fetchManifest({ baseUrl, fetch: (url) => fetch(url) }), shippedCheckpointsError: null };
  } catch (error) {
    return { shippedCheckpoints: undefined, shippedCheckpointsError: error instanceof Error ? error.message : String(error) };
  }
}

export function createBaseWeightsSlice<S extends HostState>(
  set: StoreApi<S>['setState'],
  get: StoreApi<S>['getState'],
  send: (request: WorkerRequest) => void,
): { state: BaseWeightsState; onPretrainMessage: (message: PretrainResponse) => void } {
  const patch = (partial: Partial<BaseWeightsState>) => set(partial as unknown as Partial<S>);
  /** Bases the worker could not store (no IndexedDB): listed until a reload. */
  const sessionOnly = new Map<string, PretrainedWeightsInfo>();
  let sourcesLoaded = false;

  const refreshPretrainedBases = async () => {
    const listed = await listPretrainedWeights();
    const session = [...sessionOnly.values()].filter((info) => !listed?.some((entry) => entry.key === info.key));
    patch({ pretrainedBases: listed === null && session.length === 0 ? null : [...session, ...(listed ?? [])] });
  };

  const updateJob = (jobId: number, change: Partial<PretrainJob>) => {
    const job = get().pretrainJob;
    if (job && job.jobId === jobId) patch({ pretrainJob: { ...job, ...change } });
  };

  const onPretrainMessage = (message: PretrainResponse) => {
    const job = get().pretrainJob;
    if (!job || job.jobId !== message.jobId) return;
    switch (message.type) {
      case 'pretrain_phase':
        updateJob(message.jobId, { phase: message.phase });
        break;
      case 'pretrain_progress':
        updateJob(message.jobId, {
          step: message.step,
          totalSteps: message.totalSteps,
          epoch: message.epoch,
          epochs: message.epochs,
          loss: message.loss,
          examplesPerSecond: message.examplesPerSecond,
        });
        break;
      case 'pretrain_done': {
        if (!message.stored) sessionOnly.set(message.info.key, message.info);
        patch({ pretrainJob: null, pretrainResult: { info: message.info, stored: message.stored }, pretrainMessage: null, cacheRevision: get().cacheRevision + 1 });
        void refreshPretrainedBases().then(() => {
          // The new base becomes the base of the configuration it was pretrained for.
          if (pretrainedKeyOf(get().validConfig) === message.info.key) get().setField('baseWeights', 'browser');
        });
        break;
      }
      case 'pretrain_cancelled':
        patch({ pretrainJob: null, pretrainMessage: { kind: 'cancelled', text: 'Pretraining cancelled: nothing was stored.' } });
        break;
      case 'pretrain_error':
        patch({ pretrainJob: null, pretrainMessage: { kind: 'error', text: message.message } });
        break;
    }
  };

  const state: BaseWeightsState = {
    shippedCheckpoints: undefined,
    shippedCheckpointsError: null,
    pretrainedBases: undefined,
    baseWeightsFile: null,
    pretrainJob: null,
    pretrainResult: null,
    pretrainMessage: null,
    cacheRevision: 0,
    loadBaseWeightSources: (baseUrl) => {
      if (sourcesLoaded) return;
      sourcesLoaded = true;
      void readManifest(baseUrl).then(patch);
      void refreshPretrainedBases();
    },
    refreshPretrainedBases,
    setBaseWeightsFile: (file) => {
      patch({ baseWeightsFile: file });
      if (file) get().setField('baseWeights', 'imported');
    },
    startPretraining: ({ epochs, trainImages }) => {
      if (get().pretrainJob) return;
      const jobId = nextJobId++;
      patch({
        pretrainJob: { jobId, phase: 'preparing', step: 0, totalSteps: 0, epoch: 0, epochs, loss: Number.NaN, examplesPerSecond: 0, cancelling: false },
        pretrainMessage: null,
      });
      send({ type: 'pretrain', jobId, config: get().validConfig, epochs, trainImages });
    },
    cancelPretraining: () => {
      const job = get().pretrainJob;
      if (!job) return;
      updateJob(job.jobId, { cancelling: true });
      send({ type: 'cancel_pretrain', jobId: job.jobId });
    },
    noteCacheCleared: () => {
      patch({ cacheRevision: get().cacheRevision + 1 });
      void refreshPretrainedBases();
    },
  };
  return { state, onPretrainMessage };
}
