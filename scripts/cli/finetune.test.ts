// `cli finetune` takes every configuration field as a flag derived from the lab's schema, with the
// lab's defaults, and refuses what the page's form refuses, naming the flag.
import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA, DEFAULT_CONFIG } from '../../src/lab/config';
import { CONFIG_FLAGS, configFromFlags, finetuneCommand } from './finetune';
import { CliUsageError, parseFlags } from './flags';

const parse = (argv: string[]) => configFromFlags(parseFlags(argv, finetuneCommand.flags));

describe('cli finetune flags', () => {
  it('one per field, named by the schema, defaulting to the lab’s defaults', () => {
    expect(CONFIG_FLAGS.map((flag) => flag.name)).toEqual(CONFIG_SCHEMA.map((field) => field.flag));
    expect(parse([])).toEqual(DEFAULT_CONFIG);
    expect(parse(['--model', 'resnet18', '--method', 'galore', '--rank', '8', '--corruption', 'impulse_noise', '--train-images', '64', '--batch', '16', '--lr', '0.003', '--seed', '2', '--adapt-depthwise'])).toMatchObject({
      model: 'resnet18', method: 'galore', rank: 8, corruption: 'impulse_noise', trainImages: 64, batchSize: 16, learningRate: 0.003, seed: 2, adaptDepthwise: true,
    });
  });

  it('takes your own images only with --task custom, and the reverse', async () => {
    await expect(finetuneCommand.run(parseFlags(['--task', 'custom'], finetuneCommand.flags))).rejects.toThrow('--images FOLDER goes with --task custom, and only with it');
    await expect(finetuneCommand.run(parseFlags(['--images', '/tmp'], finetuneCommand.flags))).rejects.toThrow('--images FOLDER goes with --task custom, and only with it');
  });

  it('refuses out-of-range values and invalid combinations, naming the flag and what is valid', () => {
    expect(() => parse(['--severity', '6'])).toThrow('--severity "6": must be an integer in [1, 5]');
    expect(() => parse(['--method', 'dora', '--adapt-depthwise'])).toThrow(/^--adapt-depthwise: DoRA cannot adapt depthwise convs/);
    expect(() => parse(['--method', 'galore', '--optimizer', 'sgd'])).toThrow(/^--optimizer: GaLore keeps Adam’s moments/);
    expect(() => parse(['--base-weights', 'browser'])).toThrow(CliUsageError);
    expect(() => parse(['--bogus'])).toThrow(/unknown flag --bogus \(valid: --model, --width/);
  });
});
