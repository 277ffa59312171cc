// The lab's charts drawn with recharts, in a chunk of their own (with vendor-charts): each card
// (title, controls, readout table) renders without them, and DeferredPlot loads this chunk once a
// plot comes near the viewport. What the first screen draws does not wait for ~130 KB gzip of it.
import { Area, AreaChart, Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ReferenceArea, ReferenceLine, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis, ZAxis } from 'recharts';
import { FLOP_PHASES, isOneOf, MEMORY_GROUPS, METHOD_IDS, type MethodId, type ModelId } from '../../core/ids';
import type { StepPhase, TimelinePoint } from '../../core/profile/types';
import { FLOP_PHASE_COLORS, MEMORY_GROUP_COLORS, METHOD_COLORS } from '../../lab/colors';
import { FLOP_PHASE_NAMES, MEMORY_GROUP_NAMES, METHOD_SHORT_NAMES, methodShortName, MODEL_NAMES } from '../../lab/names';
import { formatBytes, formatFlops, formatPercent, type UnitScale } from '../format';
import { MethodTick } from './MethodTick';
import { unitAxis } from './unitAxis';

export interface FlopsPlotProps {
  rows: ({ method: MethodId } & Record<string, number | string>)[];
  scale: UnitScale;
  ticks: number[];
  current: MethodId;
  model: ModelId;
}

export function FlopsPlot({ rows, scale, ticks, current, model }: FlopsPlotProps) {
  return (
    <ResponsiveContainer width="100%" height={300}>
      <BarChart data={rows} margin={{ top: 12, right: 16, bottom: 4, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="method" tick={<MethodTick current={current} model={model} />} interval={0} />
        <YAxis {...unitAxis(scale, ticks)} />
        <Tooltip formatter={(value, name) => [formatFlops(Number(value) * scale.divisor), String(name)]} labelFormatter={(method) => (isOneOf(METHOD_IDS, method) ? methodShortName(method, model) : String(method))} />
        <Legend itemSorter={null} />
        {FLOP_PHASES.map((phase) => (
          <Bar key={phase} dataKey={phase} name={FLOP_PHASE_NAMES[phase]} stackId="flops" fill={FLOP_PHASE_COLORS[phase]} isAnimationActive={false} maxBarSize={70} />
        ))}
      </BarChart>
    </ResponsiveContainer>
  );
}

const PHASE_SHADES: Record<StepPhase, string> = { forward: '#eef3fb', backward: '#fdf1e6', optimizer: '#eef7f6' };

export interface MemoryTimelinePlotProps {
  rows: Record<string, number | string>[];
  spans: { phase: StepPhase; first: number; last: number }[];
  timeline: readonly TimelinePoint[];
  peakIndex: number;
  scale: UnitScale;
  ticks: number[];
}

export function MemoryTimelinePlot({ rows, spans, timeline, peakIndex, scale, ticks }: MemoryTimelinePlotProps) {
  return (
    <ResponsiveContainer width="100%" height={280}>
      <AreaChart data={rows} margin={{ top: 20, right: 16, bottom: 4, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        {spans.map(({ phase, first, last }) => (
          <ReferenceArea key={phase} x1={first} x2={last} fill={PHASE_SHADES[phase]} fillOpacity={1} ifOverflow="visible" label={{ value: phase, position: 'insideTop', fill: '#5d6778', fontSize: 12 }} />
        ))}
        <XAxis dataKey="index" type="number" domain={[0, timeline.length - 1]} allowDecimals={false} />
        <YAxis {...unitAxis(scale, ticks)} />
        <Tooltip
          formatter={(value, name) => [formatBytes(Number(value) * scale.divisor), String(name)]}
          labelFormatter={(index) => {
            const point = timeline[Number(index)];
            return point ? `${point.phase}: ${point.op}` : '';
          }}
        />
        <Legend itemSorter={null} />
        {MEMORY_GROUPS.map((group) => (
          <Area key={group} dataKey={group} name={MEMORY_GROUP_NAMES[group]} stackId="bytes" type="stepAfter" stroke={MEMORY_GROUP_COLORS[group]} fill={MEMORY_GROUP_COLORS[group]} fillOpacity={0.85} isAnimationActive={false} />
        ))}
        <ReferenceLine x={peakIndex} stroke="#1d2330" strokeDasharray="4 3" label={{ value: 'peak', position: 'top', fontSize: 12 }} />
      </AreaChart>
    </ResponsiveContainer>
  );
}

export interface RunPoint {
  label: string;
  peakMiB: number;
  accuracy: number;
  flops: number;
}

export interface RunScatterPlotProps {
  byMethod: Map<MethodId, RunPoint[]>;
  fromLink: RunPoint[];
  flopsRange: [number, number];
}

export function RunScatterPlot({ byMethod, fromLink, flopsRange }: RunScatterPlotProps) {
  return (
    <ResponsiveContainer width="100%" height={260}>
      <ScatterChart margin={{ top: 8, right: 24, bottom: 24, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis type="number" dataKey="peakMiB" name="Peak memory" unit=" MiB" fontSize={12} tickFormatter={(v: number) => String(Number(v.toPrecision(3)))} label={{ value: 'peak memory (MiB)', position: 'insideBottom', offset: -12, fontSize: 12 }} />
        <YAxis type="number" dataKey="accuracy" name="Accuracy" domain={[0, 1]} tickFormatter={formatPercent} fontSize={12} width={52} />
        <ZAxis type="number" dataKey="flops" name="FLOPs/step" range={[60, 400]} domain={flopsRange} />
        <Tooltip formatter={(value, name) => (name === 'Accuracy' ? formatPercent(Number(value)) : name === 'FLOPs/step' ? formatFlops(Number(value)) : `${Number(value).toFixed(2)} MiB`)} />
        {/* The methods in the study's order, as the other charts and the table list them. */}
        <Legend verticalAlign="top" height={24} itemSorter={null} />
        {METHOD_IDS.filter((method) => byMethod.has(method)).map((method) => (
          <Scatter key={method} name={METHOD_SHORT_NAMES[method]} data={byMethod.get(method)} fill={METHOD_COLORS[method]} isAnimationActive={false} />
        ))}
        {fromLink.length > 0 && <Scatter name="from the link" data={fromLink} fill="none" stroke="#1d2330" strokeWidth={2} shape="diamond" isAnimationActive={false} />}
      </ScatterChart>
    </ResponsiveContainer>
  );
}

export interface RankRow {
  rank: number;
  accuracy: number;
  peak: number;
  flops: number;
}

export interface RankPlotProps {
  rows: RankRow[];
  dataKey: 'accuracy' | 'peak' | 'flops';
  format: (v: number) => string;
  color: string;
}

export function RankPlot({ rows, dataKey, format, color }: RankPlotProps) {
  return (
    <ResponsiveContainer width="100%" height={170}>
      <LineChart data={rows} margin={{ top: 8, right: 12, bottom: 16, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="rank" type="number" domain={['dataMin', 'dataMax']} ticks={rows.map((r) => r.rank)} fontSize={12} label={{ value: 'rank', position: 'insideBottom', offset: -8, fontSize: 12 }} />
        <YAxis tickFormatter={format} fontSize={11} width={64} domain={dataKey === 'accuracy' ? [0, 1] : ['auto', 'auto']} />
        <Tooltip formatter={(value) => format(Number(value))} labelFormatter={(label) => `rank ${label}`} />
        <Line dataKey={dataKey} stroke={color} dot={{ r: 3 }} isAnimationActive={false} />
      </LineChart>
    </ResponsiveContainer>
  );
}

const MODEL_COLORS = ['#4c78a8', '#f58518', '#54a24b', '#b279a2'];

export interface SavingsPlotProps {
  rows: Record<string, number | string>[];
  models: ModelId[];
}

export function SavingsPlot({ rows, models }: SavingsPlotProps) {
  return (
    <ResponsiveContainer width="100%" height={240}>
      <BarChart data={rows} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="method" fontSize={12} />
        <YAxis domain={[0, 1]} tickFormatter={formatPercent} fontSize={12} width={52} />
        <Tooltip formatter={(value) => formatPercent(Number(value))} />
        <Legend verticalAlign="top" height={24} />
        {models.map((model, index) => (
          <Bar key={model} dataKey={model} name={`${MODEL_NAMES[model]}: peak memory saved`} fill={MODEL_COLORS[index % MODEL_COLORS.length]} isAnimationActive={false} />
        ))}
      </BarChart>
    </ResponsiveContainer>
  );
}
