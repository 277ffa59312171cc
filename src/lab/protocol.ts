// The typed messages between the page and the training worker: the one place the protocol lives.
import type { MethodOptions } from '../core/adapters/method';
import type { BackendReport } from '../core/backendInfo';
import type { FrozenWeightFormat, MethodId } from '../core/ids';
import type { ModelOptions } from '../core/models/spec';
import type { AnalyticProfile, BytesByGroup } from '../core/profile/types';
import type { ImageFolderSummary } from '../core/data/imageFolder';
import type { LabConfig } from './config';
import type { PretrainedWeightsInfo } from './baseWeights';
import type { RunSummary } from './results';
import type { ExportKind } from './ids';
import type { FitPlan } from './planner';
import type { HubFile } from './hub/hubUrl';

export interface SelfTestResult {
  /** Largest |a − b| / max(|b|, tiny) over the conv output and both gradients, active backend vs CPU. */
  maxRelativeError: number;
  backend: string;
}

/** What the analytic profiler needs to cost one training step of each method on one model. */
export interface ProfileRequest {
  model: ModelOptions;
  methods: MethodId[];
  methodOptions: MethodOptions;
  batch: number;
  /** The optimizer of the non-GaLore methods (GaLore always runs its projected Adam). */
  optimizer: 'adam' | 'sgd';
  /** How the frozen base is stored (absent: fp32); methods that update the base (FFT, GaLore) are
   * costed at fp32 whatever it says. */
  frozenWeights?: FrozenWeightFormat;
}

/** Where the base weights of a run came from. */
export type CheckpointStatus =
  | {
      kind: 'loaded';
      /** The shipped checkpoint, the base pretrained in this browser, the hub's ImageNet weights, or the file the user imported. */
      origin: 'shipped' | 'browser' | 'hub' | 'imported';
      /** The file's name (shipped, imported) or the cached base's description (browser). */
      file: string;
      /** Clean test accuracy when pretrained (unknown for an imported file). */
      cleanTestAccuracy: number | null;
      /** The classifier was left at its random init (a task with a new head; always for the hub's weights). */
      headSkipped: boolean;
      /** The hub's weights: the file's sha256, whether it came from this browser's cache, and whether
       * a cached copy failed its sha256 check and was downloaded again. */
      sha256?: string;
      fromCache?: boolean;
      droppedCorruptEntry?: boolean;
    }
  /** Random init: no checkpoint of this size (or none shipped), or chosen (`chosen`), said in words. */
  | { kind: 'none'; message: string; chosen?: boolean };

/** What a run is doing now (the progress bar's caption). */
export type RunPhase = 'preparing' | 'baseline' | 'training' | 'evaluating' | 'measuring';

/** One training step's loss. */
export interface LossPoint {
  step: number;
  loss: number;
}

/** Eval after an epoch (epoch 0: before fine-tuning). */
export interface EvalPoint {
  epoch: number;
  /** Steps done when it was measured. */
  step: number;
  accuracy: number;
  loss: number;
}

/** The measured (sampled-step) memory of one step of the run, beside the analytic profile. */
export interface MeasuredMemorySlot {
  /** Simultaneous peak, by group, bytes. */
  peakBytesByGroup: BytesByGroup;
  sumOfGroupMaximaBytes: number;
  /** WebGPU: the backend's largest allocation, its buffer pool included. */
  allocatedBytes: number | null;
  backend: string;
}

/** Why a run failed, so the page can explain it. */
export type RunErrorKind = 'nan_loss' | 'out_of_memory' | 'device_lost' | 'download' | 'data' | 'internal';

/** The user's images as the page got them: Files are passed by reference, and the worker reads them. */
export type ImageImportSource =
  | { kind: 'zip'; name: string; file: Blob }
  /** A chosen or dropped folder: every file with its path under the drop (directories end with '/' and have no file). */
  | { kind: 'files'; files: { path: string; file: Blob | null }[] };

export type WorkerRequest =
  | { type: 'init' }
  | { type: 'self_test' }
  /** `config` has been validated by the page (validateConfig); the worker checks it again.
   * `cifarArchive`: a CIFAR-10 archive the user chose, used (and cached) instead of downloading.
   * `baseWeightsFile`: the torchvision safetensors the user imported (config.baseWeights 'imported'). */
  | { type: 'start'; runId: number; config: LabConfig; labVersion: string; measureMemory: boolean; baseUrl: string; cifarArchive?: File; baseWeightsFile?: File }
  /** Pretrain the base model of `config`'s size on the synthetic source domain (pretrainModelOptionsOf,
   * pretrainTaskOf), evaluate it, cache it in IndexedDB. One job at a time, never during a run. */
  | { type: 'pretrain'; jobId: number; config: LabConfig; epochs: number; trainImages: number }
  | { type: 'cancel_pretrain'; jobId: number }
  /** Download a hub file into the cache (hub/hubFiles.ts: checked, whole or nothing); jobs run side
   * by side, each cancellable. A file that cannot be cached fails the job (its point is the cache). */
  | { type: 'hub_fetch'; jobId: number; file: HubFile; hubUrl: string }
  | { type: 'cancel_hub_fetch'; jobId: number }
  /** Decode, resize to `size` and split (seeded) the user's images; on success they replace the
   * images the custom task trains on, on failure the previous ones stay. */
  | { type: 'import_images'; importId: number; source: ImageImportSource; size: number; seed: number }
  | { type: 'pause'; runId: number }
  | { type: 'resume'; runId: number }
  | { type: 'stop'; runId: number }
  /** One download of the last finished run (src/lab/exports.ts); the worker keeps that run's model
   * until the next run starts. */
  | { type: 'export'; runId: number; kind: ExportKind };

export type RunResponse =
  | {
      type: 'run_started';
      runId: number;
      stepsPerEpoch: number;
      totalSteps: number;
      trainImages: number;
      testImages: number;
      checkpoint: CheckpointStatus;
    }
  | { type: 'run_phase'; runId: number; phase: RunPhase; paused: boolean }
  /** While preparing: images of a data file decoded so far (the hub's CIFAR-10 PNGs). */
  | { type: 'run_data_progress'; runId: number; what: string; done: number; total: number }
  /** Before fine-tuning: accuracy on the task's test split; for a shift also on the clean test split. */
  | { type: 'run_baseline'; runId: number; baseline: EvalPoint; cleanAccuracy: number | null }
  | {
      type: 'run_progress';
      runId: number;
      step: number;
      totalSteps: number;
      /** 1-based epoch in progress. */
      epoch: number;
      epochs: number;
      examplesPerSecond: number;
      etaSeconds: number;
      /** Losses of the steps since the last progress message (throttled). */
      losses: LossPoint[];
    }
  | { type: 'run_eval'; runId: number; point: EvalPoint }
  | { type: 'run_measured'; runId: number; measured: MeasuredMemorySlot }
  | {
      type: 'run_done';
      runId: number;
      summary: RunSummary;
      reason: 'completed' | 'early_stopped' | 'stopped';
      /** What this run cannot export, and why (exports.ts exportProblems): worked out here, since
       * it builds the method's spec, which on the page would lengthen the task that shows the end. */
      exportProblems: Record<ExportKind, string | null>;
    }
  | {
      type: 'run_error';
      runId: number;
      kind: RunErrorKind;
      message: string;
      /** Out of memory: the analytic peak of this configuration by group, which explains it. */
      memoryBreakdown?: BytesByGroup;
    };

export type ImportResponse =
  | { type: 'import_progress'; importId: number; decoded: number; total: number }
  | { type: 'import_done'; importId: number; summary: ImageFolderSummary }
  | { type: 'import_error'; importId: number; message: string };

/** What a browser pretraining is doing now. */
export type PretrainPhase = 'preparing' | 'training' | 'evaluating' | 'storing';

export type PretrainResponse =
  | { type: 'pretrain_phase'; jobId: number; phase: PretrainPhase }
  | {
      type: 'pretrain_progress';
      jobId: number;
      step: number;
      totalSteps: number;
      /** 1-based epoch in progress. */
      epoch: number;
      epochs: number;
      /** Mean loss of the epoch's steps so far. */
      loss: number;
      examplesPerSecond: number;
    }
  /** `stored`: false where the browser keeps no IndexedDB (the base then lasts until a reload). */
  | { type: 'pretrain_done'; jobId: number; info: PretrainedWeightsInfo; stored: boolean }
  | { type: 'pretrain_cancelled'; jobId: number }
  | { type: 'pretrain_error'; jobId: number; message: string };

export type HubFetchResponse =
  /** `totalBytes`: null when the server does not say. */
  | { type: 'hub_fetch_progress'; jobId: number; loadedBytes: number; totalBytes: number | null }
  /** The file is in the cache. `droppedCorruptEntry`: a cached copy failed its sha256 check and was fetched again. */
  | { type: 'hub_fetch_done'; jobId: number; bytes: number; sha256: string; fromCache: boolean; droppedCorruptEntry: boolean }
  | { type: 'hub_fetch_cancelled'; jobId: number }
  /** Names the URL and the HTTP status, or the storage needed. */
  | { type: 'hub_fetch_error'; jobId: number; message: string };

/** A download's bytes (transferred), or why there is none: no such finished run any more, or a
 * configuration that cannot have it (exportProblems). */
export type ExportResponse =
  | { type: 'export_file'; runId: number; kind: ExportKind; name: string; mime: string; bytes: ArrayBuffer }
  | { type: 'export_error'; runId: number; kind: ExportKind; message: string };

export type WorkerResponse =
  | { type: 'ready'; report: BackendReport }
  | ExportResponse
  | HubFetchResponse
  | ImportResponse
  | PretrainResponse
  | { type: 'self_test_result'; result: SelfTestResult }
  | { type: 'error'; message: string }
  | RunResponse;

/** The profile worker (src/app/profile.worker.ts) costs every method for the charts. The analytic
 * profiler imports no tfjs, but costing five methods takes 50–150 ms of script on a laptop-class
 * core (measured in Node: MobileNetV2 w0.35 at 32×32, batch 32, 148 ms) — a long task that would
 * make the page stutter on every change; and a second worker, so that the charts follow the
 * controls instantly even while the training worker is busy. */
export type ProfileWorkerRequest =
  | { type: 'profile'; requestId: number; request: ProfileRequest }
  /** The edge planner: every method's largest batch that fits `budgetBytes` on `config` (planFit). */
  | { type: 'fit'; requestId: number; config: LabConfig; budgetBytes: number };

export type ProfileWorkerResponse =
  | {
      type: 'profile_result';
      requestId: number;
      profiles: Partial<Record<MethodId, AnalyticProfile>>;
      /** Methods that cannot run this configuration, with why (e.g. DoRA on depthwise convs). */
      failures: Partial<Record<MethodId, string>>;
    }
  | { type: 'profile_error'; requestId: number; message: string }
  | { type: 'fit_result'; requestId: number; plan: FitPlan }
  | { type: 'fit_error'; requestId: number; message: string };
