// tfjs in Node for the CLI: the pure-JS CPU backend of '@tensorflow/tfjs' (no tfjs-node, no GPU).
import * as tf from '@tensorflow/tfjs';

export async function useCpuBackend(): Promise<void> {
  if (!(await tf.setBackend('cpu'))) throw new Error('tfjs: the CPU backend failed to start');
  await tf.ready();
}
