// The training worker: owns tfjs and its backend so the page stays responsive. One run at a time;
// pause/resume/stop address it by id.
/// <reference lib="webworker" />
import { hasErrors, validateConfig, type LabConfig } from '../lab/config';
import { initBackend, restartBackend } from '../core/backend';
import { activeGpuDevice, DeviceWatch } from '../core/gpuDevice';
import type { BackendReport } from '../core/backendInfo';
import type { ImageFolderImport } from '../core/data/imageFolder';
import { DataError } from '../core/data/types';
import { backendSelfTest } from '../core/selfTest';
import { browserDecodeImage, importImages } from './imageImport';
import { CIFAR_IMAGE_SIZE } from '../core/data/cifar10';
import { runPretraining } from './pretrain';
import type { PretrainResponse, RunResponse, WorkerRequest, WorkerResponse } from '../lab/protocol';
import { runTraining } from '../lab/run/run';
import { buildRunExport, ExportUnavailableError } from '../lab/run/exports';
import { RunRecorder } from '../lab/run/record';
import { disposeModel, type Model } from '../core/nn/model';
import { browserRunEnvironment } from '../lab/storage/browserEnvironment';
import { RunControl, Throttle } from '../lab/run/runState';
import { runHubFetchJob } from '../lab/hub/hubFetchJob';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (message: WorkerResponse) => scope.postMessage(message);

let backendReady: Promise<BackendReport> | null = null;
/** The loss of the backend's WebGPU device (null off WebGPU, or before the backend started). */
let deviceWatch: DeviceWatch | null = null;
/** How long a failed run waits for device.lost to say whether a loss caused the failure. */
const DEVICE_LOSS_GRACE_MS = 500;
const deviceLost = () => deviceWatch?.lost ?? null;
const awaitDeviceLoss = async () => (await deviceWatch?.lostWithin(DEVICE_LOSS_GRACE_MS)) ?? null;
let current: { runId: number; control: RunControl; finished: Promise<void> } | null = null;
/** The last finished run's fine-tuned model and record, for its downloads: freed when the next run
 * or pretraining starts. */
let lastRun: { runId: number; model: Model; config: LabConfig; recorder: RunRecorder; labVersion: string } | null = null;

function releaseLastRun(): void {
  if (lastRun) disposeModel(lastRun.model);
  lastRun = null;
}

async function exportRequest({ runId, kind }: Extract<WorkerRequest, { type: 'export' }>) {
  if (lastRun?.runId !== runId) {
    post({ type: 'export_error', runId, kind, message: 'This run’s model is gone (a newer run or pretraining replaced it): run it again to download it.' });
    return;
  }
  try {
    const { model, config, recorder, labVersion } = lastRun;
    const file = await buildRunExport({ model, config, record: recorder.result(), labVersion }, kind);
    // A copy that owns its whole buffer, so it can be transferred rather than cloned.
    const bytes = file.bytes.slice().buffer;
    scope.postMessage({ type: 'export_file', runId, kind, name: file.name, mime: file.mime, bytes } satisfies WorkerResponse, [bytes]);
  } catch (error) {
    const message = error instanceof ExportUnavailableError ? error.message : `The export failed: ${error instanceof Error ? error.message : String(error)}`;
    post({ type: 'export_error', runId, kind, message });
  }
}
/** A "Pretrain base model" job: one at a time, never beside a run. */
let pretraining: { jobId: number; control: RunControl; finished: Promise<void> } | null = null;
/** What this origin's storage can still take (quota − usage), or null where the browser does not say. */
async function storageFreeBytes(): Promise<number | null> {
  try {
    const estimate = await navigator.storage?.estimate?.();
    if (estimate?.quota === undefined || estimate.usage === undefined) return null;
    return Math.max(0, estimate.quota - estimate.usage);
  } catch {
    return null;
  }
}

/** Hub downloads in progress ('hub_fetch'), by job id, to cancel them. */
const hubFetches = new Map<number, AbortController>();
/** The user's images the custom task trains on: replaced only by a complete import. */
let customImages: ImageFolderImport | null = null;
/** Only the newest import may replace them (an older one finishing later is dropped). */
let latestImportId = -1;

/** Import progress at most this often. */
const IMPORT_PROGRESS_INTERVAL_MS = 200;

async function importRequest(request: Extract<WorkerRequest, { type: 'import_images' }>) {
  const { importId } = request;
  latestImportId = importId;
  const throttle = new Throttle(IMPORT_PROGRESS_INTERVAL_MS);
  try {
    const imported = await importImages(request.source, {
      size: request.size,
      seed: request.seed,
      onProgress: (decoded, total) => {
        if (importId === latestImportId && throttle.ready(performance.now(), decoded === total)) post({ type: 'import_progress', importId, decoded, total });
      },
    });
    if (importId !== latestImportId) return;
    customImages = imported;
    post({ type: 'import_done', importId, summary: imported.summary });
  } catch (error) {
    if (importId !== latestImportId) return;
    const message = error instanceof DataError ? error.message : `The images could not be imported: ${error instanceof Error ? error.message : String(error)}`;
    post({ type: 'import_error', importId, message });
  }
}

/** Follows the loss of the backend's WebGPU device: what runs now stops (and says why). */
function watchDevice(report: BackendReport): BackendReport {
  const device = activeGpuDevice();
  deviceWatch = device
    ? new DeviceWatch(device, (lost) => {
        post({ type: 'error', message: `The WebGPU device was lost (${lost}). The next run or pretraining starts a new one.` });
        current?.control.stop();
        pretraining?.control.stop();
      })
    : null;
  return report;
}

/** Starts the backend once; after its device was lost, starts a new one when no run or pretraining
 * holds the old one's tensors (the page hears 'ready' again, which clears the loss it was told). */
function ensureBackend(): Promise<BackendReport> {
  if (deviceLost() !== null && !current && !pretraining) {
    // Its tensors lived on the lost device: freed before the backend goes.
    releaseLastRun();
    deviceWatch = null;
    backendReady = restartBackend().then((report) => {
      post({ type: 'ready', report });
      return watchDevice(report);
    });
  }
  backendReady ??= initBackend().then(watchDevice);
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
  if (pretraining) {
    // The page starts no run while pretraining; if one comes anyway, it wins.
    pretraining.control.stop();
    await pretraining.finished;
  }
  releaseLastRun();
  const report = await ensureBackend();
  const control = new RunControl();
  const recorder = new RunRecorder(request.config);
  const finished = runTraining({
    runId: request.runId,
    config: request.config,
    environment: browserRunEnvironment(request.baseUrl, storageFreeBytes),
    labVersion: request.labVersion,
    measureMemory: request.measureMemory,
    control,
    post: (message: RunResponse) => {
      recorder.accept(message);
      post(message);
    },
    keepModel: (model) => {
      lastRun = { runId: request.runId, model, config: request.config, recorder, labVersion: request.labVersion };
    },
    adapter: adapterInWords(report),
    deviceLost,
    awaitDeviceLoss,
    dataInputs: { customImages, cifarArchive: request.cifarArchive, decodePng: (png) => browserDecodeImage(png, 'image.png', CIFAR_IMAGE_SIZE) },
    baseWeightsFile: request.baseWeightsFile,
  });
  current = { runId: request.runId, control, finished };
  await finished;
  if (current?.runId === request.runId) current = null;
}

async function pretrain(request: Extract<WorkerRequest, { type: 'pretrain' }>) {
  const { jobId } = request;
  const fail = (message: string) => post({ type: 'pretrain_error', jobId, message });
  const issues = validateConfig(request.config);
  if (hasErrors(issues)) return fail(`The configuration is invalid: ${issues.filter((issue) => issue.severity === 'error').map((issue) => `${issue.field}: ${issue.message}`).join(' ')}`);
  if (!Number.isInteger(request.epochs) || request.epochs < 1 || !Number.isInteger(request.trainImages) || request.trainImages < 1) {
    return fail(`Pretraining needs a whole number of epochs and images (got ${request.epochs} and ${request.trainImages}).`);
  }
  if (current) return fail('A fine-tuning run is in progress: stop it before pretraining.');
  if (pretraining) {
    pretraining.control.stop();
    await pretraining.finished;
  }
  releaseLastRun();
  await ensureBackend();
  const control = new RunControl();
  const finished = runPretraining({
    jobId,
    config: request.config,
    epochs: request.epochs,
    trainImages: request.trainImages,
    control,
    post: (message: PretrainResponse) => post(message),
    deviceLost,
  });
  pretraining = { jobId, control, finished };
  await finished;
  if (pretraining?.jobId === jobId) pretraining = null;
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
      case 'import_images':
        await importRequest(request);
        break;
      case 'pretrain':
        await pretrain(request);
        break;
      case 'cancel_pretrain':
        if (pretraining?.jobId === request.jobId) pretraining.control.stop();
        break;
      case 'hub_fetch': {
        const controller = new AbortController();
        hubFetches.set(request.jobId, controller);
        const { fetch, dataCache } = browserRunEnvironment(request.hubUrl, storageFreeBytes);
        await runHubFetchJob(request, { fetch, cache: dataCache, signal: controller.signal, post }).finally(() => hubFetches.delete(request.jobId));
        break;
      }
      case 'cancel_hub_fetch':
        hubFetches.get(request.jobId)?.abort();
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
      case 'export':
        await exportRequest(request);
        break;
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (request.type === 'start') post({ type: 'run_error', runId: request.runId, kind: 'internal', message });
    else if (request.type === 'pretrain') post({ type: 'pretrain_error', jobId: request.jobId, message });
    else if (request.type === 'hub_fetch') post({ type: 'hub_fetch_error', jobId: request.jobId, message });
    else post({ type: 'error', message });
  }
};
