// Matmuls for 1×1 convs and linear layers, and batched ones for attention (fused.ts matMul2d and
// batchMatMul decide when): a scalar kernel for any shape, a 4×4-tiled vec4 one when the sides are
// multiples of 4, and a row-splitting reduction for weight gradients with few outputs. A batch of
// matrices ([batch, rows, cols] each, the same batch) is one dispatch: each invocation finds its
// matrix from its tile (or output) index.
import * as tf from '@tensorflow/tfjs';
import { ELEMENTWISE_WORKGROUP, type KernelFuncs, MAX_VEC4_WORKGROUPS, reduceSumHeader, reductionWorkgroup, run, VEC4_WORKGROUP, type WebGpuProgram } from './programs';
import { dispatchRaw, newDeviceTensor } from '../webgpuRaw';
import { KERNELS } from './names';

/** Below this many 4×4 tiles of C, an Aᵀ·B (matMulTransposeAVec4) splits each tile's rows across a
 * workgroup: one invocation per tile would leave most of the device idle (24 tiles for the
 * [8192, 8]ᵀ·[8192, 48] weight gradient of MobileNetV2's first expansion). */
const MIN_TILES_PER_INVOCATION = 256;

/**
 * C = A·B, A·Bᵀ or Aᵀ·B (`layout` nn, nt, tn; M, K, N multiples of 4): each invocation computes a
 * 4×4 tile of C in registers, reading A and B four values at a time: 8 vec4 loads per 64
 * multiply-adds (nn, nt) or 2 per 16 (tn), where the scalar kernel makes 5 loads per 4. No shared
 * memory and no barriers: on SwiftShader the CPU's caches do the reuse a GPU's tiles would.
 */
function matMulTiledVec4(backend: unknown, a: tf.TensorInfo, b: tf.TensorInfo, { batch, m, k, n, outShape }: MatMulSizes, layout: 'nn' | 'nt' | 'tn'): tf.TensorInfo {
  const out = newDeviceTensor(backend, outShape);
  const tilesPerMatrix = (m / 4) * (n / 4);
  const tiles = batch * tilesPerMatrix;
  const rows = [0, 1, 2, 3];
  const declare = (name: string) => rows.map((r) => `var ${name}${r} = vec4<f32>(0.0);`).join(' ');
  // nn: row r of the tile += Σ over four k of a_r[k]·(B's row k, four columns); nt: the four
  // columns' dot products with a_r; tn: one k at a time, the outer product of A's and B's rows.
  const loop = {
    nn: `for (var k4 = 0; k4 < K4; k4 = k4 + 1) {
          ${rows.map((r) => `let a${r} = A[aBase + (i4 * 4 + ${r}) * K4 + k4];`).join(' ')}
          ${rows.map((q) => `let b${q} = B[bBase + (k4 * 4 + ${q}) * N4 + j4];`).join(' ')}
          ${rows.map((r) => `acc${r} = acc${r} + a${r}.x * b0 + a${r}.y * b1 + a${r}.z * b2 + a${r}.w * b3;`).join('\n          ')}
        }`,
    nt: `for (var k4 = 0; k4 < K4; k4 = k4 + 1) {
          ${rows.map((r) => `let a${r} = A[aBase + (i4 * 4 + ${r}) * K4 + k4];`).join(' ')}
          ${rows.map((c) => `let b${c} = B[bBase + (j4 * 4 + ${c}) * K4 + k4];`).join(' ')}
          ${rows.map((r) => `acc${r} = acc${r} + vec4<f32>(dot(a${r}, b0), dot(a${r}, b1), dot(a${r}, b2), dot(a${r}, b3));`).join('\n          ')}
        }`,
    tn: `for (var r = 0; r < K; r = r + 1) {
          let av = A[aBase + r * M4 + i4];
          let bv = B[bBase + r * N4 + j4];
          acc0 = acc0 + av.x * bv; acc1 = acc1 + av.y * bv; acc2 = acc2 + av.z * bv; acc3 = acc3 + av.w * bv;
        }`,
  }[layout];
  dispatchRaw(backend, {
    name: KERNELS.matMul,
    // The sizes are uniforms, not constants: one pipeline per layout serves every shape (each
    // pipeline costs ~0.1 s to compile on SwiftShader, where the loops run no slower for it).
    key: `lab_matmul_tiled_${layout}`,
    buffers: [{ name: 'A', info: a, vec4: true }, { name: 'B', info: b, vec4: true }, { name: 'Out', info: out, write: true, vec4: true }],
    uniforms: [
      { name: 'tiles', type: 'i32', value: tiles },
      { name: 'tilesPerMatrix', type: 'i32', value: tilesPerMatrix },
      { name: 'k', type: 'i32', value: k },
      { name: 'm4', type: 'i32', value: m / 4 },
      { name: 'n4', type: 'i32', value: n / 4 },
    ],
    workgroupSize: VEC4_WORKGROUP,
    workgroups: Math.max(1, Math.min(Math.ceil(tiles / VEC4_WORKGROUP), MAX_VEC4_WORKGROUPS)),
    body: `
      let K = uniforms.k; let K4 = K / 4; let M4 = uniforms.m4; let N4 = uniforms.n4;
      let stride = i32(numWorkgroups.x) * ${VEC4_WORKGROUP};
      for (var t = i32(globalId.x); t < uniforms.tiles; t = t + stride) {
        // The tile's matrix of the batch, and the vec4 offsets of its A, B and C.
        let matrix = t / uniforms.tilesPerMatrix;
        let tile = t % uniforms.tilesPerMatrix;
        let aBase = matrix * M4 * K; let bBase = matrix * K * N4; let outBase = matrix * M4 * 4 * N4;
        let i4 = tile / N4;
        let j4 = tile % N4;
        ${declare('acc')}
        ${loop}
        ${rows.map((r) => `Out[outBase + (i4 * 4 + ${r}) * N4 + j4] = acc${r};`).join(' ')}
      }`,
  });
  return out;
}

/**
 * C = Aᵀ·B (A [K, M], B [K, N]; M, K, N multiples of 4): the weight gradients of 1×1 convs and
 * linear layers, a small C summed over many rows K. A channel-reduction layout: one workgroup per
 * 4×4 tile of C, its invocations splitting the rows and each adding the outer products of its
 * rows' four A values and four B values (2 vec4 loads per 16 multiply-adds), then one workgroup
 * sum per tile row.
 */
function matMulTransposeAVec4(backend: unknown, a: tf.TensorInfo, b: tf.TensorInfo, { batch, m, k, n, outShape }: MatMulSizes): tf.TensorInfo {
  const out = newDeviceTensor(backend, outShape);
  const workgroup = reductionWorkgroup(k);
  const [m4, n4] = [m / 4, n / 4];
  const rows = [0, 1, 2, 3];
  dispatchRaw(backend, {
    name: KERNELS.matMul,
    key: `lab_matmul_ta_${workgroup}`,
    buffers: [{ name: 'A', info: a, vec4: true }, { name: 'B', info: b, vec4: true }, { name: 'Out', info: out, write: true, vec4: true }],
    uniforms: [
      { name: 'rows', type: 'i32', value: k },
      { name: 'm4', type: 'i32', value: m4 },
      { name: 'n4', type: 'i32', value: n4 },
    ],
    workgroupSize: workgroup,
    workgroups: batch * m4 * n4,
    header: `
      alias T = vec4<f32>;
      ${reduceSumHeader(workgroup)}`,
    body: `
      lane = localId.x;
      let M4 = uniforms.m4; let N4 = uniforms.n4; let K = uniforms.rows;
      let matrix = i32(workgroupId.x) / (M4 * N4);
      let tile = i32(workgroupId.x) % (M4 * N4);
      let aBase = matrix * K * M4; let bBase = matrix * K * N4; let outBase = matrix * M4 * 4 * N4;
      let i4 = tile / N4;
      let j4 = tile % N4;
      ${rows.map((r) => `var acc${r} = vec4<f32>(0.0);`).join(' ')}
      for (var r = i32(localId.x); r < K; r = r + ${workgroup}) {
        let av = A[aBase + r * M4 + i4];
        let bv = B[bBase + r * N4 + j4];
        acc0 = acc0 + av.x * bv; acc1 = acc1 + av.y * bv; acc2 = acc2 + av.z * bv; acc3 = acc3 + av.w * bv;
      }
      ${rows.map((r) => `let total${r} = labReduceSum(acc${r});`).join(' ')}
      if (localId.x == 0u) {
        ${rows.map((r) => `Out[outBase + (i4 * 4 + ${r}) * N4 + j4] = total${r};`).join(' ')}
      }`,
  });
  return out;
}

export const MATMUL_KERNELS: KernelFuncs = {
  // C = op(A)·op(B) for 2-D A and B, one invocation per 4 (or, when N is not a multiple of 4, 1)
  // outputs of a row, with a plain loop over K: no shared-memory tiles and no barriers, which is
  // what makes it fast on SwiftShader at the engine's skinny shapes (fused.ts decides when).
  // With M, K and N multiples of 4, the tiled kernels below instead.
  [KERNELS.matMul]: ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const transposeA = Boolean(attrs?.transposeA);
    const transposeB = Boolean(attrs?.transposeB);
    const sizes = matMulSizes(a, b, transposeA, transposeB);
    const { batch, m, k, n, outShape } = sizes;
    if (m % 4 === 0 && k % 4 === 0 && n % 4 === 0) {
      const tiles = (m / 4) * (n / 4);
      if (!transposeA) return matMulTiledVec4(backend, a, b, sizes, transposeB ? 'nt' : 'nn');
      // Aᵀ·B with few tiles of C (a weight gradient over many rows) splits the rows across a
      // workgroup; with many, each invocation sums its tile's rows alone (no barriers).
      if (tiles >= MIN_TILES_PER_INVOCATION) return matMulTiledVec4(backend, a, b, sizes, 'tn');
      return matMulTransposeAVec4(backend, a, b, sizes);
    }
    const width = n % 4 === 0 ? 4 : 1;
    const aAt = transposeA ? 'A[aBase + kk * M + i]' : 'A[aBase + i * K + kk]';
    const bAt = (offset: number) => (transposeB ? `B[bBase + (j + ${offset}) * K + kk]` : `B[bBase + kk * N + j + ${offset}]`);
    const accumulate =
      width === 4
        ? `acc = acc + ${aAt} * vec4<f32>(${[0, 1, 2, 3].map(bAt).join(', ')});`
        : `acc = acc + ${aAt} * ${bAt(0)};`;
    const store =
      width === 4 ? 'result[first] = acc.x; result[first + 1] = acc.y; result[first + 2] = acc.z; result[first + 3] = acc.w;' : 'result[first] = acc;';
    const program: WebGpuProgram = {
      variableNames: ['A', 'B'],
      outputShape: outShape,
      // M, K and N are uniforms: one pipeline per layout and width serves every shape.
      shaderKey: `lab_matmul_${width}_${transposeA}_${transposeB}`,
      dispatchLayout: { x: [0, 1] },
      dispatch: [Math.ceil((batch * m * n) / width / ELEMENTWISE_WORKGROUP), 1, 1],
      workgroupSize: [ELEMENTWISE_WORKGROUP, 1, 1],
      size: true,
      uniforms: 'm : i32, k : i32, n : i32,',
      getUserCode: () => `
        fn main(index : i32) {
          let M = uniforms.m;
          let K = uniforms.k;
          let N = uniforms.n;
          let first = index * ${width};
          if (first < uniforms.size) {
            // The output's matrix of the batch, and the offsets of its A and B.
            let matrix = first / (M * N);
            let aBase = matrix * M * K;
            let bBase = matrix * K * N;
            let i = (first % (M * N)) / N;
            let j = first % N;
            var acc = ${width === 4 ? 'vec4<f32>(0.0)' : '0.0'};
            for (var kk = 0; kk < K; kk = kk + 1) { ${accumulate} }
            ${store}
          }
        }`,
    };
    return run(backend, program, [a, b], [{ type: 'int32', data: [m] }, { type: 'int32', data: [k] }, { type: 'int32', data: [n] }]);
  },
};

/** A matmul's sizes: `batch` matrices (1 for 2-D operands) of op(A) [m, k] and op(B) [k, n]. */
interface MatMulSizes {
  batch: number;
  m: number;
  k: number;
  n: number;
  outShape: number[];
}

function matMulSizes(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): MatMulSizes {
  const batched = a.shape.length === 3;
  const [rowsA, colsA] = a.shape.slice(-2);
  const [rowsB, colsB] = b.shape.slice(-2);
  const [m, k] = transposeA ? [colsA, rowsA] : [rowsA, colsA];
  const n = transposeB ? rowsB : colsB;
  const batch = batched ? a.shape[0] : 1;
  return { batch, m, k, n, outShape: batched ? [batch, m, n] : [m, n] };
}
