// The tfjs side of a ModelSpec: one tf.Variable per parameter (trainable flag from the spec; BN
// running statistics as non-trainable variables), initialised as torchvision does, seeded.
import * as tf from '@tensorflow/tfjs';
import { createRng, type Rng } from '../rng';
import type { ModelSpec } from '../models/spec';
import { initialValues } from './init';

export interface Model {
  readonly spec: ModelSpec;
  /** By parameter name (torchvision state_dict key), in state_dict order. */
  readonly variables: ReadonlyMap<string, tf.Variable>;
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
  const paramNameByVariableName = new Map<string, string>();
  try {
    for (const param of Object.values(spec.params)) {
      const initial = tf.tensor(initialValues(param, seed), param.shape, 'float32');
      const variableName = `${prefix}/${param.name}`;
      variables.set(param.name, tf.variable(initial, param.trainable, variableName));
      paramNameByVariableName.set(variableName, param.name);
      initial.dispose();
    }
  } catch (error) {
    for (const variable of variables.values()) variable.dispose();
    throw error;
  }
  return { spec, variables, paramNameByVariableName, dropoutRng: createRng(seed, 0x0d0d) };
}

export function disposeModel(model: Model): void {
  for (const variable of model.variables.values()) variable.dispose();
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
      const variable = model.variables.get(name) as tf.Variable;
      variable.assign(tf.tensor(Float32Array.from(data), variable.shape, 'float32'));
    }
  });
}

/** Reads every parameter's values (lab layout), without blocking the thread. */
export async function readParams(model: Model): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const [name, variable] of model.variables) out[name] = (await variable.data()) as Float32Array;
  return out;
}
