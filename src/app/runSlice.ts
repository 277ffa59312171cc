// The run half of the store: the current run (progress, curves, errors), the finished runs the
// comparison charts show, and the queue of a batch (compare all, rank sweep, preset, re-run).
// The worker does every step; this only reduces its messages.
import type { StoreApi } from 'zustand';
import type { CheckpointStatus, EvalPoint, ExportResponse, LossPoint, MeasuredMemorySlot, RunErrorKind, RunPhase, RunResponse, WorkerRequest } from '../lab/protocol';
import type { ExportKind } from '../lab/ids';
import { saveDownload } from './download';
import type { BytesByGroup } from '../core/profile/types';
import type { LabConfig } from '../lab/config';
import type { RunSummary } from '../lab/results';
import { runLabel, type PlanKind, type RunPlan } from './runPlans';
import { LAB_VERSION } from './version';

export type RunStatus = 'starting' | 'running' | 'paused' | 'done' | 'stopped' | 'error';

export interface RunError {
  kind: RunErrorKind;
  message: string;
  memoryBreakdown?: BytesByGroup;
}

export interface CurrentRun {
  runId: number;
  label: string;
  config: LabConfig;
  status: RunStatus;
  phase: RunPhase;
  /** From run_started (0 until then). */
  totalSteps: number;
  stepsPerEpoch: number;
  trainImages: number;
  testImages: number;
  checkpoint: CheckpointStatus | null;
  step: number;
  epoch: number;
  epochs: number;
  examplesPerSecond: number;
  etaSeconds: number;
  trainLoss: LossPoint[];
  evals: EvalPoint[];
  baseline: EvalPoint | null;
  /** Shift: accuracy on the clean test split before fine-tuning. */
  cleanAccuracy: number | null;
  measured: MeasuredMemorySlot | null;
  error: RunError | null;
  summary: RunSummary | null;
  /** From run_done: what the run cannot export, and why (null until then). */
  exportProblems: Record<ExportKind, string | null> | null;
  /** While preparing: a data file's images decoded so far (null otherwise). */
  dataProgress: { what: string; done: number; total: number } | null;
}

/** A finished run, one point of the comparison. */
export interface FinishedRun {
  id: number;
  label: string;
  config: LabConfig;
  summary: RunSummary;
  /** 'link': the results saved in the opened permalink. */
  origin: 'run' | 'link';
  /** The batch it belonged to (rank sweeps are charted per batch). */
  batch: { id: number; kind: PlanKind; title: string } | null;
}

export interface RunQueue {
  batchId: number;
  plan: RunPlan;
  /** Index of the run in progress. */
  index: number;
}

export interface RunSliceState {
  run: CurrentRun | null;
  runs: FinishedRun[];
  queue: RunQueue | null;
  /** Skipped configurations and other notes of the last batch. */
  batchNotes: string[];
  /** The newest finished run of the configuration on screen: what the permalink carries. */
  sharedResults: RunSummary | null;
  startRun: () => void;
  startPlan: (plan: RunPlan) => void;
  pauseRun: () => void;
  resumeRun: () => void;
  stopRun: () => void;
  /** Re-runs the opened link's configuration and keeps its saved results beside the new run. */
  rerunLink: () => void;
  clearRuns: () => void;
  /** The downloads of the current run (after it finished): what is being prepared, what failed. */
  runExports: RunExports | null;
  /** Asks the worker for one download of the current, finished run; it is saved when it comes. */
  requestExport: (kind: ExportKind) => void;
}

export interface RunExports {
  runId: number;
  preparing: ExportKind[];
  errors: Partial<Record<ExportKind, string>>;
}

/** What the slice needs from the rest of the store. */
interface HostState extends RunSliceState {
  validConfig: LabConfig;
  linkResults: RunSummary | null;
  /** A CIFAR-10 archive the user chose, sent with the runs that read CIFAR-10. */
  cifarArchive: File | null;
  /** The torchvision weights file chosen under Base weights, sent with the runs that use it. */
  baseWeightsFile: File | null;
}

let nextRunId = 1;
let nextBatchId = 1;
let nextFinishedId = 1;

const sameConfig = (a: LabConfig, b: LabConfig) => JSON.stringify(a) === JSON.stringify(b);

function freshRun(runId: number, label: string, config: LabConfig): CurrentRun {
  return {
    runId,
    label,
    config,
    status: 'starting',
    phase: 'preparing',
    totalSteps: 0,
    stepsPerEpoch: 0,
    trainImages: 0,
    testImages: 0,
    checkpoint: null,
    step: 0,
    epoch: 0,
    epochs: config.epochs,
    examplesPerSecond: 0,
    etaSeconds: Number.POSITIVE_INFINITY,
    trainLoss: [],
    evals: [],
    baseline: null,
    cleanAccuracy: null,
    measured: null,
    error: null,
    summary: null,
    exportProblems: null,
    dataProgress: null,
  };
}

export function createRunSlice<S extends HostState>(
  set: StoreApi<S>['setState'],
  get: StoreApi<S>['getState'],
  send: (request: WorkerRequest) => void,
): { state: RunSliceState; onRunMessage: (message: RunResponse) => void; onExportMessage: (message: ExportResponse) => void } {
  const patch = (partial: Partial<HostState>) => set(partial as unknown as Partial<S>);
  const update = (change: (run: CurrentRun) => Partial<CurrentRun>) => {
    const run = get().run;
    if (run) patch({ run: { ...run, ...change(run) } });
  };

  const launch = (config: LabConfig, label: string) => {
    const runId = nextRunId++;
    patch({ run: freshRun(runId, label, config) });
    const cifarArchive = config.dataSource === 'cifar10' && config.task !== 'custom' ? (get().cifarArchive ?? undefined) : undefined;
    const baseWeightsFile = config.baseWeights === 'imported' ? (get().baseWeightsFile ?? undefined) : undefined;
    send({
      type: 'start',
      runId,
      config,
      labVersion: LAB_VERSION,
      measureMemory: true,
      baseUrl: document.baseURI,
      ...(cifarArchive ? { cifarArchive } : {}),
      ...(baseWeightsFile ? { baseWeightsFile } : {}),
    });
  };

  const launchQueued = (queue: RunQueue) => {
    const planned = queue.plan.runs[queue.index];
    patch({ queue });
    launch(planned.config, planned.label);
  };

  const finish = (summary: RunSummary, status: RunStatus, exportProblems: CurrentRun['exportProblems']) => {
    const { run, queue, runs, validConfig } = get();
    if (!run) return;
    const batch = queue ? { id: queue.batchId, kind: queue.plan.kind, title: queue.plan.title } : null;
    const finished: FinishedRun = { id: nextFinishedId++, label: run.label, config: run.config, summary, origin: 'run', batch };
    patch({
      run: { ...run, status, summary, exportProblems, etaSeconds: 0 },
      runs: [...runs, finished],
      ...(sameConfig(run.config, validConfig) ? { sharedResults: summary } : {}),
    });
    if (queue && status === 'done' && queue.index + 1 < queue.plan.runs.length) launchQueued({ ...queue, index: queue.index + 1 });
    else patch({ queue: null });
  };

  const onRunMessage = (message: RunResponse) => {
    const run = get().run;
    if (!run || message.runId !== run.runId) return;
    switch (message.type) {
      case 'run_started':
        update(() => ({
          totalSteps: message.totalSteps,
          stepsPerEpoch: message.stepsPerEpoch,
          trainImages: message.trainImages,
          testImages: message.testImages,
          checkpoint: message.checkpoint,
          status: 'running',
          dataProgress: null,
        }));
        break;
      case 'run_data_progress':
        update(() => ({ dataProgress: { what: message.what, done: message.done, total: message.total } }));
        break;
      case 'run_phase':
        update((current) => ({ phase: message.phase, status: current.status === 'starting' || current.status === 'running' || current.status === 'paused' ? (message.paused ? 'paused' : 'running') : current.status }));
        break;
      case 'run_baseline':
        update(() => ({ baseline: message.baseline, cleanAccuracy: message.cleanAccuracy }));
        break;
      case 'run_progress':
        update((current) => ({
          step: message.step,
          epoch: message.epoch,
          epochs: message.epochs,
          totalSteps: message.totalSteps,
          examplesPerSecond: message.examplesPerSecond,
          etaSeconds: message.etaSeconds,
          trainLoss: [...current.trainLoss, ...message.losses],
        }));
        break;
      case 'run_eval':
        update((current) => ({ evals: [...current.evals, message.point] }));
        break;
      case 'run_measured':
        update(() => ({ measured: message.measured }));
        break;
      case 'run_done':
        finish(message.summary, message.reason === 'stopped' ? 'stopped' : 'done', message.exportProblems);
        break;
      case 'run_error': {
        const { queue } = get();
        update(() => ({ status: 'error', error: { kind: message.kind, message: message.message, memoryBreakdown: message.memoryBreakdown } }));
        patch({ queue: null, batchNotes: queue ? [`${queue.plan.title} stopped at ${run.label} (${queue.index + 1} of ${queue.plan.runs.length}).`] : [] });
        break;
      }
    }
  };

  const onExportMessage = (message: ExportResponse) => {
    const current = get().runExports;
    if (!current || current.runId !== message.runId) return;
    const preparing = current.preparing.filter((kind) => kind !== message.kind);
    if (message.type === 'export_file') {
      const { [message.kind]: _cleared, ...errors } = current.errors;
      void _cleared;
      patch({ runExports: { ...current, preparing, errors } });
      saveDownload(message.name, message.mime, message.bytes);
    } else {
      patch({ runExports: { ...current, preparing, errors: { ...current.errors, [message.kind]: message.message } } });
    }
  };

  const state: RunSliceState = {
    run: null,
    runExports: null,
    requestExport: (kind) => {
      const run = get().run;
      if (!run || (run.status !== 'done' && run.status !== 'stopped')) return;
      const current = get().runExports;
      const exports = current?.runId === run.runId ? current : { runId: run.runId, preparing: [], errors: {} };
      if (exports.preparing.includes(kind)) return;
      patch({ runExports: { ...exports, preparing: [...exports.preparing, kind] } });
      send({ type: 'export', runId: run.runId, kind });
    },
    runs: [],
    queue: null,
    batchNotes: [],
    sharedResults: null,
    startRun: () => {
      const config = get().validConfig;
      patch({ queue: null, batchNotes: [] });
      launch(config, runLabel(config));
    },
    startPlan: (plan) => {
      patch({ batchNotes: plan.skipped.map((note) => `Skipped ${note}`) });
      if (plan.runs.length === 0) return;
      launchQueued({ batchId: nextBatchId++, plan, index: 0 });
    },
    pauseRun: () => {
      const run = get().run;
      if (run && run.status === 'running') send({ type: 'pause', runId: run.runId });
    },
    resumeRun: () => {
      const run = get().run;
      if (run && run.status === 'paused') send({ type: 'resume', runId: run.runId });
    },
    stopRun: () => {
      const run = get().run;
      patch({ queue: null });
      if (run && (run.status === 'running' || run.status === 'paused' || run.status === 'starting')) send({ type: 'stop', runId: run.runId });
    },
    rerunLink: () => {
      const { linkResults, validConfig, runs } = get();
      if (!linkResults) return;
      const batchId = nextBatchId++;
      const plan: RunPlan = { kind: 'rerun', title: 'Re-run of the link', runs: [{ config: validConfig, label: `${runLabel(validConfig)} (re-run)` }], skipped: [] };
      const batch = { id: batchId, kind: 'rerun' as const, title: plan.title };
      const fromLink: FinishedRun = { id: nextFinishedId++, label: `${runLabel(validConfig)} (from the link)`, config: validConfig, summary: linkResults, origin: 'link', batch };
      patch({ runs: [...runs.filter((r) => r.origin !== 'link'), fromLink], batchNotes: [] });
      launchQueued({ batchId, plan, index: 0 });
    },
    clearRuns: () => patch({ runs: [] }),
  };
  return { state, onRunMessage, onExportMessage };
}
