// Seeded initial values of a parameter, as torchvision initialises it. Each parameter draws from
// its own stream, seeded by (model seed, parameter name), so adding or removing a parameter (an
// adapter, say) never changes the initial values of the others.
import { createRng, type Rng } from '../rng';
import type { InitSpec, ParamSpec } from '../models/spec';

export function initialValues(param: ParamSpec, seed: number): Float32Array {
  const size = param.shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  const sample = sampler(param.init, param, createRng(seed, hashName(param.name)));
  for (let i = 0; i < size; i++) values[i] = sample();
  return values;
}

function sampler(init: InitSpec, param: ParamSpec, rng: Rng): () => number {
  switch (init.kind) {
    case 'zeros':
      return () => 0;
    case 'ones':
      return () => 1;
    case 'kaiming_normal_fan_out': {
      // gain √2 (relu, or leaky_relu with a = 0: torch's default), std = gain / √fan_out.
      const std = Math.sqrt(2 / param.fanOut);
      return () => rng.normal(0, std);
    }
    case 'kaiming_uniform': {
      const bound = Math.sqrt(6 / ((1 + init.a * init.a) * param.fanIn));
      return () => rng.uniform(-bound, bound);
    }
    case 'normal':
      return () => rng.normal(0, init.std);
    case 'uniform':
      return () => rng.uniform(-init.bound, init.bound);
  }
}

/** FNV-1a over the name's UTF-16 code units: a stable 32-bit id per parameter name. */
function hashName(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
