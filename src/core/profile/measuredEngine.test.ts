// The measured profiler wraps private tfjs engine methods: these tests fail, saying what changed,
// when a tfjs upgrade moves them (package.json pins tfjs to the version they were read from).
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import packageJson from '../../../package.json' with { type: 'json' };
import { engineInternalsProblems, OBSERVED_TFJS_CORE_VERSION } from './measuredEngine';

describe('the engine internals the measured profiler watches', () => {
  it('are all there in the installed tfjs', () => {
    expect(engineInternalsProblems(), 'tfjs changed the private engine surface of src/core/profile/measuredEngine.ts').toEqual([]);
  });

  it('come from the tfjs version package.json pins exactly', () => {
    expect(tf.version_core, `installed tfjs-core ${tf.version_core}, observer read from ${OBSERVED_TFJS_CORE_VERSION}`).toBe(OBSERVED_TFJS_CORE_VERSION);
    for (const name of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu'] as const) {
      expect(packageJson.dependencies[name], `${name} must be pinned exactly`).toBe(OBSERVED_TFJS_CORE_VERSION);
    }
  });

  it('are reported by name when one changes', () => {
    const engine = tf.engine() as unknown as Record<string, unknown>;
    const changed = Object.assign(Object.create(Object.getPrototypeOf(engine)), engine, { endTape: undefined, trackTensor: (a: unknown) => a, state: { ...(engine.state as object), tensorInfo: undefined } });
    delete (changed.state as Record<string, unknown>).tensorInfo;
    expect(engineInternalsProblems(changed)).toEqual([
      'Engine.trackTensor now takes 1 arguments, not 2',
      'Engine.endTape is gone (the observer wraps it)',
      'Engine.state.tensorInfo is gone (the observer reads it)',
    ]);
  });
});
