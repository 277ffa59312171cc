/** The data layer: datasets, CIFAR-10 I/O, CIFAR-10-C corruptions, tasks, the user's images (folders, zips) and batching. */
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
export * from './imageFolder';
export { crc32, inflateRaw, looksLikeZip, readZipDirectory, readZipEntry, unzip, type UnzippedEntry, type ZipEntry } from './zip';
export * from './batching';
