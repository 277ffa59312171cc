/** The data layer: datasets, CIFAR-10 I/O, CIFAR-10-C corruptions, tasks and batching. */
export * from './types';
export { createRng, mixSeed, permutation, type Rng } from '../rng';
export * from './synthetic';
export * from './cifar10';
export { gzip, gunzip, parseTar, makeTar, bytesToStream, type TarEntry } from './archive';
export {
  CORRUPTION_NAMES,
  CORRUPTION_PARAMETERS,
  CORRUPTION_SEVERITIES,
  corruptDataset,
  corruptImage,
  isCorruptionName,
  isSeverity,
  type CorruptionName,
  type Severity,
} from './corruptions';
export * from './tasks';
export * from './batching';
