// The bench report: JSON types, assembly from a run's measurements, file names, and merging the
// shard files of a split run into one report.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

import type { BackendReport } from '../../src/core/backendInfo';
import type { CoreCellResult, MatmulRate, StepProtocol, TfLayersBaselineResult } from '../../src/core/baselines/benchCells';
import type { UiRunRecord } from './uiRun';
import type { SoakResult } from '../../src/core/baselines/soak';
import type { MethodId, ModelId } from '../../src/core/ids';
import type { ModelOptions, QuantizedFormat } from '../../src/core/models/spec';
import type { BenchEnvironment } from './environment';
import type { ClaimResult } from '../../src/lab/costClaims';
import type { GridSettings, RunPlan, Shard } from './flags';
import { cellId } from './cells';
import { gridCells } from './grid';
import type { TorchTimings } from './torch';

export const REPORT_SCHEMA = 'peft-edge-lab/bench-report@1';

/** Throughput of a cell's timed steps against the analytic FLOPs and the in-run matmul rate. */
export interface CellThroughput {
  medianStepMs: number;
  /** Analytic FLOPs of one step (correct convention, GaLore's decomposition amortised) / median step time. */
  achievedGflopPerSecond: number;
  /** achievedGflopPerSecond ÷ the same run's matmul GFLOP/s (the faster of tfjs's and the lab's). */
  fractionOfMatmulRate: number;
  /** achievedGflopPerSecond ÷ tfjs's tf.matMul GFLOP/s in the same run (the roofline before the lab
   * had a faster matmul; absent in reports from then, where it is fractionOfMatmulRate). */
  fractionOfTfjsMatmulRate?: number;
}

export interface CellRecord {
  id: string;
  model: ModelId;
  method: MethodId;
  rank: number | null;
  modelOptions: ModelOptions;
  batch: number;
  /** GaLore's projector refresh interval (steps), to state its decomposition at a refresh step. */
  galoreUpdateProjGap: number | null;
  /** Index into `runs`: the browser session that measured the cell. */
  run: number;
  result: CoreCellResult | null;
  throughput: CellThroughput | null;
  /** Why the cell has no result. */
  error: string | null;
  /** How the frozen base was stored, where quantized (absent: fp32). */
  frozenWeights?: QuantizedFormat;
}

/** The lab's MobileNetV2 against the same network built with tf.layers, in one page. */
export interface PeerComparison {
  modelOptions: ModelOptions;
  batch: number;
  protocol: StepProtocol;
  run: number;
  coreCellId: string;
  core: { medianStepMs: number; peakBytes: number; peakBufferBytes: number | null; stepPeakAddedBytes: number; kernelCount: number; dispatches: number };
  tfLayers: { medianStepMs: number; peakBytes: number; peakBufferBytes: number | null; stepPeakAddedBytes: number; result: TfLayersBaselineResult };
  /** tf.layers ÷ lab core: above 1 means the core is better. peakMemory uses tf.profile's peakBytes. */
  ratio: { stepTime: number; peakMemory: number; peakBuffers: number | null; stepPeakAdded: number };
}

export interface RunRecord {
  shard: Shard | null;
  startedAt: string;
  finishedAt: string;
  /** Slug of the WebGPU adapter (or backend) that ran it, as in the file name. */
  device: string;
  environment: BenchEnvironment;
  roofline: MatmulRate;
}

export interface BenchReport {
  schema: typeof REPORT_SCHEMA;
  createdAt: string;
  /** The command line's flags, to rerun it. */
  argv: string[];
  preset: RunPlan['preset'];
  grid: { models: ModelId[]; methods: MethodId[]; ranks: number[]; settings: GridSettings; baseline: boolean; matmulSize: number; shardCount: number };
  runs: RunRecord[];
  cells: CellRecord[];
  baseline: PeerComparison | null;
  /** The UI run (main-thread long tasks during a fine-tune in the lab's page); null when skipped. */
  uiRun: UiRunRecord | null;
  claims: ClaimResult[];
  /** Memory over many steps (`--soak`); absent or null when not run. */
  soak?: SoakRecord | null;
  /** PyTorch's step times for the same cells (`--torch`); absent or null when not given. */
  torch?: TorchTimings | null;
}

/** One method's soak: its samples and verdict, or why it failed. */
export interface SoakCell {
  method: MethodId;
  rank: number | null;
  result: SoakResult | null;
  error: string | null;
}

export interface SoakRecord {
  steps: number;
  cells: SoakCell[];
}

/** "google-swiftshader" from the adapter's info; the backend's name when there is no adapter. */
export function deviceSlug(backend: BackendReport): string {
  const adapter = backend.adapter;
  const parts = adapter ? [adapter.vendor, adapter.architecture, adapter.device || adapter.description] : [];
  const slug = parts.join(' ').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return backend.backend === 'webgpu' && slug ? slug : `${backend.backend}${slug ? `-${slug}` : ''}`;
}

export function reportBaseName(report: BenchReport): string {
  const date = report.runs[0]?.startedAt.slice(0, 10) ?? report.createdAt.slice(0, 10);
  const devices = [...new Set(report.runs.map((run) => run.device))].join('+') || 'no-device';
  return `${date}-${devices}`;
}

export function shardFileName(report: BenchReport, shard: Shard): string {
  return `${reportBaseName(report)}.shard-${shard.index}-of-${shard.count}.json`;
}

const SHARD_FILE = /\.shard-(\d+)-of-(\d+)\.json$/;

export function throughputOf(result: CoreCellResult, roofline: MatmulRate): CellThroughput {
  const medianStepMs = result.timing.medianStepMs;
  const achievedGflopPerSecond = result.analytic.flops.correct.total / (medianStepMs * 1e6);
  const tfjsRate = roofline.byKernel?.tfjs ?? roofline.gflopPerSecond;
  return {
    medianStepMs,
    achievedGflopPerSecond,
    fractionOfMatmulRate: achievedGflopPerSecond / roofline.gflopPerSecond,
    fractionOfTfjsMatmulRate: achievedGflopPerSecond / tfjsRate,
  };
}

export function comparePeer(
  core: CellRecord & { result: CoreCellResult },
  tfLayers: TfLayersBaselineResult,
  protocol: StepProtocol,
): PeerComparison {
  const coreSide = {
    // The core's steps timed alternately with tf.layers' (same load on both), where the peer ran them.
    medianStepMs: tfLayers.coreTiming?.medianStepMs ?? core.result.timing.medianStepMs,
    peakBytes: core.result.measured.profile.peakBytes,
    peakBufferBytes: core.result.measured.profile.peakBufferBytes,
    stepPeakAddedBytes: core.result.measured.profile.stepPeakAddedBytes,
    kernelCount: core.result.measured.profile.kernelCount,
    dispatches: core.result.measured.profile.dispatches,
  };
  const tfSide = {
    medianStepMs: tfLayers.timing.medianStepMs,
    peakBytes: tfLayers.profile.peakBytes,
    peakBufferBytes: tfLayers.profile.peakBufferBytes,
    stepPeakAddedBytes: tfLayers.profile.stepPeakAddedBytes,
    result: tfLayers,
  };
  return {
    modelOptions: core.modelOptions,
    batch: core.batch,
    protocol,
    run: core.run,
    coreCellId: core.id,
    core: coreSide,
    tfLayers: tfSide,
    ratio: {
      stepTime: tfSide.medianStepMs / coreSide.medianStepMs,
      peakMemory: tfSide.peakBytes / coreSide.peakBytes,
      peakBuffers: tfSide.peakBufferBytes !== null && coreSide.peakBufferBytes !== null ? tfSide.peakBufferBytes / coreSide.peakBufferBytes : null,
      stepPeakAdded: tfSide.stepPeakAddedBytes / coreSide.stepPeakAddedBytes,
    },
  };
}

/** Shard files named on the command line, or every shard file in `dir`. */
export function findShardFiles(inputs: readonly string[], dir: string): string[] {
  if (inputs.length > 0) return [...inputs];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new Error(`--merge: cannot read ${dir}`);
  }
  return names.filter((name) => SHARD_FILE.test(name)).sort().map((name) => join(dir, name));
}

/** One report from shard reports of the same grid: runs concatenated, cells re-indexed to them.
 * Claims are left empty for the caller to recompute over the merged cells. */
export function mergeShardReports(files: readonly string[]): BenchReport {
  if (files.length === 0) throw new Error('--merge: no shard files (*.shard-i-of-n.json) to merge');
  const reports = files.map((file) => {
    const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
    if (report.schema !== REPORT_SCHEMA) throw new Error(`--merge: ${basename(file)} is not a bench report (${REPORT_SCHEMA})`);
    return report;
  });
  const gridKey = (report: BenchReport) => JSON.stringify(report.grid);
  const first = reports[0];
  const mismatched = reports.find((report) => gridKey(report) !== gridKey(first));
  if (mismatched) throw new Error('--merge: the shards ran different grids (models, methods, ranks or settings differ)');
  // A run without --shard is the whole grid: shard 1 of 1.
  const shardIndices = reports.flatMap((report) => report.runs.map((run) => run.shard?.index ?? 1));
  const expected = Array.from({ length: first.grid.shardCount }, (_, i) => i + 1);
  const missing = expected.filter((index) => !shardIndices.includes(index));
  if (missing.length > 0) throw new Error(`--merge: missing shard(s) ${missing.join(', ')} of ${first.grid.shardCount}`);
  const duplicate = shardIndices.find((index, i) => shardIndices.indexOf(index) !== i);
  if (duplicate !== undefined) throw new Error(`--merge: shard ${duplicate} appears twice`);

  const runs: RunRecord[] = [];
  const cells: CellRecord[] = [];
  let baseline: PeerComparison | null = null;
  for (const report of reports) {
    const offset = runs.length;
    runs.push(...report.runs);
    cells.push(...report.cells.map((cell) => ({ ...cell, run: cell.run + offset })));
    if (report.baseline) baseline = { ...report.baseline, run: report.baseline.run + offset };
  }
  const ids = cells.map((cell) => cell.id);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated) throw new Error(`--merge: cell ${repeated} was measured by two shards`);
  // The unsharded order: the grid's (the peer pair's cell, when outside the grid, first).
  const gridOrder = gridCells(first.grid.models, first.grid.methods, first.grid.ranks).map(cellId);
  cells.sort((a, b) => gridOrder.indexOf(a.id) - gridOrder.indexOf(b.id));
  const uiRun = reports.find((report) => report.uiRun)?.uiRun ?? null;
  const soak = reports.find((report) => report.soak)?.soak ?? null;
  return { ...first, createdAt: new Date().toISOString(), runs, cells, baseline, uiRun, soak, claims: [] };
}
