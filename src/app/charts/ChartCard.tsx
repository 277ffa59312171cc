import type { ReactNode } from 'react';

/** A titled panel of the main area: heading, one line saying how to read it, the chart, notes. */
export function ChartCard({ title, explanation, controls, children }: { title: string; explanation: ReactNode; controls?: ReactNode; children: ReactNode }) {
  const headingId = `chart-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <section className="chart-card" aria-labelledby={headingId}>
      <div className="chart-card-head">
        <h2 id={headingId}>{title}</h2>
        {controls && <div className="chart-controls">{controls}</div>}
      </div>
      <p className="chart-explanation">{explanation}</p>
      {children}
    </section>
  );
}
