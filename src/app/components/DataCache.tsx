// CIFAR-10 from a file the user has (instead of the download), and the browser's cache of it and of
// the base models pretrained in this browser: what is cached, and a button that clears it all. The worker fills the cache (src/worker/storage.ts); a
// browser without IndexedDB (some private modes) simply downloads again after each reload.
import { useEffect, useState } from 'react';
import { listCachedData, clearCachedData, type CachedDataInfo } from '../../lab/storage/indexedDb';
import { isPretrainedWeightsKey } from '../../core/train/pretrainTasks';
import { sizeInWords, type PretrainedWeightsInfo } from '../../lab/baseWeights';
import { formatBytes, formatPercent } from '../format';
import { useLabStore } from '../store';

/** undefined: not read yet; null: IndexedDB unavailable. */
type CacheListing = CachedDataInfo[] | null | undefined;

const CACHE_NAMES: Record<string, string> = { 'cifar-10-binary.tar.gz': 'CIFAR-10 archive' };

function cacheEntryName(entry: CachedDataInfo): string {
  if (isPretrainedWeightsKey(entry.key) && entry.meta) {
    const info = entry.meta as PretrainedWeightsInfo;
    return `Pretrained base ${sizeInWords(info.options)}, ${info.task === 'source' ? 'all source classes' : 'source classes 0–4'}, ${formatPercent(info.cleanTestAccuracy)} clean`;
  }
  return CACHE_NAMES[entry.key] ?? entry.key;
}

export function DataCache() {
  const task = useLabStore((s) => s.config.task);
  const dataSource = useLabStore((s) => s.config.dataSource);
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
  const hasCached = Array.isArray(listing) && listing.length > 0;
  if (!usesCifar && !hasCached) return null;

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
