import { lazy, Suspense, useEffect } from 'react';
import { BackendStatus } from './components/BackendStatus';
import { LinkNotice } from './components/LinkNotice';
import { useLabStore } from './store';
import { usePermalinkSync } from './usePermalinkSync';

// Each view is a chunk of its own: the first screen fetches the one it shows. The training worker
// (tfjs) starts with the lab, never for the findings tour.
const FindingsView = lazy(() => import('./findings/FindingsView'));
const LabView = lazy(() => import('./LabView'));

export function App() {
  const loadShippedStudy = useLabStore((s) => s.loadShippedStudy);
  useEffect(() => void loadShippedStudy(), [loadShippedStudy]);
  const view = useLabStore((s) => s.view);
  const openLab = useLabStore((s) => s.openLab);
  const openFindings = useLabStore((s) => s.openFindings);
  // A teaching link (hidden controls) is for a projector: large type, fewer panels.
  const teaching = useLabStore((s) => s.hiddenFields.length > 0);
  usePermalinkSync();
  return (
    <div className={`app${teaching ? ' teaching' : ''}`}>
      <header className="app-header">
        <div>
          <h1>PEFT Edge Lab</h1>
          <p className="tagline">Fine-tune a CNN in your browser and see what each parameter-efficient method costs in memory and FLOPs.</p>
        </div>
        <nav className="view-tabs" aria-label="Views">
          <button type="button" aria-pressed={view === 'findings'} onClick={() => openFindings()}>
            Findings
          </button>
          <button type="button" aria-pressed={view === 'lab'} onClick={openLab}>
            Lab
          </button>
        </nav>
        <div className="header-side">{view === 'lab' && <BackendStatus />}</div>
      </header>
      <LinkNotice />
      <Suspense fallback={<p className="muted view-loading">Loading the {view === 'findings' ? 'findings' : 'lab'}…</p>}>{view === 'findings' ? <FindingsView /> : <LabView />}</Suspense>
    </div>
  );
}
