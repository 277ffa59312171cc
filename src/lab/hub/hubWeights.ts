// Base weights 'hub': timm's ImageNet-pretrained weights for the run's model, from this browser's
// cache or downloaded (hubFiles.ts), mapped onto the lab's spec (core/weights/timm.ts) and loaded
// whole or not at all. The 1000-class ImageNet head is never loaded: the run's model has a new head
// for the task's classes, which trains (config.trainsNewHead).
import { DataError } from '../../core/data/types';
import type { ModelSpec } from '../../core/models/spec';
import type { Model } from '../../core/nn/model';
import { loadTimmSafetensors } from '../../core/weights/load';
import { headParamNames } from '../../core/weights/torchvision';
import type { CheckpointStatus } from '../protocol';
import type { BlobCache } from '../run/environment';
import { hubBaseFileOf, hubBaseProblem } from './hubBases';
import { fetchHubFile } from './hubFiles';

const FIELD = 'Base weights';

export interface HubBaseSource {
  hubUrl: string;
  fetch: (url: string, init?: RequestInit) => Promise<Response>;
  cache: BlobCache;
  retryDelaysMs?: readonly number[];
  signal?: AbortSignal;
}

/** Loads the hub's ImageNet weights of `spec`'s model into `model` (all but the head); the download
 * fails with a DownloadError naming URL and status, a size that does not fit with a DataError. */
export async function loadHubBase(model: Model, spec: ModelSpec, source: HubBaseSource): Promise<Extract<CheckpointStatus, { kind: 'loaded' }>> {
  const problem = hubBaseProblem(spec.options);
  if (problem) throw new DataError(FIELD, problem);
  const file = hubBaseFileOf(spec.options.model);
  const fetched = await fetchHubFile(file, { hubUrl: source.hubUrl, fetch: source.fetch, cache: source.cache, retryDelaysMs: source.retryDelaysMs, signal: source.signal });
  const name = `${file.repo} (revision ${file.revision})`;
  try {
    // Every key and shape is checked before the first assignment: on error the model is unchanged.
    loadTimmSafetensors(model, fetched.bytes, { source: `${file.repo}/${file.path}`, skip: headParamNames(spec) });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new DataError(FIELD, `${message}\nThe file at ${source.hubUrl} is not timm's ${spec.options.model} at width 1: check the Hub URL.`);
  }
  return { kind: 'loaded', origin: 'hub', file: name, cleanTestAccuracy: null, headSkipped: true, sha256: fetched.sha256, fromCache: fetched.fromCache, droppedCorruptEntry: fetched.droppedCorruptEntry };
}
