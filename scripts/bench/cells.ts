// What a bench cell is (a model × method × rank, with options of its own where it has them), its
// id in reports, and issue 19's cells of the new options. Read by the grid, the flags and the report.
import type { MethodId, ModelId } from '../../src/core/ids';
import type { QuantizedFormat } from '../../src/core/models/spec';

export interface CellKey {
  model: ModelId;
  method: MethodId;
  /** null for methods without a rank (fft, bn_head). */
  rank: number | null;
  /** A cell of its own size: this width instead of the grid's (the ViT's tiny size). */
  width?: number;
  /** A ViT's blocks (its reference's 12 when absent). */
  depth?: number;
  /** How the frozen base weights are stored (fp32 when absent). */
  frozenWeights?: QuantizedFormat;
}

/** Issue 19's cells, one per new option, at the quick preset's size (32×32, CIFAR stem, batch 8):
 * the ViT at the lab's tiny ViT size (width 0.25: a 48-wide embedding, 4 blocks) with LoRA and full
 * fine-tuning, and MobileNetV2's LoRA (w0.35) on an int8 and on an NF4 base. */
export const NEW_OPTION_CELLS: readonly CellKey[] = [
  { model: 'vit_tiny', method: 'lora', rank: 4, width: 0.25, depth: 4 },
  { model: 'vit_tiny', method: 'fft', rank: null, width: 0.25, depth: 4 },
  { model: 'mobilenet_v2', method: 'lora', rank: 4, frozenWeights: 'int8' },
  { model: 'mobilenet_v2', method: 'lora', rank: 4, frozenWeights: 'nf4' },
];

export function cellId(cell: CellKey): string {
  const base = cell.rank === null ? `${cell.model}/${cell.method}` : `${cell.model}/${cell.method}/r${cell.rank}`;
  // A cell's own options, after an @: "vit_tiny/lora/r4@w0.25,d4".
  const own = [cell.width === undefined ? null : `w${cell.width}`, cell.depth === undefined ? null : `d${cell.depth}`, cell.frozenWeights ?? null].filter((part) => part !== null);
  return own.length === 0 ? base : `${base}@${own.join(',')}`;
}
