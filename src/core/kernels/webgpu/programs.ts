// The building blocks of the lab's WebGPU kernels: tfjs-backend-webgpu programs (one output, run
// through the backend) and raw dispatches (webgpuRaw.ts: several outputs, in-place updates), as
// elementwise passes (scalar, or vec4 with per-channel values read once per invocation),
// per-channel reductions (one workgroup per channel or four channels, a workgroup sum at the end)
// and per-row passes (one invocation per row of the last axis).
import * as tf from '@tensorflow/tfjs';
import { dispatchRaw, newDeviceTensor, type RawBuffer, type RawUniform } from '../webgpuRaw';
import type { KernelName } from './names';

/** The part of tfjs-backend-webgpu's program interface these kernels use (webgpu_program.ts). */
export interface WebGpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size?: boolean;
  uniforms?: string;
  getUserCode: () => string;
  /** The lab's own: uniforms `elementwise` declares first (the channel count), which `run` passes
   * before the caller's. */
  leadingUniforms?: ProgramUniform[];
}
interface ProgramUniform {
  type: 'float32' | 'int32';
  data: number[];
}
interface WebGpuBackendLike {
  runWebGPUProgram(program: WebGpuProgram, inputs: tf.TensorInfo[], dtype: tf.DataType, uniforms?: ProgramUniform[]): tf.TensorInfo;
}
export type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Some of the lab's kernel functions, by name (each file of webgpu/ exports one such table). */
export type KernelFuncs = Partial<Record<KernelName, (args: KernelArgs) => tf.TensorInfo>>;

export const ELEMENTWISE_WORKGROUP = 128;

export const channelsOf = (shape: readonly number[]) => shape[shape.length - 1];

export const rowsOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1) / channelsOf(shape);

export const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Whether a per-channel kernel can take four channels at once (one vec4 per invocation): the
 * channel count is a multiple of 4, as at every width of the lab's CNNs (not at odd test shapes).
 * On SwiftShader a vec4 load costs about what a scalar one does, and the per-channel reductions'
 * strided reads touch a quarter of the cache lines, so these kernels run several times faster. */
export const takesVec4 = (shape: readonly number[]) => channelsOf(shape) % 4 === 0;

/** An elementwise program over `shape`: `body` sees `index` and, when `perChannel`, `c` (the channel)
 * and `CHANNELS` (a uniform, as the sizes of every lab kernel: one pipeline serves every shape). */
export function elementwise(name: string, variableNames: string[], shape: number[], body: string, uniforms = '', perChannel = true, helpers = ''): WebGpuProgram {
  const size = sizeOf(shape);
  return {
    variableNames,
    outputShape: shape,
    shaderKey: name,
    dispatchLayout: { x: shape.map((_, i) => i) },
    dispatch: [Math.ceil(size / ELEMENTWISE_WORKGROUP), 1, 1],
    workgroupSize: [ELEMENTWISE_WORKGROUP, 1, 1],
    size: true,
    uniforms: perChannel ? `channels : i32, ${uniforms}` : uniforms || undefined,
    leadingUniforms: perChannel ? [{ type: 'int32', data: [channelsOf(shape)] }] : [],
    getUserCode: () => `
      ${helpers}
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${perChannel ? 'let CHANNELS = uniforms.channels;\n          let c = index % CHANNELS;' : ''}
          ${body}
        }
      }`,
  };
}

export function run(backend: unknown, program: WebGpuProgram, inputs: tf.TensorInfo[], uniforms: ProgramUniform[] = []): tf.TensorInfo {
  return (backend as WebGpuBackendLike).runWebGPUProgram(program, inputs, 'float32', [...(program.leadingUniforms ?? []), ...uniforms]);
}

/** Invocations per workgroup of a vec4 elementwise dispatch, and most workgroups it asks for: each
 * invocation loops over the vec4s a whole grid apart. On SwiftShader fewer, longer invocations cost
 * less, and a GPU is still busy with 128 × 64 invocations on these memory-bound passes. */
export const VEC4_WORKGROUP = 64;
export const MAX_VEC4_WORKGROUPS = 128;

/**
 * An elementwise raw dispatch over `shape` (its size a multiple of 4), one vec4 at a time: every
 * input and the output `Out` are bound as array<vec4<f32>>, and `body` sees the vec4 index `i`.
 * With `perChannel` (the default; the channel count then a multiple of 4), the grid is a whole
 * number of rows of C/4 vec4s, so an invocation always meets the same four channels: `setup` runs
 * once per invocation and reads that channel vec4's per-channel values (index `c`, and `CHANNELS4`
 * = C/4), and `body` only reads and writes the elements. Returns `Out`.
 *
 * CHANNELS4 is a uniform, not a constant, so one pipeline serves every channel count: a pipeline
 * costs ~0.1 s to compile on SwiftShader and a network has a dozen channel counts, while the
 * kernels measured no slower for it (even the depthwise ones, which divide by it per element).
 */
export function elementwiseVec4(
  backend: unknown,
  { name, key, shape, inputs, uniforms = [], header = '', setup = '', body, perChannel = true }: { name: string; key: string; shape: readonly number[]; inputs: [string, tf.TensorInfo][]; uniforms?: RawUniform[]; header?: string; setup?: string; body: string; perChannel?: boolean },
): tf.TensorInfo {
  const count4 = sizeOf(shape) / 4;
  const out = newDeviceTensor(backend, [...shape]);
  const channels4 = perChannel ? channelsOf(shape) / 4 : 1;
  // At least one invocation per channel vec4, so the grid holds a whole row.
  const workgroups = Math.max(Math.min(Math.ceil(count4 / VEC4_WORKGROUP), MAX_VEC4_WORKGROUPS), Math.ceil(channels4 / VEC4_WORKGROUP), 1);
  dispatchRaw(backend, {
    name,
    key,
    buffers: [...inputs.map(([bufferName, info]) => ({ name: bufferName, info, vec4: true })), { name: 'Out', info: out, write: true, vec4: true }],
    uniforms: [{ name: 'count4', type: 'i32', value: count4 }, { name: 'channels4', type: 'i32', value: channels4 }, ...uniforms],
    workgroupSize: VEC4_WORKGROUP,
    workgroups,
    header,
    body: `
      let CHANNELS4 = uniforms.channels4;
      // The grid, rounded down to whole rows of CHANNELS4: invocation g meets only channel vec4 g % CHANNELS4.
      let stride = (i32(numWorkgroups.x) * ${VEC4_WORKGROUP} / CHANNELS4) * CHANNELS4;
      let first = i32(globalId.x);
      if (first >= stride) { return; }
      let c = first % CHANNELS4;
      ${setup}
      for (var i = first; i < uniforms.count4; i = i + stride) {
        ${body}
      }`,
  });
  return out;
}

/** `statement(k)` for each component k of a vec4 (x, y, z, w): a scalar expression applied per lane. */
export const perComponent = (statement: (k: string) => string) => ['x', 'y', 'z', 'w'].map(statement).join('\n          ');

/** Most invocations per workgroup of a per-channel reduction (one workgroup per channel). */
const MAX_REDUCE_WORKGROUP = 64;

/** A per-channel reduction over all other axes of `shape` as a raw dispatch (webgpuRaw.ts), one
 * workgroup per channel (or, with `vec4`, per four channels), writing its results into the buffers
 * bound read_write. `body` sees `c`, `first` (this invocation's first row), `ROWS` and `CHANNELS`
 * (in elements of the per-channel bindings: C, or C/4 with `vec4`; uniforms, so one pipeline per
 * workgroup size serves every shape), the constant `WORKGROUP`, the type `T` (f32, or vec4<f32>;
 * `T()` is zero, `T(v)` a splat), and `labReduceSum(v : T)` (the workgroup's sum of v, in uniform
 * control flow). With `vec4`, the caller binds its per-channel
 * buffers `vec4`. The workgroup shrinks with the rows (~32 rows per invocation, 1–64
 * invocations): on SwiftShader a barrier costs far more than a few sequential adds, and small
 * late-network tensors have few rows per channel. */
export function dispatchChannelReduction(
  backend: unknown,
  { name, key, shape, vec4, buffers, uniforms, body }: { name: string; key: string; shape: readonly number[]; vec4: boolean; buffers: RawBuffer[]; uniforms: RawUniform[]; body: string },
): void {
  const channels = channelsOf(shape) / (vec4 ? 4 : 1);
  const rows = rowsOf(shape);
  const workgroup = reductionWorkgroup(rows);
  dispatchRaw(backend, {
    name,
    key: `${key}_${workgroup}_${vec4 ? 'vec4' : 'f32'}`,
    buffers,
    uniforms: [{ name: 'rows', type: 'i32', value: rows }, { name: 'channels', type: 'i32', value: channels }, ...uniforms],
    workgroupSize: workgroup,
    workgroups: channels,
    header: `
      alias T = ${vec4 ? 'vec4<f32>' : 'f32'};
      const WORKGROUP = ${workgroup};
      ${reduceSumHeader(workgroup)}`,
    body: `
      lane = localId.x;
      let ROWS = uniforms.rows;
      let CHANNELS = uniforms.channels;
      let c = i32(workgroupId.x);
      let first = i32(localId.x);
      ${body}`,
  });
}

/** `labReduceSum(v : T)`: the sum of v over a workgroup of `workgroup` invocations, in uniform
 * control flow; main must first set `lane = localId.x`, and the header alias the type T. */
export function reduceSumHeader(workgroup: number): string {
  return `
      var<workgroup> labPartial : array<T, ${workgroup}>;
      var<private> lane : u32;
      fn labReduceSum(v : T) -> T {
        labPartial[lane] = v;
        workgroupBarrier();
        for (var s = ${Math.floor(workgroup / 2)}u; s > 0u; s = s >> 1u) {
          if (lane < s) { labPartial[lane] = labPartial[lane] + labPartial[lane + s]; }
          workgroupBarrier();
        }
        let total = labPartial[0];
        workgroupBarrier();
        return total;
      }`;
}

/** A power of two, ~32 rows per invocation, at most MAX_REDUCE_WORKGROUP. */
export function reductionWorkgroup(rows: number): number {
  let size = 1;
  while (size < MAX_REDUCE_WORKGROUP && size * 2 * 32 <= rows) size *= 2;
  return size;
}

/** A raw dispatch of one invocation per row of `shape` (a token's D features, a row of attention
 * scores): `body` sees `row`, `base` (its first element) and `FEATURES`, a uniform like the rows,
 * so one pipeline serves every width and token count. */
export function dispatchPerRow(
  backend: unknown,
  { name, key, shape, buffers, uniforms = [], body }: { name: string; key: string; shape: readonly number[]; buffers: RawBuffer[]; uniforms?: RawUniform[]; body: string },
): void {
  const rows = rowsOf(shape);
  dispatchRaw(backend, {
    name,
    key,
    buffers,
    uniforms: [{ name: 'rows', type: 'i32', value: rows }, { name: 'features', type: 'i32', value: channelsOf(shape) }, ...uniforms],
    workgroupSize: ELEMENTWISE_WORKGROUP,
    workgroups: Math.ceil(rows / ELEMENTWISE_WORKGROUP),
    body: `
        let row = i32(globalId.x);
        if (row >= uniforms.rows) { return; }
        let FEATURES = uniforms.features;
        let base = row * FEATURES;
        ${body}`,
  });
}
