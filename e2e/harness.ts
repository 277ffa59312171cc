// Test harness page (built beside the app as harness.html): puts tfjs and the lab's core on
// `window.labHarness`, so Playwright specs and the benchmark can run core code on the browser's
// real WebGPU backend with page.evaluate, without going through the UI.
import * as tf from '@tensorflow/tfjs';
import * as backend from '../src/core/backend';
import * as selfTest from '../src/core/selfTest';
import * as bench from '../src/core/baselines/benchCells';
import * as adapters from '../src/core/adapters';
import * as linalg from '../src/core/optim/linalg';
import * as models from '../src/core/models/registry';
import * as nnModel from '../src/core/nn/model';
import * as trainStep from '../src/core/train/step';
import * as layers from '../src/core/nn/layers';
import * as optim from '../src/core/optim';
import * as profile from '../src/core/profile/profile';
import * as measured from '../src/core/profile/measured';
import * as measuredRun from '../src/core/profile/measuredRun';
import * as measuredCompare from '../src/core/profile/measuredCompare';
import * as fusedKernels from '../src/core/kernels/fused';

const harness = { tf, backend, selfTest, bench, adapters, linalg, models, nnModel, trainStep, layers, optim, profile, measured, measuredRun, measuredCompare, fusedKernels };
export type LabHarness = typeof harness;

declare global {
  interface Window {
    labHarness: LabHarness;
    labHarnessReady: Promise<backend.BackendReport>;
  }
}

window.labHarness = harness;
window.labHarnessReady = backend.initBackend();
