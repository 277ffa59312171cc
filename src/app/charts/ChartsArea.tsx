import { useEffect } from 'react';
import { CostSummary } from '../components/CostSummary';
import { prepareCurveCanvases } from './curveDrawer';
import { EdgePlanner } from './EdgePlanner';
import { useChartSnapshot } from './chartSnapshot';
import { FlopsByMethod } from './FlopsByMethod';
import { LayerTable } from './LayerTable';
import { MemoryByMethod } from './MemoryByMethod';
import { MemoryTimeline } from './MemoryTimeline';

/** Canvases of the live run's curves (TrainingCurves: loss, accuracy). */
const LIVE_CURVES = 2;

/** The main area's cost views, all drawn from one deferred snapshot so they agree with each other. */
export function ChartsArea() {
  const snapshot = useChartSnapshot();
  // The live run's two curve canvases, handed to the curve worker while the page is idle, not when
  // the run's first curves come (training then keeps the cores busy).
  useEffect(() => {
    const prepare = () => prepareCurveCanvases(LIVE_CURVES);
    if (typeof window.requestIdleCallback !== 'function') {
      const timer = window.setTimeout(prepare, 1000);
      return () => window.clearTimeout(timer);
    }
    const idle = window.requestIdleCallback(prepare, { timeout: 5000 });
    return () => window.cancelIdleCallback(idle);
  }, []);
  return (
    <>
      <CostSummary snapshot={snapshot} />
      <MemoryByMethod snapshot={snapshot} />
      <EdgePlanner />
      <MemoryTimeline snapshot={snapshot} />
      <FlopsByMethod snapshot={snapshot} />
      <LayerTable snapshot={snapshot} />
    </>
  );
}
