// `params`: parameter and multiply-accumulate counts of a model, read off its spec.
import { applyMethod, methodOptions, type MethodOptions } from '../../src/core/adapters';
import { METHOD_IDS, MODEL_IDS, STEM_IDS, type MethodId, type ModelId, type StemId } from '../../src/core/ids';
import { countMacs, countParams } from '../../src/core/models/count';
import { buildModelSpec, DEFAULT_MODEL_OPTIONS, MODEL_OPTION_LIMITS } from '../../src/core/models/registry';
import type { ModelOptions } from '../../src/core/models/spec';
import { VIT_TINY } from '../../src/core/models/vit';
import { CliUsageError, type FlagSpec, type FlagValue, type Subcommand } from './flags';

/** The model flags shared by subcommands that build a model. */
export const MODEL_FLAGS: FlagSpec[] = [
  { name: 'model', type: { kind: 'id', ids: MODEL_IDS }, description: 'torchvision architecture', required: true },
  { name: 'classes', type: { kind: 'int', min: MODEL_OPTION_LIMITS.minClasses }, description: 'number of classes', default: DEFAULT_MODEL_OPTIONS.numClasses },
  { name: 'resolution', type: { kind: 'int', min: MODEL_OPTION_LIMITS.minResolution }, description: 'input side in pixels', default: DEFAULT_MODEL_OPTIONS.resolution },
  { name: 'width', type: { kind: 'number', exclusiveMin: MODEL_OPTION_LIMITS.widthExclusiveMin }, description: 'channel width multiplier', default: DEFAULT_MODEL_OPTIONS.width },
  { name: 'stem', type: { kind: 'id', ids: STEM_IDS }, description: 'imagenet (torchvision) or cifar (stride-1 stem)', default: DEFAULT_MODEL_OPTIONS.stem },
  { name: 'depth', type: { kind: 'int', min: 1 }, description: `transformer blocks (vit_tiny only; default ${VIT_TINY.depth})` },
];

/** The model options of MODEL_FLAGS. */
export function modelOptionsFromFlags(flags: Record<string, FlagValue | undefined>): ModelOptions {
  return {
    model: flags.model as ModelId,
    numClasses: flags.classes as number,
    resolution: flags.resolution as number,
    width: flags.width as number,
    stem: flags.stem as StemId,
    ...(flags.depth !== undefined ? { depth: flags.depth as number } : {}),
  };
}

/** The method's `trainHead` option (PEFT's modules_to_save), shared by subcommands that apply a method. */
export const TRAIN_HEAD_FLAG: FlagSpec = {
  name: 'train-head',
  type: { kind: 'boolean' },
  description:
    'the classifier trains fully, weight and bias, whatever the method (PEFT\'s modules_to_save; the lab\'s unseen-classes task, ' +
    'whose new head a frozen or low-rank head cannot learn): LoRA/DoRA put no adapter on it, GaLore does not project its gradient',
};

/** The method options of the --rank, --alpha and --train-head flags (GaLore's rank is --rank). */
export function methodOptionsFromFlags(flags: Record<string, FlagValue | undefined>): MethodOptions {
  const rank = flags.rank as number;
  return methodOptions({ rank, alpha: flags.alpha as number, trainHead: flags['train-head'] === true, galore: { ...methodOptions().galore, rank } });
}

export const paramsCommand: Subcommand = {
  name: 'params',
  summary: 'parameter count and forward multiply-accumulates of one image',
  flags: [
    ...MODEL_FLAGS,
    { name: 'method', type: { kind: 'id', ids: METHOD_IDS }, description: 'fine-tuning method: adds the trainable count (adapters included)' },
    { name: 'rank', type: { kind: 'int', min: 1 }, description: 'LoRA/DoRA rank r (GaLore: projection rank)', default: 4 },
    { name: 'alpha', type: { kind: 'number', exclusiveMin: 0 }, description: 'LoRA/DoRA α (scaling α/r)', default: 4 },
    { ...TRAIN_HEAD_FLAG, description: `${TRAIN_HEAD_FLAG.description}; needs --method` },
    { name: 'json', type: { kind: 'boolean' }, description: 'print JSON {params: {total, trainable?}, macs: {…}}' },
  ],
  run(flags) {
    // Without a method there is no trainable count for the switch to change.
    if (flags['train-head'] && flags.method === undefined) throw new CliUsageError('--train-head needs --method: it changes what the method trains');
    const spec = buildModelSpec(modelOptionsFromFlags(flags));
    const params = countParams(spec);
    const macs = countMacs(spec);
    // total: the base model; trainable: what the method trains, its adapters included.
    const method = flags.method as MethodId | undefined;
    const rank = flags.rank as number;
    const trainable = method ? countParams(applyMethod(spec, method, methodOptionsFromFlags(flags))).trainable : undefined;
    if (flags.json) {
      console.log(JSON.stringify({ params: { total: params.total, ...(trainable !== undefined ? { trainable } : {}) }, macs }));
      return;
    }
    const o = spec.options;
    const depth = o.depth !== undefined ? `, depth ${o.depth}` : '';
    console.log(`${o.model} (width ${o.width}${depth}, ${o.resolution}×${o.resolution}, ${o.numClasses} classes, ${o.stem} stem)`);
    console.log(`parameters: ${params.total.toLocaleString('en-US')}`);
    const head = flags['train-head'] ? ', classifier trains fully' : '';
    if (trainable !== undefined) console.log(`trainable (${method}, r=${rank}, α=${flags.alpha}${head}): ${trainable.toLocaleString('en-US')}`);
    for (const [kind, count] of Object.entries(macs)) console.log(`MACs ${kind}: ${count.toLocaleString('en-US')}`);
  },
};
