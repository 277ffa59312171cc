import { useEffect } from 'react';
import { encodePermalink } from '../lab/permalink';
import { useLabStore } from './store';

/** Keeps the URL hash equal to the permalink of the current state, and reloads the state when the
 * user edits or pastes a hash (replaceState does not fire hashchange, so there is no loop). */
export function usePermalinkSync() {
  const config = useLabStore((s) => s.validConfig);
  const hidden = useLabStore((s) => s.hiddenFields);
  // The newest run of this configuration, else the results the link came with.
  const results = useLabStore((s) => s.sharedResults ?? s.linkResults);
  const loadPermalink = useLabStore((s) => s.loadPermalink);

  useEffect(() => {
    const hash = encodePermalink({ config, results, hidden });
    if (window.location.hash !== hash) window.history.replaceState(window.history.state, '', hash);
  }, [config, hidden, results]);

  useEffect(() => {
    const onHashChange = () => loadPermalink(window.location.hash);
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, [loadPermalink]);
}
