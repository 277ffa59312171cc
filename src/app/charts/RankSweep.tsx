// A rank sweep's runs against rank: accuracy, peak memory and FLOPs per step, one small chart each.
import { formatBytes, formatFlops, formatPercent } from '../format';
import { flopsPerStepOf, peakBytesOf } from '../../lab/results';
import { useLabStore } from '../store';
import { ChartCard } from './ChartCard';
import { DeferredPlot, RankPlot } from './DeferredPlot';
import type { RankRow } from './rechartsPlots';

function SmallChart({ rows, dataKey, title, format, color }: { rows: RankRow[]; dataKey: 'accuracy' | 'peak' | 'flops'; title: string; format: (v: number) => string; color: string }) {
  return (
    <figure className="curve">
      <figcaption>{title}</figcaption>
      <DeferredPlot height={170}>
        <RankPlot rows={rows} dataKey={dataKey} format={format} color={color} />
      </DeferredPlot>
    </figure>
  );
}

export function RankSweep() {
  const runs = useLabStore((s) => s.runs);
  const sweeps = runs.filter((run) => run.batch?.kind === 'sweep');
  if (sweeps.length === 0) return null;
  const lastBatch = sweeps[sweeps.length - 1].batch!;
  const rows: RankRow[] = sweeps
    .filter((run) => run.batch?.id === lastBatch.id)
    .map((run) => ({ rank: run.config.rank, accuracy: run.summary.finalAccuracy, peak: peakBytesOf(run.summary), flops: flopsPerStepOf(run.summary) }))
    .sort((a, b) => a.rank - b.rank);
  return (
    <ChartCard title={lastBatch.title} explanation="Accuracy after fine-tuning, peak training memory and FLOPs per step against the adapter rank (the study swept 5–30).">
      <div className="curve-triple" data-testid="rank-sweep" data-points={rows.length}>
        <SmallChart rows={rows} dataKey="accuracy" title="Accuracy" format={formatPercent} color="#e45756" />
        <SmallChart rows={rows} dataKey="peak" title="Peak memory" format={formatBytes} color="#54a24b" />
        <SmallChart rows={rows} dataKey="flops" title="FLOPs per step" format={formatFlops} color="#4c78a8" />
      </div>
    </ChartCard>
  );
}
