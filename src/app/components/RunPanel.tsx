// Start, pause, resume and stop a fine-tuning run, and follow it: the progress bar with step,
// epoch, examples/s and ETA; where the base weights came from; errors, explained.
import { MEMORY_GROUPS } from '../../core/ids';
import { pretrainedKeyOf } from '../../lab/baseWeights';
import { hasErrors, headClassesOf, methodOptionsOf, modelOptionsOf } from '../../lab/config';
import { IMAGENET_CLASSES } from '../../lab/hub/hubBases';
import type { CheckpointStatus } from '../../lab/protocol';
import { formatBytes, formatCount, formatDuration, formatPercent } from '../format';
import { MEMORY_GROUP_NAMES } from '../../lab/names';
import type { CurrentRun } from '../runSlice';
import { useLabStore } from '../store';
import { ExportPanel } from './ExportPanel';
import { formatSpeed, Stat, StepProgressBar } from './StepProgress';

const PHASE_WORDS: Record<CurrentRun['phase'], string> = {
  preparing: 'Preparing data and model',
  baseline: 'Evaluating before fine-tuning',
  training: 'Training',
  evaluating: 'Evaluating',
  measuring: 'Training (measuring this step’s memory)',
};

const isActive = (run: CurrentRun | null) => run !== null && (run.status === 'starting' || run.status === 'running' || run.status === 'paused');

function RunButtons() {
  const run = useLabStore((s) => s.run);
  const formInvalid = useLabStore((s) => hasErrors(s.issues));
  // The user's images: Start once some are imported, and not while an import is under way.
  const needsImages = useLabStore((s) => s.config.task === 'custom' && (!s.customImages || s.imageImport !== null));
  // Base weights: an imported file must be chosen (a link cannot carry it); no run beside a pretraining.
  const needsWeightsFile = useLabStore((s) => s.config.baseWeights === 'imported' && !s.baseWeightsFile);
  const needsPretrained = useLabStore(
    (s) => s.config.baseWeights === 'browser' && Array.isArray(s.pretrainedBases) && !s.pretrainedBases.some((info) => info.key === pretrainedKeyOf(s.validConfig)),
  );
  const pretraining = useLabStore((s) => s.pretrainJob !== null);
  const { startRun, pauseRun, resumeRun, stopRun } = useLabStore.getState();
  const active = isActive(run);
  const why = formInvalid
    ? 'Fix the highlighted fields first'
    : needsImages
      ? 'Import your images first (Task and data)'
      : needsWeightsFile
        ? 'Choose the torchvision weights file first (Base weights)'
        : needsPretrained
          ? 'Pretrain a base model of this size first, or choose other base weights (Base weights)'
          : pretraining
          ? 'A base model is being pretrained: wait or cancel it (Base weights)'
          : undefined;
  return (
    <div className="run-buttons">
      <button type="button" onClick={startRun} disabled={active || why !== undefined} title={why}>
        Start
      </button>
      {run?.status === 'paused' ? (
        <button type="button" className="secondary" onClick={resumeRun}>
          Resume
        </button>
      ) : (
        <button type="button" className="secondary" onClick={pauseRun} disabled={run?.status !== 'running'}>
          Pause
        </button>
      )}
      <button type="button" className="secondary" onClick={stopRun} disabled={!active}>
        Stop
      </button>
    </div>
  );
}

function RunProgress({ run }: { run: CurrentRun }) {
  const finished = run.status === 'done' || run.status === 'stopped';
  const decoding = run.phase === 'preparing' ? run.dataProgress : null;
  const caption =
    run.status === 'paused'
      ? 'Paused'
      : finished
        ? run.status === 'stopped'
          ? 'Stopped'
          : 'Done'
        : run.status === 'error'
          ? 'Failed'
          : decoding
            ? `Decoding ${decoding.what}: ${formatCount(decoding.done)} of ${formatCount(decoding.total)} images`
            : PHASE_WORDS[run.phase];
  return (
    <div className="run-progress">
      <div className="run-progress-head">
        <strong>{run.label}</strong> <span className="muted">· {caption}</span>
      </div>
      <StepProgressBar label="Training progress" step={run.step} total={run.totalSteps} />
      <dl className="run-stats">
        <Stat term="Step" testId="run-step">
          {run.step} / {run.totalSteps || '…'}
        </Stat>
        <Stat term="Epoch" testId="run-epoch">
          {run.epoch} / {run.epochs}
        </Stat>
        <Stat term="Examples/s" testId="run-speed">
          {formatSpeed(run.examplesPerSecond)}
        </Stat>
        <Stat term="ETA" testId="run-eta">
          {finished ? '0 s' : formatDuration(run.etaSeconds)}
        </Stat>
        <Stat term="Before fine-tuning" testId="run-baseline">
          {run.baseline ? formatPercent(run.baseline.accuracy) : '…'}
        </Stat>
        <Stat term="Latest eval accuracy" testId="run-accuracy">
          {run.evals.length > 0 ? formatPercent(run.evals[run.evals.length - 1].accuracy) : '—'}
        </Stat>
      </dl>
    </div>
  );
}

function RunNotes({ run }: { run: CurrentRun }) {
  // The analytic peak of the same step, when the charts' profiles are of the run's configuration.
  const analyticPeak = useLabStore((s) => {
    const request = s.profiles?.request;
    const same = request && JSON.stringify(request.model) === JSON.stringify(modelOptionsOf(run.config)) && request.batch === run.config.batchSize && request.optimizer === run.config.optimizer && JSON.stringify(request.methodOptions) === JSON.stringify(methodOptionsOf(run.config)) && (request.frozenWeights ?? 'fp32') === run.config.frozenWeights;
    return same ? (s.profiles?.byMethod[run.config.method]?.memory.analytic.peak.total ?? null) : null;
  });
  const drop = run.cleanAccuracy !== null && run.baseline ? run.cleanAccuracy - run.baseline.accuracy : null;
  return (
    <div className="run-notes">
      {run.checkpoint?.kind === 'none' && (
        <p className={run.checkpoint.chosen ? 'muted' : 'banner banner-warning'} data-testid="run-base-weights">
          {run.checkpoint.message}
        </p>
      )}
      {run.checkpoint?.kind === 'loaded' && (
        <p className="muted" data-testid="run-base-weights">
          Base weights: {loadedBaseInWords(run.checkpoint)}
          {run.checkpoint.cleanTestAccuracy !== null ? ` (clean accuracy ${formatPercent(run.checkpoint.cleanTestAccuracy)} when pretrained)` : ''}
          {run.checkpoint.headSkipped
            ? run.checkpoint.origin === 'hub'
              ? `; its ${IMAGENET_CLASSES}-class ImageNet head was replaced by a new ${headClassesOf(run.config)}-class head, which trains`
              : '; its classifier was not loaded (this task trains a new one)'
            : ''}
          . {run.trainImages} fine-tuning images, {run.testImages} test images.
        </p>
      )}
      {drop !== null && run.cleanAccuracy !== null && run.baseline && (
        <p className="muted" data-testid="run-shift-drop">
          The shift before fine-tuning: clean {formatPercent(run.cleanAccuracy)} → corrupted {formatPercent(run.baseline.accuracy)} ({drop >= 0 ? '−' : '+'}
          {(Math.abs(drop) * 100).toFixed(1)} points).
        </p>
      )}
      {run.measured && (
        <p className="muted" data-testid="run-measured">
          Measured (one sampled step on {run.measured.backend}): peak {formatBytes(MEMORY_GROUPS.reduce((sum, g) => sum + run.measured!.peakBytesByGroup[g], 0))} (
          {MEMORY_GROUPS.map((g) => `${MEMORY_GROUP_NAMES[g]} ${formatBytes(run.measured!.peakBytesByGroup[g])}`).join(', ')})
          {run.measured.allocatedBytes !== null ? `; the backend allocated up to ${formatBytes(run.measured.allocatedBytes)}` : ''}
          {analyticPeak !== null ? `. Analytic peak of the same step: ${formatBytes(analyticPeak)}` : ''}.
        </p>
      )}
      {run.error && (
        <div role="alert" className="banner banner-error">
          <strong>{run.error.kind === 'nan_loss' ? 'Training diverged' : run.error.kind === 'out_of_memory' ? 'Out of memory' : run.error.kind === 'device_lost' ? 'GPU lost' : run.error.kind === 'download' ? 'Download failed' : 'The run failed'}:</strong>{' '}
          <span style={{ whiteSpace: 'pre-line' }}>{run.error.message}</span>
          {run.error.memoryBreakdown && (
            <span>
              {' '}
              The analytic peak of this configuration: {MEMORY_GROUPS.map((g) => `${MEMORY_GROUP_NAMES[g]} ${formatBytes(run.error!.memoryBreakdown![g])}`).join(', ')} — lower the batch size, resolution or width, or choose a lighter method.
            </span>
          )}
        </div>
      )}
    </div>
  );
}

/** The run's controls and progress, at the top of the main area. */
/** Where a run's loaded base came from, in words. */
function loadedBaseInWords(checkpoint: Extract<CheckpointStatus, { kind: 'loaded' }>): string {
  if (checkpoint.origin === 'imported') return `imported file ${checkpoint.file}`;
  if (checkpoint.origin !== 'hub') return checkpoint.file;
  const how = checkpoint.fromCache ? 'from this browser’s cache' : checkpoint.droppedCorruptEntry ? 'downloaded again (the cached copy failed its sha256 check) and cached' : 'downloaded and cached';
  return `ImageNet-pretrained ${checkpoint.file}, ${how} (sha256 ${checkpoint.sha256?.slice(0, 12) ?? '?'}…)`;
}

export function RunPanel() {
  const run = useLabStore((s) => s.run);
  const queue = useLabStore((s) => s.queue);
  const notes = useLabStore((s) => s.batchNotes);
  return (
    <section className="chart-card run-panel" aria-labelledby="run-panel-title">
      <div className="chart-card-head">
        <h2 id="run-panel-title">Fine-tune</h2>
        <RunButtons />
      </div>
      <p className="chart-explanation">Training runs in a Web Worker on the GPU backend; the page only draws its messages.</p>
      {queue && (
        <p className="muted" data-testid="run-queue">
          {queue.plan.title}: run {queue.index + 1} of {queue.plan.runs.length}
        </p>
      )}
      {notes.map((note) => (
        <p key={note} className="banner banner-warning">
          {note}
        </p>
      ))}
      {run ? <RunProgress run={run} /> : <p className="muted">Press Start to fine-tune the configured model with the configured method.</p>}
      {run && <RunNotes run={run} />}
      {run && <ExportPanel run={run} />}
    </section>
  );
}
