/**
 * Mini-batches as tfjs tensors on the active backend: a seeded shuffle per epoch, float32 NHWC
 * images normalised per channel, int32 labels, and the usual light augmentation (random crop
 * with 4-px zero padding, horizontal flip) done on the device with one cropAndResize, optionally
 * resized to the model's input resolution. The caller owns (and disposes) each batch's tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, permutation } from '../rng';
import { imageByteLength, type Dataset } from './types';

export type Rgb = readonly [number, number, number];
export interface Normalization {
  mean: Rgb;
  std: Rgb;
}

/** torchvision's ImageNet statistics, which imported torchvision weights expect. */
export const IMAGENET_NORMALIZATION: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
/** CIFAR-10 train-set statistics, the usual choice for models trained from scratch on it. */
export const CIFAR10_NORMALIZATION: Normalization = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };
/** One convention for every model and source so imported and lab-pretrained checkpoints agree. */
export const DEFAULT_NORMALIZATION = IMAGENET_NORMALIZATION;

/** Zero padding on each side before the random crop. */
export const AUGMENT_PADDING = 4;

export interface BatchOptions {
  batchSize: number;
  /** Seeds the shuffle and the augmentation. */
  seed: number;
  /** Each epoch gets its own order and augmentation. */
  epoch: number;
  /** Default true; false keeps dataset order (evaluation). */
  shuffle?: boolean;
  /** Random crop (4-px zero padding) + horizontal flip. Default false. */
  augment?: boolean;
  /** Model input resolution; images are resized (bilinear) when it differs from the dataset's. */
  inputSize?: number;
  normalization?: Normalization;
  /** Skip a last, smaller batch (keeps BatchNorm statistics stable). Default false. */
  dropRemainder?: boolean;
}

export interface Batch {
  /** [n, inputSize, inputSize, 3] float32, normalised. */
  images: tf.Tensor4D;
  /** [n] int32 class indices. */
  labels: tf.Tensor1D;
  /** Which dataset images are in the batch, in order. */
  indices: Uint32Array;
}

// Distinct seed streams for the shuffle and the augmentation.
const SHUFFLE_STREAM = 0x5348;
const AUGMENT_STREAM = 0x4147;

/** The order in which an epoch visits the dataset: a permutation fixed by (seed, epoch). */
export function epochOrder(count: number, seed: number, epoch: number): Uint32Array {
  return permutation(count, createRng(seed, SHUFFLE_STREAM, epoch));
}

export function batchCount(count: number, batchSize: number, dropRemainder = false): number {
  return dropRemainder ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/** Yields the epoch's batches; dispose each batch's tensors when done with it. */
export function* iterateBatches(dataset: Dataset, options: BatchOptions): Generator<Batch, void, undefined> {
  const { batchSize, seed, epoch, shuffle = true, dropRemainder = false } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const count = dataset.labels.length;
  const order = shuffle ? epochOrder(count, seed, epoch) : Uint32Array.from({ length: count }, (_, i) => i);
  const batches = batchCount(count, batchSize, dropRemainder);
  for (let batch = 0; batch < batches; batch++) {
    const indices = order.subarray(batch * batchSize, Math.min(count, (batch + 1) * batchSize));
    yield makeBatch(dataset, indices, { ...options, batchIndex: batch });
  }
}

/** One batch of the given images; `batchIndex` keys its augmentation draws. */
export function makeBatch(dataset: Dataset, indices: ArrayLike<number>, options: Omit<BatchOptions, 'batchSize'> & { batchIndex?: number }): Batch {
  const { height, width } = dataset;
  const count = indices.length;
  const perImage = imageByteLength(dataset);
  const inputSize = options.inputSize ?? height;
  const { mean, std } = options.normalization ?? DEFAULT_NORMALIZATION;
  const pixels = new Float32Array(count * perImage);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const source = indices[i];
    const image = dataset.images.subarray(source * perImage, (source + 1) * perImage);
    for (let p = 0; p < perImage; p++) pixels[i * perImage + p] = image[p];
    labels[i] = dataset.labels[source];
  }
  // Crop offsets and flips are drawn on the host (seeded) and applied on the device.
  let boxes: Float32Array | null = null;
  if (options.augment) {
    const rng = createRng(options.seed, AUGMENT_STREAM, options.epoch, options.batchIndex ?? 0);
    boxes = augmentationBoxes(count, height, width, rng.int.bind(rng), rng.bernoulli.bind(rng));
  }
  const images = tf.tidy(() => {
    let x: tf.Tensor4D = tf.tensor4d(pixels, [count, height, width, 3]);
    if (boxes) {
      const padded = tf.pad(x, [[0, 0], [AUGMENT_PADDING, AUGMENT_PADDING], [AUGMENT_PADDING, AUGMENT_PADDING], [0, 0]]);
      const boxIndices = tf.tensor1d(Int32Array.from({ length: count }, (_, i) => i), 'int32');
      x = tf.image.cropAndResize(padded, tf.tensor2d(boxes, [count, 4]), boxIndices, [height, width], 'bilinear');
    }
    if (inputSize !== height || inputSize !== width) x = tf.image.resizeBilinear(x, [inputSize, inputSize], false, true);
    // (x / 255 − mean) / std as one multiply-add per channel.
    const scale = tf.tensor1d(std.map((s) => 1 / (255 * s)));
    const shift = tf.tensor1d(mean.map((m, c) => -m / std[c]));
    return x.mul(scale).add(shift) as tf.Tensor4D;
  });
  return { images, labels: tf.tensor1d(labels, 'int32'), indices: Uint32Array.from(indices) };
}

/**
 * Normalised [y1, x1, y2, x2] crop boxes into the zero-padded image: a random integer offset in
 * 0..2·padding per axis, and x1/x2 swapped for a horizontal flip (cropAndResize mirrors then).
 * With corner-aligned sampling, box (o, o + side − 1)/(paddedSide − 1) picks exactly pixels o..o+side−1.
 */
export function augmentationBoxes(count: number, height: number, width: number, randomInt: (n: number) => number, flipCoin: (p: number) => boolean): Float32Array {
  const paddedHeight = height + 2 * AUGMENT_PADDING;
  const paddedWidth = width + 2 * AUGMENT_PADDING;
  const boxes = new Float32Array(count * 4);
  for (let i = 0; i < count; i++) {
    const offsetY = randomInt(2 * AUGMENT_PADDING + 1);
    const offsetX = randomInt(2 * AUGMENT_PADDING + 1);
    const left = offsetX / (paddedWidth - 1);
    const right = (offsetX + width - 1) / (paddedWidth - 1);
    const flip = flipCoin(0.5);
    boxes[i * 4] = offsetY / (paddedHeight - 1);
    boxes[i * 4 + 1] = flip ? right : left;
    boxes[i * 4 + 2] = (offsetY + height - 1) / (paddedHeight - 1);
    boxes[i * 4 + 3] = flip ? left : right;
  }
  return boxes;
}
