import { useEffect } from 'react';
import { ChartsArea } from './charts/ChartsArea';
import { ModelComparison } from './charts/ModelComparison';
import { RankSweep } from './charts/RankSweep';
import { RunComparison } from './charts/RunComparison';
import { StudyResults } from './charts/StudyResults';
import { TrainingCurves } from './charts/TrainingCurves';
import { BatchActions } from './components/BatchActions';
import { RunPanel } from './components/RunPanel';
import { BackendStatus } from './components/BackendStatus';
import { ConfigPanel } from './components/ConfigPanel';
import { LinkNotice } from './components/LinkNotice';
import { LinkResults } from './components/LinkResults';
import { SharePanel } from './components/SharePanel';
import { useLabStore } from './store';
import { usePermalinkSync } from './usePermalinkSync';
import { FindingsView } from './findings/FindingsView';

export function App() {
  const connect = useLabStore((s) => s.connect);
  const validConfig = useLabStore((s) => s.validConfig);
  const requestProfiles = useLabStore((s) => s.requestProfiles);
  const loadShippedStudy = useLabStore((s) => s.loadShippedStudy);
  useEffect(() => connect(), [connect]);
  useEffect(() => void loadShippedStudy(), [loadShippedStudy]);
  useEffect(() => requestProfiles(validConfig), [requestProfiles, validConfig]);
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
        <div className="header-side">
          <BackendStatus />
        </div>
      </header>
      <LinkNotice />
      {view === 'findings' ? (
        <FindingsView />
      ) : (
        <div className="layout">
          <aside className="controls">
            <ConfigPanel />
            <BatchActions />
            <SharePanel />
          </aside>
          <main className="charts">
            <LinkResults />
            <RunPanel />
            <TrainingCurves />
            <RunComparison />
            <RankSweep />
            <ModelComparison />
            <ChartsArea />
            <StudyResults />
          </main>
        </div>
      )}
    </div>
  );
}
