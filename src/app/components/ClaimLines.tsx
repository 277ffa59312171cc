import { claimById, claimText, type ClaimId } from '../../lab/claims';
import { accuracyMeasurement, costMeasurement, costMeasurementOn, type LabMeasurement, type ProfiledRequest } from '../../lab/labMeasurements';
import { useLabStore } from '../store';

/** Each of the study's claims with what the lab measured beside it: a cost claim on the charts'
 * analytic profiles of this configuration (or on `costOn`: other profiles, with their basis in
 * words), an accuracy claim by the loaded study result. */
export function ClaimLines({ claimIds, costOn }: { claimIds: readonly ClaimId[]; costOn?: { profiled: readonly ProfiledRequest[]; basis: string } }) {
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
