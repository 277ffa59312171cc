import { CostSummary } from '../components/CostSummary';
import { EdgePlanner } from './EdgePlanner';
import { useChartSnapshot } from './chartSnapshot';
import { FlopsByMethod } from './FlopsByMethod';
import { LayerTable } from './LayerTable';
import { MemoryByMethod } from './MemoryByMethod';
import { MemoryTimeline } from './MemoryTimeline';

/** The main area's cost views, all drawn from one deferred snapshot so they agree with each other. */
export function ChartsArea() {
  const snapshot = useChartSnapshot();
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
