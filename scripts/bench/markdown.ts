// The Markdown report: the JSON's numbers in human units, for a reader who will not open the JSON.
import type { KernelTime } from '../../src/core/baselines/stepTiming';
import { FLOP_PHASES, MEMORY_GROUPS } from '../../src/core/ids';
import type { GroupSummary } from '../../src/core/profile/profile';
import { formatDuration, formatGflop, formatMiB, formatMs, formatPercent, formatRate, formatRatio } from './format';
import { formatClaimValue } from '../../src/lab/costClaims';
import type { BenchReport, CellRecord, SoakRecord } from './report';
import { torchCellFor } from './torch';
import { NO_UI_RUN_IN_NODE, type UiRunRecord } from './uiRun';
import { LONG_TASK_MS } from './longTasks';

/** Issue 3's targets for the lab core against the tf.layers build. */
export const PEER_TARGETS = { stepTime: 5, peakMemory: 4 } as const;

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function cellLabel(cell: CellRecord): string {
  const label = cell.rank === null ? `${cell.model} ${cell.method}` : `${cell.model} ${cell.method} r${cell.rank}`;
  // A cell's own options (grid.ts's cellId, after its @): "vit_tiny lora r4 (w0.25,d4)", "… (int8)".
  const own = cell.id.split('@')[1];
  return own ? `${label} (${own})` : label;
}

const KERNELS_SHOWN = 8;

/** The slowest kernels of a profiled step (by count where the backend could not time them). */
function kernelLine(kernels: readonly KernelTime[]): string {
  const timed = kernels.some((kernel) => kernel.totalMs > 0);
  const shown = timed ? kernels.slice(0, KERNELS_SHOWN) : [...kernels].sort((a, b) => b.count - a.count).slice(0, KERNELS_SHOWN);
  return shown.map((kernel) => (timed ? `${kernel.name} ${formatMs(kernel.totalMs)} (${kernel.count}×)` : `${kernel.name} ${kernel.count}×`)).join(', ');
}

function groups(summary: GroupSummary): string {
  return MEMORY_GROUPS.map((group) => `${group.toUpperCase()} ${formatMiB(summary[group], 1)}`).join(', ');
}

/** PyTorch's step for the same network, method, rank and batch beside each lab cell (`--torch`). */
function torchSection(report: BenchReport, measured: readonly CellRecord[]): string[] {
  const torch = report.torch;
  if (!torch) return [];
  const devices = [...new Set(report.runs.map((run) => run.device))].join(', ');
  const labOnCpu = report.runs.some(({ environment: { backend } }) => backend.backend !== 'webgpu' || backend.adapter?.architecture === 'swiftshader');
  const out = ['## PyTorch beside the lab', ''];
  out.push(
    `PyTorch ${torch.torchVersion} (torchvision ${torch.torchvisionVersion}${torch.peftVersion ? `, peft ${torch.peftVersion}` : ''}) on **${torch.deviceKind}** (${torch.device}), ` +
      `float32, one step = forward, backward and Adam, timed to the loss's read-back (scripts/fixtures/torch_step_timing.py, ${torch.createdAt.slice(0, 10)}). ` +
      `The lab ran on ${devices}. ` +
      (torch.deviceKind !== 'cuda'
        ? '**PyTorch ran on the CPU: this is no GPU comparison** of step times' + (torch.matmul ? '; each side\'s fraction of its own matmul still reads alike on any device.' : ', only a check that the script and the join work.')
        : labOnCpu
          ? '**The lab ran on the CPU (SwiftShader or no WebGPU): this is no GPU comparison.**'
          : 'Both on a GPU: lab ÷ PyTorch is how many times as long the lab\'s WebGPU step takes as PyTorch\'s CUDA step.'),
  );
  const matmul = torch.matmul;
  if (matmul) {
    out.push('');
    out.push(
      `Each side's step as a fraction of its own matmul (the same cell's correct-convention FLOPs per step, over the step, over a ${matmul.size}³ float32 matmul on the same device): ` +
        `the lab's over its in-run roofline, PyTorch's over its own ${matmul.size}³ matmul, ${formatRate(matmul.gflopPerSecond)} (median of ${matmul.samples}). ` +
        'How far a network\'s step is from a large matmul is set by its memory-bound ops (depthwise convs, batch norms, elementwise passes) as much as by the framework.',
    );
  }
  out.push('');
  out.push(
    table(
      ['cell', 'lab median step', 'PyTorch median step', 'lab ÷ PyTorch', ...(matmul ? ['lab: of its matmul', 'PyTorch: of its matmul'] : []), 'trainable params (lab / PyTorch)', 'PyTorch method'],
      measured.map((cell) => {
        const t = torchCellFor(torch, cell);
        const lab = cell.throughput?.medianStepMs ?? null;
        const torchMs = t?.medianStepMs ?? null;
        const flops = cell.result?.analytic.flops.correct.total ?? null;
        const torchFraction = matmul && flops !== null && torchMs !== null ? flops / (torchMs / 1000) / (matmul.gflopPerSecond * 1e9) : null;
        return [
          cellLabel(cell),
          lab === null ? '—' : formatMs(lab),
          cell.frozenWeights ? `no twin: PyTorch's step is float32, this base ${cell.frozenWeights}` : t?.error ? `not timed: ${t.error}` : torchMs === null ? 'not in the file' : formatMs(torchMs),
          lab !== null && torchMs !== null ? formatRatio(lab / torchMs) : '—',
          ...(matmul
            ? [
                cell.throughput ? formatPercent(cell.throughput.fractionOfMatmulRate, 2) : '—',
                torchFraction === null ? '—' : formatPercent(torchFraction, 2),
              ]
            : []),
          `${cell.result?.analytic.params.trainable.toLocaleString('en-US') ?? '—'} / ${t?.trainableParams?.toLocaleString('en-US') ?? '—'}`,
          t?.implementation ?? '—',
        ];
      }),
    ),
  );
  out.push('');
  return out;
}

/** Issue 18's targets for the page: the first screen's JS+CSS (gzip) and first contentful paint. */
export const FIRST_SCREEN_TARGETS = { gzipBytes: 250 * 1024, fcpMs: 1000 } as const;

/** The UI run's paragraphs: long tasks and where their time went, then the first screens. */
export function uiRunLines(ui: UiRunRecord): string[] {
  const out = [
    `The lab's page at its defaults with batch ${ui.settings.batch}, ${ui.settings.epochs} epoch and ${ui.settings.trainingImages} training images, ` +
      `started with its Start button: ${ui.steps} steps in ${ui.seconds.toFixed(1)} s (evaluation included). Main-thread tasks over 50 ms ` +
      `(Long Tasks API) from Start to the end of the run: **${ui.longTasks.count}**, longest ${ui.longTasks.longestMs.toFixed(0)} ms, ` +
      `${ui.longTasks.totalMs.toFixed(0)} ms in all (goal: none; training runs in a worker).`,
  ];
  const at = ui.attribution;
  if (at) {
    const libraries = Object.entries(at.total.libraryScript).sort((a, b) => b[1] - a[1]);
    const row = (name: string, ms: number) => [name, formatMs(ms), at.totalMs > 0 ? formatPercent(ms / at.totalMs) : '—'];
    out.push(
      '',
      `The same span in a Chromium trace: **${at.count}** main-thread tasks over 50 ms (longest ${formatMs(at.longestMs)}, ${formatMs(at.totalMs)} in all), ` +
        `their time split by what ran (trace events; script time shared out by the V8 profiler's samples per chunk). ` +
        `The app's own script is the target: none.` +
        (at.totalThreadMs !== null && at.count > 0
          ? ` Of their ${formatMs(at.totalMs)} the main thread ran ${formatMs(at.totalThreadMs)} on a core (the trace's thread clock); ` +
            'the rest it waited for one, which SwiftShader\'s threads (WebGPU on the CPU) keep busy: a sampled function\'s time below includes such waits. ' +
            `Tasks whose own work (thread clock) passed ${LONG_TASK_MS} ms: **${at.tasks.filter((task) => (task.threadMs ?? 0) > LONG_TASK_MS).length}**.`
          : ''),
      '',
      table(
        ['in long tasks', 'time', 'share'],
        [
          row('**the app\'s own script**', at.total.appScript),
          ...libraries.map(([chunk, ms]) => row(`library script: ${chunk}`, ms)),
          row('other script (builtins, unsampled)', at.total.otherScript),
          row('style, layout, paint', at.total.styleLayoutPaint),
          row('garbage collection', at.total.gc),
          row('other', at.total.other),
        ],
      ),
    );
    const withApp = at.tasks.filter((task) => (task.appFunctions ?? []).length > 0);
    if (withApp.length > 0) {
      out.push('', "The app's own functions in those tasks (self time from the profiler's samples, the longest first):", '');
      for (const task of withApp) {
        const functions = (task.appFunctions ?? []).map((f) => `\`${f.name}\` ${formatMs(f.ms)}`).join(', ');
        const ran = task.threadMs === null ? '' : `, ${formatMs(task.threadMs)} of it on a core`;
        out.push(`- task at ${formatMs(task.startMs)} (${formatMs(task.durationMs)}${ran}): ${functions}`);
      }
    }
  } else if (at === null) out.push('', 'No trace: Chromium did not start tracing.');
  const screens = ui.firstScreens ?? [];
  if (screens.length > 0) {
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
    out.push(
      '',
      `First screens, fresh visits served from localhost (median first contentful paint of 3 loads; target < ${FIRST_SCREEN_TARGETS.fcpMs} ms), ` +
        `and the page's JS and CSS fetched until its first chart was drawn (target ≤ ${kib(FIRST_SCREEN_TARGETS.gzipBytes)} gzip); worker scripts apart.`,
      '',
      table(
        ['address', 'first contentful paint', 'JS+CSS raw', 'JS+CSS gzip', 'files', 'workers fetched'],
        screens.map((screen) =>
          screen.error
            ? [`\`${screen.path}\``, `failed: ${screen.error}`, '', '', '', '']
            : [
                `\`${screen.path}\``,
                `**${formatMs(screen.medianFcpMs)}** (${screen.fcpMs.map((ms) => ms.toFixed(0)).join(', ')} ms)`,
                kib(screen.rawBytes),
                `**${kib(screen.gzipBytes)}**`,
                screen.files.map((file) => `${file.path.replace(/^assets\//, '')} ${kib(file.gzipBytes)}`).join(', '),
                screen.workerFiles.map((file) => `${file.path.replace(/^assets\//, '')} ${kib(file.rawBytes)} raw`).join(', ') || 'none',
              ],
        ),
      ),
    );
  }
  return out;
}

/** Growth in bytes, exact and signed: a leak of one small tensor a step is a few hundred bytes. */
const signedBytes = (bytes: number | null) => (bytes === null ? '—' : `${bytes > 0 ? '+' : ''}${bytes.toLocaleString('en-US')} B`);

function soakLines(soak: SoakRecord | null): string[] {
  const out = ['## Soak: memory over many steps', ''];
  if (!soak) return [...out, 'Not run (`--soak 0`, `--core-only`, or a shard other than the first).', ''];
  const first = soak.cells.find((cell) => cell.result)?.result?.request;
  if (first) {
    const { width, resolution } = first.model;
    out.push(
      `MobileNetV2 width ${width}, ${resolution}×${resolution}, batch ${first.batch}, ${soak.steps} steps of each method, a new seeded batch each step; ` +
        `tf.memory() after every ${first.sampleEvery === 1 ? 'step' : `${first.sampleEvery} steps`} (the series is in the JSON). Growth is the last sample minus the first at or after the ` +
        `${first.warmupSteps} warm-up steps; **flat** means none in tensors, bytes, GPU bytes in use or GPU bytes allocated (pool included).`,
    );
    out.push('');
  }
  out.push(
    table(
      ['method', 'verdict', 'samples', 'from → to step', 'tensors', 'bytes', 'GPU in use', 'GPU allocated', 'tensors at the end', 'median step', 'loss first → last'],
      soak.cells.map(({ method, rank, result, error }) => {
        const label = rank === null ? method : `${method} r${rank}`;
        if (!result) return [label, `failed: ${error}`, '—', '—', '—', '—', '—', '—', '—', '—', '—'];
        const { growth } = result;
        const last = result.samples[result.samples.length - 1];
        return [
          label,
          result.flat ? '**flat**' : '**grows**',
          String(result.samples.length),
          `${growth.fromStep} → ${growth.toStep}`,
          `${growth.tensors > 0 ? '+' : ''}${growth.tensors}`,
          signedBytes(growth.bytes),
          signedBytes(growth.bytesInGPU),
          signedBytes(growth.bytesAllocatedInGPU),
          `${last.numTensors} (${formatMiB(last.numBytes)})`,
          formatMs(result.medianStepMs),
          `${result.firstLoss.toFixed(3)} → ${result.lastLoss.toFixed(3)}`,
        ];
      }),
    ),
  );
  out.push('');
  return out;
}

export function renderMarkdown(report: BenchReport): string {
  const out: string[] = [];
  const { settings } = report.grid;
  out.push(`# PEFT Edge Lab benchmark — ${report.runs[0]?.startedAt.slice(0, 10) ?? report.createdAt.slice(0, 10)}`);
  out.push('');
  out.push(
    `Grid (${report.preset}): ${report.grid.models.length === 0 ? 'none, only cells with options of their own (after the @ of their names)' : `${report.grid.models.join(', ')} × ${report.grid.methods.join(', ')} × ranks ${report.grid.ranks.join(', ')}`}; ` +
      `width ${settings.width}, ${settings.resolution}×${settings.resolution}, ${settings.stem} stem, ${settings.numClasses} classes, batch ${settings.batch}; ` +
      `Adam (lr ${settings.learningRate}; GaLore: projected Adam); ${settings.warmup} warm-up + ${settings.steps} timed steps per cell (median), then one step under tf.profile; seed ${settings.seed}.`,
  );
  out.push('');

  out.push('## Browser and device');
  out.push('');
  report.runs.forEach((run, index) => {
    const adapter = run.environment.backend.adapter;
    const adapterText = adapter
      ? `vendor "${adapter.vendor}", architecture "${adapter.architecture}", device "${adapter.device}", description "${adapter.description}", timestamp-query ${adapter.timestampQuery ? 'yes' : 'no'}`
      : 'none';
    const shard = run.shard ? ` (shard ${run.shard.index}/${run.shard.count})` : '';
    out.push(`- Run ${index + 1}${shard}: backend **${run.environment.backend.backend}**, adapter: ${adapterText}`);
    out.push(`  - User agent: ${run.environment.userAgent}; tfjs ${run.environment.tfjsVersion}; ${run.environment.hardwareConcurrency} logical CPUs`);
    if ('runtime' in run.environment) out.push(`  - Runtime: **${run.environment.runtime}** (${run.environment.webgpuPackage}, no browser); Vulkan driver: ${run.environment.vulkanDriver.note}`);
    out.push(`  - ${run.startedAt} → ${run.finishedAt} (${formatDuration(Date.parse(run.finishedAt) - Date.parse(run.startedAt))})`);
    out.push(
      `  - In-run roofline: ${run.roofline.size}×${run.roofline.size} matmul at **${formatRate(run.roofline.gflopPerSecond)}** ` +
        `(median of ${run.roofline.sampleMs.length} samples of ${run.roofline.matmulsPerSample} matmul(s), ${formatMs(run.roofline.medianSampleMs)} each` +
        (run.roofline.byKernel
          ? `; the faster of the lab engine's matmul, ${formatRate(run.roofline.byKernel.lab)}, and tfjs's tf.matMul, ${formatRate(run.roofline.byKernel.tfjs)})`
          : ')'),
    );
  });
  out.push('');

  const measured = report.cells.filter((cell): cell is CellRecord & { result: NonNullable<CellRecord['result']> } => cell.result !== null);
  out.push('## Cells');
  out.push('');
  out.push(
    'Peak memory: the analytic profiler\'s simultaneous peak in the lab\'s view, its sum of group maxima in PyTorch\'s view (the study\'s convention), ' +
      'and the measured tf.profile peak (every tensor alive in the page, the batch included). FLOPs per step from the analytic profiler; ' +
      'achieved rate = correct-convention FLOPs ÷ median step time; "of matmul" = that rate ÷ the in-run matmul rate (the roofline), ' +
      '"of tf.matMul" = that rate ÷ tfjs\'s own matmul rate in the same run. ' +
      '"First step" is the cell\'s first warm-up step: it compiles the WebGPU pipelines that no earlier cell of the page compiled ' +
      '(cells run in order in one page; a user\'s first step of a run in a fresh tab pays what the first cell pays).',
  );
  out.push('');
  out.push(
    table(
      ['cell', 'trainable params', 'peak (lab, simultaneous)', 'sum of maxima (PyTorch view)', 'measured peak (tf.profile)', 'FLOPs/step (correct)', 'FLOPs/step (PyTorch counter)', 'first step', 'median step', 'achieved', 'of matmul', 'of tf.matMul'],
      measured.map((cell) => {
        const { analytic, measured: m } = cell.result;
        const throughput = cell.throughput;
        return [
          cellLabel(cell),
          analytic.params.trainable.toLocaleString('en-US'),
          formatMiB(analytic.memory.analytic.peak.total),
          formatMiB(analytic.memory.pytorch.sumOfGroupMaxima.total),
          formatMiB(m.profile.peakBytes),
          formatGflop(analytic.flops.correct.total),
          formatGflop(analytic.flops.torchConvention.total),
          cell.result.timing.warmupMs.length > 0 ? formatMs(cell.result.timing.warmupMs[0]) : '—',
          throughput ? formatMs(throughput.medianStepMs) : '—',
          throughput ? formatRate(throughput.achievedGflopPerSecond) : '—',
          throughput ? formatPercent(throughput.fractionOfMatmulRate, 2) : '—',
          throughput ? formatPercent(throughput.fractionOfTfjsMatmulRate ?? throughput.fractionOfMatmulRate, 2) : '—',
        ];
      }),
    ),
  );
  const failed = report.cells.filter((cell) => cell.error !== null);
  if (failed.length > 0) {
    out.push('');
    out.push('Failed cells:');
    for (const cell of failed) out.push(`- ${cellLabel(cell)}: ${cell.error}`);
  }
  out.push('');

  out.push('### Memory by group');
  out.push('');
  out.push(
    table(
      ['cell', 'simultaneous peak (lab view)', 'sum of group maxima (lab view)', 'sum of group maxima (PyTorch view)', 'measured PARAM / GRAD / OPT (live tensors)', 'engine after steps', 'GPU allocated (pool incl.)'],
      measured.map((cell) => {
        const { analytic, measured: m } = cell.result;
        const allocated = m.memoryAfterSteps.numBytesAllocatedInGPU;
        return [
          cellLabel(cell),
          `${formatMiB(analytic.memory.analytic.peak.total)}: ${groups(analytic.memory.analytic.peak)}`,
          `${formatMiB(analytic.memory.analytic.sumOfGroupMaxima.total)}: ${groups(analytic.memory.analytic.sumOfGroupMaxima)}`,
          `${formatMiB(analytic.memory.pytorch.sumOfGroupMaxima.total)}: ${groups(analytic.memory.pytorch.sumOfGroupMaxima)}`,
          `${formatMiB(m.staticBytes.param)} / ${formatMiB(m.staticBytes.grad)} / ${formatMiB(m.staticBytes.opt)}`,
          `${formatMiB(m.memoryAfterSteps.numBytes)} in ${m.memoryAfterSteps.numTensors} tensors`,
          allocated === undefined ? '—' : formatMiB(allocated),
        ];
      }),
    ),
  );
  out.push('');
  out.push(
    'Measured by group: one more step watched kernel by kernel, every live tensor attributed to a group (parameters and optimizer ' +
      'state by identity, returned gradients, what the tape keeps for the backward, the rest TEMP); measured ÷ analytic (lab view) beside it.',
  );
  out.push('');
  out.push(
    table(
      ['cell', 'measured simultaneous peak', 'measured sum of group maxima', 'peak at', 'measured ÷ analytic (peak, sum of maxima)', 'GPU allocated during the step (pool incl.)'],
      measured.map((cell) => {
        const { analytic, measured: m } = cell.result;
        const tracker = m.tracker;
        const ratio = (a: number, b: number) => formatRatio(a / b);
        return [
          cellLabel(cell),
          `${formatMiB(tracker.peak.total)}: ${groups(tracker.peak)}`,
          `${formatMiB(tracker.sumOfGroupMaxima.total)}: ${groups(tracker.sumOfGroupMaxima)}`,
          `${tracker.peakAt.phase}, ${tracker.peakAt.op}`,
          `${ratio(tracker.peak.total, analytic.memory.analytic.peak.total)}, ${ratio(tracker.sumOfGroupMaxima.total, analytic.memory.analytic.sumOfGroupMaxima.total)}`,
          tracker.allocatedBytes === undefined ? '—' : formatMiB(tracker.allocatedBytes),
        ];
      }),
    ),
  );
  out.push('');

  out.push('### Kernels');
  out.push('');
  out.push(
    'Kernels the engine ran in the profiled step (tf.profile: reshapes and identities too), the compute dispatches they recorded on WebGPU ' +
      '(on a GPU, where a step of these networks is bound by per-dispatch overhead, the number that sets the pace), and the slowest kernels ' +
      '(times from WebGPU timestamp queries, where the adapter has them).',
  );
  out.push('');
  out.push(
    table(
      ['cell', 'kernels/step', 'dispatches/step', 'slowest'],
      measured.map((cell) => [cellLabel(cell), String(cell.result.measured.profile.kernelCount), String(cell.result.measured.profile.dispatches), kernelLine(cell.result.measured.profile.kernelsByName)]),
    ),
  );
  out.push('');
  out.push(...dispatchSection(measured));

  out.push('### FLOPs by phase');
  out.push('');
  out.push(
    table(
      ['cell', 'convention', ...FLOP_PHASES, 'total'],
      measured.flatMap((cell) =>
        (['correct', 'torchConvention'] as const).map((convention) => {
          const flops = cell.result.analytic.flops[convention];
          return [cellLabel(cell), convention === 'correct' ? 'correct' : 'PyTorch counter', ...FLOP_PHASES.map((phase) => formatGflop(flops[phase])), formatGflop(flops.total)];
        }),
      ),
    ),
  );
  out.push('');

  if (report.torch) out.push(...torchSection(report, measured));

  out.push('## Peer baseline: lab core vs tf.layers');
  out.push('');
  const peer = report.baseline;
  if (!peer) {
    out.push('Not run (no mobilenet_v2 in the grid, or --no-baseline).');
  } else {
    const { width, resolution, stem, numClasses } = peer.modelOptions;
    out.push(
      `MobileNetV2 width ${width}, ${resolution}×${resolution}, ${stem} stem, ${numClasses} classes, batch ${peer.batch}, Adam, full fine-tuning; ` +
        `the lab core (cell ${peer.coreCellId}) and the same network built with tf.layers (autodiff batch norm, optimizer.minimize), one after the other in the same page. ` +
        `Ratios are tf.layers ÷ lab core: above 1 means the core is better.`,
    );
    out.push('');
    const meets = (ratio: number, target: number) => (ratio >= target ? `meets ≥ ${target}×` : `below the ${target}× target`);
    out.push(
      table(
        ['', 'lab core', 'tf.layers', 'ratio (tf.layers ÷ core)'],
        [
          ['median step time', formatMs(peer.core.medianStepMs), formatMs(peer.tfLayers.medianStepMs), `**${formatRatio(peer.ratio.stepTime)}** (${meets(peer.ratio.stepTime, PEER_TARGETS.stepTime)})`],
          ['peak bytes (tf.profile)', formatMiB(peer.core.peakBytes), formatMiB(peer.tfLayers.peakBytes), `**${formatRatio(peer.ratio.peakMemory)}** (${meets(peer.ratio.peakMemory, PEER_TARGETS.peakMemory)})`],
          ...(peer.ratio.peakBuffers !== null
            ? [['peak GPU bytes in use (each buffer once)', formatMiB(peer.core.peakBufferBytes ?? 0), formatMiB(peer.tfLayers.peakBufferBytes ?? 0), formatRatio(peer.ratio.peakBuffers)]]
            : []),
          ['added by the step at its peak', formatMiB(peer.core.stepPeakAddedBytes), formatMiB(peer.tfLayers.stepPeakAddedBytes), formatRatio(peer.ratio.stepPeakAdded)],
        ],
      ),
    );
    out.push('');
    out.push(
      "tf.profile's peak counts a buffer once per tensor object holding it: what the gradient tape saves is a clone sharing the buffer, " +
        'and a reshape is another object, so a buffer kept for two backward ops counts two or three times; ' +
        "the GPU's bytes in use count each buffer once, as the device holds it (both sides alike).",
    );
    out.push('');
    out.push(
      `Kernels per step: lab core ${peer.core.kernelCount}, tf.layers ${peer.tfLayers.result.profile.kernelCount}; ` +
        `compute dispatches per step: lab core ${peer.core.dispatches}, tf.layers ${peer.tfLayers.result.profile.dispatches}.`,
    );
    out.push(`- lab core: ${kernelLine(report.cells.find((cell) => cell.id === peer.coreCellId)?.result?.measured.profile.kernelsByName ?? [])}`);
    out.push(`- tf.layers: ${kernelLine(peer.tfLayers.result.profile.kernelsByName)}`);
  }
  out.push('');

  out.push('## Main thread during a UI run');
  out.push('');
  const ui = report.uiRun;
  if (!ui && report.runs.every((run) => 'runtime' in run.environment)) out.push(`Not run: ${NO_UI_RUN_IN_NODE} (\`--node-webgpu\`).`);
  else if (!ui) out.push('Not run (`--no-ui-run`, `--core-only`, or a shard other than the first).');
  else if (ui.error) out.push(`The UI run failed: ${ui.error}`);
  else out.push(...uiRunLines(ui));
  out.push('');

  out.push(...soakLines(report.soak ?? null));

  out.push('## Reproduction of the study\'s findings');
  out.push('');
  out.push(
    'Each claim (DESIGN.md, "Findings") is checked on each basis: **reproduced** when every lab value lies in the claimed range widened by the tolerance, ' +
      '**contradicted** when one does not, **not comparable** when the cells it needs were not run. FLOP claims are analytic only.',
  );
  out.push('');
  out.push(
    table(
      ['claim', 'study', 'basis', 'lab', 'verdict', 'reason'],
      report.claims.flatMap((claim) =>
        claim.evaluations.map((evaluation) => [
          claim.statement,
          `${claim.expected} (${claim.tolerance})`,
          evaluation.basisLabel,
          evaluation.values.map((v) => `${v.label}: ${formatClaimValue(claim.unit, v.value)}`).join('; ') || '—',
          `**${evaluation.verdict}**`,
          evaluation.reason,
        ]),
      ),
    ),
  );
  out.push('');
  out.push('## Rerun');
  out.push('');
  out.push('```');
  out.push(`npm run bench -- ${report.argv.join(' ')}`.trimEnd());
  out.push('```');
  out.push('');
  return out.join('\n');
}

/** Each cell's compute dispatches of one watched step, by phase and by the layer kind that ran them. */
function dispatchSection(cells: readonly (CellRecord & { result: NonNullable<CellRecord['result']> })[]): string[] {
  const out = ['#### Dispatches by phase and layer kind', ''];
  out.push('One more step watched kernel by kernel (the measured profile), its dispatches attributed to the spec node that ran them; "loss" is the loss and its gradient, "optimizer" the update.');
  out.push('');
  out.push(
    table(
      ['cell', 'forward', 'backward', 'optimizer', 'total', 'by layer kind (forward + backward + optimizer)'],
      cells.map((cell) => {
        const { byPhase, byKind, total } = cell.result.measured.dispatches;
        const kinds = byKind.map((row) => `${row.kind} ${row.total} (${row.byPhase.forward} + ${row.byPhase.backward} + ${row.byPhase.optimizer})`).join(', ');
        return [cellLabel(cell), String(byPhase.forward), String(byPhase.backward), String(byPhase.optimizer), String(total), kinds];
      }),
    ),
  );
  out.push('');
  return out;
}
