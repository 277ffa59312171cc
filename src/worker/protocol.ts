// The typed messages between the page and the training worker: the one place the protocol lives.
import type { BackendReport } from '../core/backendInfo';

export interface SelfTestResult {
  /** Largest |a − b| / max(|b|, tiny) over the conv output and both gradients, active backend vs CPU. */
  maxRelativeError: number;
  backend: string;
}

export type WorkerRequest =
  | { type: 'init' }
  | { type: 'self_test' };

export type WorkerResponse =
  | { type: 'ready'; report: BackendReport }
  | { type: 'self_test_result'; result: SelfTestResult }
  | { type: 'error'; message: string };
