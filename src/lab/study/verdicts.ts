// The study's accuracy claims (claims.ts) judged on the lab's own runs. Every comparison is a
// paired difference over the seeds two cells share (same data split, base and batch order), with
// its 95% Student-t interval, against the claim's threshold:
//   "A is far ahead of B"      d = A − B must exceed FAR;
//   "A is close to / no better than B"   d must stay below CLOSE;
// reproduced when the whole interval is on the claimed side, contradicted when the whole interval
// is on the other side, inconclusive when it straddles the threshold. A claim of several parts is
// contradicted if any part is, reproduced if all are, else inconclusive; "not measured" without cells.
import { methodShortName } from '../names';
import { STUDY_MODELS, type ClaimId } from '../claims';
import type { CellKey, ClaimVerdict, StudyCell, StudyRun, Verdict } from './types';
import { pairedDifference, type Interval } from './stats';

/** "Far behind": at least 10 accuracy points (the study reports up to ~40 on impulse noise). */
export const FAR = 0.1;
/** "Close" / "no gain": within 2 accuracy points. */
export const CLOSE = 0.02;

interface Part {
  verdict: Exclude<Verdict, 'not measured'>;
  evidence: string;
}

const points = (value: number) => `${(100 * value).toFixed(1)}`;
const intervalText = (d: Interval) => `${points(d.mean)} points [95% CI ${points(d.low)}, ${points(d.high)}; ${d.n} seeds]`;

/** d must be above `threshold` (above: true) or below it. */
function side(d: Interval, threshold: number, above: boolean): Part['verdict'] {
  if (above ? d.low > threshold : d.high < threshold) return 'reproduced';
  if (above ? d.high < threshold : d.low > threshold) return 'contradicted';
  return 'inconclusive';
}

function combine(claimId: ClaimId, parts: Part[]): ClaimVerdict {
  if (parts.length === 0) return { claimId, verdict: 'not measured', evidence: ['The study result has no cells for this claim.'] };
  const verdicts = parts.map((part) => part.verdict);
  const verdict = verdicts.includes('contradicted') ? 'contradicted' : verdicts.every((v) => v === 'reproduced') ? 'reproduced' : 'inconclusive';
  return { claimId, verdict, evidence: parts.map((part) => part.evidence) };
}

/** Per-seed final accuracies of two cells on their common seeds, in seed order. */
function pairedFinal(runs: readonly StudyRun[], a: CellKey, b: CellKey): Interval | null {
  const final = (key: CellKey) =>
    new Map(runs.filter((run) => !run.failure && sameCell(run.cell, key)).map((run) => [run.seed, run.finalAccuracy]));
  const [x, y] = [final(a), final(b)];
  const seeds = [...x.keys()].filter((seed) => y.has(seed)).sort((s, t) => s - t);
  if (seeds.length < 2) return null;
  return pairedDifference(seeds.map((seed) => x.get(seed) as number), seeds.map((seed) => y.get(seed) as number));
}

const sameCell = (a: CellKey, b: CellKey) => a.model === b.model && a.method === b.method && a.task === b.task && a.rank === b.rank && a.frozenWeights === b.frozenWeights;
const where = (cell: CellKey) => `${cell.model}, ${cell.task}${cell.rank === null ? '' : `, r = ${cell.rank}`}`;
const name = (cell: CellKey) => methodShortName(cell.method, cell.model);
const isHardShift = (task: string) => task.startsWith('impulse_noise');
const isMildShift = (task: string) => task.startsWith('brightness');

/** Compares every cell of `subject` with the cell of `reference` on the same model and task (and
 * rank, where both have one). */
function pairs(cells: readonly StudyCell[], subject: CellKey['method'], reference: CellKey['method']): [StudyCell, StudyCell][] {
  const found: [StudyCell, StudyCell][] = [];
  for (const cell of cells.filter((c) => c.method === subject && c.seeds.length > 0)) {
    const other = cells.find((c) => c.method === reference && c.model === cell.model && c.task === cell.task && (c.rank === null || cell.rank === null || c.rank === cell.rank) && c.seeds.length > 0);
    if (other) found.push([cell, other]);
  }
  return found;
}

function compare(runs: readonly StudyRun[], a: StudyCell, b: StudyCell, threshold: number, above: boolean): Part | null {
  const d = pairedFinal(runs, a, b);
  if (!d) return null;
  const need = `${above ? '>' : '<'} ${points(threshold)}`;
  return { verdict: side(d, threshold, above), evidence: `${where(a)}: ${name(a)} − ${name(b)} = ${intervalText(d)} (claim: ${need})` };
}

const present = (part: Part | null): part is Part => part !== null;

export function computeVerdicts(allCells: readonly StudyCell[], runs: readonly StudyRun[]): ClaimVerdict[] {
  // The study's claims are about its own models on a float32 base: a ViT's or a quantized base's
  // cells are reported beside them, never judged by them.
  const cells = allCells.filter((cell) => STUDY_MODELS.includes(cell.model) && cell.frozenWeights === undefined);
  const bnHead = pairs(cells, 'fft', 'bn_head').flatMap(([fft, bnh]) => {
    if (isHardShift(fft.task)) return [compare(runs, fft, bnh, FAR, true)];
    if (isMildShift(fft.task)) return [compare(runs, fft, bnh, FAR, false)];
    return [];
  });

  const loraTradeoff: (Part | null)[] = [];
  for (const lora of cells.filter((c) => c.method === 'lora' && c.seeds.length > 0)) {
    for (const other of cells.filter((c) => c.method !== 'lora' && c.model === lora.model && c.task === lora.task && (c.rank === null || c.rank === lora.rank) && c.seeds.length > 0)) {
      // Cheaper methods must be clearly less accurate; costlier ones no more than CLOSE better.
      loraTradeoff.push(other.peakBytes < lora.peakBytes ? compare(runs, lora, other, 0, true) : compare(runs, other, lora, CLOSE, false));
    }
  }

  const dora = pairs(cells, 'dora', 'lora').map(([d, l]) => compare(runs, d, l, CLOSE, false));

  const galore: (Part | null)[] = [];
  for (const [fft, g] of pairs(cells, 'fft', 'galore')) galore.push(compare(runs, fft, g, CLOSE, false));
  for (const [g, lora] of pairs(cells, 'galore', 'lora')) galore.push(fewerSteps(runs, g, lora));

  const rankRange: (Part | null)[] = [];
  const loraByTask = new Map<string, StudyCell[]>();
  for (const cell of cells.filter((c) => c.method === 'lora' && c.rank !== null && c.rank >= 5 && c.rank <= 30 && c.seeds.length > 0)) {
    const key = `${cell.model}/${cell.task}`;
    loraByTask.set(key, [...(loraByTask.get(key) ?? []), cell]);
  }
  for (const group of loraByTask.values()) {
    const [lowest, ...others] = [...group].sort((a, b) => (a.rank as number) - (b.rank as number));
    for (const cell of others) {
      const d = pairedFinal(runs, cell, lowest);
      if (!d) continue;
      const within = d.low > -CLOSE && d.high < CLOSE;
      const outside = d.low > CLOSE || d.high < -CLOSE;
      rankRange.push({
        verdict: within ? 'reproduced' : outside ? 'contradicted' : 'inconclusive',
        evidence: `${cell.model}, ${cell.task}: LoRA r = ${cell.rank} − r = ${lowest.rank} = ${intervalText(d)} (claim: within ±${points(CLOSE)})`,
      });
    }
  }

  return [
    combine('bn_head_hard_shift', bnHead.filter(present)),
    combine('lora_best_tradeoff', loraTradeoff.filter(present)),
    combine('dora_no_accuracy_gain', dora.filter(present)),
    combine('galore_close_to_fft', galore.filter(present)),
    combine('lora_rank_range', rankRange.filter(present)),
  ];
}

/** GaLore reaches the target in fewer steps than LoRA: paired over seeds, a run that never reaches
 * it counted as one epoch past its last step (a lower bound on what it would have needed). */
function fewerSteps(runs: readonly StudyRun[], galore: StudyCell, lora: StudyCell): Part | null {
  if (!galore.stepsToTarget || !lora.stepsToTarget) return null;
  const censored = (cell: StudyCell) => {
    const bySeed = new Map(runs.filter((run) => !run.failure && sameCell(run.cell, cell)).map((run) => [run.seed, run.steps + run.stepsPerEpoch]));
    return new Map(cell.seeds.map((seed, i) => [seed, cell.stepsToTarget!.perSeed[i] ?? (bySeed.get(seed) as number)]));
  };
  const [g, l] = [censored(galore), censored(lora)];
  const seeds = galore.seeds.filter((seed) => l.has(seed));
  if (seeds.length < 2) return null;
  const d = pairedDifference(seeds.map((seed) => g.get(seed) as number), seeds.map((seed) => l.get(seed) as number));
  const verdict = d.high < 0 ? 'reproduced' : d.low > 0 ? 'contradicted' : 'inconclusive';
  const steps = (value: number) => value.toFixed(1);
  return { verdict, evidence: `${where(galore)}: steps to ${points(galore.stepsToTarget.target)}% (90% of FFT), GaLore − LoRA = ${steps(d.mean)} steps [95% CI ${steps(d.low)}, ${steps(d.high)}; ${d.n} seeds] (claim: < 0)` };
}
