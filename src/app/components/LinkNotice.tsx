import { useLabStore } from '../store';

/** What an opened link could not be read for; the texts are plain strings, rendered as text. */
export function LinkNotice() {
  const problems = useLabStore((s) => s.linkProblems);
  const hiddenCount = useLabStore((s) => s.hiddenFields.length);
  const dismiss = useLabStore((s) => s.dismissLinkProblems);
  const showAll = useLabStore((s) => s.setHiddenFields);
  return (
    <>
      {problems.length > 0 && (
        <div role="status" className="banner banner-warning link-notice">
          <strong>Parts of this link were ignored.</strong> Everything else was loaded; ignored fields use the defaults.
          <ul>
            {problems.map((problem, i) => (
              <li key={i}>{problem}</li>
            ))}
          </ul>
          <button type="button" className="secondary" onClick={dismiss}>
            Dismiss
          </button>
        </div>
      )}
      {hiddenCount > 0 && (
        <p className="teaching-note">
          Teaching link: {hiddenCount} control{hiddenCount === 1 ? ' is' : 's are'} hidden.{' '}
          <button type="button" className="link-button" onClick={() => showAll([])}>
            Show all controls
          </button>
        </p>
      )}
    </>
  );
}
