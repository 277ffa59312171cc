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

export function App() {
  const connect = useLabStore((s) => s.connect);
  const validConfig = useLabStore((s) => s.validConfig);
  const requestProfiles = useLabStore((s) => s.requestProfiles);
  const loadShippedStudy = useLabStore((s) => s.loadShippedStudy);
  useEffect(() => connect(), [connect]);
  useEffect(() => void loadShippedStudy(), [loadShippedStudy]);
  useEffect(() => requestProfiles(validConfig), [requestProfiles, validConfig]);
  usePermalinkSync();
  return (
    <div className="app">
      <header className="app-header">
        <div>
          <h1>PEFT Edge Lab</h1>
          <p className="tagline">Fine-tune a CNN in your browser and see what each parameter-efficient method costs in memory and FLOPs.</p>
        </div>
        <div className="header-side">
          <BackendStatus />
        </div>
      </header>
      <LinkNotice />
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
    </div>
  );
}
