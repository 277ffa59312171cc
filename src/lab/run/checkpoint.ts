// The base weights of a run, as config.baseWeights chooses: the shipped checkpoint of the run's size
// (public/checkpoints/manifest.json, written by npm run pretrain; none served (404) is not an error:
// the run starts from random init and says so, but a failed or unreadable download is), the base pretrained in this
// browser (IndexedDB), a torchvision safetensors or .pth file the user imported, or random init. A task
// with a new head (unseen classes, the user's images) keeps its classifier at random init whatever
// the source. Files are checked whole before anything is assigned, so a file that does not fit
// leaves the model as it was and the run fails with an error naming the key.
import type { BaseWeightsId } from '../config';
import { findShippedCheckpoint, sizeInWords } from '../baseWeights';
import { DataError } from '../../core/data/types';
import type { ModelSpec } from '../../core/models/spec';
import type { Model } from '../../core/nn/model';
import type { PretrainTask } from '../../core/train/pretrainTasks';
import { PickleError } from '../../core/weights/pickle';
import { PthError } from '../../core/weights/pth';
import { headParamNames } from '../../core/weights/torchvision';
import { loadTorchvisionFile, loadTorchvisionSafetensors } from '../../core/weights/load';
import type { CheckpointStatus } from '../protocol';
import type { RunEnvironment } from './environment';
import { DownloadError, fetchServed } from './fetchRetry';
import { fetchManifest } from './manifest';
import { loadHubBase } from '../hub/hubWeights';
import { DEFAULT_HUB_URL } from '../hub/hubUrl';

const NO_CHECKPOINT = (why: string): CheckpointStatus => ({
  kind: 'none',
  message: `No pretrained checkpoint for this size (${why}): starting from random init, so the “before fine-tuning” accuracy is chance level.`,
});

/**
 * Loads the checkpoint of `spec`'s size for `pretrainTask` into `model`, when the manifest lists
 * one. `freshHead`: the classifier keeps its random init (unseen classes: a new 5-way head; the
 * user's images: one output per class).
 */
export async function loadBaseCheckpoint(
  model: Model,
  spec: ModelSpec,
  pretrainTask: PretrainTask,
  environment: Pick<RunEnvironment, 'baseUrl' | 'fetch' | 'retryDelaysMs'>,
  freshHead: boolean,
): Promise<CheckpointStatus> {
  const entries = await fetchManifest(environment);
  if (!entries) return NO_CHECKPOINT('no checkpoints/manifest.json is served');
  const entry = findShippedCheckpoint(entries, spec.options, pretrainTask, freshHead);
  if (!entry) return NO_CHECKPOINT(`none of ${sizeInWords(spec.options)}`);
  const url = new URL(`checkpoints/${entry.file}`, environment.baseUrl).href;
  const response = await fetchServed(environment, url, 'The pretrained checkpoint');
  if (!response) throw new DownloadError(`The pretrained checkpoint ${url} is listed in the manifest but not served (HTTP 404).`, url, 404);
  const bytes = await response.arrayBuffer();
  loadTorchvisionSafetensors(model, bytes, { source: entry.file, skip: freshHead ? headParamNames(spec) : [] });
  return { kind: 'loaded', origin: 'shipped', file: entry.file, cleanTestAccuracy: entry.cleanTestAccuracy, headSkipped: freshHead };
}

export interface BaseWeightsSource {
  choice: BaseWeightsId;
  pretrainTask: PretrainTask;
  /** Where the shipped checkpoints are fetched from and the browser's bases are kept. */
  environment: Pick<RunEnvironment, 'baseUrl' | 'fetch' | 'pretrainedBases' | 'retryDelaysMs' | 'dataCache'>;
  /** Where the hub's ImageNet weights are downloaded from (config.hubUrl; the hub itself by default); they are cached in the data cache. */
  hubUrl?: string;
  /** Cancels a download of the base (the run was stopped). */
  signal?: AbortSignal;
  /** The classifier stays at its random init (a task with a new head). */
  freshHead: boolean;
  /** The IndexedDB key of the base pretrained in this browser for the run's configuration (pretrainedKeyOf). */
  pretrainedKey: string;
  /** The torchvision state_dict the user imported (.safetensors, or a torch.save .pth/.pt). */
  importedFile?: Blob & { name?: string };
}

const FIELD = 'Base weights';

/** Loads the chosen base weights into `model` (random init stays for 'random'), and says what it did. */
export async function loadBaseWeights(model: Model, spec: ModelSpec, source: BaseWeightsSource): Promise<CheckpointStatus> {
  const skip = source.freshHead ? headParamNames(spec) : [];
  switch (source.choice) {
    case 'shipped':
      return loadBaseCheckpoint(model, spec, source.pretrainTask, source.environment, source.freshHead);
    case 'hub':
      return loadHubBase(model, spec, { hubUrl: source.hubUrl ?? DEFAULT_HUB_URL, fetch: source.environment.fetch, cache: source.environment.dataCache, retryDelaysMs: source.environment.retryDelaysMs, signal: source.signal });
    case 'random':
      return { kind: 'none', chosen: true, message: 'Random init, as chosen under Base weights: the “before fine-tuning” accuracy is chance level.' };
    case 'browser': {
      const cached = await source.environment.pretrainedBases.get(source.pretrainedKey);
      if (!cached) {
        throw new DataError(FIELD, `no base model of this size is pretrained in this browser (${sizeInWords(spec.options)}): press “Pretrain base model”, or choose other base weights.`);
      }
      const name = `the base pretrained in this browser (${cached.info.epochs} epoch${cached.info.epochs === 1 ? '' : 's'} on ${cached.info.trainImages} images)`;
      try {
        loadTorchvisionSafetensors(model, cached.bytes, { source: name, skip });
      } catch (error) {
        throw new DataError(FIELD, `${error instanceof Error ? error.message : String(error)}\nPretrain it again.`);
      }
      return { kind: 'loaded', origin: 'browser', file: name, cleanTestAccuracy: cached.info.cleanTestAccuracy, headSkipped: source.freshHead };
    }
    case 'imported': {
      const file = source.importedFile;
      if (!file) throw new DataError(FIELD, 'no weights file is chosen: choose a torchvision .safetensors or .pth file under Base weights (a file does not travel in a link).');
      const name = file.name || 'the imported file';
      let bytes: ArrayBuffer;
      try {
        bytes = await file.arrayBuffer();
      } catch (error) {
        throw new DataError(FIELD, `${name} could not be read: ${error instanceof Error ? error.message : String(error)}.`);
      }
      try {
        // The format comes from the bytes, not the name; everything is checked before the first
        // assignment: on error the model is unchanged.
        await loadTorchvisionFile(model, bytes, { source: name, skip });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // A file that is not a readable state_dict says why by itself; the size hint is for one that is.
        if (error instanceof PthError || error instanceof PickleError) throw new DataError(FIELD, message);
        throw new DataError(FIELD, `${message}\nChoose weights of ${sizeInWords(spec.options)}${source.freshHead ? ' (the classifier is not loaded: any class count fits)' : ''}, or set the model to the file’s.`);
      }
      return { kind: 'loaded', origin: 'imported', file: name, cleanTestAccuracy: null, headSkipped: source.freshHead };
    }
  }
}
