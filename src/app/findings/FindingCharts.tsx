// The one chart of each findings card. Cost charts read the cards' analytic profiles (the study's
// profiling setting); accuracy charts read the loaded study result's cells (mean and 95% interval
// over seeds). Small multiples share one scale and the lab's colours, so bars compare across panels.
import { Bar, BarChart, CartesianGrid, ErrorBar, Legend, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis, ZAxis } from 'recharts';
import { FROZEN_WEIGHT_FORMATS, MEMORY_GROUPS, METHOD_IDS, type FrozenWeightFormat, type MethodId, type ModelId } from '../../core/ids';
import { frozenWeightsProblem } from '../../core/quant/quantizeBase';
import { MEMORY_GROUP_COLORS, METHOD_COLORS } from '../../lab/colors';
import { CONTRAST_MODELS, QUANTIZED_FORMATS, quantizedKey, VIT_CONTRAST_MODELS, type FindingChart, type FindingProfiles } from '../../lab/findings';
import { FROZEN_WEIGHTS_NAMES, MEMORY_GROUP_NAMES, METHOD_SHORT_NAMES, methodShortName, methodShortNameOver, MODEL_NAMES, studyTaskName } from '../../lab/names';
import { STUDY_MODELS } from '../../lab/claims';
import type { StudyCell } from '../../lab/study/types';
import { byteScale, formatBytes, formatPercent, niceTicks } from '../format';
import type { LoadedStudy } from '../studySlice';
import { unitAxis } from '../charts/unitAxis';

type Profiled = FindingProfiles;

const HEIGHT = 220;

/** Peak memory by group of every method, one panel per model, on one scale. */
function MemoryPanels({ profiled, highlight, models = CONTRAST_MODELS }: { profiled: Profiled; highlight: readonly MethodId[]; models?: readonly ModelId[] }) {
  const peaks = models.flatMap((model) => METHOD_IDS.map((method) => profiled[model]?.byMethod[method]?.memory.analytic.peak.total ?? 0));
  const scale = byteScale(Math.max(...peaks));
  const ticks = niceTicks(Math.max(...peaks) / scale.divisor);
  return (
    <div className="small-multiples">
      {models.map((model) => {
        const rows = METHOD_IDS.flatMap((method) => {
          const peak = profiled[model]?.byMethod[method]?.memory.analytic.peak;
          return peak ? [{ method: methodShortName(method, model), ...Object.fromEntries(MEMORY_GROUPS.map((g) => [g, peak.bytes[g] / scale.divisor])) }] : [];
        });
        return (
          <figure key={model} className="small-multiple" data-testid={`finding-memory-${model}`}>
            <figcaption>{MODEL_NAMES[model]}</figcaption>
            <div role="img" aria-label={`Peak memory by group of each method on ${MODEL_NAMES[model]}`}>
              <ResponsiveContainer width="100%" height={HEIGHT}>
                <BarChart data={rows} margin={{ top: 6, right: 8, bottom: 0, left: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" vertical={false} />
                  <XAxis dataKey="method" interval={0} fontSize={12} tick={{ fontWeight: 400 }} />
                  <YAxis {...unitAxis(scale, ticks)} />
                  <Tooltip formatter={(value, name) => [formatBytes(Number(value) * scale.divisor), String(name)]} />
                  {MEMORY_GROUPS.map((group) => (
                    <Bar key={group} dataKey={group} name={MEMORY_GROUP_NAMES[group]} stackId="peak" fill={MEMORY_GROUP_COLORS[group]} isAnimationActive={false} />
                  ))}
                </BarChart>
              </ResponsiveContainer>
            </div>
          </figure>
        );
      })}
      <GroupLegend />
      {highlight.length > 0 && <p className="muted small">Look at {highlight.map((m) => methodShortNameOver(m, models)).join(' against ')}.</p>}
    </div>
  );
}

/** The colour key shared by a chart's small multiples (each chart draws none of its own). */
function SwatchLegend({ entries }: { entries: readonly { key: string; color: string; label: string }[] }) {
  return (
    <p className="group-legend" aria-hidden="true">
      {entries.map(({ key, color, label }) => (
        <span key={key}>
          <span className="swatch" style={{ background: color }} /> {label}
        </span>
      ))}
    </p>
  );
}

function GroupLegend() {
  return <SwatchLegend entries={MEMORY_GROUPS.map((group) => ({ key: group, color: MEMORY_GROUP_COLORS[group], label: MEMORY_GROUP_NAMES[group] }))} />;
}

/** Share of FFT's peak by group, one bar per model: what PEFT can remove (GRAD, OPT) against ACT. */
function PeakShares({ profiled }: { profiled: Profiled }) {
  const rows = CONTRAST_MODELS.flatMap((model) => {
    const peak = profiled[model]?.byMethod.fft?.memory.analytic.peak;
    return peak ? [{ model: MODEL_NAMES[model], ...Object.fromEntries(MEMORY_GROUPS.map((g) => [g, peak.bytes[g] / peak.total])) }] : [];
  });
  return (
    <div role="img" aria-label="Share of full fine-tuning's peak memory by group, per model">
      <ResponsiveContainer width="100%" height={160}>
        <BarChart data={rows} layout="vertical" margin={{ top: 6, right: 16, bottom: 0, left: 8 }}>
          <XAxis type="number" domain={[0, 1]} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} fontSize={12} />
          <YAxis type="category" dataKey="model" width={96} fontSize={12} />
          <Tooltip formatter={(value, name) => [formatPercent(Number(value)), String(name)]} />
          {MEMORY_GROUPS.map((group) => (
            <Bar key={group} dataKey={group} name={MEMORY_GROUP_NAMES[group]} stackId="share" fill={MEMORY_GROUP_COLORS[group]} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
      <GroupLegend />
    </div>
  );
}

/** Backward ÷ forward FLOPs of full fine-tuning per model, counted correctly and by PyTorch's counter. */
function FlopRatio({ profiled }: { profiled: Profiled }) {
  const rows = CONTRAST_MODELS.flatMap((model) => {
    const fft = profiled[model]?.byMethod.fft;
    if (!fft) return [];
    const ratio = (view: 'correct' | 'torchConvention') => (fft.flops[view].byPhase.backward_input + fft.flops[view].byPhase.backward_weight) / fft.flops[view].byPhase.forward;
    return [{ model: MODEL_NAMES[model], correct: ratio('correct'), torch: ratio('torchConvention') }];
  });
  return (
    <div role="img" aria-label="Backward to forward FLOP ratio per model, counted correctly and by PyTorch's counter">
      <ResponsiveContainer width="100%" height={HEIGHT}>
        <BarChart data={rows} margin={{ top: 16, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="model" fontSize={12} />
          <YAxis fontSize={12} width={40} tickFormatter={(v: number) => `${v}×`} />
          <Tooltip formatter={(value, name) => [`${Number(value).toFixed(2)}×`, String(name)]} />
          <Legend verticalAlign="top" height={24} />
          <Bar dataKey="correct" name="Counted correctly" fill="#4c78a8" isAnimationActive={false} label={{ position: 'top', fontSize: 12, formatter: (v: unknown) => `${Number(v).toFixed(1)}×` }} />
          <Bar dataKey="torch" name="PyTorch counter (the study's)" fill="#e45756" isAnimationActive={false} label={{ position: 'top', fontSize: 12, formatter: (v: unknown) => `${Number(v).toFixed(1)}×` }} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}


/** The cells the study's accuracy claims read: its models', on a float32 base (a ViT's or a
 * quantized base's cells have cards of their own). */
const studyModelCells = (study: LoadedStudy) => study.report.cells.filter((c) => STUDY_MODELS.includes(c.model) && !c.frozenWeights);

/** The ViT's cells of a loaded study (mean final accuracy, 95% interval over seeds), beside the
 * same tasks' cells of the study's models; or why there are none. */
function VitAccuracy({ study }: { study: LoadedStudy | null }) {
  const vitCells = study?.report.cells.filter((c) => c.model === 'vit_tiny' && !c.frozenWeights && c.seeds.length > 0) ?? [];
  if (!study || vitCells.length === 0) {
    return <p className="muted small" data-testid="vit-accuracy-pending">Accuracy: {study ? 'the loaded study result has no ViT-Tiny cells' : 'no study result is loaded'} (npm run study -- --models vit_tiny,mobilenet_v2).</p>;
  }
  const tasks = new Set(vitCells.map((c) => c.task));
  const cells = study.report.cells.filter((c) => tasks.has(c.task) && !c.frozenWeights && c.seeds.length > 0);
  return (
    <table className="runs-table" aria-label="Final accuracy, ViT-Tiny beside the CNNs (study result)" data-testid="vit-accuracy">
      <thead>
        <tr>
          <th scope="col">model</th>
          <th scope="col">task</th>
          <th scope="col">method</th>
          <th scope="col">final accuracy [95% CI]</th>
        </tr>
      </thead>
      <tbody>
        {cells.map((c) => (
          <tr key={`${c.model}/${c.task}/${c.method}/${c.rank}`}>
            <td>{MODEL_NAMES[c.model]}</td>
            <td>{studyTaskName(c.task)}</td>
            <td>{methodShortName(c.method, c.model)}{c.rank === null ? '' : ` r=${c.rank}`}</td>
            <td>
              {formatPercent(c.finalAccuracy.mean)} [{formatPercent(Math.max(0, c.finalAccuracy.low))}, {formatPercent(Math.min(1, c.finalAccuracy.high))}]
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Final accuracy of each method per task (mean, 95% interval over seeds) from the study result. */
function AccuracyByTask({ study }: { study: LoadedStudy }) {
  const cells = studyModelCells(study);
  const tasks = [...new Set(cells.map((c) => c.task))];
  const model = cells[0]?.model;
  const rows = METHOD_IDS.flatMap((method) => {
    const row: Record<string, number | string | [number, number]> = { method: METHOD_SHORT_NAMES[method] };
    let any = false;
    for (const task of tasks) {
      const cell = cells.find((c) => c.method === method && c.task === task && c.model === model);
      if (!cell) continue;
      any = true;
      row[task] = cell.finalAccuracy.mean;
      row[`${task}-ci`] = [cell.finalAccuracy.mean - Math.max(0, cell.finalAccuracy.low), Math.min(1, cell.finalAccuracy.high) - cell.finalAccuracy.mean];
    }
    return any ? [row] : [];
  });
  const colors = ['#4c78a8', '#e45756', '#54a24b', '#f58518'];
  return (
    <div role="img" aria-label="Final accuracy of each method per task, mean and 95% interval over seeds">
      <ResponsiveContainer width="100%" height={HEIGHT}>
        <BarChart data={rows} margin={{ top: 6, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="method" interval={0} fontSize={12} />
          <YAxis domain={[0, 1]} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} fontSize={12} width={44} />
          <Tooltip formatter={(value, name) => (Array.isArray(value) ? null : [formatPercent(Number(value)), String(name)])} />
          <Legend verticalAlign="top" height={24} />
          {tasks.map((task, i) => (
            <Bar key={task} dataKey={task} name={studyTaskName(task)} fill={colors[i % colors.length]} isAnimationActive={false}>
              <ErrorBar dataKey={`${task}-ci`} width={4} stroke="#1d2330" />
            </Bar>
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

/** Final accuracy against peak memory of the study's own cells (one setting, so comparable): one
 * panel per task, one labelled point per method with its 95% interval over seeds. */
function AccuracyVsMemory({ study }: { study: LoadedStudy }) {
  const cells = studyModelCells(study).filter((c) => c.model === studyModelCells(study)[0]?.model);
  const tasks = [...new Set(cells.map((c) => c.task))];
  // Tight on memory (the methods differ by tens of MiB), full range on accuracy (never exaggerated).
  const mib = cells.map((c) => c.peakBytes / 2 ** 20);
  const step = 25;
  const memoryDomain = [Math.max(0, Math.floor(Math.min(...mib) / step) * step - step), Math.ceil(Math.max(...mib) / step) * step + step];
  return (
    <div className="small-multiples">
      {tasks.map((task) => (
        <figure key={task} className="small-multiple">
          <figcaption>{studyTaskName(task)}</figcaption>
          <div role="img" aria-label={`Final accuracy against peak training memory of each method on ${studyTaskName(task)}`}>
            <ResponsiveContainer width="100%" height={HEIGHT}>
              <ScatterChart margin={{ top: 10, right: 16, bottom: 14, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis type="number" dataKey="memory" name="Peak memory" domain={memoryDomain} fontSize={12} tickFormatter={(v: number) => `${Math.round(v)}`} label={{ value: 'peak memory (MiB)', position: 'insideBottom', offset: -8, fontSize: 12 }} />
                <YAxis type="number" dataKey="accuracy" name="Final accuracy" domain={[0, 1]} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} fontSize={12} width={44} />
                <ZAxis range={[60, 60]} />
                <Tooltip formatter={(value, name) => (name === 'Final accuracy' ? formatPercent(Number(value)) : `${Number(value).toFixed(1)} MiB`)} />
                {METHOD_IDS.map((method) => {
                  const data = cells
                    .filter((c: StudyCell) => c.task === task && c.method === method)
                    .map((c) => ({ memory: c.peakBytes / 2 ** 20, accuracy: c.finalAccuracy.mean, ci: [c.finalAccuracy.mean - Math.max(0, c.finalAccuracy.low), Math.min(1, c.finalAccuracy.high) - c.finalAccuracy.mean] }));
                  return (
                    <Scatter key={method} name={METHOD_SHORT_NAMES[method]} data={data} fill={METHOD_COLORS[method]} isAnimationActive={false}>
                      <ErrorBar dataKey="ci" direction="y" width={4} stroke={METHOD_COLORS[method]} />
                    </Scatter>
                  );
                })}
              </ScatterChart>
            </ResponsiveContainer>
          </div>
        </figure>
      ))}
      <SwatchLegend entries={METHOD_IDS.map((method) => ({ key: method, color: METHOD_COLORS[method], label: METHOD_SHORT_NAMES[method] }))} />
      <p className="muted small">Each point: a method’s mean final accuracy over seeds (bar: 95% interval) against its analytic peak memory, both in the study result’s own setting.</p>
    </div>
  );
}

/** Peak memory and FLOPs of each method relative to full fine-tuning, per model; GaLore's FLOPs on
 * a step that recomputes its projectors (the decomposition whole, not amortised). */
function CostRelativeToFft({ profiled }: { profiled: Profiled }) {
  const relative = (model: ModelId, method: MethodId, what: 'memory' | 'flops') => {
    const profile = profiled[model]?.byMethod[method];
    const fft = profiled[model]?.byMethod.fft;
    if (!profile || !fft) return 0;
    if (what === 'memory') return profile.memory.analytic.peak.total / fft.memory.analytic.peak.total;
    const flops = profile.flops.correct;
    return (flops.total - flops.byPhase.projection + flops.projectorRefresh) / fft.flops.correct.total;
  };
  const panels = [
    { what: 'memory' as const, title: 'Peak memory ÷ FFT’s' },
    { what: 'flops' as const, title: 'FLOPs per step ÷ FFT’s (GaLore: a projector-refresh step)' },
  ];
  const max = Math.max(...panels.flatMap(({ what }) => CONTRAST_MODELS.flatMap((model) => METHOD_IDS.map((method) => relative(model, method, what)))));
  const top = Math.ceil(max * 4) / 4;
  return (
    <div className="small-multiples">
      {panels.map(({ what, title }) => (
        <figure key={what} className="small-multiple">
          <figcaption>{title}</figcaption>
          <div role="img" aria-label={`${title} of each method on MobileNetV2 and ResNet-18`}>
            <ResponsiveContainer width="100%" height={HEIGHT}>
              <BarChart data={METHOD_IDS.map((method) => ({ method: METHOD_SHORT_NAMES[method], ...Object.fromEntries(CONTRAST_MODELS.map((model) => [model, relative(model, method, what)])) }))} margin={{ top: 6, right: 8, bottom: 0, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="method" interval={0} fontSize={12} />
                <YAxis domain={[0, top]} fontSize={12} width={48} tickFormatter={(v: number) => `${Number(v.toFixed(2))}×`} />
                <Tooltip formatter={(value, name) => [`${Number(value).toFixed(2)}×`, MODEL_NAMES[name as ModelId] ?? String(name)]} />
                {CONTRAST_MODELS.map((model, i) => (
                  <Bar key={model} dataKey={model} name={model} fill={MODEL_COLORS[i]} isAnimationActive={false} />
                ))}
              </BarChart>
            </ResponsiveContainer>
          </div>
        </figure>
      ))}
      <SwatchLegend entries={CONTRAST_MODELS.map((model, i) => ({ key: model, color: MODEL_COLORS[i], label: MODEL_NAMES[model] }))} />
    </div>
  );
}

/** Peak memory of each method by how the frozen base is stored (fp32, int8, NF4), one panel per
 * model on one scale; FFT and GaLore update the base, so they have an fp32 bar only. */
function MemoryByFormat({ profiled }: { profiled: Profiled }) {
  const peakOf = (model: ModelId, method: MethodId, format: FrozenWeightFormat) => {
    const profile = format === 'fp32' ? profiled[model]?.byMethod[method] : frozenWeightsProblem(method, format) ? undefined : profiled[quantizedKey(model, format)]?.byMethod[method];
    return profile?.memory.analytic.peak.total;
  };
  const all = VIT_CONTRAST_MODELS.flatMap((model) => METHOD_IDS.flatMap((method) => FROZEN_WEIGHT_FORMATS.map((format) => peakOf(model, method, format) ?? 0)));
  const scale = byteScale(Math.max(...all));
  const ticks = niceTicks(Math.max(...all) / scale.divisor);
  return (
    <div className="small-multiples">
      {VIT_CONTRAST_MODELS.map((model) => (
        <figure key={model} className="small-multiple" data-testid={`finding-format-${model}`}>
          <figcaption>{MODEL_NAMES[model]}</figcaption>
          <div role="img" aria-label={`Peak memory of each method by frozen-weights format on ${MODEL_NAMES[model]}`}>
            <ResponsiveContainer width="100%" height={HEIGHT}>
              <BarChart
                data={METHOD_IDS.map((method) => ({ method: methodShortName(method, model), ...Object.fromEntries(FROZEN_WEIGHT_FORMATS.map((format) => [format, (peakOf(model, method, format) ?? Number.NaN) / scale.divisor])) }))}
                margin={{ top: 6, right: 8, bottom: 0, left: 0 }}
              >
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="method" interval={0} fontSize={12} />
                <YAxis {...unitAxis(scale, ticks)} />
                <Tooltip formatter={(value, name) => [formatBytes(Number(value) * scale.divisor), FROZEN_WEIGHTS_NAMES[name as keyof typeof FROZEN_WEIGHTS_NAMES] ?? String(name)]} />
                {FROZEN_WEIGHT_FORMATS.map((format, i) => (
                  <Bar key={format} dataKey={format} name={format} fill={FORMAT_COLORS[i]} isAnimationActive={false} />
                ))}
              </BarChart>
            </ResponsiveContainer>
          </div>
        </figure>
      ))}
      <SwatchLegend entries={FROZEN_WEIGHT_FORMATS.map((format, i) => ({ key: format, color: FORMAT_COLORS[i], label: FROZEN_WEIGHTS_NAMES[format] }))} />
      <p className="muted small">FFT and GaLore update the base weights themselves, so they cannot train on a quantized base: one fp32 bar each. int8 and NF4 store blocks of 64 weights with a float32 absmax scale each.</p>
    </div>
  );
}

const FORMAT_COLORS = ['#4c78a8', '#f58518', '#b279a2'];

/** A quantized base's cells of a loaded study (mean final accuracy, 95% interval over seeds), beside
 * the same model's, task's and method's fp32 cell; or why there are none. */
function QuantizedAccuracy({ study }: { study: LoadedStudy | null }) {
  const quantized = study?.report.cells.filter((c) => c.frozenWeights && c.seeds.length > 0) ?? [];
  if (!study || quantized.length === 0) {
    return <p className="muted small" data-testid="quantized-accuracy-pending">Accuracy: {study ? 'the loaded study result has no quantized-base cells' : 'no study result is loaded'} (npm run study -- --methods lora --frozen-weights fp32,int8,nf4).</p>;
  }
  const rows = study.report.cells.filter((c) => c.seeds.length > 0 && quantized.some((q) => q.model === c.model && q.task === c.task && q.method === c.method && q.rank === c.rank));
  return (
    <table className="runs-table" aria-label="Final accuracy by frozen-weights format (study result)" data-testid="quantized-accuracy">
      <thead>
        <tr>
          <th scope="col">model</th>
          <th scope="col">task</th>
          <th scope="col">method</th>
          <th scope="col">base</th>
          <th scope="col">final accuracy [95% CI]</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((c) => (
          <tr key={`${c.model}/${c.task}/${c.method}/${c.rank}/${c.frozenWeights ?? 'fp32'}`}>
            <td>{MODEL_NAMES[c.model]}</td>
            <td>{studyTaskName(c.task)}</td>
            <td>{methodShortName(c.method, c.model)}{c.rank === null ? '' : ` r=${c.rank}`}</td>
            <td>{c.frozenWeights ?? 'fp32'}</td>
            <td>
              {formatPercent(c.finalAccuracy.mean)} [{formatPercent(Math.max(0, c.finalAccuracy.low))}, {formatPercent(Math.min(1, c.finalAccuracy.high))}]
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The two models of the contrast, in every card that compares them. */
const MODEL_COLORS = ['#54a24b', '#4c78a8'];

/** The chart a card names; what it cannot draw yet (profiles or a study result on the way) it says. */
export function FindingChartView({ chart, profiled, study }: { chart: FindingChart; profiled: Profiled; study: LoadedStudy | null }) {
  const profilesReady = CONTRAST_MODELS.every((model) => profiled[model]);
  switch (chart) {
    case 'memory_contrast':
      return profilesReady ? <MemoryPanels profiled={profiled} highlight={['fft', 'lora']} /> : <Pending what="Profiling every method on MobileNetV2 and ResNet-18…" />;
    case 'vit_memory':
      return (
        <>
          {VIT_CONTRAST_MODELS.every((model) => profiled[model]) ? <MemoryPanels profiled={profiled} highlight={['fft', 'lora', 'dora', 'bn_head']} models={VIT_CONTRAST_MODELS} /> : <Pending what="Profiling every method on MobileNetV2, ResNet-18 and ViT-Tiny…" />}
          <VitAccuracy study={study} />
        </>
      );
    case 'memory_by_format':
      return (
        <>
          {VIT_CONTRAST_MODELS.every((model) => profiled[model] && QUANTIZED_FORMATS.every((format) => profiled[quantizedKey(model, format)])) ? (
            <MemoryByFormat profiled={profiled} />
          ) : (
            <Pending what="Profiling every method on fp32, int8 and NF4 bases…" />
          )}
          <QuantizedAccuracy study={study} />
        </>
      );
    case 'memory_by_method':
      return profilesReady ? <MemoryPanels profiled={profiled} highlight={['lora', 'dora']} /> : <Pending what="Profiling every method on MobileNetV2 and ResNet-18…" />;
    case 'cost_vs_fft':
      return profilesReady ? <CostRelativeToFft profiled={profiled} /> : <Pending what="Profiling every method on MobileNetV2 and ResNet-18…" />;
    case 'flop_ratio':
      return profilesReady ? <FlopRatio profiled={profiled} /> : <Pending what="Counting FLOPs…" />;
    case 'peak_shares':
      return profilesReady ? <PeakShares profiled={profiled} /> : <Pending what="Profiling…" />;
    case 'accuracy_by_task':
      return study ? <AccuracyByTask study={study} /> : <Pending what="No study result is loaded: the accuracy half is pending (npm run study)." />;
    case 'accuracy_vs_memory':
      return study ? <AccuracyVsMemory study={study} /> : <Pending what="No study result is loaded: the accuracy half is pending (npm run study)." />;
  }
}

function Pending({ what }: { what: string }) {
  return (
    <p className="muted" aria-live="polite">
      {what}
    </p>
  );
}
