// CIFAR-10 on the Hugging Face hub (data source `hub_cifar10`): which files, how big, and which a
// configuration needs. No parquet reader here (that is src/core/data/cifarParquet.ts, worker only),
// so the page can show the files and start their downloads without loading hyparquet.
import type { HubFile } from './hubUrl';

export type HubCifar10Split = 'test' | 'train';

export interface HubCifar10File {
  split: HubCifar10Split;
  file: HubFile;
  images: number;
  /** The file's size on the hub, for the page to say what a download costs before it starts (the
   * download reports the exact size). */
  approxBytes: number;
}

const file = (path: string): HubFile => ({ repoType: 'dataset', repo: 'uoft-cs/cifar10', revision: 'main', path });

/** The dataset card's `plain_text` config: one parquet file per split. */
export const HUB_CIFAR10_FILES: Record<HubCifar10Split, HubCifar10File> = {
  test: { split: 'test', file: file('plain_text/test-00000-of-00001.parquet'), images: 10_000, approxBytes: 24e6 },
  train: { split: 'train', file: file('plain_text/train-00000-of-00001.parquet'), images: 50_000, approxBytes: 120e6 },
};

/** Without the train file, this share of the test file (stratified, seeded) is held out to test on;
 * the rest is fine-tuned on. */
export const HUB_CIFAR10_HOLDOUT_FRACTION = 0.2;

/** The files a configuration reads: the test file always, the train file when asked for. */
export function hubCifar10FilesFor(config: { hubTrainFile: boolean }): HubCifar10File[] {
  return config.hubTrainFile ? [HUB_CIFAR10_FILES.test, HUB_CIFAR10_FILES.train] : [HUB_CIFAR10_FILES.test];
}
