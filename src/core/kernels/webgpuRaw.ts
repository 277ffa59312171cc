// Raw WebGPU dispatches, for the kernels tfjs's program model cannot express: tfjs-backend-webgpu
// runs every program with exactly one output, bound write-only and (unless given) newly allocated.
// A raw dispatch binds any number of buffers read-only or read-write, so one kernel can return
// several new tensors (batch norm's dγ and dβ) and update existing ones in place (running
// statistics, Adam's parameters and moments), where tfjs would need one dispatch per output.
//
// It records into the backend's own command encoder, in order with tfjs's programs, through the
// internals recordAndSubmit uses in the pinned tfjs-backend-webgpu 4.22.0 (the interface below is
// all it touches); under tf.profile it writes the same timestamp queries, so the kernel is timed like
// tfjs's own. e2e/kernels.spec.ts holds every raw kernel to the plain tfjs ops it replaces.
import * as tf from '@tensorflow/tfjs';

/** The part of tfjs-backend-webgpu's WebGPUBackend (backend_webgpu.ts) a raw dispatch uses. */
interface WebGpuBackendInternals {
  device: GPUDevice;
  tensorMap: { get(dataId: object): { resource: unknown; refCount: number } };
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  commandQueueOwnedIds: WeakSet<object>;
  dispatchCountInPass: number;
  activeTimers: { name: string; query: Promise<number> }[] | null;
  supportTimestampQuery: boolean;
  querySet: GPUQuerySet | null;
  querySetCount: number;
  uploadToGPU(dataId: object): void;
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  makeUniforms(uniforms: { type: 'float32' | 'int32' | 'uint32'; data: number[] }[]): GPUBufferBinding;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  getQueryTime(): Promise<number>;
}

export interface RawBuffer {
  /** The WGSL name of the binding (an array<f32>, or of vec4<f32> with `vec4`). */
  name: string;
  info: tf.TensorInfo;
  /** Bound read_write (an output, or a tensor updated in place) instead of read. */
  write?: boolean;
  /** Bound as array<vec4<f32>> (four consecutive values per element; the size a multiple of 4). */
  vec4?: boolean;
}

export interface RawUniform {
  name: string;
  type: 'f32' | 'i32';
  value: number;
}

export interface RawDispatch {
  /** The kernel's name in profiles. */
  name: string;
  /** Pipeline cache key: equal keys must mean equal WGSL. */
  key: string;
  buffers: readonly RawBuffer[];
  uniforms?: readonly RawUniform[];
  workgroupSize: number;
  workgroups: number;
  /** WGSL before main: constants, workgroup variables, helper functions. */
  header?: string;
  /** main's body; it sees the buffers by name, `uniforms.<name>` and the builtins `globalId`,
   * `localId`, `workgroupId` and `numWorkgroups` (vec3<u32>). */
  body: string;
}

/** Most workgroups along x a dispatch may ask for (WebGPU's default maxComputeWorkgroupsPerDimension). */
export const MAX_WORKGROUPS = 65535;

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

function internals(backend: unknown): WebGpuBackendInternals {
  return backend as WebGpuBackendInternals;
}

function wgslOf(dispatch: RawDispatch): string {
  const uniforms = dispatch.uniforms ?? [];
  const bindings = dispatch.buffers.map(
    (buffer, i) => `@group(0) @binding(${i}) var<storage, ${buffer.write ? 'read_write' : 'read'}> ${buffer.name} : array<${buffer.vec4 ? 'vec4<f32>' : 'f32'}>;`,
  );
  // A struct needs a member: a dispatch without uniforms still binds one (unused) scalar.
  const members = uniforms.length > 0 ? uniforms.map((u) => `${u.name} : ${u.type},`) : ['unused : f32,'];
  return `
${bindings.join('\n')}
struct RawUniforms { ${members.join(' ')} };
@group(0) @binding(${dispatch.buffers.length}) var<uniform> uniforms : RawUniforms;
${dispatch.header ?? ''}
@compute @workgroup_size(${dispatch.workgroupSize}, 1, 1)
fn main(@builtin(global_invocation_id) globalId : vec3<u32>, @builtin(local_invocation_id) localId : vec3<u32>,
        @builtin(workgroup_id) workgroupId : vec3<u32>, @builtin(num_workgroups) numWorkgroups : vec3<u32>) {
${dispatch.body}
}`;
}

function pipelineOf(device: GPUDevice, dispatch: RawDispatch): GPUComputePipeline {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, (cache = new Map()));
  const key = `${dispatch.key}|${dispatch.workgroupSize}|${dispatch.buffers.map((b) => `${b.name}${b.write ? '!' : ''}${b.vec4 ? '4' : ''}`).join(',')}|${(dispatch.uniforms ?? []).map((u) => `${u.name}:${u.type}`).join(',')}`;
  let pipeline = cache.get(key);
  if (!pipeline) {
    pipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module: device.createShaderModule({ code: wgslOf(dispatch) }), entryPoint: 'main' },
    });
    cache.set(key, pipeline);
  }
  return pipeline;
}

/** A new float32 tensor's data on the device, for a raw dispatch to write (its values undefined until then). */
export function newDeviceTensor(backend: unknown, shape: number[]): tf.TensorInfo {
  const b = internals(backend);
  const info = b.makeTensorInfo(shape, 'float32');
  b.uploadToGPU(info.dataId);
  return info;
}

/** Whether `info`'s buffer belongs to it alone, so an in-place write changes no other tensor. */
export function ownsBuffer(backend: unknown, info: tf.TensorInfo): boolean {
  return internals(backend).tensorMap.get(info.dataId).refCount === 1;
}

/** Records one dispatch into the backend's command stream, after everything tfjs recorded so far. */
export function dispatchRaw(backend: unknown, dispatch: RawDispatch): void {
  const b = internals(backend);
  if (dispatch.workgroups > MAX_WORKGROUPS) throw new Error(`${dispatch.name}: ${dispatch.workgroups} workgroups (at most ${MAX_WORKGROUPS})`);
  const entries: GPUBindGroupEntry[] = dispatch.buffers.map(({ info }, i) => {
    b.uploadToGPU(info.dataId);
    // Not released before the commands that read it are submitted (as tfjs does for its programs).
    b.commandQueueOwnedIds.add(info.dataId);
    return { binding: i, resource: { buffer: b.tensorMap.get(info.dataId).resource as GPUBuffer } };
  });
  const uniforms = dispatch.uniforms ?? [];
  const uniformData = uniforms.length > 0 ? uniforms.map((u) => ({ type: u.type === 'f32' ? ('float32' as const) : ('int32' as const), data: [u.value] })) : [{ type: 'float32' as const, data: [0] }];
  entries.push({ binding: dispatch.buffers.length, resource: b.makeUniforms(uniformData) });
  const pipeline = pipelineOf(b.device, dispatch);
  const bindGroup = b.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });

  b.ensureCommandEncoderReady();
  const commandEncoder = b.commandEncoder as GPUCommandEncoder;
  const timed = b.activeTimers != null;
  if (timed && b.supportTimestampQuery) {
    b.endComputePassEncoder();
    if (b.querySet == null) b.querySet = b.device.createQuerySet({ type: 'timestamp', count: b.querySetCount });
    b.computePassEncoder = commandEncoder.beginComputePass({
      timestampWrites: { querySet: b.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 },
    });
  } else if (!b.computePassEncoder) {
    b.computePassEncoder = commandEncoder.beginComputePass({});
  }
  const pass = b.computePassEncoder as GPUComputePassEncoder;
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(dispatch.workgroups, 1, 1);
  dispatchCount++;
  b.dispatchCountInPass++;
  if (timed || (tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number) <= b.dispatchCountInPass) {
    b.endComputePassEncoder();
    if (timed) b.activeTimers?.push({ name: dispatch.name, query: b.getQueryTime() });
    else b.submitQueue();
  }
}

let dispatchCount = 0;
const counted = new WeakSet<object>();

/** Compute dispatches recorded on the WebGPU backend so far (tfjs's programs and the raw ones),
 * counting from the first call: the number a GPU pays per-dispatch overhead for. Kernels that move
 * no data (Reshape, Identity) dispatch nothing; on another backend nothing is counted. */
export function dispatchesSoFar(): number {
  const backend = tf.backend() as unknown as { runWebGPUProgram?: (...args: unknown[]) => unknown };
  const original = backend.runWebGPUProgram;
  if (original && !counted.has(backend)) {
    counted.add(backend);
    backend.runWebGPUProgram = function (this: unknown, ...args: unknown[]) {
      dispatchCount++;
      return original.apply(this, args);
    };
  }
  return dispatchCount;
}

/** `run`'s result and the compute dispatches it recorded (see dispatchesSoFar). */
export async function countDispatches<T>(run: () => Promise<T>): Promise<{ result: T; dispatches: number }> {
  const before = dispatchesSoFar();
  const result = await run();
  return { result, dispatches: dispatchesSoFar() - before };
}
