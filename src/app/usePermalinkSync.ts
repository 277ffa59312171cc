import { useEffect } from 'react';
import { encodeFindingsLink, encodePermalink } from '../lab/permalink';
import { useLabStore } from './store';

/** Keeps the URL hash equal to the permalink of what is on screen — the lab's configuration, or
 * the findings tour (and its card) — and reloads the state when the user edits or pastes a hash
 * (replaceState does not fire hashchange, so there is no loop). */
export function usePermalinkSync() {
  const config = useLabStore((s) => s.validConfig);
  const hidden = useLabStore((s) => s.hiddenFields);
  // The newest run of this configuration, else the results the link came with.
  const results = useLabStore((s) => s.sharedResults ?? s.linkResults);
  const view = useLabStore((s) => s.view);
  const focusedFinding = useLabStore((s) => s.focusedFinding);
  const loadPermalink = useLabStore((s) => s.loadPermalink);

  useEffect(() => {
    const hash = view === 'findings' ? encodeFindingsLink(focusedFinding) : encodePermalink({ config, results, hidden });
    if (window.location.hash !== hash) window.history.replaceState(window.history.state, '', hash);
  }, [config, hidden, results, view, focusedFinding]);

  useEffect(() => {
    const onHashChange = () => loadPermalink(window.location.hash);
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, [loadPermalink]);
}
