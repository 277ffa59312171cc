// Runs a study's grid one fine-tune at a time through the lab's run loop, writing each finished run
// as one line of a progress file the moment it ends, so a killed or crashed study loses at most
// the run in progress and `--resume` skips what is done. A run that fails (NaN loss, out of
// memory) is recorded with its reason and the grid goes on.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { FLOP_PHASES, MEMORY_GROUPS } from '../../src/core/ids';
import { runKeyString, type StudyRun } from '../../src/lab/study/report';
import { runFinetune, type FinetuneResult } from '../cli/finetune';
import { imagesFolderOf, type PlannedRun, type StudyPlan } from './plan';

/** What a progress file's first line says: the grid it belongs to (resume refuses another's). */
export interface ProgressHeader {
  kind: 'study-progress';
  settings: StudyPlan['settings'];
  backend: string;
}


export function readProgress(file: string): { header: ProgressHeader | null; runs: StudyRun[] } {
  if (!existsSync(file)) return { header: null, runs: [] };
  const lines = readFileSync(file, 'utf8').split('\n');
  let header: ProgressHeader | null = null;
  const runs: StudyRun[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue; // The line being written when the study was killed.
    }
    if ((parsed as ProgressHeader).kind === 'study-progress') header = parsed as ProgressHeader;
    else runs.push(parsed as StudyRun);
  }
  return { header, runs };
}

/** Runs `planned` (those not already in the progress file), appending each as it ends. */
/** One fine-tune of a configuration: in this Node process (runFinetune), or in a browser page. */
export type Finetune = (config: PlannedRun['config'], imagesFolder: string | null) => Promise<FinetuneRun>;
type FinetuneRun = Pick<FinetuneResult, 'baseline' | 'evalCurve' | 'finalAccuracy' | 'bestAccuracy' | 'steps' | 'stepsPerEpoch' | 'peakBytesByGroup' | 'flopsByPhase' | 'wallSeconds' | 'trainSeconds' | 'imagesPerSecond' | 'error' | 'outcome'>;

export async function runPlanned(
  planned: readonly PlannedRun[],
  plan: Pick<StudyPlan, 'settings' | 'backend' | 'resume' | 'maxRuns'>,
  progressFile: string,
  onRun: (run: StudyRun, done: number, total: number) => void,
  finetune: Finetune = (config, imagesFolder) => runFinetune(config, imagesFolder ? { imagesFolder } : {}),
): Promise<StudyRun[]> {
  const existing = readProgress(progressFile);
  if (existing.header && !plan.resume) throw new Error(`${progressFile}: a study was interrupted here; rerun with --resume to finish it, or delete the file to start over`);
  if (existing.header && JSON.stringify(existing.header.settings) !== JSON.stringify(plan.settings)) {
    throw new Error(`${progressFile}: the interrupted study used other settings (${JSON.stringify(existing.header.settings)}); resume it with the same flags or delete the file`);
  }
  if (!existing.header) appendFileSync(progressFile, `${JSON.stringify({ kind: 'study-progress', settings: plan.settings, backend: plan.backend } satisfies ProgressHeader)}\n`);
  const done = new Map(existing.runs.map((run) => [runKeyString(run), run]));
  const runs: StudyRun[] = [];
  let ran = 0;
  for (const next of planned) {
    const key = runKeyString(next);
    const finished = done.get(key);
    if (finished) {
      runs.push(finished);
      continue;
    }
    if (plan.maxRuns !== null && ran >= plan.maxRuns) break;
    const run = await runOne(next, finetune);
    appendFileSync(progressFile, `${JSON.stringify(run)}\n`);
    runs.push(run);
    ran++;
    onRun(run, runs.length, planned.length);
  }
  return runs;
}

async function runOne({ cell, seed, config }: PlannedRun, finetune: Finetune): Promise<StudyRun> {
  const result = await finetune(config, imagesFolderOf(cell.task));
  const peakBytesByGroup = result.peakBytesByGroup ?? { param: 0, grad: 0, act: 0, opt: 0, temp: 0 };
  const flopsByPhase = result.flopsByPhase ?? { forward: 0, backward_input: 0, backward_weight: 0, optimizer: 0, projection: 0 };
  const failed = result.error !== null || result.outcome === 'failed' || result.finalAccuracy === null || result.baseline === null;
  return {
    cell,
    seed,
    baselineAccuracy: result.baseline?.accuracy ?? 0,
    cleanAccuracy: result.baseline?.cleanAccuracy ?? null,
    evalCurve: result.evalCurve,
    finalAccuracy: result.finalAccuracy ?? 0,
    bestAccuracy: result.bestAccuracy ?? 0,
    steps: result.steps,
    stepsPerEpoch: result.stepsPerEpoch,
    peakBytes: MEMORY_GROUPS.reduce((sum, group) => sum + peakBytesByGroup[group], 0),
    peakBytesByGroup,
    flopsPerStep: FLOP_PHASES.reduce((sum, phase) => sum + flopsByPhase[phase], 0),
    flopsByPhase,
    timing: { wallSeconds: result.wallSeconds, trainSeconds: result.trainSeconds, imagesPerSecond: result.imagesPerSecond },
    failure: failed ? (result.error ? `${result.error.kind}: ${result.error.message}` : 'the run ended without an evaluation') : null,
  };
}
