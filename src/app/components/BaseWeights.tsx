// Where a run's base weights come from: the checkpoint shipped for this size (which, and its clean
// accuracy), a base pretrained in this browser (cached in IndexedDB), a torchvision safetensors
// or .pth file, or random init; and "Pretrain base model", which trains this size's base in the training
// worker with progress and cancel, measures its clean accuracy, caches it and selects it.
import { useEffect, useRef, useState } from 'react';
import { PRETRAIN_CLASSES, PRETRAIN_DEFAULTS, PRETRAIN_EPOCHS } from '../../core/train/pretrainTasks';
import { pretrainedKeyOf, pretrainModelOptionsOf, pretrainTaskOf, pretrainTestImagesFor, shippedCheckpointOf, sizeInWords, type PretrainedWeightsInfo } from '../../lab/baseWeights';
import { hasErrors, hasNewHead, headClassesOf, modelOptionsOf, type BaseWeightsId, type LabConfig } from '../../lab/config';
import { formatBytes, formatDuration, formatPercent } from '../format';
import type { PretrainJob } from '../baseWeightsSlice';
import { useLabStore } from '../store';
import { SelectField, TextField } from './fields';
import { hubBaseBytesOf, hubBaseFixOf, hubBaseFileOf, hubBaseProblem, IMAGENET_CLASSES } from '../../lab/hub/hubBases';
import { isHubCacheMeta, type HubCacheMeta } from '../../lab/hub/hubFiles';
import { hubCacheKey, hubFileUrl } from '../../lab/hub/hubUrl';
import { listCachedData } from '../../lab/storage/indexedDb';
import { formatSpeed, Stat, StepProgressBar } from './StepProgress';

const PRETRAIN_LIMITS = { epochs: { min: 1, max: 100 }, images: { min: 8, max: 10_000 } } as const;

const PHASE_WORDS: Record<PretrainJob['phase'], string> = {
  preparing: 'Generating the synthetic images',
  training: 'Training',
  evaluating: 'Measuring the clean test accuracy',
  storing: 'Storing in this browser',
};

const describeBase = (info: PretrainedWeightsInfo) =>
  `${formatPercent(info.cleanTestAccuracy)} clean test accuracy on ${info.testImages} images (${info.epochs} epoch${info.epochs === 1 ? '' : 's'} on ${info.trainImages} images, ${info.steps} step${info.steps === 1 ? '' : 's'})`;

function classesInWords(config: LabConfig): string {
  const classes = PRETRAIN_CLASSES[pretrainTaskOf(config)];
  return classes.length === 10 ? 'all 10 source classes' : `source classes ${classes[0]}–${classes[classes.length - 1]}`;
}

function wholeNumberProblem(text: string, { min, max }: { min: number; max: number }): string | null {
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) return `A whole number from ${min} to ${max}.`;
  return null;
}

function PretrainBase({ config }: { config: LabConfig }) {
  const job = useLabStore((s) => s.pretrainJob);
  const result = useLabStore((s) => s.pretrainResult);
  const message = useLabStore((s) => s.pretrainMessage);
  const runActive = useLabStore((s) => s.run !== null && (s.run.status === 'starting' || s.run.status === 'running' || s.run.status === 'paused'));
  const formInvalid = useLabStore((s) => hasErrors(s.issues));
  const { startPretraining, cancelPretraining } = useLabStore.getState();
  // Until edited, the epochs follow the model: the passes it needs to learn the source domain.
  const [editedEpochs, setEpochs] = useState<string | null>(null);
  const epochs = editedEpochs ?? String(PRETRAIN_EPOCHS[config.model]);
  const [images, setImages] = useState(String(PRETRAIN_DEFAULTS.trainSize));
  const epochsProblem = wholeNumberProblem(epochs, PRETRAIN_LIMITS.epochs);
  const imagesProblem = wholeNumberProblem(images, PRETRAIN_LIMITS.images);
  const why = runActive ? 'A fine-tuning run is in progress' : formInvalid ? 'Fix the highlighted fields first' : epochsProblem || imagesProblem ? 'Fix the pretraining settings first' : undefined;
  const testImages = Number.isInteger(Number(images)) ? pretrainTestImagesFor(Number(images)) : null;

  return (
    <div className="pretrain-base">
      <p className="field-hint">
        <strong>Pretrain in this browser:</strong> this size ({pretrainModelOptionsOf(config).numClasses}-way head) from random init on {classesInWords(config)} of the synthetic
        source domain, with the shipped checkpoints’ recipe (Adam, peak learning rate {PRETRAIN_DEFAULTS.lr}, warm-up then cosine, batches of {PRETRAIN_DEFAULTS.batchSize});
        then its clean test accuracy{testImages !== null ? ` on ${testImages} images` : ''}. Kept in this browser.
      </p>
      <div className="field-row">
        <div className="field">
          <label htmlFor="pretrain-epochs">Pretraining epochs</label>
          <input
            id="pretrain-epochs"
            type="number"
            min={PRETRAIN_LIMITS.epochs.min}
            max={PRETRAIN_LIMITS.epochs.max}
            step={1}
            value={epochs}
            disabled={job !== null}
            aria-invalid={epochsProblem ? true : undefined}
            aria-describedby={epochsProblem ? 'pretrain-epochs-issue' : undefined}
            onChange={(event) => setEpochs(event.target.value)}
          />
          {epochsProblem && (
            <p id="pretrain-epochs-issue" className="field-error">
              {epochsProblem}
            </p>
          )}
        </div>
        <div className="field">
          <label htmlFor="pretrain-images">Pretraining images</label>
          <input
            id="pretrain-images"
            type="number"
            min={PRETRAIN_LIMITS.images.min}
            max={PRETRAIN_LIMITS.images.max}
            step={1}
            value={images}
            disabled={job !== null}
            aria-invalid={imagesProblem ? true : undefined}
            aria-describedby={imagesProblem ? 'pretrain-images-issue' : undefined}
            onChange={(event) => setImages(event.target.value)}
          />
          {imagesProblem && (
            <p id="pretrain-images-issue" className="field-error">
              {imagesProblem}
            </p>
          )}
        </div>
      </div>
      <div className="run-buttons">
        <button
          type="button"
          className="secondary"
          disabled={job !== null || why !== undefined}
          title={why}
          onClick={() => startPretraining({ epochs: Number(epochs), trainImages: Number(images) })}
        >
          Pretrain base model
        </button>
        {job && (
          <button type="button" className="secondary" onClick={cancelPretraining} disabled={job.cancelling}>
            Cancel pretraining
          </button>
        )}
      </div>
      {job && (
        <div className="run-progress" aria-live="polite">
          <div className="run-progress-head muted">{job.cancelling ? 'Cancelling…' : PHASE_WORDS[job.phase]}</div>
          <StepProgressBar label="Pretraining progress" step={job.step} total={job.totalSteps} />
          <dl className="run-stats">
            <Stat term="Step" testId="pretrain-step">
              {job.step} / {job.totalSteps || '…'}
            </Stat>
            <Stat term="Epoch" testId="pretrain-epoch">
              {job.epoch} / {job.epochs}
            </Stat>
            <Stat term="Loss" testId="pretrain-loss">
              {Number.isFinite(job.loss) ? job.loss.toFixed(3) : '—'}
            </Stat>
            <Stat term="Examples/s" testId="pretrain-speed">
              {formatSpeed(job.examplesPerSecond)}
            </Stat>
          </dl>
        </div>
      )}
      {result && !job && (
        <p className="field-hint" data-testid="pretrain-result" aria-live="polite">
          Pretrained {sizeInWords(result.info.options)}: <strong>{formatPercent(result.info.cleanTestAccuracy)}</strong> clean test accuracy on {result.info.testImages} images ({result.info.steps} step{result.info.steps === 1 ? '' : 's'},{' '}
          {formatDuration(result.info.trainSeconds)} on {result.info.backend}, {formatBytes(result.info.bytes)}).{' '}
          {result.stored ? 'Cached in this browser.' : 'This browser keeps no IndexedDB: it lasts until a reload.'}
        </p>
      )}
      {message && (
        <p role={message.kind === 'error' ? 'alert' : undefined} className={message.kind === 'error' ? 'banner banner-error' : 'field-hint'}>
          {message.text}
        </p>
      )}
    </div>
  );
}

/** One click: choosing the hub's weights (not a link that opens with them) downloads them when they
 * fit this size and are not cached yet. */
function useDownloadWhenChosen(cached: HubCacheMeta | null | undefined) {
  const choice = useLabStore((s) => s.config.baseWeights);
  const previous = useRef(choice);
  // Chosen while the cache was still being read: decided once it is.
  const pending = useRef(false);
  useEffect(() => {
    if (previous.current !== 'hub' && choice === 'hub') pending.current = true;
    if (choice !== 'hub') pending.current = false;
    previous.current = choice;
    if (!pending.current || cached === undefined) return;
    pending.current = false;
    const { config, issues, hubDownloads, startHubDownload } = useLabStore.getState();
    const file = hubBaseFileOf(config.model);
    const fits = hubBaseProblem(config) === null && !issues.some((issue) => issue.field === 'hubUrl' && issue.severity === 'error');
    if (fits && cached === null && hubDownloads[hubCacheKey(file)]?.status !== 'downloading') startHubDownload(file);
  }, [choice, cached]);
}

/** The hub file of this key in this browser's cache (sha256 and size; checked again on every read),
 * null when not cached, undefined while read. Read again when the cache changes or a run ends. */
function useCachedHubFile(key: string): HubCacheMeta | null | undefined {
  const cacheRevision = useLabStore((s) => s.cacheRevision);
  const runStatus = useLabStore((s) => s.run?.status);
  const downloadStatus = useLabStore((s) => s.hubDownloads[key]?.status);
  const [found, setFound] = useState<{ key: string; meta: HubCacheMeta | null } | undefined>(undefined);
  useEffect(() => {
    let cancelled = false;
    void listCachedData().then((entries) => {
      const meta = entries?.find((entry) => entry.key === key)?.meta;
      if (!cancelled) setFound({ key, meta: isHubCacheMeta(meta) ? meta : null });
    });
    return () => {
      cancelled = true;
    };
  }, [key, cacheRevision, runStatus, downloadStatus]);
  return found?.key === key ? found.meta : undefined;
}

/** The hub fix's button: "Use width 1 and the ImageNet stem" (a ViT: with its depth and resolution too). */
const fixInWords = (fix: ReturnType<typeof hubBaseFixOf>) =>
  fix.depth === undefined ? `Use width ${fix.width} and the ImageNet stem` : `Use width ${fix.width}, depth ${fix.depth}, the ImageNet stem and ${fix.resolution}×${fix.resolution}`;

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Base weights 'hub': which file, whether it fits this size (and the fix), its download with
 * progress and Cancel, whether it is cached, and what happens to its ImageNet head. */
function HubBase() {
  const config = useLabStore((s) => s.config);
  const download = useLabStore((s) => s.hubDownloads[hubCacheKey(hubBaseFileOf(s.config.model))]);
  const hubUrlInvalid = useLabStore((s) => s.issues.some((issue) => issue.field === 'hubUrl' && issue.severity === 'error'));
  const { applyConfig, startHubDownload, cancelHubDownload } = useLabStore.getState();
  const file = hubBaseFileOf(config.model);
  const cached = useCachedHubFile(hubCacheKey(file));
  const problem = hubBaseProblem(config);
  const downloading = download?.status === 'downloading';
  const size = download?.totalBytes ?? cached?.bytes ?? hubBaseBytesOf(config.model);
  return (
    <div className="hub-base" data-testid="hub-base">
      <TextField field="hubUrl" />
      <p className="field-hint">
        <a href={`${config.hubUrl.replace(/\/+$/, '')}/${file.repo}`} target="_blank" rel="noreferrer">
          {file.repo}
        </a>{' '}
        ({file.path}, {download?.totalBytes != null || cached ? '' : 'about '}
        {mib(size)}): timm’s ImageNet-1k weights at width 1, revision “{file.revision}” — not pinned to a commit, so the lab keeps the sha256 of what it downloaded and checks the cached copy against it on every read.
      </p>
      {problem ? (
        // The problem itself is said under the choice (the configuration's issue); here is its fix.
        <div data-testid="hub-base-problem">
          <button
            type="button"
            className="secondary"
            onClick={() => {
              applyConfig({ ...config, ...hubBaseFixOf(config.model) });
              if (!cached && !hubUrlInvalid) startHubDownload(file);
            }}
          >
            {fixInWords(hubBaseFixOf(config.model))}
          </button>
        </div>
      ) : (
        <>
          <p className="field-hint" data-testid="hub-base-head">
            The {IMAGENET_CLASSES}-class ImageNet head is not loaded: a new head for this task’s {headClassesOf(config)} classes replaces it and trains, whatever the method
            (as PEFT’s modules_to_save), so the “before fine-tuning” accuracy is chance level.
          </p>
          <p className="field-hint" data-testid="hub-base-cache" aria-live="polite">
            {cached === undefined
              ? 'Reading this browser’s cache…'
              : cached
                ? `Cached in this browser: ${mib(cached.bytes)}, sha256 ${cached.sha256.slice(0, 12)}…; runs read it from there.`
                : `Not in this browser yet: download it now, or a run downloads it from ${hubFileUrl(config.hubUrl, file)}.`}
          </p>
          <div className="run-buttons">
            {!cached && (
              <button type="button" className="secondary" disabled={downloading || hubUrlInvalid} onClick={() => startHubDownload(file)}>
                Download ImageNet weights
              </button>
            )}
            {downloading && (
              <button type="button" className="secondary" onClick={() => cancelHubDownload(file)}>
                Cancel download
              </button>
            )}
          </div>
        </>
      )}
      {downloading && (
        <div className="run-progress" aria-live="polite">
          <StepProgressBar label="Download progress" step={download.loadedBytes} total={download.totalBytes ?? 0} />
          <p className="muted" data-testid="hub-download-bytes">
            {mib(download.loadedBytes)} of {download.totalBytes === null ? 'unknown size' : mib(download.totalBytes)}
          </p>
        </div>
      )}
      {download?.status === 'error' && (
        <p role="alert" className="banner banner-error" data-testid="hub-download-error">
          {download.message}
        </p>
      )}
      {download?.status === 'cancelled' && <p className="field-hint">Download cancelled: nothing was cached.</p>}
    </div>
  );
}

/** The Base weights choice with what each option means for the configured size, the file input, and pretraining. */
export function BaseWeights() {
  const hidden = useLabStore((s) => s.hiddenFields.includes('baseWeights'));
  const choice = useLabStore((s) => s.config.baseWeights);
  const config = useLabStore((s) => s.validConfig);
  const shippedCheckpoints = useLabStore((s) => s.shippedCheckpoints);
  const manifestError = useLabStore((s) => s.shippedCheckpointsError);
  const pretrainedBases = useLabStore((s) => s.pretrainedBases);
  const file = useLabStore((s) => s.baseWeightsFile);
  const loadBaseWeightSources = useLabStore((s) => s.loadBaseWeightSources);
  const setBaseWeightsFile = useLabStore((s) => s.setBaseWeightsFile);
  useEffect(() => loadBaseWeightSources(document.baseURI), [loadBaseWeightSources]);
  const hubFile = hubBaseFileOf(config.model);
  const hubCached = useCachedHubFile(hubCacheKey(hubFile));
  useDownloadWhenChosen(hubCached);
  if (hidden) return null;

  const shipped = shippedCheckpoints ? shippedCheckpointOf(shippedCheckpoints, config) : undefined;
  const key = pretrainedKeyOf(config);
  const cached = pretrainedBases?.find((info) => info.key === key);
  const freshHead = hasNewHead(config);
  const size = sizeInWords(modelOptionsOf(config));

  const optionLabel = (id: BaseWeightsId): string => {
    switch (id) {
      case 'shipped':
        if (shipped) return `Shipped checkpoint (${formatPercent(shipped.cleanTestAccuracy)} clean)`;
        return shippedCheckpoints === undefined ? 'Shipped checkpoint' : 'Shipped checkpoint (none for this size)';
      case 'browser':
        return cached ? `Pretrained in this browser (${formatPercent(cached.cleanTestAccuracy)} clean)` : 'Pretrained in this browser (none yet)';
      case 'hub':
        return `ImageNet-pretrained (Hugging Face hub, timm)${hubCached ? ', cached' : ''}`;
      case 'imported':
        return file ? `Imported file (${file.name})` : 'Imported file (choose below)';
      case 'random':
        return 'Random init';
    }
  };

  let explanation: string;
  switch (choice) {
    case 'shipped':
      explanation = shipped
        ? `Starts from ${shipped.file}, shipped with the lab: pretrained on the synthetic source domain, ${formatPercent(shipped.cleanTestAccuracy)} clean test accuracy.`
        : manifestError
          ? `The list of shipped checkpoints could not be read: ${manifestError} A run will try again.`
          : shippedCheckpoints === undefined
          ? 'Reading the list of shipped checkpoints…'
          : `No checkpoint is shipped for ${size}: runs start from random init. Pretrain one below, or import weights.`;
      break;
    case 'browser':
      explanation = cached
        ? `Starts from the base pretrained in this browser: ${describeBase(cached)}.`
        : pretrainedBases === undefined
          ? 'Reading this browser’s cache…'
          : `No base of this size is pretrained in this browser yet: press “Pretrain base model” below.`;
      break;
    case 'imported':
      explanation = file
        ? `Starts from ${file.name} (${formatBytes(file.size)}), checked when the run starts: a torchvision state_dict of ${size}${freshHead ? ' (its classifier is not loaded: this task trains a new one)' : ''}.`
        : 'Choose a torchvision state_dict saved as .safetensors or with torch.save (.pth, .pt) below. A file does not travel in a link.';
      break;
    case 'hub':
      explanation = 'Starts from timm’s ImageNet-pretrained weights of this model, downloaded once from the Hugging Face hub (or the mirror below) and cached in this browser.';
      break;
    case 'random':
      explanation = 'Every weight at random init: the “before fine-tuning” accuracy is chance level.';
      break;
  }
  if (freshHead && choice !== 'random' && choice !== 'imported' && choice !== 'hub') explanation += ' This task trains a new classifier: the base’s is not loaded.';

  return (
    <div className="base-weights">
      <SelectField field="baseWeights" optionLabel={optionLabel} optionDisabled={(id) => id === 'browser' && !cached} />
      <p className="field-hint" data-testid="base-weights-note">
        {explanation}
      </p>
      {choice === 'hub' && <HubBase />}
      <div className="field">
        <label htmlFor="base-weights-file">Torchvision weights (.safetensors, .pth)</label>
        <input
          id="base-weights-file"
          type="file"
          accept=".safetensors,.pth,.pt,application/octet-stream"
          onChange={(event) => {
            const chosen = event.target.files?.[0] ?? null;
            if (chosen) setBaseWeightsFile(chosen);
            event.target.value = '';
          }}
        />
      </div>
      <PretrainBase config={config} />
    </div>
  );
}
