import { memo } from 'react';
import { MEMORY_GROUPS } from '../../core/ids';
import { STEP_PHASES, type TimelinePoint } from '../../core/profile/types';
import { byteScale, formatBytes, niceTicks } from '../format';
import { methodShortName } from '../../lab/names';
import type { ChartSnapshot } from './chartSnapshot';
import { ChartCard } from './ChartCard';
import { DeferredPlot, MemoryTimelinePlot } from './DeferredPlot';
import { MemoryViewToggle } from './ViewToggles';

/** Charted points at most: the chart slows down with thousands of stacked points. */
const MAX_POINTS = 240;

/** The timeline thinned to about MAX_POINTS points, keeping in each bucket its largest total, so the
 * peak stays on the chart. Indices stay those of the full timeline. */
function thinTimeline(timeline: readonly TimelinePoint[]): { index: number; point: TimelinePoint }[] {
  const bucket = Math.ceil(timeline.length / MAX_POINTS);
  const kept: { index: number; point: TimelinePoint }[] = [];
  for (let start = 0; start < timeline.length; start += bucket) {
    let best = start;
    for (let i = start + 1; i < Math.min(start + bucket, timeline.length); i++) {
      if (timeline[i].total > timeline[best].total) best = i;
    }
    kept.push({ index: best, point: timeline[best] });
  }
  return kept;
}

/** First and last timeline index of each phase. */
function phaseSpans(timeline: readonly TimelinePoint[]) {
  return STEP_PHASES.flatMap((phase) => {
    const first = timeline.findIndex((point) => point.phase === phase);
    if (first < 0) return [];
    let last = first;
    while (last + 1 < timeline.length && timeline[last + 1].phase === phase) last++;
    return [{ phase, first, last }];
  });
}

/** Bytes alive by group after each op of one step of the configured method: forward builds up the
 * kept activations, backward releases them while gradients appear, then the optimizer runs. */
export const MemoryTimeline = memo(function MemoryTimeline({ snapshot }: { snapshot: ChartSnapshot }) {
  const { method, model, memoryView: view } = snapshot;
  const memory = snapshot.profiles?.byMethod[method]?.memory[view];
  if (!memory) return null;
  const scale = byteScale(memory.peak.total);
  const ticks = niceTicks(memory.peak.total / scale.divisor);
  const rows = thinTimeline(memory.timeline).map(({ index, point }) => ({
    index,
    op: point.op,
    phase: point.phase,
    ...Object.fromEntries(MEMORY_GROUPS.map((group) => [group, point.bytes[group] / scale.divisor])),
  }));
  const spans = phaseSpans(memory.timeline);
  return (
    <ChartCard
      title={`Memory timeline of one ${methodShortName(method, model)} step`}
      explanation={
        <>
          Bytes alive after each operation, stacked by group, like PyTorch’s memory timeline. The line marks the simultaneous peak: <strong>{formatBytes(memory.peak.total)}</strong> during{' '}
          {memory.peak.phase} at <code>{memory.peak.op}</code>.
        </>
      }
      controls={<MemoryViewToggle />}
    >
      <div className="chart-frame" role="img" aria-label={`Stacked area of memory by group over ${memory.timeline.length} operations`}>
        <DeferredPlot height={280}>
          <MemoryTimelinePlot rows={rows} spans={spans} timeline={memory.timeline} peakIndex={memory.peak.index} scale={scale} ticks={ticks} />
        </DeferredPlot>
      </div>
    </ChartCard>
  );
});
