// The finished runs side by side: accuracy against peak memory, FLOPs per step as the point's
// size, one point per run (the link's saved run included), and the same numbers in a table.
import { CartesianGrid, Legend, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis, ZAxis } from 'recharts';
import { METHOD_IDS, type MethodId } from '../../core/ids';
import { formatBytes, formatFlops, formatPercent, MIB } from '../format';
import { METHOD_SHORT_NAMES } from '../../lab/names';
import { flopsPerStepOf, peakBytesOf } from '../../lab/results';
import type { FinishedRun } from '../runSlice';
import { useLabStore } from '../store';
import { ChartCard } from './ChartCard';
import { METHOD_COLORS } from '../../lab/colors';

interface Point {
  label: string;
  peakMiB: number;
  accuracy: number;
  flops: number;
}

const pointOf = (run: FinishedRun): Point => ({
  label: run.label,
  peakMiB: peakBytesOf(run.summary) / MIB,
  accuracy: run.summary.finalAccuracy,
  flops: flopsPerStepOf(run.summary),
});

function RunTable({ runs }: { runs: FinishedRun[] }) {
  return (
    <table className="runs-table" aria-label="Finished runs">
      <thead>
        <tr>
          <th scope="col">Run</th>
          <th scope="col">Accuracy</th>
          <th scope="col">Before</th>
          <th scope="col">Peak memory</th>
          <th scope="col">FLOPs / step</th>
          <th scope="col">Steps</th>
          <th scope="col">Time</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <tr key={run.id} data-testid={`run-row-${run.id}`}>
            <th scope="row">
              {run.label}
              {run.origin === 'link' && <span className="badge">from the link</span>}
            </th>
            <td data-testid="row-accuracy">{formatPercent(run.summary.finalAccuracy)}</td>
            <td>{formatPercent(run.summary.baselineAccuracy)}</td>
            <td>{formatBytes(peakBytesOf(run.summary))}</td>
            <td>{formatFlops(flopsPerStepOf(run.summary))}</td>
            <td>
              {run.summary.steps}
              {run.summary.stoppedEarly ? ' (early stop)' : ''}
            </td>
            <td>{run.summary.trainSeconds.toFixed(0)} s</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function RunComparison() {
  const runs = useLabStore((s) => s.runs);
  const clearRuns = useLabStore((s) => s.clearRuns);
  if (runs.length === 0) return null;
  const byMethod = new Map<MethodId, Point[]>();
  const fromLink = runs.filter((run) => run.origin === 'link').map(pointOf);
  for (const run of runs.filter((r) => r.origin === 'run')) byMethod.set(run.config.method, [...(byMethod.get(run.config.method) ?? []), pointOf(run)]);
  const flops = runs.map((run) => flopsPerStepOf(run.summary));
  return (
    <ChartCard
      title="Finished runs"
      explanation="Each point is a run: higher is more accurate, further left needs less peak training memory (analytic), a bigger point costs more FLOPs per step."
      controls={
        <button type="button" className="secondary" onClick={clearRuns}>
          Clear runs
        </button>
      }
    >
      <div data-testid="run-comparison" data-points={runs.length}>
        <ResponsiveContainer width="100%" height={260}>
          <ScatterChart margin={{ top: 8, right: 24, bottom: 24, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis type="number" dataKey="peakMiB" name="Peak memory" unit=" MiB" fontSize={12} tickFormatter={(v: number) => String(Number(v.toPrecision(3)))} label={{ value: 'peak memory (MiB)', position: 'insideBottom', offset: -12, fontSize: 12 }} />
            <YAxis type="number" dataKey="accuracy" name="Accuracy" domain={[0, 1]} tickFormatter={formatPercent} fontSize={12} width={52} />
            <ZAxis type="number" dataKey="flops" name="FLOPs/step" range={[60, 400]} domain={[Math.min(...flops), Math.max(...flops)]} />
            <Tooltip
              formatter={(value, name) => (name === 'Accuracy' ? formatPercent(Number(value)) : name === 'FLOPs/step' ? formatFlops(Number(value)) : `${Number(value).toFixed(2)} MiB`)}
            />
            {/* The methods in the study's order, as the other charts and the table list them. */}
            <Legend verticalAlign="top" height={24} itemSorter={null} />
            {METHOD_IDS.filter((method) => byMethod.has(method)).map((method) => (
              <Scatter key={method} name={METHOD_SHORT_NAMES[method]} data={byMethod.get(method)} fill={METHOD_COLORS[method]} isAnimationActive={false} />
            ))}
            {fromLink.length > 0 && <Scatter name="from the link" data={fromLink} fill="none" stroke="#1d2330" strokeWidth={2} shape="diamond" isAnimationActive={false} />}
          </ScatterChart>
        </ResponsiveContainer>
      </div>
      <RunTable runs={runs} />
    </ChartCard>
  );
}
