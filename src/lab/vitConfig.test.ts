// The ViT in the lab layer: its Depth field (shown, validated and carried by links only for the
// ViT), the size the lab switches to, which model options it builds, and LN+head's name.
import { describe, expect, it } from 'vitest';
import { buildModelSpec } from '../core/models/registry';
import { DEFAULT_CONFIG, isFieldRelevant, modelOptionsOf, validateConfig, VIT_LAB_SIZE, withField, type LabConfig } from './config';
import { hubBaseProblem } from './hub/hubBases';
import { METHOD_DESCRIPTORS, methodDescriptorOn } from './methods';
import { methodName, methodShortName, methodShortNameOver } from './names';
import { decodePermalink, encodePermalink, FIELD_KEYS } from './permalink';
import { pretrainedKeyOf, sizeInWords } from './baseWeights';

const vit: LabConfig = withField(DEFAULT_CONFIG, 'model', 'vit_tiny');

describe('the ViT in the configuration', () => {
  it('switches to the lab’s ViT size, and back to the CNN size', () => {
    expect(vit).toEqual({ ...DEFAULT_CONFIG, model: 'vit_tiny', ...VIT_LAB_SIZE });
    expect(validateConfig(vit)).toEqual([]);
    const back = withField({ ...vit, width: 0.5 }, 'model', 'resnet18');
    expect(back).toEqual({ ...vit, model: 'resnet18', width: DEFAULT_CONFIG.width, resolution: DEFAULT_CONFIG.resolution, stem: DEFAULT_CONFIG.stem });
    // Between CNNs (and between other fields) the size stays.
    expect(withField({ ...DEFAULT_CONFIG, width: 0.5 }, 'model', 'resnet18').width).toBe(0.5);
    expect(withField(vit, 'width', 0.5)).toEqual({ ...vit, width: 0.5 });
  });

  it('shows and validates Depth for the ViT only, 1 to 12 blocks', () => {
    expect(isFieldRelevant('depth', vit)).toBe(true);
    expect(isFieldRelevant('depth', DEFAULT_CONFIG)).toBe(false);
    expect(validateConfig({ ...DEFAULT_CONFIG, depth: 99 })).toEqual([]);
    for (const depth of [0, 13, 2.5]) expect(validateConfig({ ...vit, depth }).map((issue) => issue.field)).toEqual(['depth']);
    expect(validateConfig({ ...vit, depth: 12 })).toEqual([]);
  });

  it('builds the ViT of the configured depth (and no depth for a CNN)', () => {
    expect(modelOptionsOf(vit)).toEqual({ model: 'vit_tiny', width: 0.25, resolution: 32, stem: 'cifar', numClasses: 10, depth: 4 });
    expect(modelOptionsOf(DEFAULT_CONFIG)).not.toHaveProperty('depth');
    const blocks = (config: LabConfig) => buildModelSpec(modelOptionsOf(config)).nodes.filter((node) => node.op === 'attention').length;
    expect(blocks(vit)).toBe(4);
    expect(blocks({ ...vit, depth: 7 })).toBe(7);
  });

  it('names a resolution the patches do not tile', () => {
    const issues = validateConfig({ ...vit, resolution: 30 });
    expect(issues.map((issue) => issue.field)).toEqual(['resolution']);
    expect(issues[0].message).toMatch(/4-pixel patches/);
  });

  it('checks ranks against the token linears, with a new head too', () => {
    // The largest adapted layer of the 48-wide ViT has full rank 48; the new head is not adapted.
    // Adapted: the patch embedding, qkv, proj, fc1, fc2 of 4 blocks, and the head unless it is new.
    expect(validateConfig({ ...vit, rank: 48 }).map((issue) => issue.message)).toEqual([expect.stringContaining('of 18 of 18 adapted layers')]);
    expect(validateConfig({ ...vit, task: 'unseen_classes', rank: 48 }).map((issue) => issue.message)).toEqual([expect.stringContaining('of 17 of 17 adapted layers')]);
    expect(validateConfig({ ...vit, rank: 49 }).map((issue) => issue.severity)).toEqual(['error']);
  });

  it('keys a base pretrained in this browser by depth, and says the depth', () => {
    expect(pretrainedKeyOf(vit)).not.toBe(pretrainedKeyOf({ ...vit, depth: 6 }));
    expect(pretrainedKeyOf(DEFAULT_CONFIG)).toBe('pretrained/mobilenet_v2/w0.35/r32/cifar/c10/source');
    expect(sizeInWords(modelOptionsOf(vit))).toBe('vit_tiny at width 0.25, depth 4, 32×32, cifar stem, 10 classes');
  });

  it('takes the hub’s ViT only at its own size: width 1, 12 blocks, 16×16 patches of 224×224', () => {
    const hubSize = { ...vit, width: 1, depth: 12, stem: 'imagenet', resolution: 224 } as const;
    expect(hubBaseProblem(hubSize)).toBeNull();
    expect(hubBaseProblem({ ...hubSize, depth: 4 })).toMatch(/not 4 blocks/);
    expect(hubBaseProblem({ ...hubSize, resolution: 160 })).toMatch(/not 160×160/);
    // The CNNs take any resolution, and have no depth.
    expect(hubBaseProblem({ ...DEFAULT_CONFIG, width: 1, stem: 'imagenet', resolution: 96 })).toBeNull();
  });
});

describe('LN+head', () => {
  it('is BN+head’s name on a ViT, the id unchanged', () => {
    expect(methodShortName('bn_head', 'vit_tiny')).toBe('LN+head');
    expect(methodName('bn_head', 'vit_tiny')).toContain('LayerNorm');
    expect(methodShortName('bn_head', 'mobilenet_v2')).toBe(METHOD_DESCRIPTORS.bn_head.shortName);
    expect(methodDescriptorOn('bn_head', 'vit_tiny').id).toBe('bn_head');
    expect(methodDescriptorOn('lora', 'vit_tiny')).toBe(METHOD_DESCRIPTORS.lora);
    expect(methodShortNameOver('bn_head', ['mobilenet_v2', 'resnet18', 'vit_tiny'])).toBe('BN+H / LN+head');
    expect(methodShortNameOver('lora', ['mobilenet_v2', 'vit_tiny'])).toBe('LoRA');
  });
});

describe('ViT links', () => {
  it('carry Depth and open as they were made', () => {
    const config = { ...vit, depth: 6, method: 'bn_head' } as const;
    const link = encodePermalink({ config });
    expect(new URLSearchParams(link.slice(1)).get(FIELD_KEYS.depth)).toBe('6');
    expect(decodePermalink(link)).toEqual({ config, results: null, hidden: [], ignored: [] });
  });

  it('reset a depth out of range to the default, saying so', () => {
    const link = encodePermalink({ config: vit }).replace(`${FIELD_KEYS.depth}=4`, `${FIELD_KEYS.depth}=40`);
    const decoded = decodePermalink(link);
    expect(decoded.config).toEqual(vit);
    expect(decoded.ignored).toEqual(['Depth: "40": must be between 1 and 12; used the default (4).']);
  });
});
