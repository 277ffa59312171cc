// Stacked bars in plain SVG, for the lab's first screen: the charting library (~130 KB gzip) is not
// needed to draw a handful of rectangles, so the first screen draws without it. One bar per
// category, stacked by segment; an optional dash per bar (a second measure of the same total) and
// an optional horizontal level (a budget). Hovering a segment names it and its value (SVG <title>).
import { useEffect, useState } from 'react';
import { linearAxis, yPixel, type PlotBox } from './plotGeometry';

export interface StackedBar {
  id: string;
  label: string;
  /** The configured one: its label is bold and marked. */
  current: boolean;
  /** Segment key → value, in the axis' unit. */
  values: Record<string, number>;
  /** Where the bar's dash goes (same unit), if any. */
  dash?: number;
}

export interface StackedBarsProps {
  bars: readonly StackedBar[];
  segments: readonly { key: string; name: string; color: string }[];
  /** The largest value the axis must reach (bars, dashes and level). */
  max: number;
  unit: string;
  formatTick: (value: number) => string;
  /** A value of the axis' unit in words, for the hover titles. */
  formatValue: (value: number) => string;
  dash?: { name: string; color: string };
  level?: { at: number; color: string; label: string };
  height: number;
  ariaLabel: string;
}

const INK = '#5d6778';
const MAX_BAR_WIDTH = 70;

function useWidth(element: Element | null): number {
  const [width, setWidth] = useState(0);
  useEffect(() => {
    if (!element) return;
    const observer = new ResizeObserver((entries) => setWidth(Math.round(entries[entries.length - 1].contentRect.width)));
    observer.observe(element);
    return () => observer.disconnect();
  }, [element]);
  return width;
}

export function StackedBars({ bars, segments, max, unit, formatTick, formatValue, dash, level, height, ariaLabel }: StackedBarsProps) {
  const [frame, setFrame] = useState<HTMLDivElement | null>(null);
  const width = useWidth(frame);
  const axis = linearAxis(0, max > 0 ? max : 1);
  const box: PlotBox = { left: 66, top: 12, width: Math.max(1, width - 66 - 16), height: height - 12 - 28 };
  const slot = box.width / Math.max(1, bars.length);
  const barWidth = Math.min(MAX_BAR_WIDTH, slot * 0.6);
  const y = (value: number) => yPixel(box, axis, value);
  return (
    <div className="chart-frame" ref={setFrame} data-testid="stacked-bars">
      {width > 0 && (
        <svg width={width} height={height} role="img" aria-label={ariaLabel} className="stacked-bars">
          {axis.ticks.map((tick) => (
            <g key={tick}>
              <line x1={box.left} x2={box.left + box.width} y1={y(tick)} y2={y(tick)} stroke="#e3e7ee" strokeDasharray="3 3" />
              <text x={box.left - 6} y={y(tick)} textAnchor="end" dominantBaseline="middle" fontSize={12} fill={INK}>
                {formatTick(tick)}
              </text>
            </g>
          ))}
          <text transform={`translate(14 ${box.top + box.height / 2}) rotate(-90)`} textAnchor="middle" fontSize={12} fill={INK}>
            {unit}
          </text>
          <line x1={box.left} x2={box.left + box.width} y1={box.top + box.height} y2={box.top + box.height} stroke={INK} />
          {bars.map((bar, index) => {
            const center = box.left + slot * (index + 0.5);
            let base = 0;
            return (
              <g key={bar.id} data-bar={bar.id}>
                {segments.map((segment) => {
                  const value = bar.values[segment.key] ?? 0;
                  const [bottom, top] = [base, (base += value)];
                  return (
                    <rect key={segment.key} x={center - barWidth / 2} width={barWidth} y={y(top)} height={Math.max(0, y(bottom) - y(top))} fill={segment.color}>
                      <title>{`${bar.label} · ${segment.name}: ${formatValue(value)}`}</title>
                    </rect>
                  );
                })}
                {dash && bar.dash !== undefined && (
                  <line x1={center - barWidth / 2 - 6} x2={center + barWidth / 2 + 6} y1={y(bar.dash)} y2={y(bar.dash)} stroke={dash.color} strokeWidth={2.5} strokeDasharray="5 3">
                    <title>{`${bar.label} · ${dash.name}: ${formatValue(bar.dash)}`}</title>
                  </line>
                )}
                <text x={center} y={box.top + box.height + 18} textAnchor="middle" fontSize={13} fontWeight={bar.current ? 700 : 400} fill={bar.current ? '#1d2330' : INK}>
                  {bar.label}
                  {bar.current ? ' ◂' : ''}
                </text>
              </g>
            );
          })}
          {level && (
            <g>
              <line x1={box.left} x2={box.left + box.width} y1={y(level.at)} y2={y(level.at)} stroke={level.color} strokeWidth={2} />
              <text x={box.left + box.width - 4} y={y(level.at) + 14} textAnchor="end" fontSize={12} fill={level.color}>
                {level.label}
              </text>
            </g>
          )}
        </svg>
      )}
      {width === 0 && <div style={{ height }} />}
      <ul className="chart-legend">
        {segments.map((segment) => (
          <li key={segment.key}>
            <span className="swatch" style={{ background: segment.color }} /> {segment.name}
          </li>
        ))}
        {dash && (
          <li>
            <span className="legend-line legend-dashed" style={{ borderColor: dash.color }} /> {dash.name}
          </li>
        )}
      </ul>
    </div>
  );
}
