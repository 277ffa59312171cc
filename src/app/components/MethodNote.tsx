import { hasNewHead } from '../../lab/config';
import { claimsAbout } from '../../lab/claims';
import { methodDescriptorOn } from '../../lab/methods';
import { ClaimLines } from './ClaimLines';
import { useLabStore } from '../store';

/** What the chosen method trains, its formula, what the study found (its claims, with their figures)
 * each with what the lab measured beside it, what happens to the new classifier of a task that has
 * one; then how the lab implements it, where it departs from the reference implementation. */
export function MethodNote() {
  const method = useLabStore((s) => s.config.method);
  const model = useLabStore((s) => s.config.model);
  const newHead = useLabStore((s) => hasNewHead(s.config));
  const descriptor = methodDescriptorOn(method, model);
  const claims = claimsAbout(method);
  return (
    <section className="method-note" aria-label="About this method">
      <p className="formula">{descriptor.formula}</p>
      <p>
        <strong>Trains:</strong> {descriptor.trains}
      </p>
      {newHead && (
        <p data-testid="new-head-note">
          <strong>New head:</strong> {descriptor.newHead}
        </p>
      )}
      {claims.length > 0 ? (
        <ClaimLines claimIds={claims.map((claim) => claim.id)} />
      ) : (
        <p>The reference the other methods are measured against.</p>
      )}
      <details>
        <summary>How the lab implements it</summary>
        <p>{descriptor.implementation}</p>
      </details>
    </section>
  );
}
