// A run as one record: what the run loop posted (run.ts, through the worker protocol), gathered
// into the JSON that `cli finetune` prints and `npm run study` keeps per run — the baseline before
// fine-tuning, the eval curve, every step's loss, final and best accuracy, steps, time, memory by
// group and FLOPs. The page draws the same messages live; this reads them for machines.
import type { BytesByGroup, FlopsByPhase } from '../../core/profile/types';
import type { LabConfig } from '../config';
import type { CheckpointStatus, EvalPoint, MeasuredMemorySlot, RunErrorKind, RunResponse } from '../protocol';
import { runTraining, type RunContext } from './run';

export interface RunRecord {
  config: LabConfig;
  /** tfjs backend the run trained on. */
  backend: string;
  checkpoint: CheckpointStatus | null;
  trainImages: number;
  testImages: number;
  stepsPerEpoch: number;
  /** Before fine-tuning: accuracy on the task's test split (shifted for a shift), and on the clean split (shift only). */
  baseline: { accuracy: number; loss: number; cleanAccuracy: number | null } | null;
  /** Eval after each epoch. */
  evalCurve: EvalPoint[];
  /** Every step's training loss, in order. */
  lossCurve: number[];
  finalAccuracy: number | null;
  bestAccuracy: number | null;
  /** The epoch of the best accuracy (0: the baseline). */
  bestEpoch: number | null;
  steps: number;
  epochsRun: number;
  outcome: 'completed' | 'early_stopped' | 'stopped' | 'failed';
  /** Seconds in training steps (evaluation excluded), and training images per second. */
  trainSeconds: number;
  imagesPerSecond: number;
  /** The analytic profile of the run's configuration (simultaneous peak by group; the study's sum). */
  peakBytesByGroup: BytesByGroup | null;
  sumOfGroupMaximaBytes: number | null;
  /** One sampled step measured by the engine observer, when asked for. */
  measuredMemory: MeasuredMemorySlot | null;
  /** FLOPs of one training step by phase (the lab's correct count). */
  flopsByPhase: FlopsByPhase | null;
  error: { kind: RunErrorKind; message: string } | null;
}

/** Collects one run's messages into a RunRecord. */
export class RunRecorder {
  private readonly record: RunRecord;

  constructor(config: LabConfig) {
    this.record = {
      config,
      backend: '',
      checkpoint: null,
      trainImages: 0,
      testImages: 0,
      stepsPerEpoch: 0,
      baseline: null,
      evalCurve: [],
      lossCurve: [],
      finalAccuracy: null,
      bestAccuracy: null,
      bestEpoch: null,
      steps: 0,
      epochsRun: 0,
      outcome: 'failed',
      trainSeconds: 0,
      imagesPerSecond: 0,
      peakBytesByGroup: null,
      sumOfGroupMaximaBytes: null,
      measuredMemory: null,
      flopsByPhase: null,
      error: null,
    };
  }

  accept(message: RunResponse): void {
    const record = this.record;
    switch (message.type) {
      case 'run_started':
        Object.assign(record, { checkpoint: message.checkpoint, trainImages: message.trainImages, testImages: message.testImages, stepsPerEpoch: message.stepsPerEpoch });
        break;
      case 'run_baseline':
        record.baseline = { accuracy: message.baseline.accuracy, loss: message.baseline.loss, cleanAccuracy: message.cleanAccuracy };
        break;
      case 'run_progress':
        for (const point of message.losses) record.lossCurve.push(point.loss);
        record.steps = message.step;
        break;
      case 'run_eval':
        record.evalCurve.push(message.point);
        break;
      case 'run_measured':
        record.measuredMemory = message.measured;
        break;
      case 'run_done': {
        const { summary } = message;
        Object.assign(record, {
          backend: summary.backend,
          steps: summary.steps,
          epochsRun: summary.epochsRun,
          outcome: message.reason,
          trainSeconds: summary.trainSeconds,
          imagesPerSecond: summary.trainSeconds > 0 ? (summary.steps * record.config.batchSize) / summary.trainSeconds : 0,
          peakBytesByGroup: summary.peakBytesByGroup,
          sumOfGroupMaximaBytes: summary.sumOfGroupMaximaBytes,
          flopsByPhase: summary.flopsByPhase,
        });
        const points = [...(record.baseline ? [{ epoch: 0, accuracy: record.baseline.accuracy }] : []), ...record.evalCurve];
        const best = points.reduce<{ epoch: number; accuracy: number } | null>((top, point) => (top === null || point.accuracy > top.accuracy ? point : top), null);
        record.finalAccuracy = record.evalCurve.at(-1)?.accuracy ?? record.baseline?.accuracy ?? null;
        record.bestAccuracy = best?.accuracy ?? null;
        record.bestEpoch = best?.epoch ?? null;
        break;
      }
      case 'run_error':
        record.outcome = 'failed';
        record.error = { kind: message.kind, message: message.message };
        break;
      case 'run_phase':
      case 'run_data_progress':
        break;
    }
  }

  result(): RunRecord {
    return structuredClone(this.record);
  }
}

/** One run of the run loop, recorded: everything `runTraining` needs but the configuration, the
 * post callback and the run id, which this supplies. */
export type RecordedRunContext = Omit<RunContext, 'runId' | 'config' | 'post'>;

/** Runs `config` through the run loop and returns its record, with the wall time of the whole run
 * (data, baseline, training, evaluations). The one way the CLI, the study and the browser harness
 * turn a run into a record. */
export async function recordRun(config: LabConfig, context: RecordedRunContext): Promise<RunRecord & { wallSeconds: number }> {
  const recorder = new RunRecorder(config);
  const started = performance.now();
  await runTraining({ ...context, runId: 1, config, post: (message) => recorder.accept(message) });
  return { ...recorder.result(), wallSeconds: (performance.now() - started) / 1000 };
}
