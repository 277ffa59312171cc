// torchvision (and timm) safetensors ⇄ a live tfjs Model (src/core/nn): what the app's "bring your own
// pretrained weights" and "download fine-tuned weights" use, and the CLI's --weights.
import type { Model } from '../nn/model';
import { assignParams, readParams } from '../nn/model';
import { looksLikePth, readPth } from './pth';
import { readSafetensors, writeSafetensors } from './safetensors';
import { exportTorchStateDict, importTorchStateDict, type ImportOptions, type ImportResult } from './torchvision';
import { timmToTorchvision } from './timm';

/**
 * Reads a torchvision state_dict saved as safetensors and assigns it to the model's variables.
 * Everything (file format, names, shapes, dtypes) is checked before the first assignment, so on
 * error the model is unchanged.
 */
export function loadTorchvisionSafetensors(
  model: Model,
  bytes: Uint8Array | ArrayBuffer,
  options: ImportOptions = {},
): ImportResult {
  const source = options.source ?? 'safetensors';
  const file = readSafetensors(bytes, source);
  const result = importTorchStateDict(model.spec, file.tensors, { ...options, source });
  assignParams(model, result.values);
  return result;
}

/**
 * Reads a timm state_dict saved as safetensors (the hub's `timm/<architecture>.<tag>/model.safetensors`),
 * maps it to torchvision's names (timm.ts) and assigns it as loadTorchvisionSafetensors does; `skip`
 * takes torchvision names (headParamNames for a new head). Everything is checked, in timm's names,
 * before the first assignment: on error the model is unchanged.
 */
export function loadTimmSafetensors(model: Model, bytes: Uint8Array | ArrayBuffer, options: ImportOptions = {}): ImportResult {
  const source = options.source ?? 'safetensors';
  const file = readSafetensors(bytes, source);
  const stateDict = timmToTorchvision(model.spec, file.tensors, { source, skip: options.skip });
  const result = importTorchStateDict(model.spec, stateDict, { ...options, source });
  assignParams(model, result.values);
  return result;
}

/**
 * The model's parameters and BN statistics as a torchvision state_dict in safetensors (float32,
 * torch layouts, `num_batches_tracked` = 0), loadable with
 * `model.load_state_dict(safetensors.torch.load_file(path))`.
 */
export async function exportTorchvisionSafetensors(model: Model, metadata: Record<string, string> = {}): Promise<Uint8Array> {
  const values = await readParams(model);
  const stateDict = exportTorchStateDict(model.spec, values, { numBatchesTracked: 0 });
  return writeSafetensors(stateDict, { format: 'pt', ...metadata });
}

/**
 * Reads a torchvision state_dict from a .safetensors file or a torch.save .pth/.pt file (told apart
 * by their first bytes, not by the name) and assigns it as loadTorchvisionSafetensors does: every
 * key, shape and dtype is checked before the first assignment, so on error the model is unchanged.
 */
export async function loadTorchvisionFile(model: Model, bytes: Uint8Array | ArrayBuffer, options: ImportOptions = {}): Promise<ImportResult> {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (!looksLikePth(view)) return loadTorchvisionSafetensors(model, view, options);
  const source = options.source ?? 'pth';
  const result = importTorchStateDict(model.spec, await readPth(view, source), { ...options, source });
  assignParams(model, result.values);
  return result;
}
