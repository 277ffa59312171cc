// The shipped base checkpoints (public/checkpoints/manifest.json, written by npm run pretrain):
// find the one matching the run's model size and task, download it and load it. No match is not an
// error (the run starts from random init, and says so); a failed download is.
import type { ModelSpec } from '../core/models/spec';
import type { Model } from '../core/nn/model';
import { headParamNames } from '../core/weights/torchvision';
import { loadTorchvisionSafetensors } from '../core/weights/load';
import type { CheckpointStatus } from './protocol';
import { DownloadError } from './runData';

interface ManifestEntryLike {
  model: string;
  options: { model: string; width: number; resolution: number; stem: string; numClasses: number };
  task: string;
  file: string;
  cleanTestAccuracy: number;
}

const NO_CHECKPOINT = (why: string): CheckpointStatus => ({
  kind: 'none',
  message: `No pretrained checkpoint for this size (${why}): starting from random init, so the “before fine-tuning” accuracy is chance level.`,
});

async function fetchManifest(baseUrl: string): Promise<ManifestEntryLike[] | null> {
  const url = new URL('checkpoints/manifest.json', baseUrl).href;
  let response: Response;
  try {
    response = await fetch(url);
  } catch {
    return null;
  }
  if (!response.ok) return null;
  try {
    const manifest = (await response.json()) as { checkpoints?: unknown };
    return Array.isArray(manifest.checkpoints) ? (manifest.checkpoints as ManifestEntryLike[]) : null;
  } catch {
    return null;
  }
}

/**
 * Loads the checkpoint of `spec`'s size for `pretrainTask` into `model`, when the manifest lists
 * one. `freshHead`: the classifier keeps its random init (unseen classes: a new 5-way head).
 */
export async function loadBaseCheckpoint(
  model: Model,
  spec: ModelSpec,
  pretrainTask: 'source' | 'source_0_4',
  baseUrl: string,
  freshHead: boolean,
): Promise<CheckpointStatus> {
  const entries = await fetchManifest(baseUrl);
  if (!entries) return NO_CHECKPOINT('no checkpoints/manifest.json is served');
  const { model: id, width, resolution, stem, numClasses } = spec.options;
  const entry = entries.find(
    (e) =>
      e.task === pretrainTask &&
      e.options?.model === id &&
      e.options.width === width &&
      e.options.resolution === resolution &&
      e.options.stem === stem &&
      e.options.numClasses === numClasses,
  );
  if (!entry) return NO_CHECKPOINT(`none of ${id} at width ${width}, ${resolution}×${resolution}, ${stem} stem, ${numClasses} classes`);
  const url = new URL(`checkpoints/${entry.file}`, baseUrl).href;
  let bytes: ArrayBuffer;
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    bytes = await response.arrayBuffer();
  } catch (error) {
    throw new DownloadError(`The pretrained checkpoint ${url} could not be downloaded: ${error instanceof Error ? error.message : String(error)}.`);
  }
  loadTorchvisionSafetensors(model, bytes, { source: entry.file, skip: freshHead ? headParamNames(spec) : [] });
  return { kind: 'loaded', file: entry.file, cleanTestAccuracy: entry.cleanTestAccuracy };
}
