// The training worker: owns tfjs and its backend so the page stays responsive.
/// <reference lib="webworker" />
import { initBackend } from '../core/backend';
import { backendSelfTest } from '../core/selfTest';
import type { WorkerRequest, WorkerResponse } from './protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (message: WorkerResponse) => scope.postMessage(message);

let backendReady: ReturnType<typeof initBackend> | null = null;

scope.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  try {
    switch (request.type) {
      case 'init': {
        backendReady ??= initBackend();
        post({ type: 'ready', report: await backendReady });
        break;
      }
      case 'self_test': {
        backendReady ??= initBackend();
        await backendReady;
        post({ type: 'self_test_result', result: await backendSelfTest() });
        break;
      }
    }
  } catch (error) {
    post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
};
