// The measured profile: one real training step on the active backend, watched kernel by kernel
// (src/core/profile/measuredEngine.ts), with every live buffer's bytes attributed to one group:
// - PARAM: buffers held by the model's variables (by identity; BN running statistics included; a
//   quantized weight's packed codes and scales);
// - OPT: buffers held by the optimizer's state — variables and tensors the step leaves alive that
//   are not parameters (created by the step, or older and used by its optimizer phase); a new state
//   tensor (GaLore's recomputed projector) counts from its first use, a workspace until then;
// - GRAD: buffers of the gradients computeGradients returns, from their allocation;
// - ACT: buffers allocated by the forward pass and still alive when it ends (what the tape keeps
//   for the backward, and anything else held across it), and the images if the tape keeps them;
// - TEMP: every other buffer the step touches. The batch itself (images, labels) is the caller's
//   data and in no group unless the tape keeps it; tensors the step never touches (a dataset held
//   on the device, other models) are not counted.
// A buffer shared by several tensors (reshapes, the tape's clones of saved tensors) counts once,
// in the first group of PARAM, OPT, GRAD, ACT, TEMP that applies.
//
// Profiling is for sampled steps: this call runs the trainer's own step (trainStep) under the
// engine observer, naming its loss and gradients through the step's observer hook. Nothing else may use the engine while a step is measured.
import * as tf from '@tensorflow/tfjs';

import type { MethodOptimizer } from '../adapters/method';
import { parameterTensors, type Model } from '../nn/model';
import { trainStep, type Batch } from '../train/step';
import { summariseTimeline } from './memory';
import { EngineObserver, type ObservedKernel } from './measuredEngine';
import { summariseMemory, type MemorySummary } from './profile';
import { sumOf, zeroBytesByGroup, type BytesByGroup, type MemoryProfile, type StepPhase, type TimelinePoint } from './types';

export interface MeasureOptions {
  /** Per-kernel times through tf.profile and the backend's timer (default true). */
  kernelTimes?: boolean;
  /** The step's dropout seed; by default drawn from the model's generator, as trainStep does. */
  dropoutSeed?: number;
}

/** One kernel of the measured step; `memory.timeline[i]` is the moment after `kernels[i]`. */
export interface MeasuredKernel {
  name: string;
  phase: StepPhase;
  /** Spec node it ran for ('loss' for the loss), null where unattributed. */
  node: string | null;
  outputShapes: number[][];
  /** Compute dispatches it recorded on WebGPU (0 for a reshape, or on another backend). */
  dispatches: number;
  /** Backend time in ms; null when not measured or the backend has no timer (WebGPU without timestamp-query). */
  timeMs: number | null;
  /** WebGPU: bytes of buffers in use and allocated (pool included) after the kernel. */
  backendBytes: { inUse: number; allocated: number } | null;
}

/** One tensor the tape kept for a kernel's backward at the end of the forward pass. */
export interface KeptTensor {
  kernel: string;
  /** Which input or output of the kernel ('x', 'filter', 'a', 'output', 'saved[0]' for a custom gradient). */
  slot: string;
  bytes: number;
}

/** What one spec node keeps for the backward at the end of the forward pass (ACT). */
export interface MeasuredNodeKept {
  node: string;
  /** Distinct ACT buffers kept for the node (a buffer kept by two nodes counts at each, as the analytic view does). */
  bytes: number;
  /** The tape's saved tensors, as tfjs's gradients ask for them. */
  saved: KeptTensor[];
  /** ACT the node allocated that is held outside the tape until the forward ends (none in the lab's engine). */
  outsideTapeBytes: number;
}

export interface MeasuredStep {
  backend: string;
  /** Live bytes by group after each kernel (view 'measured'). */
  memory: MemoryProfile;
  kernels: MeasuredKernel[];
  /** Whether kernel times were measured, and if not why. */
  kernelTimes: { available: boolean; note: string };
  /** WebGPU: the backend's bytes at the logical peak and its largest allocation (pool included). */
  backendBytes: { inUseAtPeak: number; allocatedAtPeak: number; maxAllocated: number } | null;
  /** What each node keeps for the backward; null when kernels could not be attributed to nodes. */
  keptByNode: MeasuredNodeKept[] | null;
  /** Bytes by group after the last backward kernel. tfjs frees what its tape keeps, and the
   * gradient of every intermediate tensor, only when the whole backward pass ends; the lab's ideal
   * engine frees each as soon as the node below has used it. */
  atBackwardEnd: BytesByGroup;
  /** Bytes by group once the step is done (PARAM and OPT: the steady state). */
  bytesAfterStep: BytesByGroup;
  /** optimizer.stateBytes() after the step, to check OPT against. */
  optimizerStateBytes: number;
  loss: number;
  wallMs: number;
}

/**
 * Runs one training step of `model` on `batch` (gradients of the trainable set, the optimizer's
 * preparation and update, running statistics updated) under observation and returns its measured
 * memory profile. Measure a steady-state step (after the first, which creates optimizer state) to
 * compare OPT with the analytic profile.
 */
export async function measureTrainingStep(
  model: Model,
  optimizer: MethodOptimizer,
  batch: Batch,
  trainable: ReadonlySet<string>,
  options: MeasureOptions = {},
): Promise<MeasuredStep> {
  const timer = kernelTimer(options.kernelTimes ?? true);
  const dropoutSeed = options.dropoutSeed ?? Math.floor(model.dropoutRng.next() * 4294967296);
  const observer = new EngineObserver(model.spec.nodes.filter((n) => n.op !== 'input').map((n) => n.id));
  const paramIds = new Set<number>();
  // A quantized weight's PARAM is its packed codes and scales (nn/quantized.ts).
  for (const tensor of parameterTensors(model)) {
    observer.sight(tensor);
    paramIds.add(tensor.id);
  }
  const batchIds = [observer.sight(batch.x).id, observer.sight(batch.y).id];
  const gradIds: number[] = [];
  let lossId = -1;
  let loss = NaN;

  // The trainer's own step, watched: the observer names the loss and gradient tensors.
  const runStep = async (): Promise<void> => {
    loss = await trainStep(model, optimizer, batch, trainable, {
      dropoutSeed,
      observer: {
        gradients: (lossTensor, grads) => {
          lossId = lossTensor.id;
          for (const grad of grads.values()) gradIds.push(grad.id);
        },
      },
    });
  };

  const start = performance.now();
  observer.install();
  try {
    if (timer.available) await tf.profile(runStep);
    else await runStep();
  } finally {
    observer.uninstall();
  }
  const wallMs = performance.now() - start;
  if (observer.boundary === null) {
    throw new Error('measured profile: the step ran no gradient tape (computeGradients must use tf.variableGrads)');
  }
  const replay = replayStep(observer, { paramIds, gradIds, lossId, batchIds });
  const kernels = observer.kernels.map((k) => measuredKernel(k, timer.available));
  const memory = summariseTimeline('measured', replay.timeline);
  return {
    backend: tf.getBackend(),
    memory,
    kernels,
    kernelTimes: timer,
    backendBytes: backendBytesSummary(kernels, memory.peak.index),
    keptByNode: observer.nodeScopesMatched ? keptByNode(observer, replay.actAtBoundary) : null,
    atBackwardEnd: replay.atBackwardEnd,
    bytesAfterStep: replay.bytesAfterStep,
    optimizerStateBytes: optimizer.stateBytes(),
    loss,
    wallMs,
  };
}

/** Whether kernels can be timed here. tf.profile times each kernel with the backend's timer; where
 * the backend has none it reads every output back synchronously (WebGL without timer queries),
 * and WebGPU without timestamp-query reports zeros, so both go untimed. */
function kernelTimer(requested: boolean): MeasuredStep['kernelTimes'] {
  if (!requested) return { available: false, note: 'not requested' };
  const backend = tf.backend() as { timerAvailable(): boolean; supportTimestampQuery?: boolean };
  if (backend.supportTimestampQuery === false) {
    return { available: false, note: 'the WebGPU device lacks timestamp-query (Chromium: --enable-dawn-features=allow_unsafe_apis)' };
  }
  if (!backend.timerAvailable()) return { available: false, note: `the ${tf.getBackend()} backend has no kernel timer` };
  return { available: true, note: `${tf.getBackend()} backend timer, per kernel` };
}

interface Identities {
  paramIds: ReadonlySet<number>;
  gradIds: readonly number[];
  lossId: number;
  batchIds: readonly number[];
}

interface Replay {
  timeline: TimelinePoint[];
  /** Buffers in ACT at the end of the forward pass. */
  actAtBoundary: Set<number>;
  atBackwardEnd: BytesByGroup;
  bytesAfterStep: BytesByGroup;
}

/** Classifies the observed tensors and buffers, then replays the log to get bytes by group after each kernel. */
function replayStep(observer: EngineObserver, ids: Identities): Replay {
  const { buffers, tensors, events, savedForBackward } = observer;
  const boundary = observer.boundary as number;
  const end = events.length;

  // Optimizer state: a variable counts while it holds a buffer; a new plain tensor from its first use.
  // The batch, the loss and the gradients are never state.
  const notState = new Set([...ids.paramIds, ...ids.gradIds, ids.lossId, ...ids.batchIds]);
  const optFrom = new Map<number, number>();
  for (const t of tensors.values()) {
    if (notState.has(t.id)) continue;
    const createdAndKept = t.createdAt >= 0 && t.disposedAt === Infinity;
    const olderAndUsed = t.createdAt < 0 && t.touchedInOptimizer;
    if (createdAndKept || olderAndUsed) optFrom.set(t.id, t.isVariable || t.createdAt < 0 ? -1 : t.firstReadAt);
  }
  const bufferOfTensor = (id: number): number => (tensors.get(id) as { buffer: number }).buffer;
  const gradBuffers = new Set(ids.gradIds.map(bufferOfTensor));
  const lossBuffer = bufferOfTensor(ids.lossId);
  const batchBuffers = new Set(ids.batchIds.map((id) => tensors.get(id)?.initialBuffer));
  const savedIds = new Set(savedForBackward.map((s) => s.tensor));
  // Forward buffers alive at the boundary are ACT all their life; older buffers (the images) while the tape holds them.
  const keptAcrossBoundary = (b: number): boolean => {
    const { allocatedAt, freedAt } = buffers[b];
    return allocatedAt >= 0 && allocatedAt < boundary && freedAt > boundary && b !== lossBuffer;
  };
  const ownGroup = buffers.map((_, b) => (gradBuffers.has(b) ? 'grad' : keptAcrossBoundary(b) ? 'act' : batchBuffers.has(b) ? null : 'temp'));

  const paramHolders = new Int32Array(buffers.length);
  const optHolders = new Int32Array(buffers.length);
  const savedHolders = new Int32Array(buffers.length);
  const alive = buffers.map((b) => b.allocatedAt < 0);
  const activeOpt = new Set([...optFrom].filter(([, from]) => from < 0).map(([id]) => id));
  const holding = new Map<number, number>();
  const activations = new Map<number, number[]>();
  for (const [id, from] of optFrom) if (from >= 0) activations.set(from, [...(activations.get(from) ?? []), id]);

  const totals = zeroBytesByGroup();
  const groupOf = (b: number) => {
    if (paramHolders[b] > 0) return 'param';
    if (optHolders[b] > 0) return 'opt';
    return savedHolders[b] > 0 && ownGroup[b] !== 'grad' ? 'act' : ownGroup[b];
  };
  const count = (b: number, sign: 1 | -1) => {
    const group = groupOf(b);
    if (alive[b] && group) totals[group] += sign * buffers[b].bytes;
  };
  const change = (b: number, update: () => void) => {
    count(b, -1);
    update();
    count(b, 1);
  };
  for (const t of tensors.values()) {
    if (t.initialBuffer === null) continue;
    holding.set(t.id, t.initialBuffer);
    if (ids.paramIds.has(t.id)) paramHolders[t.initialBuffer]++;
    if (activeOpt.has(t.id)) optHolders[t.initialBuffer]++;
  }
  buffers.forEach((_, b) => count(b, 1));

  const timeline: TimelinePoint[] = [];
  let actAtBoundary = new Set<number>();
  let atBackwardEnd = zeroBytesByGroup();
  const activate = (id: number) => {
    activeOpt.add(id);
    const b = holding.get(id);
    if (b !== undefined) change(b, () => optHolders[b]++);
  };
  events.forEach((event, index) => {
    for (const id of activations.get(index) ?? []) activate(id);
    if (index === boundary) actAtBoundary = new Set(buffers.map((_, b) => b).filter((b) => alive[b] && groupOf(b) === 'act'));
    switch (event.kind) {
      case 'alloc':
        alive[event.buffer] = true;
        count(event.buffer, 1);
        break;
      case 'free':
        count(event.buffer, -1);
        alive[event.buffer] = false;
        break;
      case 'hold':
      case 'release': {
        const step = event.kind === 'hold' ? 1 : -1;
        const b = event.buffer;
        if (event.kind === 'hold') holding.set(event.tensor, b);
        else holding.delete(event.tensor);
        if (ids.paramIds.has(event.tensor)) change(b, () => (paramHolders[b] += step));
        if (activeOpt.has(event.tensor)) change(b, () => (optHolders[b] += step));
        if (savedIds.has(event.tensor)) change(b, () => (savedHolders[b] += step));
        break;
      }
      case 'kernel': {
        const kernel = observer.kernels[event.kernel];
        const bytes = { ...totals };
        timeline.push({ phase: kernel.phase, op: kernel.node ? `${kernel.node} ${kernel.name}` : kernel.name, bytes, total: sumOf(bytes) });
        if (kernel.phase === 'backward') atBackwardEnd = bytes;
        break;
      }
    }
  });
  for (const [id, from] of optFrom) if (from >= end) activate(id);
  return { timeline, actAtBoundary, atBackwardEnd, bytesAfterStep: { ...totals } };
}

function measuredKernel(k: ObservedKernel, timesAvailable: boolean): MeasuredKernel {
  const time = k.profileRecord?.kernelTimeMs;
  return {
    name: k.name,
    phase: k.phase,
    node: k.node,
    outputShapes: k.outputShapes,
    dispatches: k.dispatches,
    timeMs: timesAvailable && typeof time === 'number' ? time : null,
    backendBytes: k.backendBytes,
  };
}

function backendBytesSummary(kernels: MeasuredKernel[], peakIndex: number): MeasuredStep['backendBytes'] {
  const atPeak = kernels[peakIndex]?.backendBytes;
  if (!atPeak) return null;
  const maxAllocated = Math.max(...kernels.map((k) => k.backendBytes?.allocated ?? 0));
  return { inUseAtPeak: atPeak.inUse, allocatedAtPeak: atPeak.allocated, maxAllocated };
}

/** ACT at the end of the forward pass, by the node that keeps it. */
function keptByNode(observer: EngineObserver, actAtBoundary: ReadonlySet<number>): MeasuredNodeKept[] {
  const byNode = new Map<string, { buffers: Set<number>; saved: KeptTensor[]; outside: Set<number> }>();
  const entry = (node: string) => {
    let e = byNode.get(node);
    if (!e) byNode.set(node, (e = { buffers: new Set(), saved: [], outside: new Set() }));
    return e;
  };
  const keptByTape = new Set<number>();
  for (const s of observer.savedForBackward) {
    if (!actAtBoundary.has(s.buffer) || s.node === null) continue;
    keptByTape.add(s.buffer);
    const e = entry(s.node);
    e.buffers.add(s.buffer);
    e.saved.push({ kernel: s.kernel, slot: s.slot, bytes: observer.buffers[s.buffer].bytes });
  }
  for (const b of actAtBoundary) {
    const node = observer.buffers[b].node;
    if (keptByTape.has(b) || node === null) continue;
    const e = entry(node);
    e.buffers.add(b);
    e.outside.add(b);
  }
  const bytesOf = (set: Set<number>) => [...set].reduce((sum, b) => sum + observer.buffers[b].bytes, 0);
  return [...byNode].map(([node, e]) => ({ node, bytes: bytesOf(e.buffers), saved: e.saved, outsideTapeBytes: bytesOf(e.outside) }));
}

/** The CLI's `memory.measured`: the analytic summary's shape plus the backend and its allocation. */
export interface MeasuredSummary extends MemorySummary {
  backend: string;
  /** WebGPU: the largest allocation of the backend during the step, its buffer pool included. */
  allocatedBytes?: number;
}

export function summariseMeasured(step: MeasuredStep): MeasuredSummary {
  return {
    ...summariseMemory(step.memory),
    backend: step.backend,
    ...(step.backendBytes ? { allocatedBytes: step.backendBytes.maxAllocated } : {}),
  };
}
