// PyTorch's step time for the bench's cells (scripts/fixtures/torch_step_timing.py writes the JSON):
// one training step (forward, backward, Adam) of the same torchvision network, method and batch, to
// show beside the lab's step. Only a GPU's times compare with a GPU run of the lab.
import { readFileSync } from 'node:fs';

import type { MethodId, ModelId, StemId } from '../../src/core/ids';

export const TORCH_SCHEMA = 'peft-edge-lab/torch-step-timing@1';

export interface TorchCell {
  model: ModelId;
  method: MethodId;
  /** LoRA/DoRA rank; null for fft and bn_head, as in the bench's cells. */
  rank: number | null;
  width: number;
  resolution: number;
  stem: StemId;
  numClasses: number;
  batch: number;
  warmup: number;
  steps: number;
  /** Median of the timed steps, each ended by reading the loss (and torch.cuda.synchronize on CUDA). */
  medianStepMs: number | null;
  stepMs: number[];
  trainableParams: number | null;
  /** How the method was built: 'torch', 'peft 0.21.0', 'conv-LoRA (PEFT's formula, no peft)'. */
  implementation: string | null;
  /** Why the cell has no time (e.g. DoRA without peft). */
  error: string | null;
}

export interface TorchTimings {
  schema: typeof TORCH_SCHEMA;
  createdAt: string;
  /** 'cuda' or 'cpu': a CPU time is no comparison for a GPU run. */
  deviceKind: 'cuda' | 'cpu';
  /** e.g. 'NVIDIA H200' or the CPU's name. */
  device: string;
  torchVersion: string;
  torchvisionVersion: string;
  peftVersion: string | null;
  /** torch.get_num_threads() (CPU work). */
  threads: number;
  /** PyTorch's own float32 matmul at the report's roofline size on the same device (median of its
   * samples, read back): a cell's FLOPs per step over PyTorch's step, over this rate, is how much of
   * its own matmul PyTorch's step reaches. Absent from files written before it was measured. */
  matmul?: { size: number; samples: number; medianMs: number; gflopPerSecond: number };
  cells: TorchCell[];
}

export function readTorchTimings(file: string): TorchTimings {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`--torch ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const timings = data as Partial<TorchTimings>;
  if (timings?.schema !== TORCH_SCHEMA || !Array.isArray(timings.cells)) {
    throw new Error(`--torch ${file}: not PyTorch step timings (${TORCH_SCHEMA}, from scripts/fixtures/torch_step_timing.py)`);
  }
  return timings as TorchTimings;
}

/** What names a cell: a report's CellRecord has these fields. */
interface CellKeyFields {
  model: string;
  method: string;
  rank: number | null;
  batch: number;
  modelOptions: { width: number; resolution: number; stem: string; numClasses: number };
  frozenWeights?: string;
}

/** The PyTorch cell of the same network, method, rank and batch as a lab cell (none for a cell on a
 * quantized base: the PyTorch step is float32). */
export function torchCellFor(timings: TorchTimings, cell: CellKeyFields): TorchCell | undefined {
  const { width, resolution, stem, numClasses } = cell.modelOptions;
  if (cell.frozenWeights) return undefined;
  return timings.cells.find(
    (t) =>
      t.model === cell.model &&
      t.method === cell.method &&
      t.rank === cell.rank &&
      t.width === width &&
      t.resolution === resolution &&
      t.stem === stem &&
      t.numClasses === numClasses &&
      t.batch === cell.batch,
  );
}
