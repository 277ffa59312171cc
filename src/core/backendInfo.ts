// What the backend bootstrap reports, without importing tfjs, so the page can show it cheaply
// (tfjs itself lives in the training worker).

export const BACKEND_ORDER = ['webgpu', 'webgl', 'cpu'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];

export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Whether the adapter can time GPU kernels (per-kernel times in the profiler need it). */
  timestampQuery: boolean;
}

export interface BackendReport {
  backend: BackendName;
  /** Present when a WebGPU adapter was found (even if the backend then failed to start). */
  adapter: GpuAdapterInfo | null;
  /** Backends tried before the one we got, each with why it was skipped. */
  skipped: { backend: BackendName; reason: string }[];
}

/** What a user loses on each fallback, for the banner. */
export function fallbackConsequence(backend: BackendName): string | null {
  switch (backend) {
    case 'webgpu':
      return null;
    case 'webgl':
      return 'Training runs on WebGL instead of WebGPU: slower, no GPU kernel timings, and the allocated-memory readout is WebGL textures, not WebGPU buffers.';
    case 'cpu':
      return 'Training runs on the CPU (no GPU backend): expect it to be very slow; keep models tiny. Memory and FLOP figures stay exact.';
  }
}
