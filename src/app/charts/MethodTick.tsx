import type { MethodId } from '../../core/ids';
import { METHOD_SHORT_NAMES } from '../../lab/names';

/** An x-axis tick naming a method; the configured method is bold and marked. */
export function MethodTick({ x, y, payload, current }: { x?: number; y?: number; payload?: { value: MethodId }; current: MethodId }) {
  if (x === undefined || y === undefined || !payload) return null;
  const isCurrent = payload.value === current;
  return (
    <text x={x} y={y + 14} textAnchor="middle" fontSize={13} fontWeight={isCurrent ? 700 : 400} fill={isCurrent ? '#1d2330' : '#5d6778'}>
      {METHOD_SHORT_NAMES[payload.value]}
      {isCurrent ? ' ◂' : ''}
    </text>
  );
}
