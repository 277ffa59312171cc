// The page's side of the worker protocol: one worker, typed requests, responses into the store.
import type { WorkerRequest, WorkerResponse } from '../lab/protocol';

export type ResponseHandler = (message: WorkerResponse) => void;

export function startTrainingWorker(onMessage: ResponseHandler): { send: (request: WorkerRequest) => void; terminate: () => void } {
  const worker = new Worker(new URL('../worker/training.worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (event: MessageEvent<WorkerResponse>) => onMessage(event.data);
  worker.onerror = (event) => onMessage({ type: 'error', message: event.message || 'The training worker failed to start.' });
  return {
    send: (request) => worker.postMessage(request),
    terminate: () => worker.terminate(),
  };
}
