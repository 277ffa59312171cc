import { memo } from 'react';
import { claimById, claimText, type ClaimId } from '../../lab/claims';
import { accuracyMeasurement, costMeasurement, costMeasurementOn, type LabMeasurement, type ProfiledRequest } from '../../lab/labMeasurements';
import { useLabStore } from '../store';

interface ClaimLinesProps {
  claimIds: readonly ClaimId[];
  costOn?: { profiled: readonly ProfiledRequest[]; basis: string };
}

const sameItems = <T,>(a: readonly T[], b: readonly T[]) => a.length === b.length && a.every((item, i) => item === b[i]);

/** Each of the study's claims with what the lab measured beside it: a cost claim on the charts'
 * analytic profiles of this configuration (or on `costOn`: other profiles, with their basis in
 * words), an accuracy claim by the loaded study result. Evaluating claims is main-thread work:
 * re-rendered only when its claims, their basis, the profiles or the study change (not by a parent
 * re-rendering for a run's progress). */
export const ClaimLines = memo(
  Claims,
  (before: ClaimLinesProps, after: ClaimLinesProps) =>
    sameItems(before.claimIds, after.claimIds) &&
    before.costOn?.basis === after.costOn?.basis &&
    sameItems(before.costOn?.profiled ?? [], after.costOn?.profiled ?? []),
);

function Claims({ claimIds, costOn }: ClaimLinesProps) {
  const profiles = useLabStore((s) => s.profiles);
  const study = useLabStore((s) => s.study);
  if (claimIds.length === 0) return null;
  const cost = (id: ClaimId): LabMeasurement | null => {
    if (costOn) return costOn.profiled.length > 0 ? costMeasurementOn(id, costOn.profiled, costOn.basis) : null;
    return profiles ? costMeasurement(id, profiles.byMethod, profiles.request) : null;
  };
  return (
    <ul className="claims">
      {claimIds.map((id) => {
        const claim = claimById(id);
        const measured: LabMeasurement | null =
          claim.kind === 'cost' ? cost(id) : accuracyMeasurement(id, study);
        return (
          <li key={id} data-claim={id}>
            <span className="claim-study">
              <strong>Study:</strong> {claimText(claim)}
            </span>{' '}
            <span className="claim-lab" data-verdict={measured?.verdict ?? 'pending'}>
              <strong>Lab:</strong> {measured ? <>{measured.verdict} <span className="muted">({measured.basis})</span></> : 'computing…'}
            </span>
            {measured && (
              <details className="claim-evidence">
                <summary>The numbers</summary>
                <ul>
                  {measured.detail.map((line) => (
                    <li key={line}>{line}</li>
                  ))}
                </ul>
              </details>
            )}
          </li>
        );
      })}
    </ul>
  );
}
