import { hasNewHead } from '../config';
import { METHOD_NOTES, NEW_HEAD_NOTES } from '../labels';
import { useLabStore } from '../store';

/** What the chosen method trains, its formula, and what the study found, in short (with what happens
 * to the new classifier of the unseen-classes task); then the methods registry's full note, which
 * also says where the lab departs from the reference implementation. */
export function MethodNote() {
  const method = useLabStore((s) => s.config.method);
  const registryNote = useLabStore((s) => s.profiles?.notes[method]);
  const newHead = useLabStore((s) => hasNewHead(s.config));
  const note = METHOD_NOTES[method];
  return (
    <section className="method-note" aria-label="About this method">
      <p className="formula">{note.formula}</p>
      <p>
        <strong>Trains:</strong> {note.trains}
      </p>
      {newHead && (
        <p data-testid="new-head-note">
          <strong>New head:</strong> {NEW_HEAD_NOTES[method]}
        </p>
      )}
      <p>
        <strong>Study:</strong> {note.finding}
      </p>
      {registryNote && (
        <details>
          <summary>How the lab implements it</summary>
          <p>{registryNote}</p>
        </details>
      )}
    </section>
  );
}
