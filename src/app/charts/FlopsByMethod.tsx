import { memo } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { FLOP_PHASES, METHOD_IDS, type MethodId } from '../../core/ids';
import type { FlopProfile } from '../../core/profile/types';
import { flopScale, formatChange, formatFlops, niceTicks } from '../format';
import { FLOP_PHASE_NAMES, METHOD_SHORT_NAMES, MODEL_NAMES } from '../../lab/names';
import type { ChartSnapshot } from './chartSnapshot';
import { ChartCard } from './ChartCard';
import { unitAxis } from './unitAxis';
import { FLOP_PHASE_COLORS } from '../../lab/colors';
import { MethodTick } from './MethodTick';
import { FlopConventionToggle } from './ViewToggles';

const CONVENTION_EXPLANATIONS = {
  correct:
    'Correct count: a conv’s weight gradient costs as many FLOPs as its forward, a depthwise conv’s included (N·C·k²·H′·W′ multiply-adds); frozen weights get no weight gradient.',
  torch:
    'PyTorch counter convention (torch.utils.flop_counter, the study’s counter): a grouped conv’s weight gradient is counted as if dense, i.e. multiplied by its number of groups, which inflates MobileNets’ backward pass to the study’s ~20:1 backward:forward ratio.',
} as const;

/** Everything but the forward pass: what training adds over inference. */
const updateFlops = (flops: FlopProfile) => flops.total - flops.byPhase.forward;

/** FLOPs of one training step per method, stacked by phase, in either counting convention. */
export const FlopsByMethod = memo(function FlopsByMethod({ snapshot }: { snapshot: ChartSnapshot }) {
  const { flopConvention: convention, method: current, model } = snapshot;
  const byMethod = snapshot.profiles?.byMethod;
  if (!byMethod) return null;
  const methods = METHOD_IDS.flatMap((method) => {
    const profile = byMethod[method];
    return profile ? [{ method, flops: convention === 'correct' ? profile.flops.correct : profile.flops.torchConvention }] : [];
  });
  const maxFlops = Math.max(...methods.map(({ flops }) => flops.total));
  const scale = flopScale(maxFlops);
  const ticks = niceTicks(maxFlops / scale.divisor);
  const rows = methods.map(({ method, flops }) => ({ method, ...Object.fromEntries(FLOP_PHASES.map((phase) => [phase, flops.byPhase[phase] / scale.divisor])) }));
  const fft = methods.find((m) => m.method === 'fft')?.flops;
  return (
    <ChartCard
      title="FLOPs per training step by method"
      explanation={<>One step of {MODEL_NAMES[model]} (a batch), stacked by phase. {CONVENTION_EXPLANATIONS[convention]}</>}
      controls={<FlopConventionToggle />}
    >
      <div className="chart-frame" role="img" aria-label={`Stacked bars of FLOPs by phase for ${methods.length} methods`}>
        <ResponsiveContainer width="100%" height={300}>
          <BarChart data={rows} margin={{ top: 12, right: 16, bottom: 4, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="method" tick={<MethodTick current={current} />} interval={0} />
            <YAxis {...unitAxis(scale, ticks)} />
            <Tooltip formatter={(value, name) => [formatFlops(Number(value) * scale.divisor), String(name)]} labelFormatter={(method) => METHOD_SHORT_NAMES[method as MethodId] ?? String(method)} />
            <Legend itemSorter={null} />
            {FLOP_PHASES.map((phase) => (
              <Bar key={phase} dataKey={phase} name={FLOP_PHASE_NAMES[phase]} stackId="flops" fill={FLOP_PHASE_COLORS[phase]} isAnimationActive={false} maxBarSize={70} />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
      <table className="readout">
        <caption className="visually-hidden">FLOPs per step by method</caption>
        <thead>
          <tr>
            <th scope="col">Method</th>
            <th scope="col">Per step</th>
            <th scope="col">Backward : forward</th>
            <th scope="col">Backward + optimizer</th>
            <th scope="col">…vs FFT</th>
          </tr>
        </thead>
        <tbody>
          {methods.map(({ method, flops }) => (
            <tr key={method} className={method === current ? 'current' : undefined}>
              <th scope="row">{METHOD_SHORT_NAMES[method]}</th>
              <td data-testid={`flops-${method}`}>{formatFlops(flops.total)}</td>
              <td>{((flops.byPhase.backward_input + flops.byPhase.backward_weight) / flops.byPhase.forward).toFixed(1)} : 1</td>
              <td>{formatFlops(updateFlops(flops))}</td>
              <td>{fft ? (method === 'fft' ? '—' : formatChange(updateFlops(flops), updateFlops(fft))) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ChartCard>
  );
});
