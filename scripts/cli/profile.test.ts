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
