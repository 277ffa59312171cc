import { describe, expect, it } from 'vitest';
import { buildModelSpec } from '../models/registry';
import { profileSpec } from './profile';
import { largestOutputOverLimit } from './bufferLimits';

const GIB = 2 ** 30;
const profileAt = (resolution: number, batch: number) =>
  profileSpec(buildModelSpec({ model: 'mobilenet_v2', width: 0.25, resolution, numClasses: 10, stem: 'cifar' }), { batch, optimizer: { kind: 'adam' } });

describe('largestOutputOverLimit', () => {
  it('finds the largest layer output over the tighter limit: MobileNetV2 w0.25 at 512×512, batch 32', () => {
    // features.2's expansion: 32 · 512 · 512 · 48 channels · 4 bytes = 1.5 GiB.
    expect(largestOutputOverLimit(profileAt(512, 32), { maxBufferSize: GIB, maxStorageBufferBindingSize: GIB })).toEqual({
      nodeId: 'features.2.conv.0.0',
      bytes: 32 * 512 * 512 * 48 * 4,
      limit: 'maxStorageBufferBindingSize',
      limitBytes: GIB,
    });
    expect(largestOutputOverLimit(profileAt(512, 32), { maxBufferSize: GIB, maxStorageBufferBindingSize: 2 * GIB })?.limit).toBe('maxBufferSize');
  });

  it('passes a configuration whose every output fits, up to the limit itself', () => {
    expect(largestOutputOverLimit(profileAt(32, 8), { maxBufferSize: 2 ** 28, maxStorageBufferBindingSize: 2 ** 27 })).toBeNull();
    const exact = 8 * 32 * 32 * 48 * 4;
    expect(largestOutputOverLimit(profileAt(32, 8), { maxBufferSize: exact, maxStorageBufferBindingSize: exact })).toBeNull();
    expect(largestOutputOverLimit(profileAt(32, 8), { maxBufferSize: exact, maxStorageBufferBindingSize: exact - 1 })?.bytes).toBe(exact);
  });
});
