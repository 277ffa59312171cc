// Backend bootstrap: WebGPU when the platform offers an adapter, else WebGL, else CPU. Works in a
// page, a Web Worker and Node (where only CPU exists). Reports what it got and why, so the UI can
// say what the user loses on a fallback.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';

import { BACKEND_ORDER, type BackendName, type BackendReport, type GpuAdapterInfo } from './backendInfo';

export { BACKEND_ORDER, fallbackConsequence, type BackendName, type BackendReport, type GpuAdapterInfo } from './backendInfo';

/** The platform hooks the bootstrap needs; injectable so the fallback order is unit-testable. */
export interface BackendPlatform {
  /** Resolves to the adapter's info, or null when there is no WebGPU or no adapter. */
  probeWebGpuAdapter(): Promise<GpuAdapterInfo | null>;
  /** Switches tfjs to the backend; resolves false (or throws) when it cannot start. */
  setBackend(name: BackendName): Promise<boolean>;
  isRegistered(name: BackendName): boolean;
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<{
    info?: Partial<GpuAdapterInfo>;
    features: { has(name: string): boolean };
  } | null>;
}

/** The real platform: `navigator.gpu` of the page or worker, tfjs's registry. */
export const browserPlatform: BackendPlatform = {
  async probeWebGpuAdapter() {
    const gpu = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
    if (!gpu) return null;
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return null;
    const info = adapter.info ?? {};
    return {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      device: info.device ?? '',
      description: info.description ?? '',
      timestampQuery: adapter.features.has('timestamp-query'),
    };
  },
  async setBackend(name) {
    return tf.setBackend(name);
  },
  isRegistered(name) {
    return tf.findBackendFactory(name) != null;
  },
};

export async function initBackend(
  platform: BackendPlatform = browserPlatform,
  preferred: readonly BackendName[] = BACKEND_ORDER,
): Promise<BackendReport> {
  const skipped: BackendReport['skipped'] = [];
  let adapter: GpuAdapterInfo | null = null;
  for (const name of preferred) {
    if (!platform.isRegistered(name)) {
      skipped.push({ backend: name, reason: 'not available in this environment' });
      continue;
    }
    if (name === 'webgpu') {
      try {
        adapter = await platform.probeWebGpuAdapter();
      } catch (error) {
        skipped.push({ backend: name, reason: `adapter request failed: ${errorMessage(error)}` });
        continue;
      }
      if (!adapter) {
        skipped.push({ backend: name, reason: 'the browser offers no WebGPU adapter' });
        continue;
      }
    }
    let started: boolean;
    try {
      started = await platform.setBackend(name);
    } catch (error) {
      skipped.push({ backend: name, reason: `failed to start: ${errorMessage(error)}` });
      continue;
    }
    if (started) return { backend: name, adapter, skipped };
    skipped.push({ backend: name, reason: 'failed to start' });
  }
  throw new Error(`No tfjs backend could start: ${skipped.map((s) => `${s.backend} (${s.reason})`).join('; ')}`);
}

/** tfjs's registry of backend factories (private to its engine; tfjs is pinned). */
interface BackendRegistry {
  registryFactory: Record<string, { factory: () => tf.KernelBackend | Promise<tf.KernelBackend>; priority: number }>;
}

/**
 * After the WebGPU device was lost: frees the dead backend and starts one again in the preferred
 * order, which asks for a new adapter and device. tfjs's removeBackend forgets the backend's factory
 * too, so it is registered again as it was. Dispose every tensor of the old backend first: its
 * buffers went with the device.
 */
export async function restartBackend(platform: BackendPlatform = browserPlatform, preferred: readonly BackendName[] = BACKEND_ORDER): Promise<BackendReport> {
  const name = tf.getBackend();
  const registered = name ? (tf.engine() as unknown as BackendRegistry).registryFactory[name] : undefined;
  if (name && registered) {
    tf.removeBackend(name);
    tf.registerBackend(name, registered.factory, registered.priority);
  }
  return initBackend(platform, preferred);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
