// The measured tracker's eyes on the tfjs engine: while installed it wraps a few methods of the
// engine instance (tensor tracking and disposal, kernel execution, scopes, the end of the gradient
// tape) and logs, in order, every buffer allocated or freed, every tensor object that starts or
// stops holding a buffer, and every kernel run. Nothing is classified here: the log is read after
// the step (src/core/profile/measured.ts), when it is known which tensors were the gradients, the
// optimizer's state and what the tape kept.
//
// These are tfjs-core 4.x internals (engine.ts): `trackTensor`/`disposeTensor` see every tensor
// object, `runKernelFunc` every kernel, `endTape` the end of the forward pass (tf.variableGrads
// records the forward on a tape, then backpropagates), `state.activeTape` what each kernel saved
// for its gradient. Bytes are counted per buffer (dataId), not per tensor object: a reshape or the
// tape's clone of a saved tensor shares its input's buffer (tfjs's own `numBytes` counts both).
import * as tf from '@tensorflow/tfjs';

import { dispatchesSoFar } from '../kernels/webgpuRaw';
import type { StepPhase } from './types';

/** A buffer (a tfjs dataId) as seen during the step. */
export interface ObservedBuffer {
  bytes: number;
  /** Event index of its allocation; -1 when it existed before the step. */
  allocatedAt: number;
  /** Event index of its release; Infinity when still alive at the end. */
  freedAt: number;
  /** Spec node whose forward allocated it (null outside forward or when unattributed). */
  node: string | null;
}

/** A tensor object (tf.Tensor or tf.Variable, by its tensor id) as seen during the step. */
export interface ObservedTensor {
  id: number;
  isVariable: boolean;
  /** Event index of its creation; -1 when it existed before the step. */
  createdAt: number;
  disposedAt: number;
  /** Event index of the first kernel that read it (Infinity if none did). */
  firstReadAt: number;
  /** Read, reassigned or disposed by a kernel or call of the optimizer phase. */
  touchedInOptimizer: boolean;
  /** The buffer it held when the step began (tensors that existed before the step). */
  initialBuffer: number | null;
  /** The buffer it holds now (a variable changes buffer on assign). */
  buffer: number;
}

export type EngineEvent =
  | { kind: 'alloc' | 'free'; buffer: number }
  | { kind: 'hold' | 'release'; tensor: number; buffer: number }
  | { kind: 'kernel'; kernel: number };

export interface ObservedKernel {
  name: string;
  phase: StepPhase;
  node: string | null;
  outputShapes: number[][];
  /** Compute dispatches it recorded on WebGPU (0 for a reshape, or on another backend). */
  dispatches: number;
  /** Backend bytes in use and allocated (pool included) after the kernel, where the backend says. */
  backendBytes: { inUse: number; allocated: number } | null;
  /** tf.profile's record of this kernel; its kernelTimeMs is a number once the profile resolves. */
  profileRecord: { kernelTimeMs: number | { error: string } | Promise<number | { error: string }> } | null;
}

/** A tensor the gradient tape holds for a kernel's backward, at the end of the forward pass. */
export interface SavedForBackward {
  tensor: number;
  buffer: number;
  /** The kernel that saved it ('customGrad' for a custom-gradient op), and which of its inputs or
   * outputs it is ('saved[i]' for a custom gradient's i-th saved tensor). */
  kernel: string;
  slot: string;
  /** Spec node whose forward ran that kernel. */
  node: string | null;
}

interface TapeNode {
  id: number;
  kernelName: string;
  saved?: tf.Tensor[];
  gradient?: (dys: tf.Tensor[]) => unknown;
}

interface KernelParams {
  kernelName?: string;
  inputs: Record<string, tf.Tensor | null | undefined>;
}

/** The parts of tfjs-core's Engine the tracker uses (see engine.ts; not in the public typings). */
interface EngineInternals {
  state: {
    activeTape: TapeNode[] | null;
    gradientDepth: number;
    profiling: boolean;
    activeProfile: { kernels: NonNullable<ObservedKernel['profileRecord']>[] };
    activeScope: { name: string; id: number } | null;
    tensorInfo: WeakMap<object, { bytes: number }>;
  };
  backend: { memory(): { numBytesInGPU?: number; numBytesAllocatedInGPU?: number } };
  trackTensor(a: tf.Tensor, backend: unknown): void;
  disposeTensor(a: tf.Tensor): void;
  runKernelFunc(params: KernelParams): tf.Tensor | tf.Tensor[];
  startScope(name?: string): void;
  endScope(result?: unknown): void;
  endTape(): void;
}

/** The engine methods the observer replaces while installed, with their arity in tfjs-core 4.22. */
const PATCHED_METHODS = { trackTensor: 2, disposeTensor: 1, runKernelFunc: 1, startScope: 1, endScope: 1, endTape: 0 } as const;
/** The engine state fields it reads that exist outside a tape or scope (activeTape and activeScope
 * are set only inside one: a step whose tape the observer never sees fails in measured.ts). */
const READ_STATE = ['gradientDepth', 'profiling', 'activeProfile', 'tensorInfo', 'scopeStack'] as const;

/** The tfjs-core version these internals were read from; package.json pins tfjs to exactly it. */
export const OBSERVED_TFJS_CORE_VERSION = '4.22.0';

/**
 * What has changed of the private engine surface the observer relies on, in words (empty when
 * nothing has): a tfjs upgrade that renames or reshapes one of these breaks the measured profiler,
 * and this says where, instead of a wrong memory chart.
 */
export function engineInternalsProblems(engine: object = tf.engine()): string[] {
  const problems: string[] = [];
  const methods = engine as unknown as Record<string, unknown>;
  for (const [name, arity] of Object.entries(PATCHED_METHODS)) {
    const method = methods[name];
    if (typeof method !== 'function') problems.push(`Engine.${name} is gone (the observer wraps it)`);
    else if (method.length !== arity) problems.push(`Engine.${name} now takes ${method.length} arguments, not ${arity}`);
  }
  const state = methods.state as Record<string, unknown> | undefined;
  if (typeof state !== 'object' || state === null) problems.push('Engine.state is gone');
  else for (const field of READ_STATE) if (!(field in state)) problems.push(`Engine.state.${field} is gone (the observer reads it)`);
  return problems;
}

let installed = false;

/**
 * Logs what the engine does between install() and uninstall(). `nodeIds` are the spec's nodes
 * other than the input, in order: the forward pass runs one top-level scope per node (then one for
 * the loss), which is how kernels are attributed to nodes. A scope named after a node id is used
 * as such directly.
 */
export class EngineObserver {
  readonly events: EngineEvent[] = [];
  readonly buffers: ObservedBuffer[] = [];
  readonly tensors = new Map<number, ObservedTensor>();
  readonly kernels: ObservedKernel[] = [];
  /** Event index where the forward pass ended (the tape closed); null until then. */
  boundary: number | null = null;
  /** What the tape held at the boundary. */
  savedForBackward: SavedForBackward[] = [];
  /** Whether the forward pass ran exactly one top-level scope per node plus one for the loss. */
  nodeScopesMatched = false;
  /** 'forward' until the tape closes, 'backward' until tfjs's backward scope ends, then 'optimizer'
   * (running statistics, the optimizer's preparation and update). */
  phase: StepPhase = 'forward';

  private readonly engine = tf.engine() as unknown as EngineInternals;
  private readonly bufferIds = new WeakMap<object, number>();
  private readonly nodeIdSet: Set<string>;
  private readonly originals = new Map<string, PropertyDescriptor | undefined>();
  private readonly scopes: { id: number; node: string | null }[] = [];
  private forwardScopeId: number | null = null;
  private backwardScopeId: number | null = null;
  private topLevelForwardScopes = 0;
  private backwardNode: string | null = null;
  private readonly tapeNodeOwner = new Map<number, string | null>();

  constructor(private readonly nodeIds: readonly string[]) {
    this.nodeIdSet = new Set(nodeIds);
  }

  /** The buffer index of a tensor's data, registering a buffer that predates the step. */
  bufferOf(t: tf.Tensor): number {
    const known = this.bufferIds.get(t.dataId);
    if (known !== undefined) return known;
    const info = this.engine.state.tensorInfo.get(t.dataId);
    return this.addBuffer(t.dataId, info ? info.bytes : t.size * 4, -1);
  }

  /** Registers a tensor that predates the step (its buffer then is its current one). */
  sight(t: tf.Tensor): ObservedTensor {
    let record = this.tensors.get(t.id);
    if (!record) {
      const buffer = this.bufferOf(t);
      record = {
        id: t.id,
        isVariable: t instanceof tf.Variable,
        createdAt: -1,
        disposedAt: Infinity,
        firstReadAt: Infinity,
        touchedInOptimizer: false,
        initialBuffer: buffer,
        buffer,
      };
      this.tensors.set(t.id, record);
    }
    return record;
  }

  install(): void {
    if (installed) throw new Error('measured profile: a step is already being measured');
    const problems = engineInternalsProblems(this.engine);
    if (problems.length > 0) {
      throw new Error(`measured profile: tfjs ${tf.version_core} changed the engine internals it watches (read from ${OBSERVED_TFJS_CORE_VERSION}): ${problems.join('; ')}`);
    }
    installed = true;
    const engine = this.engine;
    for (const name of Object.keys(PATCHED_METHODS)) this.originals.set(name, Object.getOwnPropertyDescriptor(engine, name));
    const original = {
      trackTensor: engine.trackTensor.bind(engine),
      disposeTensor: engine.disposeTensor.bind(engine),
      runKernelFunc: engine.runKernelFunc.bind(engine),
      startScope: engine.startScope.bind(engine),
      endScope: engine.endScope.bind(engine),
      endTape: engine.endTape.bind(engine),
    };
    engine.trackTensor = (a, backend) => {
      const isNew = !engine.state.tensorInfo.has(a.dataId);
      original.trackTensor(a, backend);
      this.onTrack(a, isNew);
    };
    engine.disposeTensor = (a) => {
      if (!engine.state.tensorInfo.has(a.dataId)) {
        original.disposeTensor(a);
        return;
      }
      const record = this.sight(a);
      const buffer = this.bufferOf(a);
      if (this.phase === 'optimizer') record.touchedInOptimizer = true;
      this.events.push({ kind: 'release', tensor: a.id, buffer });
      original.disposeTensor(a);
      // A variable's assign disposes its old buffer and then holds the new one: it lives on.
      if (!(a instanceof tf.Variable)) record.disposedAt = this.events.length;
      if (!engine.state.tensorInfo.has(a.dataId)) {
        this.buffers[buffer].freedAt = this.events.length;
        this.events.push({ kind: 'free', buffer });
      }
    };
    engine.runKernelFunc = (params) => this.onKernel(params, () => original.runKernelFunc(params));
    engine.startScope = (name) => {
      original.startScope(name);
      this.onScopeStart(name);
    };
    engine.endScope = (result) => {
      const ending = engine.state.activeScope?.id;
      original.endScope(result);
      this.scopes.pop();
      // The tape's backward ends with its scope (which frees what the tape kept and every
      // intermediate gradient); what follows (running statistics, the optimizer) updates state.
      if (ending !== undefined && ending === this.backwardScopeId) this.phase = 'optimizer';
    };
    engine.endTape = () => {
      original.endTape();
      if (engine.state.gradientDepth === 0 && this.boundary === null) this.onForwardEnd();
    };
  }

  uninstall(): void {
    const engine = this.engine as unknown as Record<string, unknown>;
    for (const [name, descriptor] of this.originals) {
      if (descriptor) Object.defineProperty(engine, name, descriptor);
      else delete engine[name];
    }
    this.originals.clear();
    installed = false;
  }

  /** Bytes in use and allocated by the backend, where it reports them (WebGPU). */
  backendBytes(): ObservedKernel['backendBytes'] {
    const memory = this.engine.backend.memory();
    if (memory.numBytesInGPU === undefined || memory.numBytesAllocatedInGPU === undefined) return null;
    return { inUse: memory.numBytesInGPU, allocated: memory.numBytesAllocatedInGPU };
  }

  private addBuffer(dataId: object, bytes: number, allocatedAt: number): number {
    const index = this.buffers.length;
    this.buffers.push({ bytes, allocatedAt, freedAt: Infinity, node: allocatedAt >= 0 ? this.currentNode() : null });
    this.bufferIds.set(dataId, index);
    return index;
  }

  private currentNode(): string | null {
    if (this.phase === 'backward') return this.backwardNode;
    return this.scopes.at(-1)?.node ?? null;
  }

  private onTrack(a: tf.Tensor, isNewBuffer: boolean): void {
    let buffer: number;
    if (isNewBuffer) {
      buffer = this.addBuffer(a.dataId, this.engine.state.tensorInfo.get(a.dataId)?.bytes ?? 0, this.events.length);
      this.events.push({ kind: 'alloc', buffer });
    } else {
      buffer = this.bufferOf(a);
    }
    const existing = this.tensors.get(a.id);
    if (existing) {
      // A variable taking a new value (assign).
      existing.buffer = buffer;
      if (this.phase === 'optimizer') existing.touchedInOptimizer = true;
    } else {
      this.tensors.set(a.id, {
        id: a.id,
        isVariable: a instanceof tf.Variable,
        createdAt: this.events.length,
        disposedAt: Infinity,
        firstReadAt: Infinity,
        touchedInOptimizer: false,
        initialBuffer: null,
        buffer,
      });
    }
    this.events.push({ kind: 'hold', tensor: a.id, buffer });
  }

  private onKernel(params: KernelParams, run: () => tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const readAt = this.events.length;
    for (const input of Object.values(params.inputs)) {
      if (!input) continue;
      const record = this.sight(input);
      record.firstReadAt = Math.min(record.firstReadAt, readAt);
      if (this.phase === 'optimizer') record.touchedInOptimizer = true;
    }
    const tape = this.engine.state.activeTape;
    const tapeLength = tape?.length ?? 0;
    const node = this.currentNode();
    const dispatchesBefore = dispatchesSoFar();
    const out = run();
    const dispatches = dispatchesSoFar() - dispatchesBefore;
    if (tape && tape.length > tapeLength) this.tapeNodeOwner.set(tape[tape.length - 1].id, node);
    // Registered kernels only: a custom-gradient op is a scope whose kernels are logged themselves.
    if (params.kernelName !== undefined) {
      const kernels = this.engine.state.activeProfile.kernels;
      const outputs = Array.isArray(out) ? out : [out];
      this.events.push({ kind: 'kernel', kernel: this.kernels.length });
      this.kernels.push({
        name: params.kernelName,
        phase: this.phase,
        node,
        outputShapes: outputs.map((t) => [...t.shape]),
        dispatches,
        backendBytes: this.backendBytes(),
        profileRecord: this.engine.state.profiling ? (kernels[kernels.length - 1] ?? null) : null,
      });
    }
    return out;
  }

  private onScopeStart(name: string | undefined): void {
    const scope = this.engine.state.activeScope as { id: number };
    const parent = this.scopes.at(-1);
    let node = parent?.node ?? null;
    if (this.phase === 'backward' && name === 'backward' && this.backwardScopeId === null) this.backwardScopeId = scope.id;
    if (this.phase === 'forward') {
      if (name === 'forward' && this.engine.state.gradientDepth === 1 && this.forwardScopeId === null) {
        this.forwardScopeId = scope.id;
      } else if (name !== undefined && this.nodeIdSet.has(name)) {
        node = name;
      } else if (parent !== undefined && parent.id === this.forwardScopeId) {
        // The forward runs one top-level scope per node in spec order, then the loss's.
        const index = this.topLevelForwardScopes++;
        node = index < this.nodeIds.length ? this.nodeIds[index] : 'loss';
      }
    }
    this.scopes.push({ id: scope.id, node });
  }

  /** The tape is complete: note what it holds and attribute its backward kernels to nodes. */
  private onForwardEnd(): void {
    this.boundary = this.events.length;
    this.phase = 'backward';
    this.nodeScopesMatched = this.topLevelForwardScopes === this.nodeIds.length + 1;
    for (const tapeNode of this.engine.state.activeTape ?? []) {
      const owner = this.nodeScopesMatched ? (this.tapeNodeOwner.get(tapeNode.id) ?? null) : null;
      // A custom-gradient op's tape node is named after the scope it ran in; it has no registered gradient.
      const registered = tf.getGradient(tapeNode.kernelName);
      const inputsToSave = registered?.inputsToSave ?? [];
      (tapeNode.saved ?? []).forEach((tensor, i) => {
        const slot = !registered ? `saved[${i}]` : i < inputsToSave.length ? inputsToSave[i] : 'output';
        const kernel = registered ? tapeNode.kernelName : 'customGrad';
        this.savedForBackward.push({ tensor: tensor.id, buffer: this.bufferOf(tensor), kernel, slot, node: owner });
      });
      const gradient = tapeNode.gradient;
      if (gradient) {
        tapeNode.gradient = (dys) => {
          this.backwardNode = owner;
          return gradient(dys);
        };
      }
    }
  }
}
