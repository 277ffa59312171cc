import { formatBytes, formatChange, formatCount, formatFlops, formatPercent } from '../format';
import { methodName, methodShortName } from '../../lab/names';
import { isOneOf, METHOD_IDS } from '../../core/ids';
import { hasErrors } from '../../lab/config';
import type { ChartSnapshot } from '../charts/chartSnapshot';
import { useLabStore } from '../store';

function Figure({ label, value, detail, testId }: { label: string; value: string; detail?: string; testId: string }) {
  return (
    <div className="figure">
      <div className="figure-label">{label}</div>
      <div className="figure-value" data-testid={testId}>
        {value}
      </div>
      {detail && <div className="figure-detail">{detail}</div>}
    </div>
  );
}

/** The configured method's cost in four numbers, each against full fine-tuning; and what the charts
 * cannot show (a profile still on its way, a method that cannot run this configuration). */
export function CostSummary({ snapshot }: { snapshot: ChartSnapshot }) {
  const { method, model, profiles, memoryView: view, flopConvention: convention } = snapshot;
  const profileError = useLabStore((s) => s.profileError);
  const formHasErrors = useLabStore((s) => hasErrors(s.issues));

  if (profileError) return <div role="alert" className="banner banner-error">The profiler failed: {profileError}</div>;
  if (!profiles) return <p className="muted" aria-live="polite">Profiling every method…</p>;
  const profile = profiles.byMethod[method];
  const fft = profiles.byMethod.fft;
  const failures = Object.entries(profiles.failures);
  const flopsOf = (p: NonNullable<typeof profile>) => (convention === 'correct' ? p.flops.correct : p.flops.torchConvention);
  return (
    <section className="cost-summary" aria-label="Cost of the configured method">
      {formHasErrors && <p className="banner banner-warning">The charts show the last valid configuration: fix the highlighted fields to update them.</p>}
      {failures.map(([failed, why]) => (
        <p key={failed} className="banner banner-warning">
          {isOneOf(METHOD_IDS, failed) ? methodShortName(failed, model) : failed} cannot run this configuration: {why}
        </p>
      ))}
      {profile && (
        <>
          <h2 className="summary-title">{methodName(method, model)}: one training step</h2>
          <div className="figures">
            <Figure
              label="Peak memory (simultaneous)"
              value={formatBytes(profile.memory[view].peak.total)}
              detail={fft && method !== 'fft' ? `${formatChange(profile.memory[view].peak.total, fft.memory[view].peak.total)} vs full fine-tuning` : undefined}
              testId="current-peak"
            />
            <Figure label="Sum of group maxima (study’s convention)" value={formatBytes(profile.memory[view].sumOfGroupMaxima)} testId="current-sum-of-maxima" />
            <Figure
              label="FLOPs per step"
              value={formatFlops(flopsOf(profile).total)}
              detail={fft && method !== 'fft' ? `${formatChange(flopsOf(profile).total, flopsOf(fft).total)} vs full fine-tuning` : undefined}
              testId="current-flops"
            />
            <Figure
              label="Trainable parameters"
              value={formatCount(profile.params.trainable)}
              detail={`${formatPercent(profile.params.trainable / profile.params.total)} of ${formatCount(profile.params.total)}`}
              testId="current-trainable"
            />
          </div>
        </>
      )}
    </section>
  );
}
