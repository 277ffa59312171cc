import { describe, expect, it } from 'vitest';
import { describeDeviceLoss, DeviceWatch, GpuError, withGpuErrorScope, type GpuDeviceLike, type GpuErrorFilter } from './gpuDevice';

/** A device whose work reports `errors` (by filter) into the innermost matching scope, as WebGPU does. */
function fakeDevice(errors: Partial<Record<GpuErrorFilter, string>> = {}) {
  const scopes: { filter: GpuErrorFilter; error: { message: string } | null }[] = [];
  let resolveLost: (info: { reason: string; message: string }) => void = () => {};
  const device: GpuDeviceLike & { report(): void; scopes: typeof scopes; lose(info: { reason: string; message: string }): void } = {
    lost: new Promise((resolve) => (resolveLost = resolve)),
    limits: { maxBufferSize: 2 ** 28, maxStorageBufferBindingSize: 2 ** 27 },
    scopes,
    pushErrorScope: (filter) => void scopes.push({ filter, error: null }),
    popErrorScope: async () => {
      const scope = scopes.pop();
      if (!scope) throw new Error('OperationError: no error scope');
      return scope.error;
    },
    report() {
      for (const [filter, message] of Object.entries(errors) as [GpuErrorFilter, string][]) {
        const scope = [...scopes].reverse().find((s) => s.filter === filter);
        if (scope && !scope.error) scope.error = { message };
      }
    },
    lose: (info) => resolveLost(info),
  };
  return device;
}

describe('withGpuErrorScope', () => {
  it('returns the work’s value when the device reports nothing, and leaves no scope behind', async () => {
    const device = fakeDevice();
    expect(await withGpuErrorScope(async () => 42, device)).toBe(42);
    expect(device.scopes).toEqual([]);
  });

  it('throws the validation error the device reported, even when the work itself returned', async () => {
    const device = fakeDevice({ validation: 'Buffer size (2147483648) exceeds the max buffer size limit (268435456).' });
    const outcome = withGpuErrorScope(async () => {
      device.report();
      return 0;
    }, device);
    await expect(outcome).rejects.toThrow(GpuError);
    await expect(outcome).rejects.toMatchObject({ filter: 'validation', deviceMessage: 'Buffer size (2147483648) exceeds the max buffer size limit (268435456).' });
    expect(device.scopes).toEqual([]);
  });

  it('prefers the device’s error to what the work threw because of it', async () => {
    const device = fakeDevice({ 'out-of-memory': 'Out of memory allocating a 1 GiB buffer' });
    const outcome = withGpuErrorScope(async () => {
      device.report();
      throw new Error('mapAsync failed');
    }, device);
    await expect(outcome).rejects.toThrow('The GPU ran out of memory: Out of memory allocating a 1 GiB buffer');
  });

  it('rethrows the work’s own error when the device reported none; without a device it just runs', async () => {
    await expect(withGpuErrorScope(async () => Promise.reject(new Error('shape mismatch')), fakeDevice())).rejects.toThrow('shape mismatch');
    expect(await withGpuErrorScope(async () => 'cpu', null)).toBe('cpu');
  });
});

describe('DeviceWatch', () => {
  it('says the loss in words once device.lost resolves, and tells it to its listener', async () => {
    const device = fakeDevice();
    const heard: string[] = [];
    const watch = new DeviceWatch(device, (message) => heard.push(message));
    expect(watch.lost).toBeNull();
    expect(await watch.lostWithin(5)).toBeNull();
    device.lose({ reason: 'destroyed', message: 'Device was destroyed.' });
    expect(await watch.lostWithin(1000)).toBe('reason: destroyed, “Device was destroyed”');
    expect(watch.lost).toBe('reason: destroyed, “Device was destroyed”');
    expect(heard).toEqual(['reason: destroyed, “Device was destroyed”']);
  });

  it('waits for a loss that comes just after the failure it caused', async () => {
    const device = fakeDevice();
    const watch = new DeviceWatch(device);
    setTimeout(() => device.lose({ reason: 'unknown', message: '' }), 10);
    expect(await watch.lostWithin(5000)).toBe('reason: unknown');
  });

  it('describes a loss without a message by its reason', () => {
    expect(describeDeviceLoss({ reason: 'unknown', message: '  ' })).toBe('reason: unknown');
  });
});
