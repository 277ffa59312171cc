// The run's cells (model × method × rank) as jobs in a deterministic order, and how a shard picks
// its part. The tf.layers peer runs in the same job as the lab's MobileNetV2 full fine-tuning cell,
// back to back in one page, so their ratio compares like with like.
import { METHOD_IDS, MODEL_IDS, type MethodId, type ModelId } from '../../src/core/ids';
import { takesOption } from '../../src/lab/methods';
import { cellId, type CellKey } from './cells';
import type { RunPlan, Shard } from './flags';

/** Methods whose cost depends on a rank (LoRA/DoRA r, GaLore's projection rank). */
export const RANKED_METHODS: readonly MethodId[] = METHOD_IDS.filter((method) => takesOption(method, 'rank'));

export type BenchJob =
  | { kind: 'core'; cell: CellKey }
  /** The lab's mobilenet_v2 fft cell, then the tf.layers MobileNetV2 at the same options. */
  | { kind: 'core_vs_tf_layers'; cell: CellKey };

export const PEER_CELL: CellKey = { model: 'mobilenet_v2', method: 'fft', rank: null };

/** The grid's cells; `depth`, where given, sizes the ViT's (the CNNs have none). */
export function gridCells(models: readonly ModelId[], methods: readonly MethodId[], ranks: readonly number[], depth: number | null = null): CellKey[] {
  const cells: CellKey[] = [];
  const sortedRanks = [...new Set(ranks)].sort((a, b) => a - b);
  for (const model of MODEL_IDS.filter((id) => models.includes(id))) {
    const own = model === 'vit_tiny' && depth !== null ? { depth } : {};
    for (const method of METHOD_IDS.filter((id) => methods.includes(id))) {
      if (RANKED_METHODS.includes(method)) for (const rank of sortedRanks) cells.push({ model, method, rank, ...own });
      else cells.push({ model, method, rank: null, ...own });
    }
  }
  return cells;
}

/** Every job of the plan, in a fixed order (the peer pair first). */
export function planJobs(plan: RunPlan): BenchJob[] {
  if (plan.mode === 'core-only') return [{ kind: 'core_vs_tf_layers', cell: PEER_CELL }];
  const grid = gridCells(plan.models, plan.methods, plan.ranks, plan.depth);
  const gridIds = new Set(grid.map(cellId));
  const cells = [...grid, ...plan.extraCells.filter((cell) => !gridIds.has(cellId(cell)))];
  if (!plan.baseline) return cells.map((cell) => ({ kind: 'core', cell }));
  const peerId = cellId(PEER_CELL);
  return [
    { kind: 'core_vs_tf_layers', cell: PEER_CELL },
    ...cells.filter((cell) => cellId(cell) !== peerId).map((cell): BenchJob => ({ kind: 'core', cell })),
  ];
}

/** Round-robin: job k goes to shard (k mod n) + 1, so every shard gets a similar mix. */
export function shardJobs(jobs: readonly BenchJob[], shard: Shard | null): BenchJob[] {
  if (!shard) return [...jobs];
  return jobs.filter((_, k) => k % shard.count === shard.index - 1);
}

/** Steps a job runs (warm-up, timed, one profiled, one under the measured tracker), for the progress bar. */
export function jobSteps(job: BenchJob, warmup: number, steps: number): number {
  const perCell = warmup + steps + 2;
  // The peer times tf.layers' steps alternately with the core's again, then profiles one of its own.
  return job.kind === 'core_vs_tf_layers' ? perCell + 2 * (warmup + steps) + 1 : perCell;
}
