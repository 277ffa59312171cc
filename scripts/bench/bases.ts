// The numbers the study's claims are checked on, three ways: this run's measured peaks (tf.profile),
// the analytic profiler at this run's setting, and the analytic profiler at the study's own
// profiling setting (one 224×224 image, width 1.0, r = 4), which needs no GPU.
import { benchMethodOptions } from '../../src/core/baselines/benchCells';
import { METHODS } from '../../src/core/adapters';
import { METHOD_IDS, MODEL_IDS } from '../../src/core/ids';
import { buildModelSpec } from '../../src/core/models/registry';
import { optimizerCostOfMethod, profileSpec, summariseProfile } from '../../src/core/profile/profile';
import type { Basis, CellCosts } from '../../src/lab/costClaims';
import { RANKED_METHODS } from './grid';
import type { CellRecord } from './report';

/** The study profiled one 224×224 image through ImageNet-stem models at width 1.0 with r = α = 4. */
export const STUDY_SETTING = { width: 1, resolution: 224, numClasses: 10, stem: 'imagenet', batch: 1, rank: 4 } as const;

export function runBases(cells: readonly CellRecord[]): Basis[] {
  const measured: CellCosts[] = [];
  const analytic: CellCosts[] = [];
  for (const cell of cells) {
    if (!cell.result) continue;
    const common = {
      model: cell.model,
      method: cell.method,
      rank: cell.rank,
      galoreUpdateProjGap: cell.galoreUpdateProjGap,
      torchFlops: cell.result.analytic.flops.torchConvention,
      ...(cell.frozenWeights ? { frozenWeights: cell.frozenWeights } : {}),
    };
    measured.push({ ...common, peakBytes: cell.result.measured.profile.peakBytes });
    analytic.push({ ...common, peakBytes: cell.result.analytic.memory.pytorch.sumOfGroupMaxima.total });
  }
  const setting = describeSetting(cells[0]);
  return [
    { id: 'measured', label: `this run, measured (tf.profile peak; ${setting})`, cells: measured },
    { id: 'analytic_run', label: `this run, analytic (PyTorch view, sum of group maxima; ${setting})`, cells: analytic },
  ];
}

function describeSetting(cell: CellRecord | undefined): string {
  if (!cell) return 'no cells';
  const { width, resolution, stem } = cell.modelOptions;
  return `width ${width}, ${resolution}×${resolution}, ${stem} stem, batch ${cell.batch}`;
}

/** Every model × method at the study's setting, analytic (PyTorch view, sum of group maxima). */
export function studySettingBasis(): Basis {
  const { rank, batch, ...modelSettings } = STUDY_SETTING;
  const cells: CellCosts[] = [];
  for (const model of MODEL_IDS) {
    const base = buildModelSpec({ model, ...modelSettings });
    for (const method of METHOD_IDS) {
      const cellRank = RANKED_METHODS.includes(method) ? rank : null;
      const options = benchMethodOptions(cellRank);
      const profile = summariseProfile(profileSpec(METHODS[method].apply(base, options), { batch, optimizer: optimizerCostOfMethod(method, options) }));
      cells.push({
        model,
        method,
        rank: cellRank,
        peakBytes: profile.memory.pytorch.sumOfGroupMaxima.total,
        torchFlops: profile.flops.torchConvention,
        galoreUpdateProjGap: method === 'galore' ? options.galore.updateProjGap : null,
      });
    }
  }
  return {
    id: 'analytic_study',
    label: `study setting, analytic (PyTorch view, sum of group maxima; width 1, 224×224, imagenet stem, batch 1, r = ${rank})`,
    cells,
  };
}
