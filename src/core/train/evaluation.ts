// Accuracy and loss of a model on a whole dataset, in eval mode, a chunk of images at a time so that
// memory stays bounded whatever the dataset's size. The one implementation for the lab's run loop,
// browser pretraining, `npm run pretrain` and `cli evaluate`.
import * as tf from '@tensorflow/tfjs';
import { makeBatch } from '../data/batching';
import type { Dataset } from '../data/types';
import type { Model } from '../nn/model';
import { evaluate, type Evaluation } from './step';

/** Eval-mode accuracy and mean cross-entropy on `dataset` (normalised as in training, no
 * augmentation), `batchSize` images on the device at a time. */
export async function evaluateDataset(model: Model, dataset: Dataset, { batchSize = 64 }: { batchSize?: number } = {}): Promise<Evaluation> {
  const count = dataset.labels.length;
  if (count === 0) throw new Error('evaluateDataset: the dataset has no images');
  const inputSize = model.spec.options.resolution;
  let correct = 0;
  let lossSum = 0;
  for (let start = 0; start < count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i);
    const batch = makeBatch(dataset, indices, { seed: 0, epoch: 0, inputSize });
    try {
      const result = await evaluate(model, batch.images, batch.labels, { batchSize });
      correct += result.accuracy * indices.length;
      lossSum += result.loss * indices.length;
    } finally {
      tf.dispose([batch.images, batch.labels]);
    }
  }
  return { accuracy: correct / count, loss: lossSum / count };
}
