// The edge planner: what fits my device. For each method, the largest batch whose simultaneous
// peak of one training step (the analytic profiler, the lab's engine view) fits a memory budget;
// when not even batch 1 fits, the smallest peak and what would shrink it. Pure: the page, the CLI
// (`cli fit`) and the tests compute the same answer.
import { applyMethod } from '../core/adapters/definitions';
import { frozenWeightsFor, quantizeFrozenBase } from '../core/quant/quantizeBase';
import { METHOD_IDS, type MethodId } from '../core/ids';
import { buildModelSpec } from '../core/models/registry';
import { analyseSpec } from '../core/profile/graph';
import { simulateStep } from '../core/profile/memory';
import { optimizerCostOfMethod } from '../core/profile/profile';
import { hasErrors, methodOptionsOf, modelOptionsOf, validateConfig, type LabConfig } from './config';

const MIB = 2 ** 20;
const GIB = 2 ** 30;

/**
 * A device and the memory a training process can use on it. `totalBytes` is the device's memory
 * as its maker states it (`source`); `budgetBytes` what is left for training after `reserveBytes`
 * for the operating system, the runtime and the browser — the lab's assumption, said as such.
 */
export interface EdgeDevice {
  id: string;
  name: string;
  totalBytes: number;
  reserveBytes: number;
  budgetBytes: number;
  /** Where the total comes from. */
  source: string;
  /** What the reserve assumes. */
  reserveNote: string;
}

const device = (id: string, name: string, totalBytes: number, reserveBytes: number, source: string, reserveNote: string): EdgeDevice => ({
  id,
  name,
  totalBytes,
  reserveBytes,
  budgetBytes: totalBytes - reserveBytes,
  source,
  reserveNote,
});

const PI_SOURCE = 'Raspberry Pi 4 Model B product brief: 1, 2, 4 or 8 GB LPDDR4-3200 SDRAM';
const PI_RESERVE = 'the lab assumes 512 MiB for a headless Raspberry Pi OS and the training process’s runtime';

export const EDGE_DEVICES: readonly EdgeDevice[] = [
  device('rpi4-1gb', 'Raspberry Pi 4, 1 GB', 1 * GIB, 512 * MIB, PI_SOURCE, PI_RESERVE),
  device('rpi4-2gb', 'Raspberry Pi 4, 2 GB', 2 * GIB, 512 * MIB, PI_SOURCE, PI_RESERVE),
  device('rpi4-4gb', 'Raspberry Pi 4, 4 GB', 4 * GIB, 512 * MIB, PI_SOURCE, PI_RESERVE),
  device('rpi4-8gb', 'Raspberry Pi 4, 8 GB', 8 * GIB, 512 * MIB, PI_SOURCE, PI_RESERVE),
  device(
    'jetson-nano-4gb',
    'Jetson Nano, 4 GB',
    4 * GIB,
    1 * GIB,
    'NVIDIA Jetson Nano Developer Kit specifications: 4 GB 64-bit LPDDR4, shared by the CPU and the GPU',
    'the lab assumes 1 GiB for L4T (Ubuntu) and the CUDA runtime, which share the same memory',
  ),
  device(
    'jetson-orin-nano-8gb',
    'Jetson Orin Nano, 8 GB',
    8 * GIB,
    1.5 * GIB,
    'NVIDIA Jetson Orin Nano series data sheet: 8 GB 128-bit LPDDR5, shared by the CPU and the GPU',
    'the lab assumes 1.5 GiB for Jetson Linux and the CUDA runtime, which share the same memory',
  ),
  device(
    'webgpu-default-buffer',
    'A browser tab’s largest WebGPU buffer',
    256 * MIB,
    0,
    'WebGPU specification, default limits: maxBufferSize = 268,435,456 bytes (256 MiB) unless the page asks the adapter for more',
    'no reserve: this is a per-buffer limit a tab gets by default, a floor for phones, not the tab’s whole memory',
  ),
  device(
    'mcu-1mb',
    'Microcontroller, 1 MB SRAM',
    1 * MIB,
    0,
    'STMicroelectronics STM32H743 data sheet: up to 1 MB of RAM (a microcontroller-class budget)',
    'no reserve: firmware and stack share it, so a real budget is smaller still',
  ),
];

export const edgeDevice = (id: string): EdgeDevice | undefined => EDGE_DEVICES.find((d) => d.id === id);

/** Batches are searched up to this size. */
export const MAX_PLANNED_BATCH = 4096;

export interface MethodFit {
  method: MethodId;
  /** The largest batch (≤ MAX_PLANNED_BATCH) whose peak fits, or null when batch 1 does not. */
  largestBatch: number | null;
  /** Simultaneous peak at that batch (bytes). */
  peakAtLargest: number | null;
  /** The smallest peak this configuration can have: batch 1. */
  peakAtBatch1: number;
  /** Why the method cannot run this configuration at all (e.g. DoRA on depthwise convs), else null. */
  unavailable: string | null;
}

export interface Shrink {
  /** What changes, in words. */
  change: string;
  config: LabConfig;
  /** The smallest peak (batch 1) of the configuration's method after the change. */
  peakAtBatch1: number;
  fits: boolean;
}

export interface FitPlan {
  budgetBytes: number;
  methods: MethodFit[];
  /** When some method does not fit at batch 1: changes that would shrink its peak, each measured. */
  shrink: Shrink[];
}

/** The analytic simultaneous peak of one step of `method` on `config`'s model, as a function of the batch. */
function peakOf(config: LabConfig, method: MethodId): (batch: number) => number {
  const methodOptions = methodOptionsOf(config);
  const frozenWeights = frozenWeightsFor(method, config.frozenWeights);
  const graph = analyseSpec(quantizeFrozenBase(applyMethod(buildModelSpec(modelOptionsOf(config)), method, methodOptions), method, frozenWeights));
  const optimizer = optimizerCostOfMethod(method, methodOptions, config.optimizer);
  return (batch) => simulateStep(graph, { batch, optimizer }, 'analytic').profile.peak.total;
}

/** The largest batch in [1, max] with peak(batch) ≤ budget, by bisection: the peak grows with
 * the batch (activations and their gradients scale with it; weights and state do not). */
export function largestFittingBatch(peak: (batch: number) => number, budgetBytes: number, max = MAX_PLANNED_BATCH): number | null {
  if (peak(1) > budgetBytes) return null;
  let low = 1;
  let high = max;
  if (peak(high) <= budgetBytes) return high;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (peak(mid) <= budgetBytes) low = mid;
    else high = mid;
  }
  return low;
}

function fitMethod(config: LabConfig, method: MethodId, budgetBytes: number): MethodFit {
  const candidate = { ...config, method, ...(method === 'galore' ? { optimizer: 'adam' as const } : {}) };
  const issues = validateConfig(candidate);
  if (hasErrors(issues)) {
    return { method, largestBatch: null, peakAtLargest: null, peakAtBatch1: Number.NaN, unavailable: issues.filter((i) => i.severity === 'error').map((i) => i.message).join(' ') };
  }
  const peak = peakOf(candidate, method);
  const largestBatch = largestFittingBatch(peak, budgetBytes);
  return { method, largestBatch, peakAtLargest: largestBatch === null ? null : peak(largestBatch), peakAtBatch1: peak(1), unavailable: null };
}

/** Changes that shrink a configuration's smallest peak: a lower resolution, a smaller width, BN+head. */
function shrinkOptions(config: LabConfig, budgetBytes: number): Shrink[] {
  const candidates: { change: string; config: LabConfig }[] = [];
  for (const resolution of [Math.round(config.resolution / 2), Math.round(config.resolution / 4)]) {
    if (resolution >= 32 && resolution < config.resolution) candidates.push({ change: `resolution ${config.resolution} → ${resolution}`, config: { ...config, resolution } });
  }
  for (const width of [config.width / 2, config.width / 4].map((w) => Number(w.toFixed(3)))) {
    if (width >= 0.1 && width < config.width) candidates.push({ change: `width ${config.width} → ${width}`, config: { ...config, width } });
  }
  if (config.method !== 'bn_head') candidates.push({ change: `method ${config.method} → bn_head`, config: { ...config, method: 'bn_head' } });
  return candidates
    .filter((c) => !hasErrors(validateConfig(c.config)))
    .map((c) => {
      const peakAtBatch1 = peakOf(c.config, c.config.method)(1);
      return { ...c, peakAtBatch1, fits: peakAtBatch1 <= budgetBytes };
    });
}

/** Every method's largest fitting batch on `config`'s model, options and optimizer. */
export function planFit(config: LabConfig, budgetBytes: number): FitPlan {
  if (!(budgetBytes > 0)) throw new RangeError(`the budget must be a positive number of bytes, got ${budgetBytes}`);
  const methods = METHOD_IDS.map((method) => fitMethod(config, method, budgetBytes));
  const current = methods.find((fit) => fit.method === config.method);
  const shrink = current && current.largestBatch === null && current.unavailable === null ? shrinkOptions(config, budgetBytes) : [];
  return { budgetBytes, methods, shrink };
}
