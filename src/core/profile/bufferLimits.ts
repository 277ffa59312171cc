// Whether a step's largest tensor fits in one WebGPU buffer. A device caps every buffer
// (maxBufferSize) and every buffer a shader binds (maxStorageBufferBindingSize); tfjs gives each
// tensor one buffer and binds it whole, so a layer output over either cap cannot run at all, however
// much memory is free. Checked from the analytic profile before a run starts (the largest output,
// batch included, is a lower bound on the largest buffer: kernels' workspaces can be larger, which
// the run's error scopes catch). Pure: no tfjs.
import type { AnalyticProfile } from './types';

export interface BufferLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export type BufferLimitName = keyof BufferLimits;

export interface BufferOverLimit {
  /** The spec node whose output is the largest tensor of the step. */
  nodeId: string;
  bytes: number;
  /** The tighter of the two limits, which it exceeds. */
  limit: BufferLimitName;
  limitBytes: number;
}

/** The step's largest layer output when it exceeds the tighter of the device's buffer limits, else null. */
export function largestOutputOverLimit(profile: Pick<AnalyticProfile, 'nodes'>, limits: BufferLimits): BufferOverLimit | null {
  const limit: BufferLimitName = limits.maxStorageBufferBindingSize <= limits.maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
  const limitBytes = limits[limit];
  let largest: { nodeId: string; bytes: number } | null = null;
  for (const node of profile.nodes) if (!largest || node.outputBytes > largest.bytes) largest = { nodeId: node.nodeId, bytes: node.outputBytes };
  return largest && largest.bytes > limitBytes ? { ...largest, limit, limitBytes } : null;
}
