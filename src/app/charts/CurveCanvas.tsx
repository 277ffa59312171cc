// A small line chart drawn on a <canvas>, for curves that change while a run trains: one canvas
// redraw (a few ms) replaces an SVG chart's React render, layout and paint of hundreds of nodes.
// Redrawn after an animation frame, at most every MIN_REDRAW_MS however often the data changes;
// devicePixelRatio-sharp; a nearest-point readout under the pointer. Screen readers (and tests) get
// the latest values in the canvas's accessible name and a visually hidden table; after each drawing
// the canvas says how many points of each series it drew (data-drawn, JSON by series name).
import { useCallback, useEffect, useRef, useState, type MouseEvent } from 'react';
import type { XY } from './downsample';
import { drawable, fractionOf, latestInWords, nearestX, pointAt, xPixel, yPixel, type Axis, type PlotBox } from './plotGeometry';

/** At most this often (ms) a curve is redrawn: a few times a second is smooth enough for a live run. */
export const MIN_REDRAW_MS = 250;

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

export interface CurveCanvasProps {
  caption: string;
  series: readonly CurveSeries[];
  x: Axis;
  y: Axis;
  /** Tick labels of the y axis. */
  formatTick: (value: number) => string;
  /** Values in the readout, the accessible name and the table. */
  formatValue: (value: number) => string;
  /** What x counts ('step', 'eval'): the axis title and the readout's word. */
  xName: string;
  height: number;
  /** Draw the x axis' ticks and title (small multiples leave them out). */
  xAxis?: boolean;
  legend?: boolean;
  /** A horizontal reference line (the accuracy before fine-tuning). */
  level?: CurveMark;
  /** A vertical marker (the step where the loss stopped being finite), also written under the chart. */
  marker?: CurveMark;
  className?: string;
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
function drawCurves(ctx: CanvasRenderingContext2D, width: number, height: number, font: string, props: CurveCanvasProps): Record<string, number> {
  const { x, y, series, level, marker, formatTick, xAxis = true } = props;
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
  for (const tick of y.ticks) {
    const py = Math.round(yPixel(box, y, tick)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(box.left, py);
    ctx.lineTo(box.left + box.width, py);
    ctx.stroke();
    ctx.fillText(formatTick(tick), box.left - 6, py);
  }
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
  if (xAxis) ctx.fillText(props.xName, box.left + box.width / 2, box.top + box.height + 19);

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

/** Drawings waiting, in order. Each runs in a task of its own right after a frame (an animation
 * frame, then a timer): drawn inside the frame's task it would add to the page's own style and paint
 * work there; and one per frame, so two charts never share a task. */
const drawQueue: (() => void)[] = [];
let drawScheduled = false;

function drawAfterFrame(draw: () => void) {
  drawQueue.push(draw);
  if (drawScheduled) return;
  drawScheduled = true;
  const next = () => {
    drawQueue.shift()?.();
    if (drawQueue.length > 0) window.requestAnimationFrame(() => window.setTimeout(next, 0));
    else drawScheduled = false;
  };
  window.requestAnimationFrame(() => window.setTimeout(next, 0));
}

/** Runs `draw` after a frame, at most every MIN_REDRAW_MS however often it is asked for. */
function useThrottledFrame(draw: () => void): () => void {
  const drawRef = useRef(draw);
  drawRef.current = draw;
  const state = useRef({ last: Number.NEGATIVE_INFINITY, timer: 0, pending: false, mounted: true });
  useEffect(() => {
    const current = state.current;
    current.mounted = true;
    return () => {
      window.clearTimeout(current.timer);
      current.mounted = false;
      current.pending = false;
    };
  }, []);
  return useCallback(() => {
    const s = state.current;
    if (s.pending) return;
    s.pending = true;
    const frame = () =>
      drawAfterFrame(() => {
        if (!s.mounted) return;
        s.pending = false;
        s.last = performance.now();
        drawRef.current();
      });
    const wait = s.last + MIN_REDRAW_MS - performance.now();
    if (wait > 0) s.timer = window.setTimeout(frame, wait);
    else frame();
  }, []);
}

export function CurveCanvas(props: CurveCanvasProps) {
  const { caption, series, x, y, formatValue, xName, height, xAxis = true, legend = true, marker, level, className = 'curve' } = props;
  const canvasRef = useRef<HTMLCanvasElement | null>(null);
  const width = useRef(0);
  const [frame, setFrame] = useState<HTMLDivElement | null>(null);
  const [hover, setHover] = useState<{ x: number; left: number } | null>(null);

  const requestDraw = useThrottledFrame(() => {
    const canvas = canvasRef.current;
    // A CPU canvas (what Chromium gives a context that reads back often): a chart is a few hundred
    // lines, and a GPU canvas makes synchronous calls to the GPU process, which the training run
    // keeps busy (a first draw blocked 150 ms on SwiftShader).
    const ctx = canvas?.getContext('2d', { willReadFrequently: true });
    if (!canvas || !ctx || width.current <= 0) return;
    const ratio = window.devicePixelRatio || 1;
    const [pixelWidth, pixelHeight] = [Math.round(width.current * ratio), Math.round(height * ratio)];
    if (canvas.width !== pixelWidth || canvas.height !== pixelHeight) [canvas.width, canvas.height] = [pixelWidth, pixelHeight];
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    // The page's own font family (the canvas inherits it): already matched, so text costs no font lookup.
    const font = `12px ${getComputedStyle(canvas).fontFamily}`;
    canvas.dataset.drawn = JSON.stringify(drawCurves(ctx, width.current, height, font, props));
  });
  // Every render may bring new data: ask for a drawing (coalesced with the ones already asked for).
  useEffect(requestDraw);
  useEffect(() => {
    if (!frame) return;
    const observer = new ResizeObserver((entries) => {
      width.current = entries[entries.length - 1].contentRect.width;
      requestDraw();
    });
    observer.observe(frame);
    return () => observer.disconnect();
  }, [frame, requestDraw]);

  const onMove = (event: MouseEvent<HTMLDivElement>) => {
    if (!frame || x.log) return;
    const box = plotBoxOf(width.current, height, xAxis);
    const px = event.clientX - frame.getBoundingClientRect().left;
    const value = x.domain[0] + ((px - box.left) / box.width) * (x.domain[1] - x.domain[0]);
    const near = nearestX(series.map((s) => drawable(s.points, y)), value);
    setHover(near === null ? null : { x: near, left: xPixel(box, x, near) });
  };

  const summary = `${caption}: ${series.map((s) => latestInWords(s.name, s.points, formatValue, xName)).join('; ')}${level ? `; ${level.label}` : ''}${marker ? `; ${marker.label}` : ''}`;
  return (
    <figure className={className}>
      <figcaption>{caption}</figcaption>
      {legend && (
        <ul className="curve-legend" aria-hidden="true">
          {series.map((s) => (
            <li key={s.name}>
              <span className={`legend-line legend-${s.style}`} style={{ borderColor: s.color }} />
              {s.name}
            </li>
          ))}
        </ul>
      )}
      <div className="curve-frame" ref={setFrame} style={{ height }} onMouseMove={onMove} onMouseLeave={() => setHover(null)}>
        <canvas ref={canvasRef} role="img" aria-label={summary} style={{ width: '100%', height }} />
        {hover && (
          <>
            <div className="curve-guide" style={{ left: hover.left }} />
            {/* Right of the pointer, or left of it in the right half (it stays inside the chart). */}
            <div className="curve-readout" style={{ left: hover.left, transform: hover.left > width.current / 2 ? 'translateX(calc(-100% - 8px))' : undefined }} data-testid="curve-readout">
              <strong>
                {xName} {hover.x}
              </strong>
              {series.map((s) => {
                const point = pointAt(s.points, hover.x);
                return point ? <span key={s.name}>{`${s.name} ${formatValue(point.y)}`}</span> : null;
              })}
            </div>
          </>
        )}
      </div>
      {marker && (
        <p className="curve-note" style={{ color: marker.color }}>
          {marker.label}
        </p>
      )}
      <table className="visually-hidden">
        <caption>{caption}: the values drawn</caption>
        <thead>
          <tr>
            <th scope="col">Series</th>
            <th scope="col">Points</th>
            <th scope="col">Latest</th>
          </tr>
        </thead>
        <tbody>
          {series.map((s) => (
            <tr key={s.name} data-series={s.name} data-points={s.points.length}>
              <th scope="row">{s.name}</th>
              <td>{s.points.length}</td>
              <td>{latestInWords(s.name, s.points, formatValue, xName)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
