// `npm run bench`: the lab's training cost, measured in headless Chromium on WebGPU (the real
// browser path), for each model × method × rank — analytic and measured memory, FLOPs by phase,
// step time against the in-run matmul rate — plus the tf.layers MobileNetV2 peer and the study's
// claims. Writes <out>/<date>-<device>.json and .md. See `npm run bench -- --help`.
// First: with --node-webgpu, Dawn must be navigator.gpu before tfjs-backend-webgpu loads (dawn.ts).
import './bench/dawn';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { benchMethodOptions, type StepProtocol } from '../src/core/baselines/benchCells';
import { checkMethodOptions, METHODS } from '../src/core/adapters';
import { buildModelSpec } from '../src/core/models/registry';
import { quantizeFrozenBase } from '../src/core/quant/quantizeBase';
import type { ModelOptions } from '../src/core/models/spec';
import { runBases, studySettingBasis } from './bench/bases';
import { openBenchPage, type BenchPage } from './bench/browser';
import { ensureBuild } from './bench/build';
import { openNodeBench } from './bench/node';
import { evaluateClaims } from '../src/lab/costClaims';
import { HELP, parseBenchArgs, SOAK_SETTING, soakPlan, UsageError, type RunPlan } from './bench/flags';
import { formatDuration, formatMiB, formatMs, formatRatio } from './bench/format';
import { cellId, type CellKey } from './bench/cells';
import { jobSteps, planJobs, shardJobs, type BenchJob } from './bench/grid';
import { renderMarkdown } from './bench/markdown';
import { ProgressBar } from './bench/progress';
import {
  comparePeer,
  deviceSlug,
  findShardFiles,
  mergeShardReports,
  REPORT_SCHEMA,
  reportBaseName,
  shardFileName,
  throughputOf,
  type BenchReport,
  type CellRecord,
  type PeerComparison,
  type SoakCell,
  type SoakRecord,
} from './bench/report';
import { serveStatic, type StaticServer } from './bench/server';
import { readTorchTimings } from './bench/torch';
import { NO_UI_RUN_IN_NODE, type UiRunRecord } from './bench/uiRun';
import { runUiOnly } from './bench/uiOnly';

const log = (line: string) => process.stderr.write(`${line}\n`);

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function modelOptionsOf(plan: RunPlan, cell: CellKey): ModelOptions {
  const { width, resolution, numClasses, stem } = plan.settings;
  const options: ModelOptions = { model: cell.model, width: cell.width ?? width, resolution, numClasses, stem };
  return cell.depth === undefined ? options : { ...options, depth: cell.depth };
}

/** Fails fast (exit 2) on options no model or method accepts, before a browser starts. */
function validateCells(plan: RunPlan, jobs: readonly BenchJob[]): void {
  const problems: string[] = [];
  for (const { cell } of jobs) {
    try {
      const options = benchMethodOptions(cell.rank);
      checkMethodOptions(options);
      quantizeFrozenBase(METHODS[cell.method].apply(buildModelSpec(modelOptionsOf(plan, cell)), options), cell.method, cell.frozenWeights ?? 'fp32');
    } catch (error) {
      problems.push(`${cellId(cell)}: ${errorMessage(error)}`);
    }
  }
  if (problems.length > 0) throw new UsageError(`invalid grid:\n  ${problems.join('\n  ')}`);
}

function protocolOf(plan: RunPlan): StepProtocol {
  const { warmup, steps, seed, learningRate } = plan.settings;
  return { warmup, steps, seed, learningRate };
}

async function runCell(page: BenchPage, plan: RunPlan, cell: CellKey): Promise<CellRecord> {
  const modelOptions = modelOptionsOf(plan, cell);
  const record: CellRecord = {
    id: cellId(cell),
    ...cell,
    modelOptions,
    batch: plan.settings.batch,
    galoreUpdateProjGap: cell.method === 'galore' ? benchMethodOptions(cell.rank).galore.updateProjGap : null,
    run: 0,
    result: null,
    throughput: null,
    error: null,
  };
  try {
    const request = { model: modelOptions, method: cell.method, rank: cell.rank, batch: plan.settings.batch, protocol: protocolOf(plan), ...(cell.frozenWeights ? { frozenWeights: cell.frozenWeights } : {}) };
    record.result = await page.runCoreCell(request);
  } catch (error) {
    record.error = errorMessage(error);
  }
  return record;
}

async function runPlan(plan: RunPlan, argv: readonly string[]): Promise<BenchReport> {
  const jobs = shardJobs(planJobs(plan), plan.shard);
  validateCells(plan, jobs);
  // Read before the long run, so a bad file fails fast.
  const torch = plan.torchFile ? readTorchTimings(plan.torchFile) : null;
  let server: StaticServer | null = null;
  if (!plan.nodeWebgpu) {
    ensureBuild(log);
    server = await serveStatic('dist');
  }
  const totalSteps = jobs.reduce((sum, job) => sum + jobSteps(job, plan.settings.warmup, plan.settings.steps), 0) + plan.soakSteps * SOAK_SETTING.methods.length;
  const progress = new ProgressBar(totalSteps);
  const startedAt = new Date().toISOString();
  let page: BenchPage | undefined;
  try {
    page = server ? await openBenchPage(server.origin, () => progress.advance(), log) : await openNodeBench(() => progress.advance());
    const { backend } = page.environment;
    if (backend.backend !== 'webgpu') log(`warning: running on ${backend.backend}, not WebGPU (${backend.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})`);
    progress.setLabel(`roofline: ${plan.matmulSize}² matmul`);
    const roofline = await page.measureMatmulRate({ size: plan.matmulSize, samples: 3, minSampleMs: 200 });

    const cells: CellRecord[] = [];
    let baseline: PeerComparison | null = null;
    for (const [index, job] of jobs.entries()) {
      progress.setLabel(`job ${index + 1}/${jobs.length}: ${cellId(job.cell)}`);
      const record = await runCell(page, plan, job.cell);
      if (record.result) record.throughput = throughputOf(record.result, roofline);
      cells.push(record);
      progress.note(cellLine(record));
      if (job.kind === 'core_vs_tf_layers') {
        progress.setLabel(`job ${index + 1}/${jobs.length}: tf.layers ${job.cell.model}`);
        baseline = await runPeer(page, plan, record);
        if (baseline) progress.note(peerLine(baseline));
      }
    }
    const soak = plan.soakSteps > 0 ? await runSoaks(page, plan, progress) : null;
    let uiRun: UiRunRecord | null = null;
    if (plan.uiRun && !page.measureUiRun) progress.note(`– UI run not run: ${NO_UI_RUN_IN_NODE}`);
    else if (plan.uiRun && page.measureUiRun) {
      progress.setLabel('UI run: a few steps through the lab page, counting main-thread long tasks');
      uiRun = await page.measureUiRun();
      progress.note(uiRun.error ? `✗ UI run: ${uiRun.error}` : `✓ UI run: ${uiRunLine(uiRun)}`);
    }
    progress.finish();
    return {
      schema: REPORT_SCHEMA,
      createdAt: new Date().toISOString(),
      argv: [...argv],
      preset: plan.preset,
      grid: {
        models: plan.models,
        methods: plan.methods,
        ranks: plan.ranks,
        settings: plan.settings,
        baseline: plan.baseline,
        matmulSize: plan.matmulSize,
        shardCount: plan.shard?.count ?? 1,
      },
      runs: [{ shard: plan.shard, startedAt, finishedAt: new Date().toISOString(), device: deviceSlug(backend), environment: page.environment, roofline }],
      cells,
      baseline,
      uiRun,
      soak,
      claims: [],
      torch,
    };
  } finally {
    await page?.close();
    await server?.close();
  }
}

async function runPeer(page: BenchPage, plan: RunPlan, core: CellRecord): Promise<PeerComparison | null> {
  if (!core.result) {
    log(`tf.layers peer skipped: the lab core's ${core.id} cell failed (${core.error})`);
    return null;
  }
  const { model: _model, ...options } = core.modelOptions;
  try {
    const request = { model: core.modelOptions, method: core.method, rank: core.rank, batch: core.batch, protocol: protocolOf(plan) };
    const tfLayers = await page.runTfLayersBaseline(options, core.batch, protocolOf(plan), request);
    return comparePeer({ ...core, result: core.result }, tfLayers, protocolOf(plan));
  } catch (error) {
    log(`tf.layers peer failed: ${errorMessage(error)}`);
    return null;
  }
}

/** The soak of each SOAK_SETTING method, after the cells (shaders compiled, as in a long session). */
async function runSoaks(page: BenchPage, plan: RunPlan, progress: ProgressBar): Promise<SoakRecord> {
  const cells: SoakCell[] = [];
  const { width, resolution, numClasses, stem, batch, methods, rank } = SOAK_SETTING;
  for (const method of methods) {
    const cellRank = method === 'fft' ? null : rank;
    const cell: SoakCell = { method, rank: cellRank, result: null, error: null };
    if (!page.runSoak) cell.error = 'not implemented on this bench page';
    else {
      progress.setLabel(`soak: ${method}, ${plan.soakSteps} steps`);
      try {
        cell.result = await page.runSoak({
          model: { model: 'mobilenet_v2', width, resolution, numClasses, stem },
          method,
          rank: cellRank,
          batch,
          steps: plan.soakSteps,
          ...soakPlan(plan.soakSteps),
          seed: plan.settings.seed,
          learningRate: plan.settings.learningRate,
        });
      } catch (error) {
        cell.error = errorMessage(error);
      }
    }
    progress.note(soakLine(cell));
    cells.push(cell);
  }
  return { steps: plan.soakSteps, cells };
}

function soakLine({ method, result, error }: SoakCell): string {
  if (!result) return `✗ soak ${method}: ${error}`;
  const { growth } = result;
  return (
    `${result.flat ? '✓' : '✗'} soak ${method}: ${result.flat ? 'flat' : 'GROWS'} from step ${growth.fromStep} to ${growth.toStep} ` +
    `(${growth.tensors} tensors, ${formatMiB(growth.bytes)}, GPU in use ${growth.bytesInGPU === null ? '—' : formatMiB(growth.bytesInGPU)}, ` +
    `allocated ${growth.bytesAllocatedInGPU === null ? '—' : formatMiB(growth.bytesAllocatedInGPU)}), ${formatMs(result.medianStepMs)}/step`
  );
}

function uiRunLine(run: UiRunRecord): string {
  const { count, longestMs } = run.longTasks;
  return `${run.steps} steps in ${run.seconds.toFixed(1)} s, ${count} main-thread task${count === 1 ? '' : 's'} over 50 ms (longest ${longestMs.toFixed(0)} ms)`;
}

function withClaims(report: BenchReport): BenchReport {
  return { ...report, claims: evaluateClaims([...runBases(report.cells), studySettingBasis()]) };
}

function writeReport(report: BenchReport, outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, reportBaseName(report));
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.md`, renderMarkdown(report));
  return [`${base}.json`, `${base}.md`];
}

function cellLine(cell: CellRecord): string {
  if (!cell.result || !cell.throughput) return `✗ ${cell.id}: ${cell.error}`;
  return `✓ ${cell.id}: ${formatMs(cell.throughput.medianStepMs)}/step, measured peak ${formatMiB(cell.result.measured.profile.peakBytes)}`;
}

function peerLine(peer: PeerComparison): string {
  return (
    `✓ lab core vs tf.layers (MobileNetV2 width ${peer.modelOptions.width}, ${peer.modelOptions.resolution}², batch ${peer.batch}): ` +
    `step ${formatMs(peer.core.medianStepMs)} vs ${formatMs(peer.tfLayers.medianStepMs)} (tf.layers ÷ core ${formatRatio(peer.ratio.stepTime)}), ` +
    `peak ${formatMiB(peer.core.peakBytes)} vs ${formatMiB(peer.tfLayers.peakBytes)} (${formatRatio(peer.ratio.peakMemory)})`
  );
}

function printSummary(report: BenchReport): void {
  for (const cell of report.cells) log(cellLine(cell));
  if (report.baseline) log(peerLine(report.baseline));
}

async function main(argv: string[]): Promise<number> {
  const plan = parseBenchArgs(argv);
  if (plan.mode === 'help') {
    console.log(HELP);
    return 0;
  }
  const started = Date.now();
  if (plan.mode === 'merge') {
    const merged = mergeShardReports(findShardFiles(plan.inputs, plan.outDir));
    const report = withClaims(plan.torchFile ? { ...merged, torch: readTorchTimings(plan.torchFile) } : merged);
    for (const file of writeReport(report, plan.outDir)) log(`wrote ${file}`);
    printSummary(report);
    return report.cells.some((cell) => cell.error) ? 1 : 0;
  }
  if (plan.uiOnly) return runUiOnly(plan.outDir, plan.uiDist, argv, log);
  const report = await runPlan(plan, argv);
  if (plan.shard) {
    // A shard's claims wait for the merge, which sees every cell.
    mkdirSync(plan.outDir, { recursive: true });
    const file = join(plan.outDir, shardFileName(report, plan.shard));
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${file} (merge the shards with: npm run bench -- --merge --out ${plan.outDir})`);
  } else {
    for (const file of writeReport(withClaims(report), plan.outDir)) log(`wrote ${file}`);
  }
  // Cells were reported as they finished; the peer comparison is the headline.
  if (report.baseline) log(peerLine(report.baseline));
  log(`done in ${formatDuration(Date.now() - started)}`);
  const failed = report.cells.some((cell) => cell.error) || (plan.baseline && report.baseline === null);
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      log(`bench: ${error.message}\nSee: npm run bench -- --help`);
      process.exit(2);
    }
    log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
