// CIFAR-10 from a file the user has (instead of the download), the hub's CIFAR-10 files (download
// with progress and Cancel), and the browser's cache of them and of the base models pretrained in
// this browser: what is cached, and a button that clears it all. The worker fills the cache; a
// browser without IndexedDB (some private modes) simply downloads again after each reload.
import { useEffect, useState } from 'react';
import { listCachedData, clearCachedData, type CachedDataInfo } from '../../lab/storage/indexedDb';
import { isHubCacheMeta } from '../../lab/hub/hubFiles';
import { hubCacheKey } from '../../lab/hub/hubUrl';
import { hubCifar10FilesFor, type HubCifar10File } from '../../lab/hub/hubCifar10';
import { CheckboxField, TextField } from './fields';
import { isPretrainedWeightsKey } from '../../core/train/pretrainTasks';
import { sizeInWords, type PretrainedWeightsInfo } from '../../lab/baseWeights';
import { formatBytes, formatCount, formatPercent } from '../format';
import { useLabStore } from '../store';

/** undefined: not read yet; null: IndexedDB unavailable. */
type CacheListing = CachedDataInfo[] | null | undefined;

const CACHE_NAMES: Record<string, string> = { 'cifar-10-binary.tar.gz': 'CIFAR-10 archive' };

function cacheEntryName(entry: CachedDataInfo): string {
  if (isPretrainedWeightsKey(entry.key) && entry.meta) {
    const info = entry.meta as PretrainedWeightsInfo;
    return `Pretrained base ${sizeInWords(info.options)}, ${info.task === 'source' ? 'all source classes' : 'source classes 0–4'}, ${formatPercent(info.cleanTestAccuracy)} clean`;
  }
  if (isHubCacheMeta(entry.meta)) return `${entry.meta.hubFile.repo} ${entry.meta.hubFile.path}`;
  return CACHE_NAMES[entry.key] ?? entry.key;
}

const SPLIT_WORDS = { test: 'test file', train: 'train file' } as const;

/** One of the hub's CIFAR-10 files: cached, downloading (progress, Cancel), failed, or a Download button. */
function HubCifarFile({ entry, cached }: { entry: HubCifar10File; cached: CachedDataInfo | undefined }) {
  const download = useLabStore((s) => s.hubDownloads[hubCacheKey(entry.file)]);
  const startHubDownload = useLabStore((s) => s.startHubDownload);
  const cancelHubDownload = useLabStore((s) => s.cancelHubDownload);
  const hubUrlInvalid = useLabStore((s) => s.issues.some((issue) => issue.field === 'hubUrl' && issue.severity === 'error'));
  const name = `CIFAR-10 ${SPLIT_WORDS[entry.split]}`;
  const what = `${name} (${formatCount(entry.images)} images, ${cached ? formatBytes(cached.bytes) : `about ${formatBytes(entry.approxBytes)}`})`;
  if (download?.status === 'downloading') {
    const { loadedBytes, totalBytes } = download;
    return (
      <div className="hub-file" data-testid={`hub-cifar-${entry.split}`}>
        <p role="status" className="field-hint">
          Downloading {what}: {formatBytes(loadedBytes)}
          {totalBytes !== null ? ` of ${formatBytes(totalBytes)}` : ''}
        </p>
        <progress aria-label={`Downloading ${name}`} value={loadedBytes} max={totalBytes ?? undefined} />{' '}
        <button type="button" className="secondary" onClick={() => cancelHubDownload(entry.file)}>
          Cancel
        </button>
      </div>
    );
  }
  return (
    <div className="hub-file" data-testid={`hub-cifar-${entry.split}`}>
      {cached ? (
        <p className="field-hint">{what}: cached in this browser.</p>
      ) : (
        <>
          <p className="field-hint">
            {what}: not downloaded yet{download?.status === 'cancelled' ? ' (download cancelled)' : ''}. A run downloads it itself; here you see the progress.
          </p>
          <button type="button" className="secondary" disabled={hubUrlInvalid} onClick={() => startHubDownload(entry.file)}>
            Download {name}
          </button>
        </>
      )}
      {download?.status === 'error' && (
        <div role="alert" className="banner banner-error">
          <strong>Download failed:</strong> {download.message}
        </div>
      )}
    </div>
  );
}

export function DataCache() {
  const task = useLabStore((s) => s.config.task);
  const dataSource = useLabStore((s) => s.config.dataSource);
  const hubTrainFile = useLabStore((s) => s.config.hubTrainFile);
  const baseWeights = useLabStore((s) => s.config.baseWeights);
  const runStatus = useLabStore((s) => s.run?.status);
  const cifarArchive = useLabStore((s) => s.cifarArchive);
  const setCifarArchive = useLabStore((s) => s.setCifarArchive);
  const [listing, setListing] = useState<CacheListing>(undefined);
  const [clearedNote, setClearedNote] = useState<string | null>(null);
  const [refreshes, setRefreshes] = useState(0);
  // Bumped when a base model is pretrained and stored.
  const cacheRevision = useLabStore((s) => s.cacheRevision);
  const noteCacheCleared = useLabStore((s) => s.noteCacheCleared);

  // Read again when a run ends (it may have cached the archive) and after clearing.
  useEffect(() => {
    let cancelled = false;
    void listCachedData().then((entries) => {
      if (!cancelled) setListing(entries);
    });
    return () => {
      cancelled = true;
    };
  }, [runStatus, refreshes, cacheRevision]);

  const usesCifar = task !== 'custom' && dataSource === 'cifar10';
  const usesHub = task !== 'custom' && dataSource === 'hub_cifar10';
  const hasCached = Array.isArray(listing) && listing.length > 0;
  if (!usesCifar && !usesHub && !hasCached) return null;

  const clear = async () => {
    const cleared = await clearCachedData();
    setClearedNote(cleared ? 'Cached data cleared: CIFAR-10 is downloaded again on its next run, and base models pretrained in this browser are gone.' : 'The cache could not be cleared.');
    setRefreshes((count) => count + 1);
    noteCacheCleared();
  };

  return (
    <div className="data-cache">
      {usesCifar && (
        <div className="field">
          <label htmlFor="cifar-archive-file">CIFAR-10 archive file</label>
          <input
            id="cifar-archive-file"
            type="file"
            accept=".tar.gz,.tgz,application/gzip,application/x-gzip"
            aria-describedby="cifar-archive-hint"
            onChange={(event) => {
              setCifarArchive(event.target.files?.[0] ?? null);
              event.target.value = '';
            }}
          />
          <p id="cifar-archive-hint" className="field-hint">
            {cifarArchive ? (
              <>
                Runs read <strong>{cifarArchive.name}</strong> ({formatBytes(cifarArchive.size)}) instead of downloading.{' '}
                <button type="button" className="link-button" onClick={() => setCifarArchive(null)}>
                  Download instead
                </button>
              </>
            ) : (
              'Optional: cifar-10-binary.tar.gz from your disk instead of the download. Either way the archive is cached in this browser, so a reload does not fetch it again.'
            )}
          </p>
        </div>
      )}
      {usesHub && (
        <div className="field">
          {/* With the hub's base weights, Hub URL is in their card already. */}
          {baseWeights !== 'hub' && <TextField field="hubUrl" />}
          <CheckboxField field="hubTrainFile" />
          {hubCifar10FilesFor({ hubTrainFile }).map((entry) => (
            <HubCifarFile key={entry.split} entry={entry} cached={listing?.find((cached) => cached.key === hubCacheKey(entry.file))} />
          ))}
        </div>
      )}
      <div className="cache-status" aria-live="polite">
        {listing === null ? (
          <p className="field-hint">This browser does not let the lab cache data (private browsing?): CIFAR-10 is downloaded again after each reload.</p>
        ) : listing === undefined ? null : listing.length === 0 ? (
          <p className="field-hint">Nothing cached in this browser yet.</p>
        ) : (
          <p className="field-hint" data-testid="cached-data">
            Cached in this browser:{' '}
            {listing.map((entry) => `${cacheEntryName(entry)} (${formatBytes(entry.bytes)}, ${isPretrainedWeightsKey(entry.key) ? entry.source : `from ${entry.source}`})`).join('; ')}.
          </p>
        )}
        {clearedNote && <p className="field-hint">{clearedNote}</p>}
      </div>
      <button type="button" className="secondary" onClick={() => void clear()} disabled={!hasCached}>
        Clear cached data
      </button>
    </div>
  );
}
