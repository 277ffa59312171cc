// The training worker: owns tfjs and its backend so the page stays responsive. One run at a time;
// pause/resume/stop address it by id.
/// <reference lib="webworker" />
import * as tf from '@tensorflow/tfjs';
import { hasErrors, validateConfig } from '../app/config';
import { initBackend } from '../core/backend';
import type { BackendReport } from '../core/backendInfo';
import { backendSelfTest } from '../core/selfTest';
import type { RunResponse, WorkerRequest, WorkerResponse } from './protocol';
import { runTraining } from './run';
import { RunControl } from './runState';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (message: WorkerResponse) => scope.postMessage(message);

let backendReady: Promise<BackendReport> | null = null;
let deviceLostMessage: string | null = null;
let current: { runId: number; control: RunControl; finished: Promise<void> } | null = null;

/** Starts the backend once, and listens for the loss of the WebGPU device where tfjs exposes it. */
function ensureBackend(): Promise<BackendReport> {
  backendReady ??= initBackend().then((report) => {
    const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
    void device?.lost.then((info) => {
      deviceLostMessage = info.message || `reason: ${info.reason}`;
      post({ type: 'error', message: `The WebGPU device was lost (${deviceLostMessage}). Reload the page to train again.` });
      current?.control.stop();
    });
    return report;
  });
  return backendReady;
}

function adapterInWords(report: BackendReport): string {
  const adapter = report.adapter;
  if (!adapter) return report.backend === 'webgpu' ? 'unknown GPU' : `no GPU (${report.backend})`;
  return [adapter.vendor, adapter.architecture, adapter.description || adapter.device].filter(Boolean).join(' ') || 'unknown GPU';
}

async function start(request: Extract<WorkerRequest, { type: 'start' }>) {
  const fail = (message: string) => post({ type: 'run_error', runId: request.runId, kind: 'internal', message });
  const issues = validateConfig(request.config);
  if (hasErrors(issues)) {
    fail(`The configuration is invalid: ${issues.filter((issue) => issue.severity === 'error').map((issue) => `${issue.field}: ${issue.message}`).join(' ')}`);
    return;
  }
  if (current) {
    // One run at a time: stop the previous one and wait for it to release its tensors.
    current.control.stop();
    await current.finished;
  }
  const report = await ensureBackend();
  const control = new RunControl();
  const finished = runTraining({
    runId: request.runId,
    config: request.config,
    baseUrl: request.baseUrl,
    labVersion: request.labVersion,
    measureMemory: request.measureMemory,
    control,
    post: (message: RunResponse) => post(message),
    adapter: adapterInWords(report),
    deviceLost: () => deviceLostMessage,
  });
  current = { runId: request.runId, control, finished };
  await finished;
  if (current?.runId === request.runId) current = null;
}

scope.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  try {
    switch (request.type) {
      case 'init':
        post({ type: 'ready', report: await ensureBackend() });
        break;
      case 'self_test':
        await ensureBackend();
        post({ type: 'self_test_result', result: await backendSelfTest() });
        break;
      case 'start':
        await start(request);
        break;
      case 'pause':
        if (current?.runId === request.runId) current.control.pause();
        break;
      case 'resume':
        if (current?.runId === request.runId) current.control.resume();
        break;
      case 'stop':
        if (current?.runId === request.runId) current.control.stop();
        break;
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (request.type === 'start') post({ type: 'run_error', runId: request.runId, kind: 'internal', message });
    else post({ type: 'error', message });
  }
};
