import { describe, expect, it } from 'vitest';
import { bytesToStream, gunzip, gzip, makeTar, parseTar } from './archive';
import {
  CIFAR10_CLASS_NAMES,
  CIFAR_RECORD_BYTES,
  readCifar10Archive,
  readCifarBin,
  writeCifar10Archive,
  writeCifarBin,
} from './cifar10';
import { generateSyntheticDataset } from './synthetic';
import { DataError, type Dataset } from './types';

function asCifar(dataset: Dataset): Dataset {
  return { ...dataset, classNames: CIFAR10_CLASS_NAMES };
}

const train = asCifar(generateSyntheticDataset({ split: 'train', count: 23 }));
const test = asCifar(generateSyntheticDataset({ split: 'test', count: 7 }));

async function expectDataError(promise: Promise<unknown>, file: RegExp, problem: RegExp): Promise<void> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DataError);
  expect((error as DataError).file).toMatch(file);
  expect((error as DataError).message).toMatch(problem);
}

describe('CIFAR binary records', () => {
  it('round-trips a dataset through .bin records, converting CHW to HWC', () => {
    const bytes = writeCifarBin(train);
    expect(bytes.length).toBe(23 * CIFAR_RECORD_BYTES);
    // Record 0: label, then the red plane; pixel (0, 1)'s green is at 1 + 1024 + 1.
    expect(bytes[0]).toBe(train.labels[0]);
    expect(bytes[1 + 1024 + 1]).toBe(train.images[1 * 3 + 1]);
    const back = readCifarBin(bytes, 'x.bin');
    expect(back.images).toEqual(train.images);
    expect(back.labels).toEqual(train.labels);
    expect(back.classNames).toEqual(CIFAR10_CLASS_NAMES);
  });

  it('rejects a wrong record size and out-of-range labels, naming the file', () => {
    const bytes = writeCifarBin(train);
    expect(() => readCifarBin(bytes.subarray(0, bytes.length - 5), 'short.bin')).toThrow(/short\.bin: has the wrong record size.*3073/);
    const badLabel = bytes.slice();
    badLabel[CIFAR_RECORD_BYTES * 2] = 12;
    expect(() => readCifarBin(badLabel, 'label.bin')).toThrow(/label\.bin: record 2 has label 12, out of range 0\.\.9/);
    expect(() => readCifarBin(new Uint8Array(0), 'empty.bin')).toThrow(DataError);
  });
});

describe('tar and gzip', () => {
  it('round-trips files through tar and gzip', async () => {
    const files = [
      { path: 'dir/a.txt', data: new TextEncoder().encode('hello') },
      { path: 'dir/sub/b.bin', data: new Uint8Array(1500).map((_, i) => i % 256) },
    ];
    const archive = await gzip(makeTar(files));
    const entries = parseTar(await gunzip(archive));
    expect(entries.map((entry) => entry.path)).toEqual(['dir/a.txt', 'dir/sub/b.bin']);
    expect(entries[1].data).toEqual(files[1].data);
  });

  it('rejects a corrupted tar header', () => {
    const tar = makeTar([{ path: 'a', data: new Uint8Array(10) }]);
    tar[0] ^= 1;
    expect(() => parseTar(tar, 'bad.tar')).toThrow(/bad\.tar: .*checksum/);
  });
});

describe('cifar-10-binary.tar.gz', () => {
  it('round-trips a generated archive from bytes, reporting progress', async () => {
    const archive = await writeCifar10Archive({ train, test });
    const progress: number[] = [];
    const splits = await readCifar10Archive(archive, { onProgress: (bytesSoFar, total) => { progress.push(bytesSoFar); expect(total).toBe(archive.length); } });
    expect(splits.train.images).toEqual(train.images);
    expect(splits.train.labels).toEqual(train.labels);
    expect(splits.test.images).toEqual(test.images);
    expect(splits.test.labels).toEqual(test.labels);
    expect(splits.classNames).toEqual(CIFAR10_CLASS_NAMES);
    expect(progress[progress.length - 1]).toBe(archive.length);
  });

  it('reads from a stream in small chunks', async () => {
    const archive = await writeCifar10Archive({ train, test });
    const progress: number[] = [];
    const splits = await readCifar10Archive(bytesToStream(archive, 997), { totalBytes: archive.length, onProgress: (bytes) => progress.push(bytes) });
    expect(splits.test.images).toEqual(test.images);
    expect(progress.length).toBeGreaterThan(5);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
  });

  it('reports a truncated archive', async () => {
    const archive = await writeCifar10Archive({ train, test });
    await expectDataError(readCifar10Archive(archive.subarray(0, Math.floor(archive.length * 0.6)), { archiveName: 'cut.tar.gz' }), /cut\.tar\.gz/, /truncated/);
  });

  it('reports a gzip-valid archive whose tar is cut inside a file', async () => {
    const tar = makeTar([{ path: 'cifar-10-batches-bin/test_batch.bin', data: writeCifarBin(test) }]);
    const cut = await gzip(tar.subarray(0, 512 + 3 * CIFAR_RECORD_BYTES));
    await expectDataError(readCifar10Archive(cut, { archiveName: 'cut-tar.tar.gz' }), /cut-tar\.tar\.gz/, /truncated inside "cifar-10-batches-bin\/test_batch\.bin"/);
  });

  it('reports data that is not gzip', async () => {
    await expectDataError(readCifar10Archive(new TextEncoder().encode('<html>404 not found</html>'), { archiveName: 'page.html' }), /page\.html/, /not valid gzip/);
  });

  it('names missing batch files', async () => {
    const archive = await writeCifar10Archive({ train, test }, { omitFiles: ['data_batch_3.bin', 'test_batch.bin'] });
    await expectDataError(readCifar10Archive(archive), /cifar-10-binary\.tar\.gz/, /missing cifar-10-batches-bin\/data_batch_3\.bin, cifar-10-batches-bin\/test_batch\.bin/);
  });

  it('names a batch file with a wrong record size inside the archive', async () => {
    const tar = makeTar([{ path: 'cifar-10-batches-bin/data_batch_1.bin', data: new Uint8Array(CIFAR_RECORD_BYTES + 1) }]);
    await expectDataError(readCifar10Archive(await gzip(tar)), /data_batch_1\.bin/, /wrong record size/);
  });
});
