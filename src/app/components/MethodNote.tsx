import { hasNewHead } from '../../lab/config';
import { METHOD_DESCRIPTORS, studyFindingOf } from '../../lab/methods';
import { useLabStore } from '../store';

/** What the chosen method trains, its formula, and what the study found (its claims, with their
 * figures), with what happens to the new classifier of a task that has one; then how the lab
 * implements it, where it departs from the reference implementation. */
export function MethodNote() {
  const method = useLabStore((s) => s.config.method);
  const newHead = useLabStore((s) => hasNewHead(s.config));
  const descriptor = METHOD_DESCRIPTORS[method];
  const finding = studyFindingOf(method);
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
      <p>
        <strong>Study:</strong> {finding || 'The reference the other methods are measured against.'}
      </p>
      <details>
        <summary>How the lab implements it</summary>
        <p>{descriptor.implementation}</p>
      </details>
    </section>
  );
}
