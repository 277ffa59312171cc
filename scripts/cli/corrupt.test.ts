import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readCifarBin, writeCifarBin } from '../../src/core/data/cifar10';
import { CORRUPTION_NAMES, corruptDataset } from '../../src/core/data/corruptions';
import { generateSyntheticDataset } from '../../src/core/data/synthetic';
import { corruptCifarFile, InputFileError } from './corrupt';

const dir = mkdtempSync(join(tmpdir(), 'cli-corrupt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Eight synthetic images written as CIFAR records: the lab's own writer, the format of test_batch.bin.
const clean = generateSyntheticDataset({ split: 'test', count: 8 });
const input = join(dir, 'tiny.bin');
writeFileSync(input, writeCifarBin(clean));

describe('cli corrupt', () => {
  it('writes the corrupted copy: same labels, images equal to corruptDataset with the same seed', () => {
    const output = join(dir, 'impulse.bin');
    expect(corruptCifarFile({ input, output, corruption: 'impulse_noise', severity: 3, seed: 7 })).toBe(8);
    const written = readCifarBin(readFileSync(output), output);
    const expected = corruptDataset(readCifarBin(readFileSync(input)), 'impulse_noise', 3, 7);
    expect(Array.from(written.labels)).toEqual(Array.from(clean.labels));
    expect(written.images).toEqual(expected.images);
    expect(written.images).not.toEqual(clean.images);
    // Seeded: the same command gives the same bytes, another seed other noise.
    const again = join(dir, 'impulse-again.bin');
    const otherSeed = join(dir, 'impulse-seed8.bin');
    corruptCifarFile({ input, output: again, corruption: 'impulse_noise', severity: 3, seed: 7 });
    corruptCifarFile({ input, output: otherSeed, corruption: 'impulse_noise', severity: 3, seed: 8 });
    expect(readFileSync(again)).toEqual(readFileSync(output));
    expect(readFileSync(otherSeed)).not.toEqual(readFileSync(output));
  });

  it('names the file when it is missing, truncated or unwritable', () => {
    const run = (inPath: string, outPath = join(dir, 'out.bin')) => () =>
      corruptCifarFile({ input: inPath, output: outPath, corruption: 'brightness', severity: 1, seed: 0 });
    expect(run(join(dir, 'missing.bin'))).toThrow(new InputFileError(`cannot read ${join(dir, 'missing.bin')}: no such file`));
    const truncated = join(dir, 'truncated.bin');
    writeFileSync(truncated, readFileSync(input).subarray(0, 3073 * 2 + 100));
    expect(run(truncated)).toThrow(/truncated\.bin: has the wrong record size: 6246 bytes is not a multiple of the 3073-byte CIFAR record/);
    expect(run(input, join(dir, 'no-such-dir', 'out.bin'))).toThrow(/cannot write .*no-such-dir\/out\.bin: no such file/);
  });
});

describe('cli corrupt through `npm run cli` (exit codes)', () => {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', 'corrupt', ...args], { cwd: root, encoding: 'utf8' });
  const output = join(dir, 'cli.bin');

  it('0 on success, 2 listing the valid values on a bad corruption or severity, 1 naming a malformed file', () => {
    const ok = cli('--in', input, '--out', output, '--corruption', 'fog', '--severity', '5', '--seed', '1');
    expect(ok.status, ok.stderr).toBe(0);
    expect(readCifarBin(readFileSync(output)).labels).toEqual(clean.labels);

    const badName = cli('--in', input, '--out', output, '--corruption', 'snow', '--severity', '5');
    expect(badName.status).toBe(2);
    expect(badName.stderr).toContain(`--corruption "snow": must be one of ${CORRUPTION_NAMES.join(', ')}`);
    const badSeverity = cli('--in', input, '--out', output, '--corruption', 'fog', '--severity', '6');
    expect(badSeverity.status).toBe(2);
    expect(badSeverity.stderr).toMatch(/--severity "6": must be an integer in \[1, 5\]/);

    const malformed = join(dir, 'malformed.bin');
    writeFileSync(malformed, new Uint8Array(100));
    const bad = cli('--in', malformed, '--out', output, '--corruption', 'fog', '--severity', '5');
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe(
      `error: ${malformed}: has the wrong record size: 100 bytes is not a multiple of the 3073-byte CIFAR record ` +
        '(1 label byte + 3072 pixel bytes); 100 bytes left over (expected a CIFAR-10 binary file)',
    );
  });
});
