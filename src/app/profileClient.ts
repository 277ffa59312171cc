// The page's side of the profile worker: requests for the latest configuration only; answers to
// superseded requests are dropped.
import type { ProfileWorkerRequest, ProfileWorkerResponse } from '../lab/protocol';

export function startProfileWorker(onMessage: (message: ProfileWorkerResponse) => void, onFailure: (message: string) => void) {
  const worker = new Worker(new URL('./profile.worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (event: MessageEvent<ProfileWorkerResponse>) => onMessage(event.data);
  worker.onerror = (event) => onFailure(event.message || 'The profile worker failed to start.');
  return { send: (request: ProfileWorkerRequest) => worker.postMessage(request) };
}
