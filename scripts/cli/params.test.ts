// `params`: the --train-head switch (the methods' trainHead, PEFT's modules_to_save) is parsed and
// validated like every flag, documented in --help, and changes the trainable count by the head.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CliUsageError, parseFlags, subcommandHelp } from './flags';
import { methodOptionsFromFlags, paramsCommand } from './params';

const SIZE = ['--model', 'mobilenet_v2', '--width', '0.35', '--resolution', '32', '--stem', 'cifar', '--classes', '5'];
const flagsOf = (argv: string[]) => parseFlags(argv, paramsCommand.flags);

/** The JSON that `params --json` prints. */
async function paramsJson(argv: string[]): Promise<{ params: { total: number; trainable?: number } }> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  await paramsCommand.run(flagsOf([...argv, '--json']));
  return JSON.parse(String(log.mock.calls.at(-1)![0]));
}

afterEach(() => vi.restoreAllMocks());

describe('cli params --train-head', () => {
  it('is a switch: off by default, on when given, refusing a value or a repeat', () => {
    expect(flagsOf(SIZE)['train-head']).toBe(false);
    expect(flagsOf([...SIZE, '--method', 'lora', '--train-head'])['train-head']).toBe(true);
    expect(methodOptionsFromFlags(flagsOf([...SIZE, '--method', 'lora'])).trainHead).toBe(false);
    expect(methodOptionsFromFlags(flagsOf([...SIZE, '--method', 'lora', '--train-head'])).trainHead).toBe(true);
    expect(() => flagsOf([...SIZE, '--train-head=yes'])).toThrow(CliUsageError);
    expect(() => flagsOf([...SIZE, '--train-head=yes'])).toThrow('--train-head takes no value');
    expect(() => flagsOf([...SIZE, '--train-head', '--train-head'])).toThrow('--train-head given twice');
  });

  it('is documented in --help', () => {
    expect(subcommandHelp(paramsCommand)).toMatch(/^ {2}--train-head {2}the classifier trains fully, .*modules_to_save.*; needs --method$/m);
  });

  it('needs --method', () => {
    expect(() => paramsCommand.run(flagsOf([...SIZE, '--train-head']))).toThrow(/--train-head needs --method/);
  });

  it('trains the 1280 → 5 head fully instead of adapting it (LoRA r = 4) and changes nothing under FFT', async () => {
    const adapted = await paramsJson([...SIZE, '--method', 'lora']);
    const head = await paramsJson([...SIZE, '--method', 'lora', '--train-head']);
    expect(head.params.total).toBe(adapted.params.total);
    expect(head.params.trainable! - adapted.params.trainable!).toBe(1280 * 5 + 5 - 4 * (1280 + 5));
    const fft = await paramsJson([...SIZE, '--method', 'fft']);
    expect((await paramsJson([...SIZE, '--method', 'fft', '--train-head'])).params).toEqual(fft.params);
    expect(fft.params.trainable).toBe(fft.params.total);
  });
});
