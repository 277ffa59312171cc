// A curve chart's drawing, a pure function of a serialisable scene: the curve worker
// (curves.worker.ts) runs it on an OffscreenCanvas, off the page's main thread; the page runs it
// itself only where it cannot hand a canvas to a worker.
import type { XY } from './downsample';
import { drawable, fractionOf, xPixel, yPixel, type Axis, type PlotBox } from './plotGeometry';

export interface CurveSeries {
  name: string;
  color: string;
  points: readonly XY[];
  /** 'line': a solid line (dots while it has few points); 'dashed': dots joined by a dashed line. */
  style: 'line' | 'dashed';
}

export interface CurveMark {
  /** Where, in data units (x for a vertical line, y for a horizontal one). */
  at: number;
  color: string;
  label: string;
}

/** Everything a drawing needs, as plain data (it is posted to the curve worker). */
export interface CurveScene {
  /** CSS pixels. */
  width: number;
  height: number;
  font: string;
  series: readonly CurveSeries[];
  x: Axis;
  y: Axis;
  /** The y ticks' labels, in the order of y.ticks. */
  yTickLabels: readonly string[];
  xName: string;
  /** Draw the x axis' ticks and title. */
  xAxis: boolean;
  level?: CurveMark;
  marker?: CurveMark;
}

/** Below this many points a line also shows its points as dots. */
const DOTS_UP_TO = 40;
const INK = '#5d6778';
const GRID = '#e3e7ee';

/** The plot area inside a chart of this size: room on the left for y ticks, below for x ticks and title. */
export function plotBoxOf(width: number, height: number, xAxis: boolean): PlotBox {
  const left = 50;
  const top = 8;
  const bottom = xAxis ? 34 : 8;
  return { left, top, width: Math.max(1, width - left - 12), height: Math.max(1, height - top - bottom) };
}

/** Draws the chart into `ctx` (CSS pixels); returns how many points of each series it drew. */
export function drawCurves(ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D, scene: CurveScene): Record<string, number> {
  const { width, height, font, x, y, yTickLabels, series, level, marker, xAxis } = scene;
  const box = plotBoxOf(width, height, xAxis);
  ctx.clearRect(0, 0, width, height);
  ctx.font = font;
  ctx.lineWidth = 1;
  // Grid and ticks.
  ctx.strokeStyle = GRID;
  ctx.setLineDash([3, 3]);
  ctx.fillStyle = INK;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  y.ticks.forEach((tick, i) => {
    const py = Math.round(yPixel(box, y, tick)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(box.left, py);
    ctx.lineTo(box.left + box.width, py);
    ctx.stroke();
    ctx.fillText(yTickLabels[i], box.left - 6, py);
  });
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const tick of x.ticks) {
    const px = Math.round(xPixel(box, x, tick)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(px, box.top);
    ctx.lineTo(px, box.top + box.height);
    ctx.stroke();
    if (xAxis) ctx.fillText(String(tick), px, box.top + box.height + 4);
  }
  ctx.setLineDash([]);
  ctx.strokeStyle = INK;
  ctx.beginPath();
  ctx.moveTo(box.left + 0.5, box.top);
  ctx.lineTo(box.left + 0.5, box.top + box.height + 0.5);
  ctx.lineTo(box.left + box.width, box.top + box.height + 0.5);
  ctx.stroke();
  if (xAxis) ctx.fillText(scene.xName, box.left + box.width / 2, box.top + box.height + 19);

  // Reference lines under the data.
  ctx.save();
  ctx.beginPath();
  // Room for a dot's radius around the plot area (points at the first step or at 100%).
  ctx.rect(box.left - 4, box.top - 4, box.width + 8, box.height + 8);
  ctx.clip();
  if (level && Number.isFinite(fractionOf(y, level.at))) {
    const py = yPixel(box, y, level.at);
    ctx.strokeStyle = level.color;
    ctx.setLineDash([6, 4]);
    ctx.beginPath();
    ctx.moveTo(box.left, py);
    ctx.lineTo(box.left + box.width, py);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = level.color;
    ctx.textAlign = 'right';
    ctx.textBaseline = fractionOf(y, level.at) > 0.85 ? 'top' : 'bottom';
    ctx.fillText(level.label, box.left + box.width - 4, py + (ctx.textBaseline === 'top' ? 3 : -3));
  }
  if (marker) {
    const px = xPixel(box, x, marker.at);
    ctx.strokeStyle = marker.color;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(px, box.top);
    ctx.lineTo(px, box.top + box.height);
    ctx.stroke();
    ctx.setLineDash([]);
  }

  // The series.
  const drawn: Record<string, number> = {};
  for (const s of series) {
    const points = drawable(s.points, y);
    drawn[s.name] = points.length;
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = s.style === 'line' ? 1.75 : 1.25;
    ctx.setLineDash(s.style === 'dashed' ? [5, 4] : []);
    ctx.lineJoin = 'round';
    ctx.beginPath();
    points.forEach((p, i) => (i === 0 ? ctx.moveTo(xPixel(box, x, p.x), yPixel(box, y, p.y)) : ctx.lineTo(xPixel(box, x, p.x), yPixel(box, y, p.y))));
    ctx.stroke();
    ctx.setLineDash([]);
    if (s.style === 'dashed' || points.length <= DOTS_UP_TO) {
      const radius = s.style === 'dashed' ? 3 : 2;
      for (const p of points) {
        ctx.beginPath();
        ctx.arc(xPixel(box, x, p.x), yPixel(box, y, p.y), radius, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
  }
  ctx.restore();
  return drawn;
}

/** Sizes `canvas` for `scene` at `ratio` device pixels per CSS pixel and draws it; returns how many
 * points of each series it drew (null without a 2D context). A CPU canvas: a chart is a few hundred
 * lines, and a GPU canvas makes synchronous calls to the GPU process, which a training run keeps
 * busy (a first draw once blocked 150 ms on SwiftShader). */
export function drawScene(canvas: HTMLCanvasElement | OffscreenCanvas, scene: CurveScene, ratio: number): Record<string, number> | null {
  const [pixelWidth, pixelHeight] = [Math.round(scene.width * ratio), Math.round(scene.height * ratio)];
  if (canvas.width !== pixelWidth || canvas.height !== pixelHeight) [canvas.width, canvas.height] = [pixelWidth, pixelHeight];
  const ctx = (canvas as OffscreenCanvas).getContext('2d', { willReadFrequently: true });
  if (!ctx) return null;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return drawCurves(ctx, scene);
}
