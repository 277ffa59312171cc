// A study: runs of a grid (models × methods × tasks × ranks × seeds), each a RunRecord of the lab's
// own run loop, and what is computed from them — cells (a configuration over its seeds: mean and
// 95% Student-t interval of the final accuracy, steps-to-target) and the accuracy claims' verdicts.
// Written by `npm run study`, shipped for the default size (public/study/), and loaded by the page,
// which recomputes cells and verdicts from the runs and refuses a report whose numbers disagree.
import { METHOD_IDS, MODEL_IDS, type MethodId, type ModelId } from '../../core/ids';
import { meanInterval, type Interval } from './stats';
import { STUDY_SCHEMA, type CellKey, type StepsToTarget, type StudyCell, type StudyReport, type StudyRun } from './types';
import { computeVerdicts } from './verdicts';

export * from './types';

export const cellKeyString = (key: CellKey) => `${key.model}/${key.method}/${key.task}${key.rank === null ? '' : `/r${key.rank}`}${key.frozenWeights ? `@${key.frozenWeights}` : ''}`;
export const runKeyString = (run: Pick<StudyRun, 'cell' | 'seed'>) => `${cellKeyString(run.cell)}/s${run.seed}`;

/** The fraction of full fine-tuning's final accuracy that "reaching the target" means (DESIGN.md). */
export const TARGET_FRACTION = 0.9;

function stepsToTargetOf(runs: readonly StudyRun[], target: number): StepsToTarget {
  const perSeed = runs.map((run) => {
    const points = [{ step: 0, accuracy: run.baselineAccuracy }, ...run.evalCurve];
    return points.find((point) => point.accuracy >= target)?.step ?? null;
  });
  const reached = perSeed.filter((steps): steps is number => steps !== null);
  return { target, perSeed, meanReached: reached.length > 0 ? reached.reduce((a, b) => a + b, 0) / reached.length : null };
}

/** Cells from runs, in a stable order (model, task, method, rank); seeds ascending in each. */
export function aggregateCells(runs: readonly StudyRun[]): StudyCell[] {
  const groups = new Map<string, StudyRun[]>();
  for (const run of runs) {
    const key = cellKeyString(run.cell);
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const order = (key: CellKey) => [MODEL_IDS.indexOf(key.model), key.task, METHOD_IDS.indexOf(key.method), key.rank ?? -1, key.frozenWeights ?? ''] as const;
  const compare = (a: CellKey, b: CellKey) => {
    const [x, y] = [order(a), order(b)];
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
  };
  const cells: StudyCell[] = [];
  const fftFinal = new Map<string, Map<number, number>>();
  for (const group of groups.values()) {
    const { cell } = group[0];
    if (cell.method !== 'fft') continue;
    fftFinal.set(`${cell.model}/${cell.task}`, new Map(group.filter((run) => !run.failure).map((run) => [run.seed, run.finalAccuracy])));
  }
  for (const group of [...groups.values()].sort((a, b) => compare(a[0].cell, b[0].cell))) {
    const sorted = [...group].sort((a, b) => a.seed - b.seed);
    const ok = sorted.filter((run) => !run.failure);
    const { cell } = sorted[0];
    const failures = sorted.filter((run) => run.failure).map((run) => ({ seed: run.seed, reason: run.failure as string }));
    if (ok.length === 0) {
      const none: Interval = { mean: Number.NaN, low: Number.NaN, high: Number.NaN, sd: Number.NaN, n: 0 };
      cells.push({ ...cell, seeds: [], finalAccuracy: none, baselineAccuracy: none, bestAccuracy: none, peakBytes: 0, flopsPerStep: 0, stepsToTarget: null, failures });
      continue;
    }
    const fft = fftFinal.get(`${cell.model}/${cell.task}`);
    const fftSeeds = fft ? ok.filter((run) => fft.has(run.seed)) : [];
    const target = fft && fftSeeds.length > 0 ? TARGET_FRACTION * (fftSeeds.reduce((sum, run) => sum + (fft.get(run.seed) as number), 0) / fftSeeds.length) : null;
    cells.push({
      ...cell,
      seeds: ok.map((run) => run.seed),
      finalAccuracy: meanInterval(ok.map((run) => run.finalAccuracy)),
      baselineAccuracy: meanInterval(ok.map((run) => run.baselineAccuracy)),
      bestAccuracy: meanInterval(ok.map((run) => run.bestAccuracy)),
      peakBytes: ok[0].peakBytes,
      flopsPerStep: ok[0].flopsPerStep,
      stepsToTarget: target === null ? null : stepsToTargetOf(ok, target),
      failures,
    });
  }
  return cells;
}

/** A report's computed parts from its runs. */
export function summariseStudy(runs: readonly StudyRun[]): Pick<StudyReport, 'cells' | 'verdicts'> {
  const cells = aggregateCells(runs);
  return { cells, verdicts: computeVerdicts(cells, runs) };
}

/** The results part of a report, without what depends on the machine (timings, date): what a
 * resumed study must reproduce exactly. */
export function resultsOf(report: StudyReport): unknown {
  return {
    settings: report.settings,
    runs: report.runs.map(({ timing: _timing, ...run }) => run),
    cells: report.cells,
    verdicts: report.verdicts,
  };
}

/** Why `value` is not a study report this lab can show, or the report. Cells and verdicts are
 * recomputed from the runs: a report whose stored numbers disagree (edited, truncated) is refused. */
export function parseStudyReport(value: unknown): { report: StudyReport } | { error: string } {
  if (typeof value !== 'object' || value === null) return { error: 'not a JSON object' };
  const report = value as Partial<StudyReport>;
  if (report.schema !== STUDY_SCHEMA) {
    return { error: `schema ${JSON.stringify(report.schema ?? null)} is not ${STUDY_SCHEMA} (a study of another version of the lab, or not a study)` };
  }
  if (!Array.isArray(report.runs) || !Array.isArray(report.cells) || !Array.isArray(report.verdicts) || typeof report.settings !== 'object' || report.settings === null) {
    return { error: 'it lacks runs, cells, verdicts or settings' };
  }
  for (const [index, run] of report.runs.entries()) {
    const problem = runProblem(run);
    if (problem) return { error: `run ${index + 1}: ${problem}` };
  }
  let recomputed: Pick<StudyReport, 'cells' | 'verdicts'>;
  try {
    recomputed = summariseStudy(report.runs);
  } catch (error) {
    return { error: `its runs cannot be summarised: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (JSON.stringify(recomputed.cells) !== JSON.stringify(report.cells)) return { error: 'its cells do not follow from its runs (edited or truncated)' };
  if (JSON.stringify(recomputed.verdicts) !== JSON.stringify(report.verdicts)) return { error: 'its verdicts do not follow from its cells (edited)' };
  return { report: report as StudyReport };
}

const isFiniteIn01 = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1;

function runProblem(run: unknown): string | null {
  if (typeof run !== 'object' || run === null) return 'not an object';
  const r = run as Partial<StudyRun>;
  const cell = r.cell as Partial<CellKey> | undefined;
  if (!cell || !MODEL_IDS.includes(cell.model as ModelId) || !METHOD_IDS.includes(cell.method as MethodId) || typeof cell.task !== 'string') return 'its cell names no known model, method and task';
  if (!(cell.rank === null || (Number.isInteger(cell.rank) && (cell.rank as number) > 0))) return 'its rank is not a positive integer or null';
  if (cell.frozenWeights !== undefined && cell.frozenWeights !== 'int8' && cell.frozenWeights !== 'nf4') return 'its frozen weights are neither int8 nor nf4';
  if (!Number.isInteger(r.seed)) return 'its seed is not an integer';
  if (r.failure !== null && typeof r.failure !== 'string') return 'its failure is neither null nor a reason';
  if (r.failure === null && (!isFiniteIn01(r.finalAccuracy) || !isFiniteIn01(r.baselineAccuracy) || !isFiniteIn01(r.bestAccuracy))) return 'an accuracy is not in [0, 1]';
  if (!Array.isArray(r.evalCurve) || r.evalCurve.some((point) => !isFiniteIn01(point?.accuracy) || !Number.isInteger(point?.step))) return 'its eval curve is malformed';
  if (typeof r.peakBytes !== 'number' || typeof r.flopsPerStep !== 'number') return 'its costs are missing';
  return null;
}
