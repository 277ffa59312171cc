// The findings tour: one card per finding of the study — its claims with the study's figures, the
// lab's own figures and verdicts beside them, one chart, "Try it" and the card's own link.
import { lazy, Suspense, useEffect, useRef } from 'react';
import { FINDINGS, findingFigures, STUDY_PROFILING_BASIS, tryItKey, type Finding, type FindingFigure } from '../../lab/findings';
import { encodeFindingsLink } from '../../lab/permalink';
import { ClaimLines } from '../components/ClaimLines';
import { formatBytes, formatFlops, formatPercent } from '../format';
import { FROZEN_WEIGHTS_NAMES, methodShortName, MODEL_NAMES } from '../../lab/names';
import { useLabStore } from '../store';

// The cards' charts come with the charting library, in a chunk of their own: the cards' text does not wait for it.
const findingCharts = import('./FindingCharts');
const FindingChartView = lazy(() => findingCharts.then((module) => ({ default: module.FindingChartView })));

const formatFigureValue = (figure: FindingFigure) => {
  switch (figure.unit) {
    case 'bytes':
      return formatBytes(figure.value);
    case 'flops':
      return formatFlops(figure.value);
    case 'share':
      return formatPercent(figure.value);
    case 'ratio':
      return `${figure.value.toFixed(2)}×`;
  }
};

function FindingCard({ finding, focused }: { finding: Finding; focused: boolean }) {
  const profiled = useLabStore((s) => s.findingsProfiles);
  const study = useLabStore((s) => s.study);
  const tryFinding = useLabStore((s) => s.tryFinding);
  const openFindings = useLabStore((s) => s.openFindings);
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    if (focused) ref.current?.scrollIntoView({ block: 'start' });
  }, [focused]);
  const figures = findingFigures(finding.id, profiled);
  const { model, method, frozenWeights } = finding.tryIt;
  const tried = profiled[tryItKey(finding)]?.byMethod[method];
  const headingId = `finding-${finding.id}-title`;
  return (
    <article ref={ref} className={`finding-card${focused ? ' focused' : ''}`} id={`finding-${finding.id}`} aria-labelledby={headingId} data-finding={finding.id}>
      <h2 id={headingId}>{finding.title}</h2>
      <p className="finding-why">{finding.why}</p>
      <div className="finding-body">
        <div className="finding-chart">
          <Suspense
            fallback={
              <p className="muted" aria-busy="true">
                Loading the chart…
              </p>
            }
          >
            <FindingChartView chart={finding.chart} profiled={profiled} study={study} />
          </Suspense>
        </div>
        <div className="finding-evidence">
          <ClaimLines claimIds={finding.claims} costOn={{ profiled: Object.values(profiled), basis: STUDY_PROFILING_BASIS }} />
          {figures.length > 0 && (
            <dl className="finding-figures" aria-label="The lab's figures">
              {figures.map((figure) => (
                <div key={figure.key}>
                  <dt>{figure.label}</dt>
                  <dd data-testid={`figure-${figure.key}`}>{formatFigureValue(figure)}</dd>
                </div>
              ))}
            </dl>
          )}
          <p className="muted small">Cost: {STUDY_PROFILING_BASIS}. Accuracy: the loaded study result.</p>
        </div>
      </div>
      <div className="finding-actions">
        <button type="button" onClick={() => tryFinding(finding.id)}>
          Try it
        </button>
        {tried && (
          <span className="muted">
            opens {methodShortName(method, model)} on {MODEL_NAMES[model]}
            {frozenWeights ? ` (${FROZEN_WEIGHTS_NAMES[frozenWeights].split(' ')[0]} base)` : ''}: peak <span data-testid="card-peak">{formatBytes(tried.memory.analytic.peak.total)}</span>, <span data-testid="card-flops">{formatFlops(tried.flops.correct.total)}</span> per step
          </span>
        )}
        <a href={encodeFindingsLink(finding.id)} onClick={() => openFindings(finding.id)} aria-label={`Link to this finding: ${finding.title}`}>
          Link to this finding
        </a>
      </div>
    </article>
  );
}

export default function FindingsView() {
  const requestFindingsProfiles = useLabStore((s) => s.requestFindingsProfiles);
  const findingsError = useLabStore((s) => s.findingsError);
  const focused = useLabStore((s) => s.focusedFinding);
  const openLab = useLabStore((s) => s.openLab);
  const validConfig = useLabStore((s) => s.validConfig);
  useEffect(() => requestFindingsProfiles(), [requestFindingsProfiles, validConfig]);
  return (
    <main className="findings" aria-label="Findings">
      <section className="findings-intro">
        <h2>What the study found, and what this lab measures</h2>
        <p>
          Slamanig, Corti and Saukh (2025) fine-tuned MobileNets and ResNet-18 with five methods on edge devices. Each card puts one of their findings beside the lab’s own
          number: costs from the lab’s profiler at the study’s setting, computed in your browser now; accuracy from the lab’s own study runs. <strong>Try it</strong> opens the lab
          on that configuration.
        </p>
        <button type="button" className="secondary" onClick={openLab}>
          Open the lab
        </button>
      </section>
      {findingsError && (
        <p role="alert" className="banner banner-error">
          The profiler failed: {findingsError}
        </p>
      )}
      {FINDINGS.map((finding) => (
        <FindingCard key={finding.id} finding={finding} focused={finding.id === focused} />
      ))}
    </main>
  );
}
