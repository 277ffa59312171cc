// The study's claims (Slamanig, Corti, Saukh 2025; DESIGN.md "Findings"), as data: each with the
// figure the study reports. The one place these figures are typed: the method notes, the presets,
// the bench's cost verdicts and the study runner's accuracy verdicts all read them from here, and
// nothing shows one as the lab's own without the lab's measurement beside it.
import type { MethodId, ModelId } from '../core/ids';

/** How a figure reads: a percentage, a ratio, accuracy points, or a range of ranks. */
export type FigureUnit = 'percent' | 'ratio' | 'points' | 'ranks';

export interface ClaimFigure {
  unit: FigureUnit;
  low: number;
  high: number;
  /** "up to": the claim is about the extreme value, not a range every case falls in. */
  upTo?: boolean;
  /** A figure the study gives only roughly ("~20:1"): how far, in its unit, a lab value may lie
   * from it and still count as the same (otherwise the bench's tolerance for the unit). */
  tolerance?: number;
}

export interface StudyClaim {
  id: ClaimId;
  /** Cost claims are checked by the bench (analytic and measured bytes, FLOPs); accuracy claims by
   * the study runner (fine-tuning runs over seeds). */
  kind: 'cost' | 'accuracy';
  /** The methods the claim is about (its notes list it). */
  methods: readonly MethodId[];
  /** One sentence; `{figure}` stands for the formatted figure. */
  statement: string;
  /** The study's number, where it gives one. */
  figure: ClaimFigure | null;
}

/** The models the study fine-tuned and profiled: its claims are about these only. The lab's verdicts
 * read only their cells (a ViT's numbers stand beside the claims, never inside a verdict). */
export const STUDY_MODELS: readonly ModelId[] = ['mobilenet_v2', 'mobilenet_v3_small', 'mobilenet_v3_large', 'resnet18'];

export const STUDY_CLAIMS = [
  {
    id: 'peft_memory_mobilenets',
    kind: 'cost',
    methods: ['lora', 'dora', 'galore'],
    statement: 'PEFT (LoRA, DoRA, GaLore) saves only {figure} of peak memory on MobileNets, where activations dominate (vs full fine-tuning).',
    figure: { unit: 'percent', low: 22, high: 48 },
  },
  {
    id: 'peft_memory_resnet18',
    kind: 'cost',
    methods: ['lora'],
    statement: 'On ResNet-18, PEFT (read here as LoRA, the recommended method) saves {figure} of peak memory.',
    figure: { unit: 'percent', low: 67, high: 67 },
  },
  {
    id: 'adapter_update_flops',
    kind: 'cost',
    methods: ['lora', 'dora'],
    statement: 'Adapter methods (LoRA, DoRA) cut update FLOPs (everything after the forward pass) by up to {figure} (PyTorch counter).',
    figure: { unit: 'percent', low: 95, high: 95, upTo: true },
  },
  {
    id: 'dora_memory_over_lora',
    kind: 'cost',
    methods: ['dora'],
    statement: 'DoRA costs {figure} more peak memory than LoRA.',
    figure: { unit: 'percent', low: 29, high: 58 },
  },
  {
    id: 'galore_memory_vs_lora',
    kind: 'cost',
    methods: ['galore'],
    statement: "GaLore needs {figure} LoRA's peak memory.",
    figure: { unit: 'ratio', low: 1.13, high: 2 },
  },
  {
    id: 'galore_flops_overhead',
    kind: 'cost',
    methods: ['galore'],
    statement: 'GaLore costs {figure} more FLOPs than full fine-tuning (its decomposition; a step that recomputes the projectors, PyTorch counter).',
    figure: { unit: 'percent', low: 10, high: 30 },
  },
  {
    id: 'bn_head_memory',
    kind: 'cost',
    methods: ['bn_head'],
    statement: 'BN+head is the cheapest: {figure} less peak memory than full fine-tuning.',
    figure: { unit: 'percent', low: 52, high: 85 },
  },
  {
    id: 'depthwise_backward_flops_ratio',
    kind: 'cost',
    methods: ['fft'],
    statement: 'On MobileNets the backward pass of a training step costs {figure} the FLOPs of its forward pass (PyTorch counter).',
    // "~20:1" for MobileNets in general: read as 15–25.
    figure: { unit: 'ratio', low: 20, high: 20, tolerance: 5 },
  },
  {
    id: 'peft_memory_vs_llms',
    kind: 'cost',
    methods: [],
    statement: 'PEFT is only {figure} as memory-efficient on depthwise-separable CNNs as on LLMs: activations, not gradients and optimizer states, dominate the peak.',
    figure: { unit: 'ratio', low: 0.5, high: 0.5 },
  },
  {
    id: 'bn_head_hard_shift',
    kind: 'accuracy',
    methods: ['bn_head'],
    statement: 'BN+head falls far behind full fine-tuning on hard shifts such as impulse noise (up to {figure}), but not on mild ones such as brightness.',
    figure: { unit: 'points', low: 40, high: 40, upTo: true },
  },
  {
    id: 'lora_best_tradeoff',
    kind: 'accuracy',
    methods: ['lora'],
    statement: 'LoRA (r = 4, α = 4) gives the best accuracy/cost trade-off.',
    figure: null,
  },
  {
    id: 'dora_no_accuracy_gain',
    kind: 'accuracy',
    methods: ['dora'],
    statement: 'DoRA buys no accuracy over LoRA on edge CNNs.',
    figure: null,
  },
  {
    id: 'galore_close_to_fft',
    kind: 'accuracy',
    methods: ['galore'],
    statement: 'GaLore is the most robust in accuracy, close to full fine-tuning, and converges in fewer iterations.',
    figure: null,
  },
  {
    id: 'lora_rank_range',
    kind: 'accuracy',
    methods: ['lora'],
    statement: "LoRA's accuracy holds across ranks {figure}.",
    figure: { unit: 'ranks', low: 5, high: 30 },
  },
] as const satisfies readonly StudyClaim[];

export type ClaimId =
  | 'peft_memory_mobilenets'
  | 'peft_memory_resnet18'
  | 'adapter_update_flops'
  | 'dora_memory_over_lora'
  | 'galore_memory_vs_lora'
  | 'galore_flops_overhead'
  | 'bn_head_memory'
  | 'depthwise_backward_flops_ratio'
  | 'peft_memory_vs_llms'
  | 'bn_head_hard_shift'
  | 'lora_best_tradeoff'
  | 'dora_no_accuracy_gain'
  | 'galore_close_to_fft'
  | 'lora_rank_range';

const CLAIMS_BY_ID = new Map<ClaimId, StudyClaim>(STUDY_CLAIMS.map((claim) => [claim.id, claim]));

export function claimById(id: ClaimId): StudyClaim {
  return CLAIMS_BY_ID.get(id) as StudyClaim;
}

const FIGURE_SUFFIX: Record<FigureUnit, string> = { percent: '%', ratio: '×', points: ' points', ranks: '' };

/** A figure in words: "22–48%", "~67%", "~95%", "1.13–2×", "~40 points", ranks "5–30". */
export function formatFigure(figure: ClaimFigure): string {
  const { unit, low, high } = figure;
  const suffix = FIGURE_SUFFIX[unit];
  return low === high ? `~${low}${suffix}` : `${low}–${high}${suffix}`;
}

/** The claim's sentence with its figure filled in. */
export function claimText(claim: StudyClaim): string {
  return claim.figure ? claim.statement.replace('{figure}', formatFigure(claim.figure)) : claim.statement;
}

/** The claims about `method`, in the order above. */
export const claimsAbout = (method: MethodId): StudyClaim[] => STUDY_CLAIMS.filter((claim) => (claim.methods as readonly MethodId[]).includes(method));
