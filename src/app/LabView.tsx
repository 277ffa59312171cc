// The lab: controls on the left, the run and the charts on the right. The charts come in a chunk of
// their own, fetched as soon as this view loads; the controls and the run panel do not wait for it
// (the charting library comes later still, for the plots below the fold: DeferredPlot.tsx). The training worker (tfjs) starts once the page is idle, or at the
// first request that needs it, whichever comes first.
import { lazy, Suspense, useEffect, type ComponentType } from 'react';
import { BatchActions } from './components/BatchActions';
import { ConfigPanel } from './components/ConfigPanel';
import { RunPanel } from './components/RunPanel';
import { SharePanel } from './components/SharePanel';
import { StudyResults } from './charts/StudyResults';
import { useLabStore } from './store';

const labCharts = import('./charts/labCharts');
const lazyChart = <K extends keyof Awaited<typeof labCharts>>(name: K) =>
  lazy(() => labCharts.then((module) => ({ default: module[name] as ComponentType })));

const LinkResults = lazyChart('LinkResults');
const TrainingCurves = lazyChart('TrainingCurves');
const RunComparison = lazyChart('RunComparison');
const RankSweep = lazyChart('RankSweep');
const ModelComparison = lazyChart('ModelComparison');
const ChartsArea = lazyChart('ChartsArea');

/** How long (ms) the worker's start may wait for an idle main thread. */
const CONNECT_IDLE_TIMEOUT_MS = 2000;

export default function LabView() {
  const connect = useLabStore((s) => s.connect);
  const validConfig = useLabStore((s) => s.validConfig);
  const requestProfiles = useLabStore((s) => s.requestProfiles);
  useEffect(() => requestProfiles(validConfig), [requestProfiles, validConfig]);
  useEffect(() => {
    // The worker's 2 MB of tfjs compete for the CPU with this view's first paint: start it after.
    if (typeof window.requestIdleCallback !== 'function') {
      const timer = window.setTimeout(connect, 0);
      return () => window.clearTimeout(timer);
    }
    const idle = window.requestIdleCallback(connect, { timeout: CONNECT_IDLE_TIMEOUT_MS });
    return () => window.cancelIdleCallback(idle);
  }, [connect]);
  return (
    <div className="layout">
      <aside className="controls">
        <ConfigPanel />
        <BatchActions />
        <SharePanel />
      </aside>
      <main className="charts">
        {/* Panels that may draw nothing wait silently; the cost charts say they are loading. */}
        <Suspense fallback={null}>
          <LinkResults />
        </Suspense>
        <RunPanel />
        <Suspense fallback={null}>
          <TrainingCurves />
          <RunComparison />
          <RankSweep />
          <ModelComparison />
        </Suspense>
        <Suspense
          fallback={
            <section className="chart-card" aria-busy="true">
              <p className="muted">Loading the cost charts…</p>
            </section>
          }
        >
          <ChartsArea />
        </Suspense>
        <StudyResults />
      </main>
    </div>
  );
}
