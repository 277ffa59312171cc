// A rank sweep's runs against rank: accuracy, peak memory and FLOPs per step, one small chart each.
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatBytes, formatFlops, formatPercent } from '../format';
import { flopsPerStepOf, peakBytesOf } from '../../lab/results';
import { useLabStore } from '../store';
import { ChartCard } from './ChartCard';

interface Row {
  rank: number;
  accuracy: number;
  peak: number;
  flops: number;
}

function SmallChart({ rows, dataKey, title, format, color }: { rows: Row[]; dataKey: keyof Row; title: string; format: (v: number) => string; color: string }) {
  return (
    <figure className="curve">
      <figcaption>{title}</figcaption>
      <ResponsiveContainer width="100%" height={170}>
        <LineChart data={rows} margin={{ top: 8, right: 12, bottom: 16, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="rank" type="number" domain={['dataMin', 'dataMax']} ticks={rows.map((r) => r.rank)} fontSize={12} label={{ value: 'rank', position: 'insideBottom', offset: -8, fontSize: 12 }} />
          <YAxis tickFormatter={format} fontSize={11} width={64} domain={dataKey === 'accuracy' ? [0, 1] : ['auto', 'auto']} />
          <Tooltip formatter={(value) => format(Number(value))} labelFormatter={(label) => `rank ${label}`} />
          <Line dataKey={dataKey} stroke={color} dot={{ r: 3 }} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

export function RankSweep() {
  const runs = useLabStore((s) => s.runs);
  const sweeps = runs.filter((run) => run.batch?.kind === 'sweep');
  if (sweeps.length === 0) return null;
  const lastBatch = sweeps[sweeps.length - 1].batch!;
  const rows: Row[] = sweeps
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
