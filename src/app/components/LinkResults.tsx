import { MEMORY_GROUPS } from '../../core/ids';
import { MEMORY_GROUP_COLORS } from '../../lab/colors';
import { formatBytes, formatFlops, formatPercent } from '../format';
import { MEMORY_GROUP_NAMES } from '../../lab/names';
import { flopsPerStepOf, peakBytesOf } from '../../lab/results';
import { useLabStore } from '../store';
import { CurveCanvas } from '../charts/CurveCanvas';
import { linearAxis } from '../charts/plotGeometry';

/** A saved curve (thinned when the link was made, so its x is the point's index, not a step). */
function Curve({ title, values, format, color, fraction }: { title: string; values: number[]; format: (value: number) => string; color: string; fraction?: boolean }) {
  const points = values.map((y, x) => ({ x, y }));
  const finite = values.filter((v) => Number.isFinite(v));
  return (
    <CurveCanvas
      className="mini-curve"
      caption={title}
      series={[{ name: title.toLowerCase(), color, points, style: 'line' }]}
      x={linearAxis(0, Math.max(values.length - 1, 1), { integers: true, exact: true })}
      y={fraction ? linearAxis(0, 1) : linearAxis(Math.min(0, ...finite), Math.max(...finite))}
      formatTick={format}
      formatValue={format}
      xName="point"
      height={120}
      xAxis={false}
      legend={false}
    />
  );
}

/** The results saved in an opened link, shown at once and marked as coming from the link. */
export function LinkResults() {
  const results = useLabStore((s) => s.linkResults);
  const rerunLink = useLabStore((s) => s.rerunLink);
  const busy = useLabStore((s) => s.run !== null && (s.run.status === 'starting' || s.run.status === 'running' || s.run.status === 'paused'));
  if (!results) return null;
  const peak = peakBytesOf(results);
  return (
    <section className="chart-card link-results" aria-labelledby="link-results-title">
      <div className="chart-card-head">
        <h2 id="link-results-title">
          Results from the link <span className="badge">from the link</span>
        </h2>
        <button type="button" onClick={rerunLink} disabled={busy}>
          Re-run and compare
        </button>
      </div>
      <p className="chart-explanation">
        A run saved in this link by lab {results.labVersion} on {results.backend} ({results.adapter}). Changing the configuration hides it.
      </p>
      <dl className="result-figures">
        <div>
          <dt>Accuracy after fine-tuning</dt>
          <dd data-testid="link-final-accuracy">{formatPercent(results.finalAccuracy)}</dd>
        </div>
        <div>
          <dt>Before fine-tuning</dt>
          <dd>{formatPercent(results.baselineAccuracy)}</dd>
        </div>
        <div>
          <dt>Final loss</dt>
          <dd>{results.finalLoss.toFixed(3)}</dd>
        </div>
        <div>
          <dt>Epochs · steps</dt>
          <dd>
            {results.epochsRun} · {results.steps}
            {results.stoppedEarly ? ' (stopped early)' : ''}
          </dd>
        </div>
        <div>
          <dt>Training time</dt>
          <dd>{results.trainSeconds.toFixed(0)} s</dd>
        </div>
        <div>
          <dt>Peak memory</dt>
          <dd data-testid="link-peak">{formatBytes(peak)}</dd>
        </div>
        <div>
          <dt>Sum of group maxima</dt>
          <dd>{formatBytes(results.sumOfGroupMaximaBytes)}</dd>
        </div>
        <div>
          <dt>FLOPs per step</dt>
          <dd>{formatFlops(flopsPerStepOf(results))}</dd>
        </div>
      </dl>
      <p className="peak-breakdown">
        {MEMORY_GROUPS.map((group) => (
          <span key={group}>
            <span className="swatch" style={{ background: MEMORY_GROUP_COLORS[group] }} /> {MEMORY_GROUP_NAMES[group]} {formatBytes(results.peakBytesByGroup[group])}
          </span>
        ))}
      </p>
      <div className="mini-curves">
        {results.trainLoss.length > 1 && <Curve title="Training loss" values={results.trainLoss} format={(value) => value.toFixed(2)} color="#4c78a8" />}
        {results.evalAccuracy.length > 1 && <Curve title="Eval accuracy per epoch" values={results.evalAccuracy} format={formatPercent} color="#54a24b" fraction />}
      </div>
    </section>
  );
}
