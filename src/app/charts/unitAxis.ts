import type { YAxisProps } from 'recharts';
import { formatTick, type UnitScale } from '../format';

/** Y-axis props for values in one unit: round ticks, the unit as the axis label. */
export function unitAxis(scale: UnitScale, ticks: number[]): YAxisProps {
  return {
    ticks,
    domain: [0, ticks[ticks.length - 1]],
    tickFormatter: formatTick,
    width: 58,
    label: { value: scale.unit, angle: -90, position: 'insideLeft', offset: 4, style: { textAnchor: 'middle', fill: '#5d6778', fontSize: 12 } },
  };
}
