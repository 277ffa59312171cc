import { memo } from 'react';
import { MEMORY_GROUPS, METHOD_IDS, type MethodId } from '../../core/ids';
import type { MemoryProfile } from '../../core/profile/types';
import { byteScale, formatBytes, formatChange, formatPercent, formatTick, MIB } from '../format';
import { MEMORY_GROUP_MEANINGS, MEMORY_GROUP_NAMES, methodShortName, MODEL_NAMES } from '../../lab/names';
import { useLabStore } from '../store';
import type { ChartSnapshot } from './chartSnapshot';
import { ChartCard } from './ChartCard';
import { BUDGET_COLOR, MEMORY_GROUP_COLORS, SUM_OF_MAXIMA_COLOR } from '../../lab/colors';
import { StackedBars } from './StackedBars';
import { STUDY_PROFILING } from '../../lab/findings';
import { MemoryViewToggle } from './ViewToggles';

interface MethodMemory {
  method: MethodId;
  memory: MemoryProfile;
}

/** Peak training memory of every method on the current model, stacked by group. */
export const MemoryByMethod = memo(function MemoryByMethod({ snapshot }: { snapshot: ChartSnapshot }) {
  const { memoryView: view, budgetMiB, method: current, model } = snapshot;
  const byMethod = snapshot.profiles?.byMethod;
  if (!byMethod) return null;
  const methods: MethodMemory[] = METHOD_IDS.flatMap((method) => {
    const profile = byMethod[method];
    return profile ? [{ method, memory: profile.memory[view] }] : [];
  });
  const fftPeak = methods.find((m) => m.method === 'fft')?.memory.peak.total;
  const budgetBytes = budgetMiB === null ? null : budgetMiB * MIB;
  const maxBytes = Math.max(budgetBytes ?? 0, ...methods.map(({ memory }) => memory.sumOfGroupMaxima));
  const scale = byteScale(maxBytes);
  const bars = methods.map(({ method, memory }) => ({
    id: method,
    label: methodShortName(method, model),
    current: method === current,
    values: Object.fromEntries(MEMORY_GROUPS.map((group) => [group, memory.peak.bytes[group] / scale.divisor])),
    dash: memory.sumOfGroupMaxima / scale.divisor,
  }));
  const segments = MEMORY_GROUPS.map((group) => ({ key: group, name: MEMORY_GROUP_NAMES[group], color: MEMORY_GROUP_COLORS[group] }));

  return (
    <ChartCard
      title="Peak training memory by method"
      explanation={
        <>
          One training step of {MODEL_NAMES[model]} with each method. Bars: the <strong>simultaneous peak</strong> (the largest total at one moment, split by group); dashes: the study’s{' '}
          <strong>sum of per-group maxima</strong> (each group at its own maximum, an upper bound).
        </>
      }
      controls={
        <>
          <MemoryViewToggle />
          <BudgetInput />
        </>
      }
    >
      {/* Plain SVG, not the charting library: this chart is on the lab's first screen. */}
      <StackedBars
        bars={bars}
        segments={segments}
        max={maxBytes / scale.divisor}
        unit={scale.unit}
        formatTick={formatTick}
        formatValue={(value) => formatBytes(value * scale.divisor)}
        dash={{ name: 'Sum of group maxima', color: SUM_OF_MAXIMA_COLOR }}
        level={budgetBytes !== null ? { at: budgetBytes / scale.divisor, color: BUDGET_COLOR, label: `device budget ${formatBytes(budgetBytes)}` } : undefined}
        height={300}
        ariaLabel={`Stacked bars of peak memory by group for ${methods.length} methods`}
      />
      <ActivationNote method={current} memory={methods.find((m) => m.method === current)?.memory ?? null} />
      <table className="readout">
        <caption className="visually-hidden">Peak memory by method</caption>
        <thead>
          <tr>
            <th scope="col">Method</th>
            <th scope="col">Simultaneous peak</th>
            <th scope="col">Sum of group maxima</th>
            <th scope="col">Peak vs FFT</th>
            <th scope="col">Largest group at peak</th>
            {budgetBytes !== null && <th scope="col">Fits {formatBytes(budgetBytes)}?</th>}
          </tr>
        </thead>
        <tbody>
          {methods.map(({ method, memory }) => {
            const largest = MEMORY_GROUPS.reduce((a, b) => (memory.peak.bytes[b] > memory.peak.bytes[a] ? b : a));
            return (
              <tr key={method} className={method === current ? 'current' : undefined}>
                <th scope="row">{methodShortName(method, model)}</th>
                <td data-testid={`peak-${method}`}>{formatBytes(memory.peak.total)}</td>
                <td data-testid={`sum-of-maxima-${method}`}>{formatBytes(memory.sumOfGroupMaxima)}</td>
                <td>{fftPeak ? (method === 'fft' ? '—' : formatChange(memory.peak.total, fftPeak)) : ''}</td>
                <td title={MEMORY_GROUP_MEANINGS[largest]}>
                  <span className="swatch" style={{ background: MEMORY_GROUP_COLORS[largest] }} /> {MEMORY_GROUP_NAMES[largest]} ({formatPercent(memory.peak.bytes[largest] / memory.peak.total)})
                </td>
                {budgetBytes !== null && <td>{memory.peak.total <= budgetBytes ? 'yes' : `no (+${formatBytes(memory.peak.total - budgetBytes)})`}</td>}
              </tr>
            );
          })}
        </tbody>
      </table>
    </ChartCard>
  );
});

/** Above this share of the peak, activations are nearly everything and the methods look alike. */
const ACT_DOMINATES = 0.9;

/** Says so when ACT is nearly the whole peak, and offers the study's profiling setting in one click. */
function ActivationNote({ method, memory }: { method: MethodId; memory: MemoryProfile | null }) {
  const config = useLabStore((s) => s.validConfig);
  const applyConfig = useLabStore((s) => s.applyConfig);
  if (!memory || memory.peak.bytes.act / memory.peak.total <= ACT_DOMINATES) return null;
  const { resolution, batchSize } = STUDY_PROFILING;
  return (
    <p className="banner banner-info" data-testid="act-dominates">
      ACT is {formatPercent(memory.peak.bytes.act / memory.peak.total)} of {methodShortName(method, config.model)}’s peak: at batch {config.batchSize} and {config.resolution}×{config.resolution} the saved
      activations are nearly everything, so methods that shrink only gradients and optimizer state barely differ here. The study profiled one image at {resolution}×{resolution}.{' '}
      <button type="button" className="link-button" onClick={() => applyConfig({ ...config, ...STUDY_PROFILING })}>
        Use the study’s profiling setting ({resolution}×{resolution}, batch {batchSize}, width {STUDY_PROFILING.width})
      </button>
    </p>
  );
}

function BudgetInput() {
  const budgetMiB = useLabStore((s) => s.deviceBudgetMiB);
  const setBudget = useLabStore((s) => s.setDeviceBudgetMiB);
  return (
    <label className="budget-input">
      Device budget (MiB)
      <input
        type="number"
        min={1}
        step="any"
        placeholder="e.g. 512"
        value={budgetMiB ?? ''}
        onChange={(event) => {
          const value = Number(event.target.value);
          setBudget(event.target.value === '' || !(value > 0) ? null : value);
        }}
      />
    </label>
  );
}
