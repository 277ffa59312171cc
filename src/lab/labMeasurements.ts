// What the lab measured beside each of the study's claims, for the page: a cost claim judged on
// the analytic profiles of the configuration on screen (the bench's own checks, costClaims.ts), an
// accuracy claim by a study result's verdict (npm run study). Never the study's figure alone.
import type { MethodId } from '../core/ids';
import { summariseProfile } from '../core/profile/profile';
import type { AnalyticProfile } from '../core/profile/types';
import { claimById, type ClaimId } from './claims';
import { CLAIMS, evaluateClaim, type CellCosts } from './costClaims';
import { takesOption } from './methods';
import type { ProfileRequest } from './protocol';
import type { StudyReport } from './study/report';

export interface LabMeasurement {
  verdict: string;
  /** Where the number comes from and what it is. */
  basis: string;
  /** The comparisons behind the verdict, one sentence each. */
  detail: string[];
}

/** Every method's analytic profiles for one request (the profile worker's answer). */
export interface ProfiledRequest {
  request: ProfileRequest;
  byMethod: Partial<Record<MethodId, AnalyticProfile>>;
}

function cellsOf({ request, byMethod }: ProfiledRequest): CellCosts[] {
  return Object.entries(byMethod).map(([method, profile]) => ({
    model: request.model.model,
    method: method as MethodId,
    rank: takesOption(method as MethodId, 'rank') ? request.methodOptions.rank : null,
    peakBytes: profile.memory.analytic.peak.total,
    torchFlops: summariseProfile(profile).flops.torchConvention,
    galoreUpdateProjGap: method === 'galore' ? request.methodOptions.galore.updateProjGap : null,
  }));
}

/** A cost claim judged on the analytic profiles of one or more requests (one per model); null for
 * an accuracy claim. `basis` says in words what the requests are. A request on a quantized base is
 * never part of a verdict: the study profiled float32 weights (its FFT and GaLore are float32 still,
 * but the methods the claims weigh them against are not). */
export function costMeasurementOn(claimId: ClaimId, profiled: readonly ProfiledRequest[], basis: string): LabMeasurement | null {
  const claim = CLAIMS.find((candidate) => candidate.id === claimId);
  if (!claim) return null;
  const comparable = profiled.filter(({ request }) => (request.frozenWeights ?? 'fp32') === 'fp32');
  if (comparable.length === 0 && profiled.length > 0) {
    const formats = [...new Set(profiled.map(({ request }) => request.frozenWeights))].join(', ');
    return { verdict: 'not comparable', basis, detail: [`The frozen base is stored ${formats}, and the study profiled float32 weights: its figures say nothing about a quantized base. Set Frozen weights to fp32 to judge this claim.`] };
  }
  const evaluation = evaluateClaim(claim, { id: 'analytic_run', label: basis, cells: comparable.flatMap(cellsOf) });
  return { verdict: evaluation.verdict, basis, detail: [evaluation.reason] };
}

/** A cost claim on the current configuration's analytic profiles; null for an accuracy claim. */
export function costMeasurement(claimId: ClaimId, profiles: Partial<Record<MethodId, AnalyticProfile>>, request: ProfileRequest): LabMeasurement | null {
  const basis = `this configuration (analytic, batch ${request.batch}, ${request.model.resolution}×${request.model.resolution})`;
  return costMeasurementOn(claimId, [{ request, byMethod: profiles }], basis);
}

/** An accuracy claim as a study result judged it; null for a cost claim or without a result. */
export function accuracyMeasurement(claimId: ClaimId, study: { report: StudyReport; source: string } | null): LabMeasurement | null {
  if (claimById(claimId).kind !== 'accuracy') return null;
  if (!study) return { verdict: 'not measured', basis: 'no study result loaded', detail: ['Run npm run study, or load a study result.'] };
  const verdict = study.report.verdicts.find((v) => v.claimId === claimId);
  const { settings } = study.report;
  const seeds = new Set(study.report.runs.map((run) => run.seed)).size;
  const basis = `${study.source}: ${settings.trainImages} images × ${settings.epochs} epochs, ${seeds} seeds, ${study.report.backend}`;
  return verdict ? { verdict: verdict.verdict, basis, detail: verdict.evidence } : { verdict: 'not measured', basis, detail: ['This study result does not judge this claim.'] };
}
