// `corrupt`: one CIFAR-10-C corruption applied to every image of a CIFAR-format binary file
// (`data_batch_*.bin`, `test_batch.bin`, or one the lab wrote), seeded, labels unchanged.
import { readFileSync, writeFileSync } from 'node:fs';
import { readCifarBin, writeCifarBin } from '../../src/core/data/cifar10';
import { CORRUPTION_NAMES, CORRUPTION_SEVERITIES, corruptDataset, type CorruptionName, type Severity } from '../../src/core/data/corruptions';
import { DataError, type Dataset } from '../../src/core/data/types';
import type { Subcommand } from './flags';

/**
 * A file the command cannot read, parse or write: exit 1 with a one-line message naming it. The
 * dispatcher prints a failure's stack; for bad input the message is the whole story.
 */
export class InputFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputFileError';
    this.stack = `error: ${message}`;
  }
}

/** Reads and parses a CIFAR-format record file, naming the file in every error. */
export function readCifarFile(path: string): Dataset {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new InputFileError(`cannot read ${path}: ${fileProblem(error)}`);
  }
  try {
    return readCifarBin(bytes, path);
  } catch (error) {
    if (error instanceof DataError) throw new InputFileError(`${error.message} (expected a CIFAR-10 binary file)`);
    throw error;
  }
}

function fileProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}

export interface CorruptFileOptions {
  input: string;
  output: string;
  corruption: CorruptionName;
  severity: Severity;
  seed: number;
}

/** The command's work, without printing (the test calls this); returns the number of images. */
export function corruptCifarFile(options: CorruptFileOptions): number {
  const dataset = readCifarFile(options.input);
  const corrupted = corruptDataset(dataset, options.corruption, options.severity, options.seed);
  try {
    writeFileSync(options.output, writeCifarBin(corrupted));
  } catch (error) {
    throw new InputFileError(`cannot write ${options.output}: ${fileProblem(error)}`);
  }
  return corrupted.labels.length;
}

export const corruptCommand: Subcommand = {
  name: 'corrupt',
  summary: 'apply one CIFAR-10-C corruption (reference parameters, seeded) to a CIFAR-format .bin file',
  flags: [
    { name: 'in', type: { kind: 'string' }, description: 'CIFAR-format binary file (1 label byte + 3072 CHW pixel bytes per image)', required: true },
    { name: 'out', type: { kind: 'string' }, description: 'where to write the corrupted copy (same format, same labels)', required: true },
    { name: 'corruption', type: { kind: 'id', ids: CORRUPTION_NAMES }, description: 'CIFAR-10-C corruption', required: true },
    {
      name: 'severity',
      type: { kind: 'int', min: CORRUPTION_SEVERITIES[0], max: CORRUPTION_SEVERITIES[CORRUPTION_SEVERITIES.length - 1] },
      description: 'CIFAR-10-C severity',
      required: true,
    },
    { name: 'seed', type: { kind: 'int', min: 0 }, description: 'seed of the corruption noise (image i draws from (seed, i))', default: 0 },
  ],
  run(flags) {
    const options: CorruptFileOptions = {
      input: flags.in as string,
      output: flags.out as string,
      corruption: flags.corruption as CorruptionName,
      severity: flags.severity as Severity,
      seed: flags.seed as number,
    };
    const count = corruptCifarFile(options);
    console.log(`${options.output}: ${count} images of ${options.input} with ${options.corruption} at severity ${options.severity} (seed ${options.seed})`);
  },
};
