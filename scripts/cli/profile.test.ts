// `profile --train-head`: the switch reaches the method (what trains, the optimizer's cost) and
// gives the numbers the lab charts for the unseen-classes task, whose new head trains fully.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type LabConfig } from '../../src/lab/config';
import { profileRequestOf } from '../../src/lab/profileMethods';
import { profileMethods } from '../../src/lab/profileMethods';
import { METHOD_IDS } from '../../src/core/ids';
import { CliUsageError, parseFlags, subcommandHelp } from './flags';
import { profileCommand, runProfile } from './profile';

// The lab's default size, at the unseen-classes task's 5-way head.
const SIZE = ['--model', 'mobilenet_v2', '--width', '0.35', '--resolution', '32', '--stem', 'cifar', '--classes', '5', '--batch', '8'];
const profileOf = (argv: string[]) => runProfile(parseFlags([...SIZE, ...argv], profileCommand.flags));

describe('cli profile --train-head', () => {
  it('is a documented switch, validated like the others', () => {
    expect(subcommandHelp(profileCommand)).toMatch(/^ {2}--train-head {2}the classifier trains fully, .*modules_to_save/m);
    expect(parseFlags(SIZE, profileCommand.flags)['train-head']).toBe(false);
    expect(parseFlags([...SIZE, '--train-head'], profileCommand.flags)['train-head']).toBe(true);
    expect(() => parseFlags([...SIZE, '--train-head', 'true'], profileCommand.flags)).toThrow(CliUsageError);
    expect(() => parseFlags([...SIZE, '--train-head=1'], profileCommand.flags)).toThrow('--train-head takes no value');
  });

  it('trains the classifier fully: LoRA drops its adapter, GaLore keeps full Adam moments for it', () => {
    const lora = profileOf(['--method', 'lora']);
    const loraHead = profileOf(['--method', 'lora', '--train-head']);
    expect(loraHead.params.trainable - lora.params.trainable).toBe(1280 * 5 + 5 - 4 * (1280 + 5));
    const galore = profileOf(['--method', 'galore']);
    const galoreHead = profileOf(['--method', 'galore', '--train-head']);
    expect(galoreHead.memory.analytic.sumOfGroupMaxima.opt - galore.memory.analytic.sumOfGroupMaxima.opt).toBe(4 * (2 * 1280 * 5 - (5 * 4 + 2 * 4 * 1280)));
    // Full fine-tuning trains the head anyway.
    expect(profileOf(['--method', 'fft', '--train-head'])).toEqual(profileOf(['--method', 'fft']));
  });

  it('gives what the lab charts for the unseen-classes task, method by method', () => {
    const unseen: LabConfig = { ...DEFAULT_CONFIG, task: 'unseen_classes', batchSize: 8 };
    const { profiles } = profileMethods(profileRequestOf(unseen));
    for (const method of METHOD_IDS) {
      const cli = profileOf(['--method', method, '--train-head']);
      const lab = profiles[method]!;
      expect({ method, trainable: cli.params.trainable, peak: cli.memory.analytic.peak.total, flops: cli.flops.correct.total }).toEqual({
        method,
        trainable: lab.params.trainable,
        peak: lab.memory.analytic.peak.total,
        flops: lab.flops.correct.total,
      });
    }
  });
});

describe('cli profile --frozen-weights', () => {
  it('stores the frozen base as asked: PARAM drops, GRAD/OPT/ACT stay; fft and galore are usage errors', () => {
    expect(parseFlags(SIZE, profileCommand.flags)['frozen-weights']).toBe('fp32');
    expect(() => parseFlags([...SIZE, '--frozen-weights', 'int4'], profileCommand.flags)).toThrow(CliUsageError);
    const [fp32, int8, nf4] = ['fp32', 'int8', 'nf4'].map((format) => profileOf(['--method', 'lora', '--frozen-weights', format]));
    // Adapters, BN and biases stay float32: about 37% of the float32 PARAM at this size.
    expect(int8.memory.analytic.peak.param).toBeLessThan(0.4 * fp32.memory.analytic.peak.param);
    expect(nf4.memory.analytic.peak.param).toBeLessThan(int8.memory.analytic.peak.param);
    for (const group of ['grad', 'opt', 'act'] as const) {
      expect(int8.memory.analytic.sumOfGroupMaxima[group]).toBe(fp32.memory.analytic.sumOfGroupMaxima[group]);
    }
    for (const method of ['fft', 'galore']) {
      expect(() => profileOf(['--method', method, '--frozen-weights', 'nf4'])).toThrow(/--frozen-weights nf4: .*updates the base weights/);
    }
    expect(subcommandHelp(profileCommand)).toMatch(/--frozen-weights .*no double quantization/);
  });
});
