// The live run's curves: training loss per step with eval loss per epoch, and eval accuracy per
// epoch with the accuracy before fine-tuning as a baseline line. Animation off; each series
// downsampled to a bounded number of points; redrawn only when its data changed and it is on
// screen (the worker sends progress a few times a second at most).
import { memo, useState } from 'react';
import type { EvalPoint, LossPoint } from '../../lab/protocol';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { decadeTicks, formatLossTick, formatPercent } from '../format';
import { useLabStore } from '../store';
import { ChartCard } from './ChartCard';
import { downsampleMinMax } from './downsample';
import { useOnScreen } from './useOnScreen';

/** Points per series at most: enough for a smooth curve, few enough to redraw every message. */
export const MAX_CURVE_POINTS = 300;

const TRAIN_COLOR = '#4c78a8';
const EVAL_COLOR = '#e45756';
const BASELINE_COLOR = '#7f7f7f';
const DIVERGED_COLOR = '#b3261e';

/** Losses spanning more than this ratio are drawn on a log axis (a diverging run's early steps stay visible). */
const LOG_SCALE_RATIO = 1e3;

interface Row {
  x: number;
  train?: number;
  eval?: number;
}

function mergeByStep(train: { x: number; y: number }[], evals: { x: number; y: number }[]): Row[] {
  const rows = new Map<number, Row>();
  for (const point of train) rows.set(point.x, { x: point.x, train: point.y });
  for (const point of evals) rows.set(point.x, { ...(rows.get(point.x) ?? { x: point.x }), eval: point.y });
  return [...rows.values()].sort((a, b) => a.x - b.x);
}

interface CurvesProps {
  trainLoss: LossPoint[];
  evals: EvalPoint[];
  baseline: EvalPoint | null;
  totalSteps: number;
  onScreen: boolean;
}

/** Off screen, the curves keep their last drawing until they are scrolled back into view. */
const skipRedraw = (previous: CurvesProps, next: CurvesProps) =>
  !next.onScreen || (previous.onScreen && previous.trainLoss === next.trainLoss && previous.evals === next.evals && previous.baseline === next.baseline && previous.totalSteps === next.totalSteps);

export function TrainingCurves() {
  const run = useLabStore((s) => s.run);
  const [element, setElement] = useState<HTMLDivElement | null>(null);
  const onScreen = useOnScreen(element);
  if (!run || (run.trainLoss.length === 0 && !run.baseline)) return null;
  return (
    <ChartCard
      title="Loss and accuracy"
      explanation="Training loss after every step (blue) and eval loss after every epoch (red); eval accuracy after every epoch against the accuracy before fine-tuning (grey line)."
    >
      <div ref={setElement}>
        <Curves trainLoss={run.trainLoss} evals={run.evals} baseline={run.baseline} totalSteps={run.totalSteps} onScreen={onScreen} />
      </div>
    </ChartCard>
  );
}

const Curves = memo(function Curves(run: CurvesProps) {
  const trainLoss = downsampleMinMax(run.trainLoss.map((p) => ({ x: p.step, y: p.loss })), MAX_CURVE_POINTS);
  const evalLoss = run.evals.map((p) => ({ x: p.step, y: p.loss }));
  const lossRows = mergeByStep(trainLoss, run.baseline ? [{ x: 0, y: run.baseline.loss }, ...evalLoss] : evalLoss);
  const accuracyRows = [...(run.baseline ? [run.baseline] : []), ...run.evals].map((p) => ({ x: p.step, accuracy: p.accuracy }));
  const xMax = Math.max(run.totalSteps, 1);
  // A NaN/∞ loss stops the run (the worker says so); it has no point on the curve, so a line marks its step.
  const diverged = run.trainLoss.find((p) => !Number.isFinite(p.loss));
  const finiteLosses = lossRows.flatMap((row) => [row.train, row.eval]).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const [lowest, highest] = [Math.min(...finiteLosses), Math.max(...finiteLosses)];
  const logAxis = finiteLosses.length > 1 && lowest > 0 && highest / lowest > LOG_SCALE_RATIO ? decadeTicks(lowest, highest) : null;
  const logScale = logAxis !== null;
  return (
    <div className="curve-pair" data-testid="training-curves" data-loss-points={trainLoss.length} data-eval-points={run.evals.length} data-loss-scale={logScale ? 'log' : 'linear'}>
      <figure className="curve">
        <figcaption>Loss{logScale ? ' (log scale)' : ''}</figcaption>
        <ResponsiveContainer width="100%" height={220}>
          <LineChart data={lossRows} margin={{ top: 8, right: 16, bottom: 16, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="x" type="number" domain={[0, xMax]} allowDecimals={false} label={{ value: 'step', position: 'insideBottom', offset: -8, fontSize: 12 }} fontSize={12} />
            <YAxis fontSize={12} width={44} tickFormatter={formatLossTick} {...(logAxis ? { scale: 'log' as const, ...logAxis, allowDataOverflow: true } : {})} />
            <Tooltip formatter={(value) => (Math.abs(Number(value)) >= 1e4 ? Number(value).toExponential(2) : Number(value).toFixed(3))} labelFormatter={(label) => `step ${label}`} />
            <Legend verticalAlign="top" height={24} />
            <Line name="train loss" dataKey="train" stroke={TRAIN_COLOR} dot={trainLoss.length <= 40 ? { r: 2 } : false} isAnimationActive={false} connectNulls />
            <Line name="eval loss" dataKey="eval" stroke={EVAL_COLOR} dot={{ r: 3 }} isAnimationActive={false} connectNulls />
            {diverged && (
              <ReferenceLine
                x={diverged.step}
                stroke={DIVERGED_COLOR}
                strokeDasharray="4 3"
                label={{ value: `loss ${Number.isNaN(diverged.loss) ? 'NaN' : diverged.loss > 0 ? '∞' : '−∞'} at step ${diverged.step}`, position: 'insideTopLeft', fontSize: 11, fill: DIVERGED_COLOR }}
              />
            )}
          </LineChart>
        </ResponsiveContainer>
      </figure>
      <figure className="curve">
        <figcaption>Eval accuracy</figcaption>
        <ResponsiveContainer width="100%" height={220}>
          <LineChart data={accuracyRows} margin={{ top: 8, right: 16, bottom: 16, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="x" type="number" domain={[0, xMax]} allowDecimals={false} label={{ value: 'step', position: 'insideBottom', offset: -8, fontSize: 12 }} fontSize={12} />
            <YAxis domain={[0, 1]} tickFormatter={formatPercent} fontSize={12} width={52} />
            <Tooltip formatter={(value) => formatPercent(Number(value))} labelFormatter={(label) => `step ${label}`} />
            <Legend verticalAlign="top" height={24} />
            {run.baseline && (
              <ReferenceLine
                y={run.baseline.accuracy}
                stroke={BASELINE_COLOR}
                strokeDasharray="6 4"
                label={{ value: `before fine-tuning ${formatPercent(run.baseline.accuracy)}`, position: 'insideBottomRight', fontSize: 11, fill: '#555' }}
              />
            )}
            <Line name="eval accuracy" dataKey="accuracy" stroke={EVAL_COLOR} dot={{ r: 3 }} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </figure>
    </div>
  );
}, skipRedraw);
