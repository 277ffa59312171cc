// Test harness page (built beside the app as harness.html): puts tfjs and the lab's core on
// `window.labHarness`, so Playwright specs and the benchmark can run core code on the browser's
// real WebGPU backend with page.evaluate, without going through the UI.
import * as tf from '@tensorflow/tfjs';
import * as backend from '../src/core/backend';
import * as selfTest from '../src/core/selfTest';

const harness = { tf, backend, selfTest };
export type LabHarness = typeof harness;

declare global {
  interface Window {
    labHarness: LabHarness;
    labHarnessReady: Promise<backend.BackendReport>;
  }
}

window.labHarness = harness;
window.labHarnessReady = backend.initBackend();
