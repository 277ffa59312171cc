// The page's side of the profile worker: requests for the latest configuration only; answers to
// superseded requests are dropped.
import type { ProfileRequest, ProfileWorkerRequest, ProfileWorkerResponse } from '../worker/protocol';
import { METHOD_IDS } from '../core/ids';
import type { LabConfig } from './config';
import { methodOptionsOf, modelOptionsOf } from './config';

/** What the profiler needs from a configuration: every method, on the configured model and step. */
export function profileRequestOf(config: LabConfig): ProfileRequest {
  return {
    model: modelOptionsOf(config),
    methods: [...METHOD_IDS],
    methodOptions: methodOptionsOf(config),
    batch: config.batchSize,
    optimizer: config.optimizer,
  };
}

export function startProfileWorker(onMessage: (message: ProfileWorkerResponse) => void, onFailure: (message: string) => void) {
  const worker = new Worker(new URL('./profile.worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (event: MessageEvent<ProfileWorkerResponse>) => onMessage(event.data);
  worker.onerror = (event) => onFailure(event.message || 'The profile worker failed to start.');
  return { send: (request: ProfileWorkerRequest) => worker.postMessage(request) };
}
