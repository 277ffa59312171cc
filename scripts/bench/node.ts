// `npm run bench -- --node-webgpu`: the bench's cells in Node on Dawn (the npm package `webgpu`),
// no browser. The same BenchPage as the Chromium one (browser.ts), calling the same benchCells
// functions directly instead of through the harness page, so the report is the same. Dawn itself is
// installed as navigator.gpu by dawn.ts, before tfjs loads.
import * as tf from '@tensorflow/tfjs';

import { browserPlatform, initBackend } from '../../src/core/backend';
import { measureMatmulRate, runCoreCell, runTfLayersBaselineCell } from '../../src/core/baselines/benchCells';
import type { BenchPage } from './browser';
import type { NodeDawnEnvironment } from './environment';
import { dawnGpu, NODE_WEBGPU_FLAG } from './dawn';
import { noAdapterMessage } from './vulkanIcd';


export async function openNodeBench(onStep: () => void): Promise<BenchPage> {
  const dawn = dawnGpu();
  if (dawn === null) throw new Error(`Dawn was not installed: scripts/bench/dawn.ts must be the first import of the bench, run with ${NODE_WEBGPU_FLAG}`);
  if ('error' in dawn) throw new Error(`cannot load Dawn (npm install webgpu; it ships dawn.node for linux-x64, linux-arm64, darwin and win32): ${dawn.error}`);
  const adapter = await dawn.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error(noAdapterMessage(dawn.vulkanDriver));
  const backend = await initBackend(browserPlatform, ['webgpu']).catch((error: unknown) => {
    throw new Error(`tfjs-backend-webgpu did not start on Dawn (adapter ${adapter.info.vendor} ${adapter.info.architecture}): ${error instanceof Error ? error.message : String(error)}`);
  });
  const environment: NodeDawnEnvironment = {
    runtime: 'node + dawn',
    userAgent: navigator.userAgent,
    backend,
    tfjsVersion: tf.version.tfjs,
    hardwareConcurrency: navigator.hardwareConcurrency,
    nodeVersion: process.versions.node,
    webgpuPackage: dawn.webgpuPackage,
    vulkanDriver: dawn.vulkanDriver,
  };
  return {
    environment,
    measureMatmulRate: (options) => measureMatmulRate(options),
    runCoreCell: (request) => runCoreCell(request, onStep),
    runTfLayersBaseline: (options, batch, protocol, core) => runTfLayersBaselineCell(options, batch, protocol, onStep, core),
    measureUiRun: null,
    close: async () => {
      tf.engine().reset();
    },
  };
}
