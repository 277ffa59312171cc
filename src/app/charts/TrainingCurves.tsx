// The live run's curves: training loss per step with eval loss per epoch, and eval accuracy per
// epoch with the accuracy before fine-tuning as a baseline line. Drawn on canvas (CurveCanvas): a
// progress message costs a cheap React render and, a few times a second at most, one redraw. Each
// series is downsampled to a bounded number of points.
import { memo } from 'react';
import type { EvalPoint, LossPoint } from '../../lab/protocol';
import type { MethodId } from '../../core/ids';
import { METHOD_COLORS } from '../../lab/colors';
import { formatLossTick, formatPercent } from '../format';
import { useLabStore } from '../store';
import { ChartCard } from './ChartCard';
import { CurveCanvas } from './CurveCanvas';
import type { CurveSeries } from './drawCurves';
import { downsampleMinMax } from './downsample';
import { linearAxis, logAxis } from './plotGeometry';

/** Points per series at most: enough for a smooth curve, few enough to redraw every message. */
export const MAX_CURVE_POINTS = 300;

const BASELINE_COLOR = '#7f7f7f';
const DIVERGED_COLOR = '#b3261e';
const CURVE_HEIGHT = 220;

/** Losses spanning more than this ratio are drawn on a log axis (a diverging run's early steps stay visible). */
const LOG_SCALE_RATIO = 1e3;

const formatLoss = (value: number) => (Math.abs(value) >= 1e4 ? value.toExponential(2) : value.toFixed(3));

export function TrainingCurves() {
  // Only what the curves draw: the other fields of the run change with every message too.
  const trainLoss = useLabStore((s) => s.run?.trainLoss);
  const evals = useLabStore((s) => s.run?.evals);
  const baseline = useLabStore((s) => s.run?.baseline ?? null);
  const totalSteps = useLabStore((s) => s.run?.totalSteps ?? 0);
  const method = useLabStore((s) => s.run?.config.method);
  if (!trainLoss || !evals || !method || (trainLoss.length === 0 && !baseline)) return null;
  return (
    <ChartCard
      title="Loss and accuracy"
      explanation="Training loss after every step (solid line) and eval loss after every epoch (dashed, with dots); eval accuracy after every epoch against the accuracy before fine-tuning (grey line). Point at a curve to read its values."
    >
      <Curves trainLoss={trainLoss} evals={evals} baseline={baseline} totalSteps={totalSteps} method={method} />
    </ChartCard>
  );
}

interface CurvesProps {
  trainLoss: LossPoint[];
  evals: EvalPoint[];
  baseline: EvalPoint | null;
  totalSteps: number;
  method: MethodId;
}

const Curves = memo(function Curves({ trainLoss: losses, evals, baseline, totalSteps, method }: CurvesProps) {
  const color = METHOD_COLORS[method];
  const trainLoss = downsampleMinMax(losses.map((p) => ({ x: p.step, y: p.loss })), MAX_CURVE_POINTS);
  const evalLoss = [...(baseline ? [baseline] : []), ...evals].map((p) => ({ x: p.step, y: p.loss }));
  const accuracy = [...(baseline ? [baseline] : []), ...evals].map((p) => ({ x: p.step, y: p.accuracy }));
  const x = linearAxis(0, Math.max(totalSteps, 1), { integers: true, exact: true });
  // A NaN/∞ loss stops the run (the worker says so); it has no point on the curve, so a line marks its step.
  const diverged = losses.find((p) => !Number.isFinite(p.loss));
  const finite = [...trainLoss, ...evalLoss].map((p) => p.y).filter((v) => Number.isFinite(v));
  const [lowest, highest] = finite.length > 0 ? [Math.min(...finite), Math.max(...finite)] : [0, 1];
  const logScale = finite.length > 1 && lowest > 0 && highest / lowest > LOG_SCALE_RATIO;
  const lossAxis = logScale ? logAxis(lowest, highest) : linearAxis(Math.min(0, lowest), highest);
  const lossSeries: CurveSeries[] = [
    { name: 'train loss', color, points: trainLoss, style: 'line' },
    { name: 'eval loss', color, points: evalLoss, style: 'dashed' },
  ];
  return (
    <div className="curve-pair" data-testid="training-curves" data-loss-points={trainLoss.length} data-eval-points={evals.length} data-loss-scale={logScale ? 'log' : 'linear'}>
      <CurveCanvas
        caption={`Loss${logScale ? ' (log scale)' : ''}`}
        series={lossSeries}
        x={x}
        y={lossAxis}
        formatTick={formatLossTick}
        formatValue={formatLoss}
        xName="step"
        height={CURVE_HEIGHT}
        marker={diverged && { at: diverged.step, color: DIVERGED_COLOR, label: `loss ${Number.isNaN(diverged.loss) ? 'NaN' : diverged.loss > 0 ? '∞' : '−∞'} at step ${diverged.step}` }}
      />
      <CurveCanvas
        caption="Eval accuracy"
        series={[{ name: 'eval accuracy', color, points: accuracy, style: 'dashed' }]}
        x={x}
        y={linearAxis(0, 1, { count: 5 })}
        formatTick={formatPercent}
        formatValue={formatPercent}
        xName="step"
        height={CURVE_HEIGHT}
        level={baseline ? { at: baseline.accuracy, color: BASELINE_COLOR, label: `before fine-tuning ${formatPercent(baseline.accuracy)}` } : undefined}
      />
    </div>
  );
});
