// The baseline-profiling preset: every method's analytic peak memory and FLOPs on two models at
// the same size, and how much each saves against full fine-tuning (profiling only, no training).
import { METHOD_IDS, type ModelId } from '../../core/ids';
import { formatBytes, formatFlops, formatPercent } from '../format';
import { methodShortNameOver, MODEL_NAMES } from '../../lab/names';
import type { ProfileSet } from '../store';
import { useLabStore } from '../store';
import { ChartCard } from './ChartCard';
import { DeferredPlot, SavingsPlot } from './DeferredPlot';

const peakOf = (set: ProfileSet | undefined, method: (typeof METHOD_IDS)[number]) => set?.byMethod[method]?.memory.analytic.peak.total;
const flopsOf = (set: ProfileSet | undefined, method: (typeof METHOD_IDS)[number]) => set?.byMethod[method]?.flops.correct.total;

export function ModelComparison() {
  const comparison = useLabStore((s) => s.modelComparison);
  const close = useLabStore((s) => s.closeModelComparison);
  if (!comparison) return null;
  const { models, byModel } = comparison;
  const ready = models.every((model) => byModel[model]);
  const savingOf = (model: ModelId, method: (typeof METHOD_IDS)[number]) => {
    const peak = peakOf(byModel[model], method);
    const fft = peakOf(byModel[model], 'fft');
    return peak !== undefined && fft ? 1 - peak / fft : null;
  };
  const rows = METHOD_IDS.filter((m) => m !== 'fft').map((method) => ({
    method: methodShortNameOver(method, models),
    ...Object.fromEntries(models.map((model) => [model, savingOf(model, method) ?? 0])),
  }));
  return (
    <ChartCard
      title="Baseline profiling: memory saved against full fine-tuning"
      explanation="Analytic peak training memory of each method, as a saving against FFT on the same model (profiling only, no training). On the depthwise-separable MobileNetV2 activations dominate, so PEFT saves much less than on ResNet-18."
      controls={
        <button type="button" className="secondary" onClick={close}>
          Close
        </button>
      }
    >
      {!ready ? (
        <p className="muted" aria-live="polite">
          Profiling every method on {models.map((m) => MODEL_NAMES[m]).join(' and ')}…
        </p>
      ) : (
        <>
          <div data-testid="model-comparison">
            <DeferredPlot height={240}>
              <SavingsPlot rows={rows} models={models} />
            </DeferredPlot>
          </div>
          <table className="runs-table" aria-label="Profiles by model">
            <thead>
              <tr>
                <th scope="col">Method</th>
                {models.map((model) => (
                  <th key={model} scope="col" colSpan={3}>
                    {MODEL_NAMES[model]}: peak · saved · FLOPs/step
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {METHOD_IDS.map((method) => (
                <tr key={method}>
                  <th scope="row">{methodShortNameOver(method, models)}</th>
                  {models.map((model) => {
                    const peak = peakOf(byModel[model], method);
                    const flops = flopsOf(byModel[model], method);
                    const saving = savingOf(model, method);
                    return [
                      <td key={`${model}-p`}>{peak !== undefined ? formatBytes(peak) : byModel[model]?.failures[method] ? 'n/a' : '…'}</td>,
                      <td key={`${model}-s`}>{saving !== null && method !== 'fft' ? formatPercent(saving) : '—'}</td>,
                      <td key={`${model}-f`}>{flops !== undefined ? formatFlops(flops) : '—'}</td>,
                    ];
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </ChartCard>
  );
}
