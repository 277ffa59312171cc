// One descriptor per fine-tuning method: what the page, the CLI, the presets and the reports say
// about it — names, formula, what it trains, which options it takes, how the lab implements it —
// and which of the study's claims concern it (claims.ts holds their figures). The method's math is
// src/core/adapters (and src/core/optim/galore.ts); nothing here computes.
import { adaptsDepthwise } from '../core/adapters/lowRank';
import type { MethodId, ModelId } from '../core/ids';
import { claimsAbout, claimText } from './claims';
import { isTransformerModel } from './ids';

/** The configuration fields a method reads beyond the shared ones (config.ts shows only these). */
export type MethodOption = 'rank' | 'alpha' | 'adaptDepthwise' | 'trainBatchNorm' | 'galoreUpdateGap' | 'galoreScale' | 'galoreThreshold';

export interface MethodDescriptor {
  id: MethodId;
  /** In the Method select and headings. */
  name: string;
  /** On chart axes. */
  shortName: string;
  /** What trains, in a sentence. */
  trains: string;
  /** The update rule, in the notation of the papers. */
  formula: string;
  options: readonly MethodOption[];
  /** How the lab implements it, and where it departs from the reference implementation. */
  implementation: string;
  /** What happens to the new classifier of a task that has one (unseen classes, your own images). */
  newHead: string;
}

const NEW_HEAD = 'This task fine-tunes a new, randomly initialised classifier (5-way for the unseen classes, one output per class of your own images)';
const LOW_RANK_NEW_HEAD = `${NEW_HEAD}: it gets no adapter and trains fully (weight and bias), as PEFT’s modules_to_save; charts and runs count it.`;
const MODULES_TO_SAVE = "With a new classifier (trainHead: the unseen-classes task) the classifier takes no adapter and trains fully, weight and bias, as PEFT's modules_to_save.";

export const METHOD_DESCRIPTORS: Readonly<Record<MethodId, MethodDescriptor>> = {
  fft: {
    id: 'fft',
    name: 'Full fine-tuning (FFT)',
    shortName: 'FFT',
    trains: 'Every weight of the network.',
    formula: 'W ← W − η·Adam(∇W)',
    options: [],
    implementation:
      'Every weight, bias and BatchNorm affine parameter trains with Adam; the reference point for accuracy and the most expensive ' +
      'in gradient and optimizer memory (a gradient and two Adam moments for every weight) and in update FLOPs.',
    newHead: `${NEW_HEAD}; it trains with everything else.`,
  },
  bn_head: {
    id: 'bn_head',
    name: 'BatchNorm + head (BN+H)',
    shortName: 'BN+H',
    trains: 'Only BatchNorm’s scale and shift (γ, β) and the classifier.',
    formula: 'y = γ · x̂ + β;  logits = W_head · h',
    options: [],
    implementation:
      "Trains only BatchNorm's affine parameters (γ, β) and the classifier (every linear layer: classifier.* in the MobileNets, " +
      "both of MobileNetV3's two, fc in ResNet-18); running statistics still update in training mode.",
    newHead: `${NEW_HEAD}; it is the “head” this method trains.`,
  },
  lora: {
    id: 'lora',
    name: 'LoRA',
    shortName: 'LoRA',
    trains: 'Two small factors per adapted layer; the base weights stay frozen.',
    formula: 'y = W·x + (α/r) · B·A·x,  A: C_in→r,  B: r→C_out (B = 0 at start)',
    options: ['rank', 'alpha', 'adaptDepthwise', 'trainBatchNorm'],
    implementation:
      "Trains a low-rank update beside each targeted layer: y = W·x + (α/r)·B(A(x)), A a conv C_in → r with the layer's kernel and " +
      'stride (kaiming-uniform), B a 1×1 conv r → C_out (zeros, so training starts from the base model); base weights and biases ' +
      'stay frozen. Targets every dense conv and the classifier; depthwise convs only on request, where A and B outweigh the conv ' +
      "itself. Each adapted conv's input is still kept for A's gradient, which is why the memory saving is small where activations " +
      'dominate. As PEFT, except that adapter dropout is not offered and an adapted depthwise conv cannot be merged (its update is ' +
      `a dense conv). ${MODULES_TO_SAVE}`,
    newHead: LOW_RANK_NEW_HEAD,
  },
  dora: {
    id: 'dora',
    name: 'DoRA',
    shortName: 'DoRA',
    trains: 'LoRA’s factors plus a magnitude per output channel.',
    formula: 'W′ = m · (W + (α/r)·B·A) / ‖W + (α/r)·B·A‖',
    options: ['rank', 'alpha', 'trainBatchNorm', ...(adaptsDepthwise('dora') ? (['adaptDepthwise'] as const) : [])],
    implementation:
      'LoRA plus a trainable magnitude m per output channel: y = m ⊙ (W + (α/r)·BA)·x / ‖W + (α/r)·BA‖ + bias, m initialised to ' +
      '‖W‖ so training starts from the base model; the norm is a constant for the backward pass (DoRA §4.3, as PEFT). Same targets ' +
      'as LoRA, except depthwise convs, which DoRA cannot adapt (their dense update has no depthwise norm). The base layer runs ' +
      `once per forward (PEFT runs it twice when it cannot reuse the result). ${MODULES_TO_SAVE}`,
    newHead: LOW_RANK_NEW_HEAD,
  },
  galore: {
    id: 'galore',
    name: 'GaLore',
    shortName: 'GaLore',
    trains: 'Every weight, but each weight gradient is projected to rank r; Adam’s moments live in the small space.',
    formula: 'G̃ = Pᵀ·G,  W ← W − η·scale·P·Adam(G̃),  P from an SVD of G every gap steps',
    options: ['rank', 'galoreUpdateGap', 'galoreScale', 'galoreThreshold'],
    implementation:
      "Every parameter trains, but each weight's gradient (a conv's as the matrix C_out × C_in·k²) is projected onto its top-r " +
      'singular subspace (the smaller side), Adam runs on the projected gradient, and the step is projected back and scaled; the ' +
      "projector is recomputed every update_proj_gap steps (default 200) and Adam's moments are kept across the change, as the " +
      "authors' code does; biases and BatchNorm use plain Adam. The study's variant keeps only σᵢ ≥ ε·σ₁. The lab departs from " +
      "the reference: a randomized SVD (range finder + small exact SVD) instead of a full one; torch.optim.Adam's update (ε after " +
      "bias correction, L2 weight decay) instead of GaLore AdamW's; conv weights projected as matrices rather than by the Tucker " +
      "projector. With a new classifier (trainHead: the unseen-classes task) the classifier's weight is not projected but trained " +
      "by plain Adam, as PEFT's modules_to_save trains a new head.",
    newHead: `${NEW_HEAD}: its gradient is not projected; it trains fully with plain Adam (as PEFT’s modules_to_save), and the charts count it so.`,
  },
};

/** What changes when a method runs on a vision transformer: BN+head is LN+head there (the ViT has
 * layer norms, no batch norm); the id stays `bn_head`. */
const ON_TRANSFORMER: Partial<Record<MethodId, Pick<MethodDescriptor, 'name' | 'shortName' | 'trains' | 'formula' | 'implementation'>>> = {
  bn_head: {
    name: 'LayerNorm + head (LN+head)',
    shortName: 'LN+head',
    trains: 'Only the layer norms’ scale and shift (γ, β) and the classifier.',
    formula: 'y = γ · (x − μ) / σ + β  per token;  logits = W_head · h',
    implementation:
      "BN+head's counterpart on a ViT, which has no batch norm: trains only the layer norms' affine parameters (γ, β of each " +
      "block's norm1 and norm2 and of the final norm) and the classifier (head); patch and position embeddings, attention and MLP " +
      'weights stay frozen. Layer norm keeps no running statistics, so nothing else changes in training mode.',
  },
};

/** A method's descriptor as it reads on `model` (LN+head instead of BN+head on a ViT). */
export function methodDescriptorOn(method: MethodId, model: ModelId): MethodDescriptor {
  const variant = isTransformerModel(model) ? ON_TRANSFORMER[method] : undefined;
  return variant ? { ...METHOD_DESCRIPTORS[method], ...variant } : METHOD_DESCRIPTORS[method];
}

/** Whether a method reads `option` (the form shows the field only then; validation checks it only then). */
export const takesOption = (method: MethodId, option: MethodOption): boolean => METHOD_DESCRIPTORS[method].options.includes(option);

/** What the study found about a method, in sentences built from its claims (claims.ts). */
export const studyFindingOf = (method: MethodId): string => claimsAbout(method).map(claimText).join(' ');
