// The tfjs side of a ModelSpec: one tf.Variable per parameter (trainable flag from the spec; BN
// running statistics as non-trainable variables), initialised as torchvision does, seeded. A frozen
// weight the spec stores quantized (ParamSpec.storage) is held as packed codes and scales instead
// (quantized.ts), quantized whenever values are assigned.
import * as tf from '@tensorflow/tfjs';
import { createRng, type Rng } from '../rng';
import type { ModelSpec } from '../models/spec';
import { initialValues } from './init';
import { assignQuantized, createQuantizedParam, dequantizeParam, disposeQuantized, type QuantizedParam } from './quantized';

export interface Model {
  readonly spec: ModelSpec;
  /** The float32 parameters by name (torchvision state_dict key), in state_dict order. */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /** The parameters stored quantized (frozen conv/linear weights under a quantized base), by name;
   * each name is in exactly one of `variables` and `quantized`. */
  readonly quantized: ReadonlyMap<string, QuantizedParam>;
  /** Parameter name of each variable, by tf.Variable name (unique across models in the engine). */
  readonly paramNameByVariableName: ReadonlyMap<string, string>;
  /** Draws the dropout seeds of training steps, so a seeded run is reproducible end to end. */
  readonly dropoutRng: Rng;
}

export interface CreateModelOptions {
  seed: number;
}

/** tfjs registers variables by name engine-wide; each model gets its own prefix. */
let modelsCreated = 0;

export function createModel(spec: ModelSpec, { seed }: CreateModelOptions): Model {
  const prefix = `model${modelsCreated++}`;
  const variables = new Map<string, tf.Variable>();
  const quantized = new Map<string, QuantizedParam>();
  const paramNameByVariableName = new Map<string, string>();
  try {
    for (const param of Object.values(spec.params)) {
      const variableName = `${prefix}/${param.name}`;
      if (param.storage) {
        if (param.trainable) throw new Error(`createModel: ${param.name} is trainable but stored ${param.storage}; only frozen weights are quantized`);
        quantized.set(param.name, createQuantizedParam(param, initialValues(param, seed), variableName));
        continue;
      }
      const initial = tf.tensor(initialValues(param, seed), param.shape, 'float32');
      variables.set(param.name, tf.variable(initial, param.trainable, variableName));
      paramNameByVariableName.set(variableName, param.name);
      initial.dispose();
    }
  } catch (error) {
    for (const variable of variables.values()) variable.dispose();
    for (const q of quantized.values()) disposeQuantized(q);
    throw error;
  }
  return { spec, variables, quantized, paramNameByVariableName, dropoutRng: createRng(seed, 0x0d0d) };
}

export function disposeModel(model: Model): void {
  for (const variable of model.variables.values()) variable.dispose();
  for (const q of model.quantized.values()) disposeQuantized(q);
}

/** Every tensor holding the model's parameters: the float32 variables and the quantized weights'
 * codes and scales (what PARAM is). */
export function parameterTensors(model: Model): tf.Tensor[] {
  return [...model.variables.values(), ...[...model.quantized.values()].flatMap((q) => [q.codes, q.scales])];
}

/** A parameter's float32 value: its variable, or for a quantized weight a new dequantized tensor
 * (free it, or read it inside a tidy). */
export function paramValue(model: Model, name: string): tf.Tensor {
  const variable = model.variables.get(name);
  if (variable) return variable;
  const quantized = model.quantized.get(name);
  if (quantized) return dequantizeParam(quantized);
  throw new Error(`the model has no parameter ${name}`);
}

/** Sets parameter values (lab layout, e.g. from src/core/weights); validates every name and size
 * before assigning anything, so a bad set leaves the model untouched. */
export function assignParams(model: Model, values: Readonly<Record<string, ArrayLike<number>>>): void {
  const problems: string[] = [];
  for (const [name, data] of Object.entries(values)) {
    const param = model.spec.params[name];
    if (!param) {
      problems.push(`unknown parameter ${name}`);
      continue;
    }
    const size = param.shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) problems.push(`${name}: ${data.length} values for shape [${param.shape.join(', ')}]`);
  }
  if (problems.length > 0) throw new Error(`assignParams: ${problems.join('; ')}`);
  tf.tidy(() => {
    for (const [name, data] of Object.entries(values)) {
      const quantized = model.quantized.get(name);
      if (quantized) {
        assignQuantized(quantized, data);
        continue;
      }
      const variable = model.variables.get(name) as tf.Variable;
      variable.assign(tf.tensor(Float32Array.from(data), variable.shape, 'float32'));
    }
  });
}

/** Reads every parameter's values (lab layout; a quantized weight dequantized), in state_dict
 * order, without blocking the thread. */
export async function readParams(model: Model): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const name of Object.keys(model.spec.params)) {
    const value = paramValue(model, name);
    try {
      out[name] = (await value.data()) as Float32Array;
    } finally {
      if (model.quantized.has(name)) value.dispose();
    }
  }
  return out;
}
