// The finished runs side by side: accuracy against peak memory, FLOPs per step as the point's
// size, one point per run (the link's saved run included), and the same numbers in a table.
import type { MethodId } from '../../core/ids';
import { formatBytes, formatFlops, formatPercent, MIB } from '../format';
import { flopsPerStepOf, peakBytesOf } from '../../lab/results';
import type { FinishedRun } from '../runSlice';
import { useLabStore } from '../store';
import { ChartCard } from './ChartCard';
import { DeferredPlot, RunScatterPlot } from './DeferredPlot';
import type { RunPoint } from './rechartsPlots';

const pointOf = (run: FinishedRun): RunPoint => ({
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
  const byMethod = new Map<MethodId, RunPoint[]>();
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
        <DeferredPlot height={260}>
          <RunScatterPlot byMethod={byMethod} fromLink={fromLink} flopsRange={[Math.min(...flops), Math.max(...flops)]} />
        </DeferredPlot>
      </div>
      <RunTable runs={runs} />
    </ChartCard>
  );
}
