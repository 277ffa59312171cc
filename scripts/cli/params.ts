// `params`: parameter and multiply-accumulate counts of a model, read off its spec.
import { applyMethod, methodOptions } from '../../src/core/adapters';
import { METHOD_IDS, MODEL_IDS, STEM_IDS, type MethodId, type ModelId, type StemId } from '../../src/core/ids';
import { countMacs, countParams } from '../../src/core/models/count';
import { buildModelSpec, DEFAULT_MODEL_OPTIONS, MODEL_OPTION_LIMITS } from '../../src/core/models/registry';
import type { FlagSpec, Subcommand } from './flags';

/** The model flags shared by subcommands that build a model. */
export const MODEL_FLAGS: FlagSpec[] = [
  { name: 'model', type: { kind: 'id', ids: MODEL_IDS }, description: 'torchvision architecture', required: true },
  { name: 'classes', type: { kind: 'int', min: MODEL_OPTION_LIMITS.minClasses }, description: 'number of classes', default: DEFAULT_MODEL_OPTIONS.numClasses },
  { name: 'resolution', type: { kind: 'int', min: MODEL_OPTION_LIMITS.minResolution }, description: 'input side in pixels', default: DEFAULT_MODEL_OPTIONS.resolution },
  { name: 'width', type: { kind: 'number', exclusiveMin: MODEL_OPTION_LIMITS.widthExclusiveMin }, description: 'channel width multiplier', default: DEFAULT_MODEL_OPTIONS.width },
  { name: 'stem', type: { kind: 'id', ids: STEM_IDS }, description: 'imagenet (torchvision) or cifar (stride-1 stem)', default: DEFAULT_MODEL_OPTIONS.stem },
];

export const paramsCommand: Subcommand = {
  name: 'params',
  summary: 'parameter count and forward multiply-accumulates of one image',
  flags: [
    ...MODEL_FLAGS,
    { name: 'method', type: { kind: 'id', ids: METHOD_IDS }, description: 'fine-tuning method: adds the trainable count (adapters included)' },
    { name: 'rank', type: { kind: 'int', min: 1 }, description: 'LoRA/DoRA rank r (GaLore: projection rank)', default: 4 },
    { name: 'alpha', type: { kind: 'number', exclusiveMin: 0 }, description: 'LoRA/DoRA α (scaling α/r)', default: 4 },
    { name: 'json', type: { kind: 'boolean' }, description: 'print JSON {params: {total, trainable?}, macs: {…}}' },
  ],
  run(flags) {
    const spec = buildModelSpec({
      model: flags.model as ModelId,
      numClasses: flags.classes as number,
      resolution: flags.resolution as number,
      width: flags.width as number,
      stem: flags.stem as StemId,
    });
    const params = countParams(spec);
    const macs = countMacs(spec);
    // total: the base model; trainable: what the method trains, its adapters included.
    const method = flags.method as MethodId | undefined;
    const rank = flags.rank as number;
    const trainable = method
      ? countParams(applyMethod(spec, method, methodOptions({ rank, alpha: flags.alpha as number, galore: { ...methodOptions().galore, rank } }))).trainable
      : undefined;
    if (flags.json) {
      console.log(JSON.stringify({ params: { total: params.total, ...(trainable !== undefined ? { trainable } : {}) }, macs }));
      return;
    }
    const o = spec.options;
    console.log(`${o.model} (width ${o.width}, ${o.resolution}×${o.resolution}, ${o.numClasses} classes, ${o.stem} stem)`);
    console.log(`parameters: ${params.total.toLocaleString('en-US')}`);
    if (trainable !== undefined) console.log(`trainable (${method}, r=${rank}, α=${flags.alpha}): ${trainable.toLocaleString('en-US')}`);
    for (const [kind, count] of Object.entries(macs)) console.log(`MACs ${kind}: ${count.toLocaleString('en-US')}`);
  },
};
