import type { MethodId, ModelId } from '../../core/ids';
import { methodShortName } from '../../lab/names';

/** An x-axis tick naming a method on `model` (LN+head on a ViT); the configured method is bold and marked. */
export function MethodTick({ x, y, payload, current, model }: { x?: number; y?: number; payload?: { value: MethodId }; current: MethodId; model: ModelId }) {
  if (x === undefined || y === undefined || !payload) return null;
  const isCurrent = payload.value === current;
  return (
    <text x={x} y={y + 14} textAnchor="middle" fontSize={13} fontWeight={isCurrent ? 700 : 400} fill={isCurrent ? '#1d2330' : '#5d6778'}>
      {methodShortName(payload.value, model)}
      {isCurrent ? ' ◂' : ''}
    </text>
  );
}
