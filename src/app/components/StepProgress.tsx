// The progress bar and statistics of a job that runs in steps (a fine-tune, a pretraining run).
import type { ReactNode } from 'react';

/** A labelled progress bar at step / total (0% until the total is known). */
export function StepProgressBar({ label, step, total }: { label: string; step: number; total: number }) {
  const percent = total > 0 ? Math.round((100 * step) / total) : 0;
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
      aria-valuetext={`${percent}%: step ${step} of ${total}`}
      className="progress-track"
    >
      {/* Scaled, not resized: the compositor animates a transform without repainting the page. */}
      <div className="progress-fill" style={{ transform: `scaleX(${percent / 100})` }} />
    </div>
  );
}

/** One named figure of a run's statistics (inside a `<dl className="run-stats">`). */
export function Stat({ term, testId, children }: { term: string; testId: string; children: ReactNode }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd data-testid={testId}>{children}</dd>
    </div>
  );
}

/** Examples per second, or a dash before the first measurement. */
export const formatSpeed = (examplesPerSecond: number) => (examplesPerSecond > 0 ? examplesPerSecond.toFixed(1) : '—');
