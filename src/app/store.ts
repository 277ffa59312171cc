// The lab's one zustand store: configuration, run state and results live here; components read
// slices and call actions, and own no shared state.
import { create } from 'zustand';
import type { BackendReport } from '../core/backendInfo';
import type { SelfTestResult, WorkerRequest, WorkerResponse } from '../worker/protocol';
import { startTrainingWorker } from './workerClient';

export interface LabState {
  backend: BackendReport | null;
  backendError: string | null;
  selfTest: SelfTestResult | null;
  connect: () => void;
  runSelfTest: () => void;
}

let send: ((request: WorkerRequest) => void) | null = null;

export const useLabStore = create<LabState>((set) => {
  const onMessage = (message: WorkerResponse) => {
    switch (message.type) {
      case 'ready':
        set({ backend: message.report, backendError: null });
        break;
      case 'self_test_result':
        set({ selfTest: message.result });
        break;
      case 'error':
        set({ backendError: message.message });
        break;
    }
  };
  return {
    backend: null,
    backendError: null,
    selfTest: null,
    connect: () => {
      if (send) return;
      send = startTrainingWorker(onMessage).send;
      send({ type: 'init' });
    },
    runSelfTest: () => send?.({ type: 'self_test' }),
  };
});
