// The WebGPU device under tfjs and the two ways it fails a run: it is lost (a driver reset, another
// tab's crash, `device.destroy()`), or it refuses a step's allocation (a buffer over its limits, out
// of memory). WebGPU reports the second asynchronously, as an error on the device and never as an
// exception, so a step that overflows would otherwise go on with invalid buffers; the run loop
// wraps its GPU work in `withGpuErrorScope` and checks a configuration against `bufferLimitsOf`
// before it starts. Off WebGPU (CPU, wasm, WebGL, Node) there is no device and all of this is a no-op.
import * as tf from '@tensorflow/tfjs';

import type { BufferLimits } from './profile/bufferLimits';

/** The part of a GPUDevice this file uses (a fake in unit tests). */
export interface GpuDeviceLike {
  readonly lost: Promise<{ reason: string; message: string }>;
  readonly limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  pushErrorScope(filter: GpuErrorFilter): void;
  popErrorScope(): Promise<{ message: string } | null>;
}

export type GpuErrorFilter = 'validation' | 'out-of-memory' | 'internal';

/** The active backend's GPUDevice (tfjs-backend-webgpu's `device`), or null off WebGPU. */
export function activeGpuDevice(): GpuDeviceLike | null {
  if (tf.getBackend() !== 'webgpu') return null;
  return (tf.backend() as unknown as { device?: GpuDeviceLike }).device ?? null;
}

export function bufferLimitsOf(device: GpuDeviceLike): BufferLimits {
  return { maxBufferSize: device.limits.maxBufferSize, maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize };
}

/** An error the device reported for work the run gave it: the browser's message, with its kind. */
export class GpuError extends Error {
  constructor(
    readonly filter: GpuErrorFilter,
    readonly deviceMessage: string,
  ) {
    super(filter === 'out-of-memory' ? `The GPU ran out of memory: ${deviceMessage}` : `The GPU refused this step (${filter} error): ${deviceMessage}`);
    this.name = 'GpuError';
  }
}

/** The filters a step is watched for, innermost last (an error goes to the innermost scope that matches). */
const SCOPES: readonly GpuErrorFilter[] = ['internal', 'out-of-memory', 'validation'];

/**
 * Runs `work` (which must await its results, so its commands are submitted) under error scopes for
 * validation, out-of-memory and internal errors, and throws a GpuError with the first one the
 * device reported; that error wins over whatever `work` threw because of it (a readback of an
 * invalid buffer). Without a device it just runs `work`.
 */
export async function withGpuErrorScope<T>(work: () => Promise<T>, device: GpuDeviceLike | null = activeGpuDevice()): Promise<T> {
  if (!device) return work();
  for (const filter of SCOPES) device.pushErrorScope(filter);
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: await work() };
  } catch (error) {
    outcome = { error };
  }
  // Popped innermost first, awaited together (one round trip to the GPU process, not three). A lost
  // device rejects the pops; the loss itself is reported through device.lost.
  const popped = await Promise.all(
    [...SCOPES].reverse().map((filter) =>
      device.popErrorScope().then(
        (error) => (error ? new GpuError(filter, error.message) : null),
        () => null,
      ),
    ),
  );
  const reported = popped.find((error) => error !== null);
  if (reported) throw reported;
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

/** A lost device's info in words: its reason and the browser's message. */
export function describeDeviceLoss(info: { reason: string; message: string }): string {
  const message = info.message.trim().replace(/\.$/, '');
  return message ? `reason: ${info.reason}, “${message}”` : `reason: ${info.reason}`;
}

/**
 * Follows one device's loss: `lost` once it happened, and `lostWithin` to ask after a failure
 * whether the loss caused it — device.lost resolves a moment after the call that failed because of
 * it (a readback is rejected first), so the question waits that moment.
 */
export class DeviceWatch {
  private lostMessage: string | null = null;
  private readonly loss: Promise<string>;

  constructor(device: Pick<GpuDeviceLike, 'lost'>, onLost?: (message: string) => void) {
    this.loss = device.lost.then((info) => {
      this.lostMessage = describeDeviceLoss(info);
      onLost?.(this.lostMessage);
      return this.lostMessage;
    });
  }

  get lost(): string | null {
    return this.lostMessage;
  }

  async lostWithin(ms: number): Promise<string | null> {
    if (this.lostMessage !== null) return this.lostMessage;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
    try {
      return await Promise.race([this.loss, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
