// The arithmetic of the lab's own small charts (the live curves on canvas, the memory bars in SVG):
// axes, ticks, value → pixel, the nearest point to a pointer, and the words a screen reader gets.
// No DOM here, so it is tested in Node.
import type { XY } from './downsample';

export interface Axis {
  /** [low, high] in data units; on a log axis both are powers of ten. */
  domain: [number, number];
  ticks: number[];
  log: boolean;
}

/** Ticks at a round step (1, 2, 2.5 or 5 × 10ⁿ) from the first multiple at or below `low` to the
 * first at or above `high`; `integers` keeps the step ≥ 1 (steps, ranks). */
export function linearAxis(low: number, high: number, { count = 5, integers = false, exact = false }: { count?: number; integers?: boolean; exact?: boolean } = {}): Axis {
  if (!(high > low)) high = low + (integers ? 1 : Math.abs(low) || 1);
  const rough = (high - low) / (count - 1);
  const power = 10 ** Math.floor(Math.log10(rough));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough) ?? 10 * power;
  if (integers) step = Math.max(1, Math.round(step));
  const first = Math.floor(low / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let tick = first; ticks.length === 0 || ticks[ticks.length - 1] < high - 1e-9 * step; tick += step) ticks.push(Number(tick.toPrecision(12)));
  // `exact`: the domain is [low, high] itself (the x axis ends at the run's last step), ticks inside it.
  if (exact) return { domain: [low, high], ticks: ticks.filter((t) => t >= low - 1e-9 * step && t <= high + 1e-9 * step), log: false };
  return { domain: [ticks[0], ticks[ticks.length - 1]], ticks, log: false };
}

/** A log axis over whole decades covering [low, high] (both > 0), about five ticks. */
export function logAxis(low: number, high: number): Axis {
  const first = Math.floor(Math.log10(low));
  const last = Math.max(Math.ceil(Math.log10(high)), first + 1);
  const stride = Math.ceil((last - first) / 5);
  const ticks: number[] = [];
  for (let exponent = first; ; exponent += stride) {
    ticks.push(10 ** exponent);
    if (exponent >= last) break;
  }
  return { domain: [ticks[0], ticks[ticks.length - 1]], ticks, log: true };
}

/** Position in [0, 1] of `value` along `axis` (outside the domain: below 0 or above 1; NaN where it cannot be drawn). */
export function fractionOf(axis: Axis, value: number): number {
  if (!Number.isFinite(value)) return Number.NaN;
  const [low, high] = axis.domain;
  if (axis.log) return value > 0 ? (Math.log10(value) - Math.log10(low)) / (Math.log10(high) - Math.log10(low)) : Number.NaN;
  return (value - low) / (high - low);
}

/** The plot area inside a chart, in CSS pixels. */
export interface PlotBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

export const xPixel = (box: PlotBox, axis: Axis, value: number) => box.left + fractionOf(axis, value) * box.width;
export const yPixel = (box: PlotBox, axis: Axis, value: number) => box.top + (1 - fractionOf(axis, value)) * box.height;

/** Points that can be drawn on `y` (finite; positive on a log axis), in order. */
export const drawable = (points: readonly XY[], y: Axis): XY[] => points.filter((p) => Number.isFinite(p.x) && Number.isFinite(fractionOf(y, p.y)));

/** The x of the data point nearest to `x` among all series (null if there is none). */
export function nearestX(seriesPoints: readonly (readonly XY[])[], x: number): number | null {
  let best: number | null = null;
  for (const points of seriesPoints) {
    for (const point of points) if (best === null || Math.abs(point.x - x) < Math.abs(best - x)) best = point.x;
  }
  return best;
}

/** The point of `points` at exactly `x`, if any (the latest one when several share it). */
export function pointAt(points: readonly XY[], x: number): XY | undefined {
  for (let i = points.length - 1; i >= 0; i--) if (points[i].x === x) return points[i];
  return undefined;
}

/** "train loss 0.532 at step 40" for a series' latest point, or "train loss: no points yet". */
export function latestInWords(name: string, points: readonly XY[], format: (value: number) => string, xName: string): string {
  const last = points[points.length - 1];
  return last ? `${name} ${format(last.y)} at ${xName} ${last.x}` : `${name}: no points yet`;
}
