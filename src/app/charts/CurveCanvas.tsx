// A small line chart drawn on a <canvas>, for curves that change while a run trains: one canvas
// redraw replaces an SVG chart's React render, layout and paint of hundreds of nodes, and the curve
// worker does the drawing on a canvas handed to it (curveDrawer.ts), so the page's main thread only
// posts the data.
// Redrawn at most every MIN_REDRAW_MS however often the data changes; devicePixelRatio-sharp; a
// nearest-point readout under the pointer. Screen readers (and tests) get the latest values in the
// canvas's accessible name and a visually hidden table; after each drawing the canvas says how many
// points of each series it drew (data-drawn, JSON by series name).
import { useCallback, useEffect, useRef, useState, type MouseEvent } from 'react';
import { curveFont, returnCurveCanvas, takeCurveCanvas, type CurveCanvasHandle } from './curveDrawer';
import { plotBoxOf, type CurveMark, type CurveScene, type CurveSeries } from './drawCurves';
import { drawable, latestInWords, nearestX, pointAt, xPixel, type Axis } from './plotGeometry';

/** At most this often (ms) a curve is redrawn: a few times a second is smooth enough for a live run. */
export const MIN_REDRAW_MS = 250;

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

/** Runs `draw` at most every MIN_REDRAW_MS however often it is asked for (the latest `draw`). */
function useThrottled(draw: () => void): () => void {
  const drawRef = useRef(draw);
  drawRef.current = draw;
  const state = useRef({ last: Number.NEGATIVE_INFINITY, timer: 0, pending: false });
  useEffect(() => {
    const current = state.current;
    return () => {
      window.clearTimeout(current.timer);
      current.pending = false;
    };
  }, []);
  return useCallback(() => {
    const s = state.current;
    if (s.pending) return;
    const run = () => {
      s.pending = false;
      s.last = performance.now();
      drawRef.current();
    };
    const wait = s.last + MIN_REDRAW_MS - performance.now();
    if (wait <= 0) return run();
    s.pending = true;
    s.timer = window.setTimeout(run, wait);
  }, []);
}

export function CurveCanvas(props: CurveCanvasProps) {
  const { caption, series, x, y, formatValue, xName, height, xAxis = true, legend = true, marker, level, className = 'curve' } = props;
  const slotRef = useRef<HTMLDivElement | null>(null);
  const canvas = useRef<CurveCanvasHandle | null>(null);
  const width = useRef(0);
  const [frame, setFrame] = useState<HTMLDivElement | null>(null);
  const [hover, setHover] = useState<{ x: number; left: number } | null>(null);

  const requestDraw = useThrottled(() => {
    const handle = canvas.current;
    if (!handle || width.current <= 0) return;
    const scene: CurveScene = {
      width: width.current,
      height,
      font: curveFont(),
      series,
      x,
      y,
      yTickLabels: y.ticks.map(props.formatTick),
      xName,
      xAxis,
      level,
      marker,
    };
    handle.draw(scene, (drawn) => (handle.canvas.dataset.drawn = JSON.stringify(drawn)));
  });
  // The canvas is the curve worker's (curveDrawer.ts): taken when the chart mounts, put in its slot
  // (a node React leaves alone), given back when it unmounts.
  useEffect(() => {
    const slot = slotRef.current;
    if (!slot) return;
    const handle = takeCurveCanvas();
    handle.canvas.setAttribute('role', 'img');
    handle.canvas.style.width = '100%';
    slot.append(handle.canvas);
    canvas.current = handle;
    requestDraw();
    return () => {
      canvas.current = null;
      returnCurveCanvas(handle);
    };
  }, [requestDraw]);
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
  useEffect(() => {
    const element = canvas.current?.canvas;
    if (!element) return;
    element.setAttribute('aria-label', summary);
    element.style.height = `${height}px`;
  });
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
        <div ref={slotRef} />
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
