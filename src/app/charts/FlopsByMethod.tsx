import { memo } from 'react';
import { FLOP_PHASES, METHOD_IDS } from '../../core/ids';
import type { FlopProfile } from '../../core/profile/types';
import { flopScale, formatChange, formatFlops, niceTicks } from '../format';
import { methodShortName, MODEL_NAMES } from '../../lab/names';
import type { ChartSnapshot } from './chartSnapshot';
import { ChartCard } from './ChartCard';
import { DeferredPlot, FlopsPlot } from './DeferredPlot';
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
        <DeferredPlot height={300}>
          <FlopsPlot rows={rows} scale={scale} ticks={ticks} current={current} model={model} />
        </DeferredPlot>
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
              <th scope="row">{methodShortName(method, model)}</th>
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
