import { useEffect } from 'react';
import type { ConfigField, LabConfig } from '../lab/config';
import type { FindingId } from '../lab/ids';
import { encodeFindingsLink, encodePermalink, type LabView } from '../lab/permalink';
import type { RunSummary } from '../lab/results';
import { useLabStore } from './store';

/** The hash of the permalink of what is on screen. */
export const permalinkHash = ({ view, focusedFinding, config, results, hidden }: { view: LabView; focusedFinding: FindingId | null; config: LabConfig; results: RunSummary | null; hidden: readonly ConfigField[] }) =>
  view === 'findings' ? encodeFindingsLink(focusedFinding) : encodePermalink({ config, results, hidden });

/** The permalink of what is on screen now (the address bar follows it a task later). */
export function currentPermalink(): string {
  const s = useLabStore.getState();
  const hash = permalinkHash({ view: s.view, focusedFinding: s.focusedFinding, config: s.validConfig, results: s.sharedResults ?? s.linkResults, hidden: s.hiddenFields });
  return new URL(hash, window.location.href).href;
}

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
    const seen = window.location.hash;
    const write = () => {
      // A hash the user pasted meanwhile wins: its hashchange loads it, and this runs again.
      if (window.location.hash !== seen) return;
      const hash = permalinkHash({ view, focusedFinding, config, results, hidden });
      if (window.location.hash !== hash) window.history.replaceState(window.history.state, '', hash);
    };
    // In a task of its own, right after this one: replaceState took ~30 ms at a run's end on a slow
    // machine, on top of the render of the worker's message. Not later than that: a link pasted
    // again must differ from the address bar to reload (an unchanged hash fires no hashchange).
    const timer = window.setTimeout(write, 0);
    return () => window.clearTimeout(timer);
  }, [config, hidden, results, view, focusedFinding]);

  useEffect(() => {
    const onHashChange = () => loadPermalink(window.location.hash);
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, [loadPermalink]);
}
