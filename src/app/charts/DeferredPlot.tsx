// Plots drawn with recharts load with their chunk (rechartsPlots.tsx and vendor-charts) only once
// they come near the viewport: below the fold until the reader scrolls, so the first screen neither
// fetches nor runs the charting library. Until then an honest placeholder of the plot's height
// holds its place (no layout jump); the card around it, with its readout table, is already there.
import { lazy, Suspense, useEffect, useState, type ReactNode } from 'react';

let plots: Promise<typeof import('./rechartsPlots')> | null = null;
const loadPlots = () => (plots ??= import('./rechartsPlots'));

export const FlopsPlot = lazy(() => loadPlots().then((m) => ({ default: m.FlopsPlot })));
export const MemoryTimelinePlot = lazy(() => loadPlots().then((m) => ({ default: m.MemoryTimelinePlot })));
export const RunScatterPlot = lazy(() => loadPlots().then((m) => ({ default: m.RunScatterPlot })));
export const RankPlot = lazy(() => loadPlots().then((m) => ({ default: m.RankPlot })));
export const SavingsPlot = lazy(() => loadPlots().then((m) => ({ default: m.SavingsPlot })));

/** How far outside the viewport a plot starts loading: a little ahead of the scroll, not so far
 * that the first screen (1366×768 shows the memory bars) reaches the timeline below them. */
const NEAR_VIEWPORT = '200px 0px';

function Placeholder({ height, text }: { height: number; text: string }) {
  return (
    <div className="plot-placeholder" style={{ height }} aria-busy="true">
      {text}
    </div>
  );
}

/** Renders `children` (a lazy plot) once this place is near the viewport, and keeps it from then on. */
export function DeferredPlot({ height, children }: { height: number; children: ReactNode }) {
  const [element, setElement] = useState<HTMLDivElement | null>(null);
  const [near, setNear] = useState(typeof IntersectionObserver === 'undefined');
  useEffect(() => {
    if (near || !element) return;
    const observer = new IntersectionObserver((entries) => entries.some((entry) => entry.isIntersecting) && setNear(true), { rootMargin: NEAR_VIEWPORT });
    observer.observe(element);
    return () => observer.disconnect();
  }, [element, near]);
  return (
    <div ref={setElement} className="deferred-plot">
      {near ? <Suspense fallback={<Placeholder height={height} text="Loading the chart…" />}>{children}</Suspense> : <Placeholder height={height} text="The chart is drawn when it scrolls into view." />}
    </div>
  );
}
