import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend, restartBackend, type BackendName, type BackendPlatform, type GpuAdapterInfo } from './backend';

const adapter: GpuAdapterInfo = { vendor: 'google', architecture: 'swiftshader', device: '', description: '', timestampQuery: false };

function fakePlatform(opts: { adapter: GpuAdapterInfo | null; starts: BackendName[]; registered?: BackendName[] }) {
  const attempts: BackendName[] = [];
  const platform: BackendPlatform = {
    probeWebGpuAdapter: async () => opts.adapter,
    setBackend: async (name) => {
      attempts.push(name);
      return opts.starts.includes(name);
    },
    isRegistered: (name) => (opts.registered ?? ['webgpu', 'webgl', 'cpu']).includes(name),
  };
  return { platform, attempts };
}

describe('initBackend fallback order', () => {
  it('picks WebGPU when an adapter exists and the backend starts', async () => {
    const { platform, attempts } = fakePlatform({ adapter, starts: ['webgpu', 'webgl', 'cpu'] });
    const report = await initBackend(platform);
    expect(report.backend).toBe('webgpu');
    expect(report.adapter).toEqual(adapter);
    expect(attempts).toEqual(['webgpu']);
  });

  it('falls back to WebGL without trying WebGPU when there is no adapter', async () => {
    const { platform, attempts } = fakePlatform({ adapter: null, starts: ['webgpu', 'webgl', 'cpu'] });
    const report = await initBackend(platform);
    expect(report.backend).toBe('webgl');
    expect(attempts).toEqual(['webgl']);
    expect(report.skipped).toEqual([{ backend: 'webgpu', reason: 'the browser offers no WebGPU adapter' }]);
  });

  it('falls back to WebGL when WebGPU has an adapter but fails to start, keeping the adapter info', async () => {
    const { platform, attempts } = fakePlatform({ adapter, starts: ['webgl', 'cpu'] });
    const report = await initBackend(platform);
    expect(report.backend).toBe('webgl');
    expect(report.adapter).toEqual(adapter);
    expect(attempts).toEqual(['webgpu', 'webgl']);
  });

  it('falls back to CPU when neither GPU backend starts', async () => {
    const { platform, attempts } = fakePlatform({ adapter: null, starts: ['cpu'], registered: ['webgpu', 'cpu'] });
    const report = await initBackend(platform);
    expect(report.backend).toBe('cpu');
    expect(attempts).toEqual(['cpu']);
    expect(report.skipped.map((s) => s.backend)).toEqual(['webgpu', 'webgl']);
  });

  it('treats a throwing adapter request as no WebGPU', async () => {
    const { platform } = fakePlatform({ adapter: null, starts: ['cpu'] });
    platform.probeWebGpuAdapter = async () => {
      throw new Error('boom');
    };
    const report = await initBackend(platform);
    expect(report.backend).toBe('cpu');
    expect(report.skipped[0]).toEqual({ backend: 'webgpu', reason: 'adapter request failed: boom' });
  });

  it('throws with every reason when nothing starts', async () => {
    const { platform } = fakePlatform({ adapter: null, starts: [] });
    await expect(initBackend(platform)).rejects.toThrow(/webgpu .*webgl .*cpu/);
  });

  it('in Node (the unit-test environment) lands on the real CPU backend', async () => {
    const report = await initBackend();
    expect(report.backend).toBe('cpu');
  });
});

describe('restartBackend (after the WebGPU device was lost)', () => {
  it('replaces the backend with a new instance of the same kind, whose kernels still run', async () => {
    await initBackend();
    const before = tf.backend();
    const report = await restartBackend();
    expect(report.backend).toBe('cpu');
    expect(tf.backend()).not.toBe(before);
    // The factory is registered again (tfjs's removeBackend drops it) and the kernels still run.
    expect(tf.findBackendFactory('cpu')).not.toBeNull();
    const sum = tf.add(tf.scalar(2), tf.scalar(3));
    expect(await sum.data()).toEqual(new Float32Array([5]));
    tf.dispose(sum);
  });
});
