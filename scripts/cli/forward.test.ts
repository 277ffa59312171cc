import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { writeSafetensors } from '../../src/core/weights/safetensors';
import { CliUsageError, parseFlags } from './flags';
import { forwardCommand, forwardOptionsFromFlags, runForward, type ForwardResult } from './forward';

const dir = mkdtempSync(join(tmpdir(), 'cli-forward-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the dispatcher does before `run`: parse the flags, then the subcommand's own checks. */
const optionsOf = (argv: string[]) => forwardOptionsFromFlags(parseFlags(argv, forwardCommand.flags));
const forwardOf = (argv: string[]): Promise<ForwardResult> => runForward(optionsOf(argv));

// A tiny model keeps these fast: MobileNetV3-small at width 0.25, 32×32.
const SMALL = ['--model', 'mobilenet_v3_small', '--width', '0.25', '--classes', '4', '--resolution', '32'];

describe('cli forward: flags', () => {
  it.each([
    [['--model', 'vgg16', '--labels', '0'], /--model "vgg16": must be one of mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large, resnet18/],
    [['--labels', '0'], /--model is required/],
    [['--model', 'resnet18'], /--labels is required/],
    [['--model', 'resnet18', '--stem', 'tiny', '--labels', '0'], /--stem "tiny": must be one of imagenet, cifar/],
    [['--model', 'resnet18', '--classes', '1', '--labels', '0'], /--classes "1": must be an integer ≥ 2/],
    [['--model', 'resnet18', '--resolution', '4', '--labels', '0'], /--resolution "4": must be an integer ≥ 8/],
    [['--model', 'resnet18', '--width', '0', '--labels', '0'], /--width "0": must be a number > 0/],
    [['--model', 'resnet18', '--classes', '10', '--labels', '3,10'], /--labels: "10" is not a class index in \[0, 10\)/],
    [['--model', 'resnet18', '--labels', '3,-1'], /--labels: "-1" is not a class index/],
    [['--model', 'resnet18', '--labels', '0', '--frobnicate'], /unknown flag --frobnicate \(valid: --model, .*--grads, --json\)/],
    [['--model', 'resnet18', '--labels', '0', '--weights', '/nonexistent/w.safetensors'], /--weights: no such file/],
    [['--model', 'resnet18', '--labels', '0', '--input', '/nonexistent/x.safetensors:x'], /--input: no such file "\/nonexistent\/x.safetensors"/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => optionsOf(argv as string[])).toThrow(CliUsageError);
    expect(() => optionsOf(argv as string[])).toThrow(message as RegExp);
  });

  it('parses --flag=value and FILE[:KEY]', () => {
    const file = join(dir, 'x.safetensors');
    writeFileSync(file, writeSafetensors({ x: { dtype: 'F32', shape: [1, 3, 8, 8], data: new Float32Array(192) } }));
    const options = optionsOf(['--model=resnet18', '--classes=3', '--resolution', '8', '--labels', '2', '--input', `${file}:x`, '--json']);
    expect(options.modelOptions).toEqual({ model: 'resnet18', width: 1, resolution: 8, numClasses: 3, stem: 'imagenet' });
    expect(options).toMatchObject({ input: { file, key: 'x' }, labels: [2], json: true, grads: false, seed: 0 });
    expect(optionsOf(['--model', 'resnet18', '--labels', '0', '--input', file]).input).toEqual({ file });
  });
});

describe('cli forward: runs', () => {
  it('seeded init without --weights: deterministic, with a gradient for every trainable parameter', async () => {
    const a = await forwardOf([...SMALL, '--labels', '1,3', '--grads', '--seed', '7']);
    expect(a.logits.length).toBe(2);
    expect(a.logits[0].length).toBe(4);
    expect(Number.isFinite(a.loss)).toBe(true);
    const names = Object.keys(a.grads ?? {});
    expect(names).toContain('features.0.0.weight');
    expect(names.some((n) => n.includes('running'))).toBe(false);
    expect(a.grads?.['classifier.3.weight'].first5.length).toBe(5);
    expect(await forwardOf([...SMALL, '--labels', '1,3', '--grads', '--seed', '7'])).toEqual(a);
    const other = await forwardOf([...SMALL, '--labels', '1,3', '--seed', '8']);
    expect(other.loss).not.toBe(a.loss);
    expect(other.grads).toBeUndefined();
  });

  it('prints JSON with --json and a summary without', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await forwardCommand.run(parseFlags([...SMALL, '--labels', '0,1', '--json'], forwardCommand.flags));
      const printed = JSON.parse(log.mock.calls[0][0] as string) as ForwardResult;
      expect(Object.keys(printed)).toEqual(['logits', 'loss']);
      await forwardCommand.run(parseFlags([...SMALL, '--labels', '0,1'], forwardCommand.flags));
      expect(log.mock.calls[1][0]).toMatch(/loss \(mean cross-entropy\): /);
    } finally {
      log.mockRestore();
    }
  });

  it('rejects an input that does not fit (key, shape, count) as a usage error', async () => {
    const file = join(dir, 'in.safetensors');
    writeFileSync(
      file,
      writeSafetensors({
        x: { dtype: 'F32', shape: [2, 3, 32, 32], data: new Float32Array(2 * 3 * 32 * 32) },
        small: { dtype: 'F32', shape: [2, 3, 16, 16], data: new Float32Array(2 * 3 * 16 * 16) },
      }),
    );
    await expect(forwardOf([...SMALL, '--labels', '1,2', '--input', file])).rejects.toThrow(/holds 2 tensors; name one as FILE:KEY \(keys: small, x\)/);
    await expect(forwardOf([...SMALL, '--labels', '1,2', '--input', `${file}:y`])).rejects.toThrow(/has no tensor "y"/);
    await expect(forwardOf([...SMALL, '--labels', '1,2', '--input', `${file}:small`])).rejects.toThrow(
      /shape \[2, 3, 16, 16\], expected NCHW \[N, 3, 32, 32\]/,
    );
    await expect(forwardOf([...SMALL, '--labels', '1', '--input', `${file}:x`])).rejects.toThrow(CliUsageError);
    await expect(forwardOf([...SMALL, '--labels', '1', '--input', `${file}:x`])).rejects.toThrow(/holds 2 images but --labels gives 1/);
  });

  it('weights of another model: an error naming the keys and shapes', async () => {
    const file = join(dir, 'w.safetensors');
    writeFileSync(file, writeSafetensors({ 'fc.weight': { dtype: 'F32', shape: [4, 512], data: new Float32Array(2048) } }));
    const run = forwardOf([...SMALL, '--labels', '1', '--weights', file]);
    await expect(run).rejects.toThrow(/w\.safetensors does not match mobilenet_v3_small \(1 unexpected, \d+ missing; nothing was loaded\)/);
    await expect(forwardOf([...SMALL, '--labels', '1', '--weights', file])).rejects.toThrow(/unexpected key "fc\.weight" \(shape \[4, 512\]\)/);
    await expect(forwardOf([...SMALL, '--labels', '1', '--weights', file])).rejects.toThrow(/missing key "features\.0\.0\.weight" \(expected shape \[8, 3, 3, 3\]\)/);
  });
});

describe('cli forward through `npm run cli` (exit codes)', () => {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', 'forward', ...args], { cwd: root, encoding: 'utf8' });

  it('0 with JSON on stdout, 2 on a bad flag (listing what is valid), 1 on weights that do not fit', () => {
    const ok = cli(...SMALL, '--labels', '0,2', '--json');
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).logits.length).toBe(2);
    const bad = cli('--model', 'mobilenet_v5', '--labels', '0');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/must be one of mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large, resnet18/);
    const file = join(dir, 'w1.safetensors');
    writeFileSync(file, writeSafetensors({ 'fc.weight': { dtype: 'F32', shape: [4, 512], data: new Float32Array(2048) } }));
    const mismatch = cli(...SMALL, '--labels', '0', '--weights', file);
    expect(mismatch.status).toBe(1);
    expect(mismatch.stderr).toMatch(/unexpected key "fc\.weight"/);
  });
});
