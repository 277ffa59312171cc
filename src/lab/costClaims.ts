// The study's cost claims (src/lab/claims.ts: statements and figures) checked against the lab's
// numbers. Each claim is a range; a verdict is computed from the values: reproduced when every lab value lies in the
// range widened by a stated tolerance, contradicted when one does not (named in the reason), not
// comparable when the cells it needs are missing. Nothing here is a hard-coded verdict.
import type { MethodId, ModelId } from '../core/ids';
import type { QuantizedFormat } from '../core/models/spec';
import type { FlopSummary } from '../core/profile/profile';
import { claimText, formatFigure, STUDY_CLAIMS, STUDY_MODELS, type ClaimId, type StudyClaim } from './claims';

export type Verdict = 'reproduced' | 'contradicted' | 'not comparable';

/** What a claim reads of one cell on one basis. */
export interface CellCosts {
  model: ModelId;
  method: MethodId;
  rank: number | null;
  /** Peak training memory on this basis (bytes). */
  peakBytes: number;
  /** FLOPs of one step in the study's counter convention (PyTorch's), null where not counted. */
  torchFlops: FlopSummary | null;
  /** GaLore's projector refresh interval, to cost a step that recomputes the projectors. */
  galoreUpdateProjGap: number | null;
  /** How the cell's frozen base is stored, where quantized (absent: float32, as the study's). */
  frozenWeights?: QuantizedFormat;
}

export interface Basis {
  id: 'measured' | 'analytic_run' | 'analytic_study';
  label: string;
  cells: CellCosts[];
}

interface LabelledValue {
  label: string;
  value: number;
}

/** How the bench reads one of the study's cost claims (src/lab/claims.ts: its statement and figure)
 * off a basis's cells. */
interface ClaimCheck {
  id: ClaimId;
  /** Lab values from one basis's cells for the claim's methods (`methods`, from the claim), and
   * the cells they would need but lack. */
  values(cells: CellCosts[], methods: readonly MethodId[]): { values: LabelledValue[]; missing: string[] };
}

/** A claim as the bench checks it: the study's statement and figure, and how to read the cells. */
interface ClaimDefinition {
  id: ClaimId;
  values(cells: CellCosts[]): { values: LabelledValue[]; missing: string[] };
  statement: string;
  unit: 'percent' | 'ratio';
  low: number;
  high: number;
  /** How far outside [low, high] a value may lie (the figure's own, else the unit's). */
  tolerance: number;
}

export interface ClaimEvaluation {
  basis: Basis['id'];
  basisLabel: string;
  verdict: Verdict;
  values: LabelledValue[];
  reason: string;
}

export interface ClaimResult {
  id: string;
  statement: string;
  unit: 'percent' | 'ratio';
  /** The claimed range, human-readable (e.g. "22–48%"). */
  expected: string;
  tolerance: string;
  evaluations: ClaimEvaluation[];
}

/** Ranges are widened by this much before a lab value counts as outside (the study's numbers are
 * rounded and come from other code). */
export const TOLERANCE = { percent: 5, ratio: 0.05 } as const;

const MOBILENETS: readonly ModelId[] = ['mobilenet_v2', 'mobilenet_v3_small', 'mobilenet_v3_large'];

function cellName(cell: CellCosts): string {
  const name = cell.rank === null ? `${cell.model} ${cell.method}` : `${cell.model} ${cell.method} r${cell.rank}`;
  return cell.frozenWeights ? `${name} on ${cell.frozenWeights}` : name;
}

function find(cells: CellCosts[], model: ModelId, method: MethodId, rank: number | null = null): CellCosts | undefined {
  return cells.find((cell) => cell.model === model && cell.method === method && (rank === null || cell.rank === rank));
}

/** FLOPs after the forward pass: backward (input and weight gradients), optimizer, projection. */
function updateFlops(flops: FlopSummary): number {
  return flops.backward_input + flops.backward_weight + flops.optimizer + flops.projection;
}

/** A step that recomputes GaLore's projectors: the amortised decomposition replaced by the whole. */
function refreshStepFlops(cell: CellCosts, flops: FlopSummary): number {
  const gap = cell.galoreUpdateProjGap ?? 1;
  return flops.total + flops.projectorRefresh * (1 - 1 / gap);
}

/** For every cell of `methods` on `models`, a value against the same model's reference cell. */
function against(
  cells: CellCosts[],
  models: readonly ModelId[],
  methods: readonly MethodId[],
  reference: MethodId | 'same-rank-lora',
  value: (cell: CellCosts, referenceCell: CellCosts) => number | null,
): { values: LabelledValue[]; missing: string[] } {
  const values: LabelledValue[] = [];
  const missing: string[] = [];
  for (const model of models) {
    const subjects = cells.filter((cell) => cell.model === model && methods.includes(cell.method));
    if (subjects.length === 0) {
      missing.push(`${model} ${methods.join('/')}`);
      continue;
    }
    for (const cell of subjects) {
      const referenceCell = reference === 'same-rank-lora' ? find(cells, model, 'lora', cell.rank) : find(cells, model, reference);
      if (!referenceCell) {
        missing.push(reference === 'same-rank-lora' ? `${model} lora r${cell.rank}` : `${model} ${reference}`);
        continue;
      }
      const result = value(cell, referenceCell);
      if (result === null) missing.push(`FLOPs of ${cellName(cell)}`);
      else values.push({ label: cellName(cell), value: result });
    }
  }
  return { values, missing: [...new Set(missing)] };
}

const memorySaving = (cell: CellCosts, fft: CellCosts) => 100 * (1 - cell.peakBytes / fft.peakBytes);

const CHECKS: readonly ClaimCheck[] = [
  {
    id: 'peft_memory_mobilenets',
    values: (cells, methods) => against(cells, MOBILENETS, methods, 'fft', memorySaving),
  },
  {
    id: 'peft_memory_resnet18',
    values: (cells, methods) => against(cells, ['resnet18'], methods, 'fft', memorySaving),
  },
  {
    id: 'adapter_update_flops',
    values: (cells, methods) => {
      const all = against(cells, modelsIn(cells), methods, 'fft', (cell, fft) =>
        cell.torchFlops && fft.torchFlops ? 100 * (1 - updateFlops(cell.torchFlops) / updateFlops(fft.torchFlops)) : null,
      );
      // "Up to": the claim is about the largest cut.
      const largest = all.values.reduce<LabelledValue | null>((best, v) => (best === null || v.value > best.value ? v : best), null);
      return { values: largest ? [{ label: `largest: ${largest.label}`, value: largest.value }] : [], missing: all.missing };
    },
  },
  {
    id: 'dora_memory_over_lora',
    values: (cells, methods) =>
      against(cells, modelsIn(cells), methods, 'same-rank-lora', (dora, lora) => 100 * (dora.peakBytes / lora.peakBytes - 1)),
  },
  {
    id: 'galore_memory_vs_lora',
    values: (cells, methods) => against(cells, modelsIn(cells), methods, 'same-rank-lora', (galore, lora) => galore.peakBytes / lora.peakBytes),
  },
  {
    id: 'galore_flops_overhead',
    values: (cells, methods) =>
      against(cells, modelsIn(cells), methods, 'fft', (galore, fft) =>
        galore.torchFlops && fft.torchFlops ? 100 * (refreshStepFlops(galore, galore.torchFlops) / fft.torchFlops.total - 1) : null,
      ),
  },
  {
    id: 'bn_head_memory',
    values: (cells, methods) => against(cells, modelsIn(cells), methods, 'fft', memorySaving),
  },
  {
    id: 'depthwise_backward_flops_ratio',
    values: (cells, methods) => {
      const values: LabelledValue[] = [];
      const missing: string[] = [];
      for (const model of MOBILENETS.filter((m) => modelsIn(cells).includes(m))) {
        for (const method of methods) {
          const flops = find(cells, model, method)?.torchFlops;
          if (flops) values.push({ label: `${model} ${method}`, value: (flops.backward_input + flops.backward_weight) / flops.forward });
          else missing.push(`FLOPs of ${model} ${method}`);
        }
      }
      return { values, missing: values.length === 0 && missing.length === 0 ? ['a MobileNet'] : missing };
    },
  },
  {
    // The lab has no LLM to compare with: never judged here (the findings tour shows the mechanism).
    id: 'peft_memory_vs_llms',
    values: () => ({ values: [], missing: ['an LLM (the lab profiles no LLM)'] }),
  },
];

/** Every cost claim of the study with the check that reads it; a cost claim without a check fails here. */
export const CLAIMS: readonly ClaimDefinition[] = STUDY_CLAIMS.filter((claim) => claim.kind === 'cost').map((claim: StudyClaim) => {
  const check = CHECKS.find((candidate) => candidate.id === claim.id);
  const figure = claim.figure;
  if (!check || !figure || (figure.unit !== 'percent' && figure.unit !== 'ratio')) throw new Error(`bench: no check for the cost claim ${claim.id}`);
  return {
    id: check.id,
    values: (cells) => check.values(cells, claim.methods),
    statement: claimText(claim),
    unit: figure.unit,
    low: figure.low,
    high: figure.high,
    tolerance: figure.tolerance ?? TOLERANCE[figure.unit],
  };
});

/** The study's models this basis has cells of (claims about "any model" check each of them; a
 * model the study did not profile, such as the ViT, is never part of its verdict). */
function modelsIn(cells: CellCosts[]): ModelId[] {
  return STUDY_MODELS.filter((model) => cells.some((cell) => cell.model === model));
}

export function formatClaimValue(unit: ClaimDefinition['unit'], value: number): string {
  return unit === 'percent' ? `${value.toFixed(1)}%` : `${value.toFixed(2)}×`;
}


export function evaluateClaim(claim: ClaimDefinition, basis: Basis): ClaimEvaluation {
  const { tolerance } = claim;
  // The study profiled float32 weights: a cell on a quantized base is never part of its verdicts
  // (as a model it did not profile is not: modelsIn).
  const quantized = basis.cells.filter((cell) => cell.frozenWeights !== undefined);
  const { values, missing } = claim.values(basis.cells.filter((cell) => cell.frozenWeights === undefined));
  const base = { basis: basis.id, basisLabel: basis.label, values };
  if (values.length === 0) {
    const left = quantized.length > 0 ? `; left out, on a quantized base the study did not profile: ${quantized.map(cellName).join(', ')}` : '';
    return { ...base, verdict: 'not comparable', reason: `no cells for it on this basis${missing.length > 0 ? `: lacks ${missing.join(', ')}` : ''}${left}` };
  }
  const low = claim.low - tolerance;
  const high = claim.high + tolerance;
  const outside = values.filter((v) => v.value < low || v.value > high);
  const format = (value: number) => formatClaimValue(claim.unit, value);
  const span = values.length === 1 ? format(values[0].value) : `${format(Math.min(...values.map((v) => v.value)))} to ${format(Math.max(...values.map((v) => v.value)))}`;
  const window = `${format(low)}–${format(high)}`;
  const gaps = missing.length > 0 ? ` (not measured here: ${missing.join(', ')})` : '';
  if (outside.length === 0) {
    return { ...base, verdict: 'reproduced', reason: `lab ${span}, all within ${window}${gaps}` };
  }
  const listed = outside.map((v) => `${v.label} ${format(v.value)}`).join('; ');
  return { ...base, verdict: 'contradicted', reason: `lab ${span}; outside ${window}: ${listed}${gaps}` };
}

export function evaluateClaims(bases: readonly Basis[]): ClaimResult[] {
  return CLAIMS.map((claim) => ({
    id: claim.id,
    statement: claim.statement,
    unit: claim.unit,
    expected: formatFigure({ unit: claim.unit, low: claim.low, high: claim.high }),
    tolerance: claim.unit === 'percent' ? `±${claim.tolerance} points` : `±${claim.tolerance}×`,
    // FLOPs are analytic only: a measured basis has nothing to say about them.
    evaluations: bases.filter((basis) => !(basis.id === 'measured' && claim.id.includes('flops'))).map((basis) => evaluateClaim(claim, basis)),
  }));
}
