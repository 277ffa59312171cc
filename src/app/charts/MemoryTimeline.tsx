import { memo } from 'react';
import { Area, AreaChart, CartesianGrid, Legend, ReferenceArea, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { MEMORY_GROUPS } from '../../core/ids';
import { STEP_PHASES, type StepPhase, type TimelinePoint } from '../../core/profile/types';
import { byteScale, formatBytes, niceTicks } from '../format';
import { MEMORY_GROUP_NAMES, METHOD_SHORT_NAMES } from '../../lab/names';
import type { ChartSnapshot } from './chartSnapshot';
import { ChartCard } from './ChartCard';
import { unitAxis } from './unitAxis';
import { MEMORY_GROUP_COLORS } from '../../lab/colors';
import { MemoryViewToggle } from './ViewToggles';

/** Charted points at most: recharts slows down with thousands of stacked points. */
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

const PHASE_SHADES: Record<StepPhase, string> = { forward: '#eef3fb', backward: '#fdf1e6', optimizer: '#eef7f6' };

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
  const { method, memoryView: view } = snapshot;
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
      title={`Memory timeline of one ${METHOD_SHORT_NAMES[method]} step`}
      explanation={
        <>
          Bytes alive after each operation, stacked by group, like PyTorch’s memory timeline. The line marks the simultaneous peak: <strong>{formatBytes(memory.peak.total)}</strong> during{' '}
          {memory.peak.phase} at <code>{memory.peak.op}</code>.
        </>
      }
      controls={<MemoryViewToggle />}
    >
      <div className="chart-frame" role="img" aria-label={`Stacked area of memory by group over ${memory.timeline.length} operations`}>
        <ResponsiveContainer width="100%" height={280}>
          <AreaChart data={rows} margin={{ top: 20, right: 16, bottom: 4, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            {spans.map(({ phase, first, last }) => (
              <ReferenceArea key={phase} x1={first} x2={last} fill={PHASE_SHADES[phase]} fillOpacity={1} ifOverflow="visible" label={{ value: phase, position: 'insideTop', fill: '#5d6778', fontSize: 12 }} />
            ))}
            <XAxis dataKey="index" type="number" domain={[0, memory.timeline.length - 1]} allowDecimals={false} />
            <YAxis {...unitAxis(scale, ticks)} />
            <Tooltip
              formatter={(value, name) => [formatBytes(Number(value) * scale.divisor), String(name)]}
              labelFormatter={(index) => {
                const point = memory.timeline[Number(index)];
                return point ? `${point.phase}: ${point.op}` : '';
              }}
            />
            <Legend itemSorter={null} />
            {MEMORY_GROUPS.map((group) => (
              <Area key={group} dataKey={group} name={MEMORY_GROUP_NAMES[group]} stackId="bytes" type="stepAfter" stroke={MEMORY_GROUP_COLORS[group]} fill={MEMORY_GROUP_COLORS[group]} fillOpacity={0.85} isAnimationActive={false} />
            ))}
            <ReferenceLine x={memory.peak.index} stroke="#1d2330" strokeDasharray="4 3" label={{ value: 'peak', position: 'top', fontSize: 12 }} />
          </AreaChart>
        </ResponsiveContainer>
      </div>
    </ChartCard>
  );
});
