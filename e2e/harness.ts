// Test harness page (built beside the app as harness.html): puts tfjs, the lab's core and its run loop on
// `window.labHarness`, so Playwright specs and the benchmark can run core code on the browser's
// real WebGPU backend with page.evaluate, without going through the UI.
import * as tf from '@tensorflow/tfjs';
import * as backend from '../src/core/backend';
import * as selfTest from '../src/core/selfTest';
import * as bench from '../src/core/baselines/benchCells';
import * as soak from '../src/core/baselines/soak';
import * as adapters from '../src/core/adapters';
import * as linalg from '../src/core/optim/linalg';
import * as models from '../src/core/models/registry';
import * as nnModel from '../src/core/nn/model';
import * as trainStep from '../src/core/train/step';
import * as layers from '../src/core/nn/layers';
import { ACTIVATIONS } from '../src/core/nn/activations';
import { attention } from '../src/core/nn/attention';
import { layerNorm } from '../src/core/nn/layerNorm';
import * as optim from '../src/core/optim';
import * as profile from '../src/core/profile/profile';
import * as measured from '../src/core/profile/measured';
import * as measuredRun from '../src/core/profile/measuredRun';
import * as measuredCompare from '../src/core/profile/measuredCompare';
import * as fusedKernels from '../src/core/kernels/fused';
import type { LabConfig } from '../src/lab/config';
import { plainEnvironment } from '../src/lab/run/environment';
import { recordRun, type RunRecord } from '../src/lab/run/record';
import { RunControl } from '../src/lab/run/runState';

/** One fine-tune through the lab's run loop on this page's backend (`npm run study -- --browser`),
 * its files (checkpoints) fetched from the app beside the harness. */
async function runFinetune(config: LabConfig): Promise<RunRecord & { wallSeconds: number }> {
  const report = await window.labHarnessReady;
  const adapter = report.adapter ? [report.adapter.vendor, report.adapter.architecture].filter(Boolean).join(' ') : report.backend;
  return recordRun(config, {
    environment: plainEnvironment(new URL('../', location.href).href),
    labVersion: 'study',
    measureMemory: false,
    control: new RunControl(),
    adapter,
    deviceLost: () => null,
  });
}

/** The ViT's ops (issue 19), for the WebGPU-vs-CPU checks of e2e/kernels.spec.ts. */
const vitOps = { layerNorm, attention, gelu: ACTIVATIONS.gelu };

const harness = { tf, backend, selfTest, bench, soak, adapters, linalg, models, nnModel, trainStep, layers, vitOps, optim, profile, measured, measuredRun, measuredCompare, fusedKernels, study: { runFinetune } };
export type LabHarness = typeof harness;

declare global {
  interface Window {
    labHarness: LabHarness;
    labHarnessReady: Promise<backend.BackendReport>;
  }
}

window.labHarness = harness;
window.labHarnessReady = backend.initBackend();
