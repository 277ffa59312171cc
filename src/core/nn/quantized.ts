// A frozen weight stored quantized (ParamSpec.storage; src/core/quant): tfjs has no int8 dtype, so
// the codes are packed into an int32 variable (4 int8 or 8 NF4 codes per word) beside a float32
// variable of per-block scales. Their bytes are exactly quant/blockwise.ts's storedBytes, which the
// analytic profiler counts as PARAM. The float32 weight exists only while a layer runs: the
// forward dequantizes it right before the layer (freed when the layer is done), and a frozen layer
// that passes an input gradient dequantizes it again in its backward (nn/layers.ts).
import * as tf from '@tensorflow/tfjs';
import { dequantize } from '../kernels/fused';
import type { ParamSpec, QuantizedFormat } from '../models/spec';
import { quantizeBlockwise } from '../quant/blockwise';

export interface QuantizedParam {
  format: QuantizedFormat;
  /** The float32 weight's shape (lab layout). */
  shape: number[];
  /** Packed codes, int32 [words]. */
  codes: tf.Variable;
  /** Absmax per block of 64, float32 [blocks]. */
  scales: tf.Variable;
}

/** Quantizes `values` into new (non-trainable) variables named `${name}/codes` and `${name}/scales`. */
export function createQuantizedParam(param: ParamSpec, values: ArrayLike<number>, variableName: string): QuantizedParam {
  const format = param.storage as QuantizedFormat;
  const quantized = quantizeBlockwise(values, format);
  const variableOf = (values: Int32Array | Float32Array, suffix: string) => {
    const initial = tf.tensor1d(values, values instanceof Int32Array ? 'int32' : 'float32');
    try {
      return tf.variable(initial, false, `${variableName}/${suffix}`, initial.dtype);
    } finally {
      initial.dispose();
    }
  };
  const codes = variableOf(quantized.codes, 'codes');
  try {
    return { format, shape: [...param.shape], codes, scales: variableOf(quantized.scales, 'scales') };
  } catch (error) {
    codes.dispose();
    throw error;
  }
}

/** Quantizes new values into the parameter's variables (a float32 checkpoint loads this way). */
export function assignQuantized(quantized: QuantizedParam, values: ArrayLike<number>): void {
  const { codes, scales } = quantizeBlockwise(values, quantized.format);
  tf.tidy(() => {
    quantized.codes.assign(tf.tensor1d(codes, 'int32'));
    quantized.scales.assign(tf.tensor1d(scales, 'float32'));
  });
}

/** The float32 weight the codes stand for: a new tensor, the caller's to free. */
export function dequantizeParam(quantized: QuantizedParam): tf.Tensor {
  return dequantize(quantized.codes as tf.Tensor1D, quantized.scales as tf.Tensor1D, quantized.format, quantized.shape);
}

export function disposeQuantized(quantized: QuantizedParam): void {
  quantized.codes.dispose();
  quantized.scales.dispose();
}
