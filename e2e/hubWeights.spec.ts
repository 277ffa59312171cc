// ImageNet-pretrained base weights from a Hugging Face hub in real Chromium, against a stand-in hub
// on loopback (hubServer.ts: the hub's URL layout, its 302 to a CDN, CORS, a body sent slowly
// enough to watch) holding timm-format MobileNetV3-small weights made from the lab's spec. The link
// points the Hub URL at it. Choosing the weights on the default width says what must change and
// offers the fix, which downloads them with progress and Cancel (nothing cached when cancelled);
// downloaded again, they are cached; a width-1 fine-tune at 32×32 starts from them with a new head
// that trains. After a reload the cache serves the run (no request), a cached copy corrupted
// through IndexedDB is dropped and downloaded again by the run, a hub that answers 503 is named
// with its URL and status, a connection dropped mid-body is resumed with a Range request, and on a
// size they fit, choosing the weights is the one click that downloads them.
import { expect, test, type Page } from '@playwright/test';
import { hubBaseFileOf } from '../src/lab/hub/hubBases';
import { hubCacheKey, hubFileUrl } from '../src/lab/hub/hubUrl';
import { startHubServer, timmBaseFixture, type HubServer } from './hubServer';
import { choose, recordWorkerMessages, setNumber } from './tiny';

const FILE = hubBaseFileOf('mobilenet_v3_small');
const KEY = hubCacheKey(FILE);
let hub: HubServer;

test.beforeAll(async () => {
  // ~10 MB in 256 KiB writes 100 ms apart: about 4 s, long enough to see progress and to cancel.
  hub = await startHubServer({ files: [{ file: FILE, bytes: timmBaseFixture('mobilenet_v3_small') }], chunkBytes: 256 * 1024, chunkDelayMs: 100 });
});
test.afterAll(() => hub.close());

const messagesOf = (page: Page, type: string) => page.evaluate((wanted) => window.__workerMessages.filter((message) => message.type === wanted), type);

/** The cached entry's bytes length, or null when the key is not cached (read through IndexedDB). */
const cachedBytes = (page: Page) =>
  page.evaluate(async (key) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('peft-edge-lab');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const record = await new Promise<{ blob: Blob } | undefined>((resolve) => {
      const request = db.transaction('data', 'readonly').objectStore('data').get(key);
      request.onsuccess = () => resolve(request.result as { blob: Blob } | undefined);
      request.onerror = () => resolve(undefined);
    });
    db.close();
    return record ? record.blob.size : null;
  }, KEY);

/** Flips one byte of the cached file in IndexedDB (its stored sha256 stays as it was). */
const corruptCachedFile = (page: Page) =>
  page.evaluate(async (key) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('peft-edge-lab');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const record = await new Promise<{ blob: Blob }>((resolve, reject) => {
      const request = db.transaction('data', 'readonly').objectStore('data').get(key);
      request.onsuccess = () => resolve(request.result as { blob: Blob });
      request.onerror = () => reject(request.error);
    });
    const bytes = new Uint8Array(await record.blob.arrayBuffer());
    bytes[1000] ^= 0xff;
    const transaction = db.transaction('data', 'readwrite');
    transaction.objectStore('data').put({ ...record, blob: new Blob([bytes]) });
    await new Promise<void>((resolve, reject) => {
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error);
    });
    db.close();
  }, KEY);

test('ImageNet weights from the hub: fix, download with progress and cancel, cache, fine-tune, reload, recover a corrupt copy', async ({ page }) => {
  // Three runs of a width-1 model on SwiftShader (one to the end, two stopped once their base is loaded).
  test.setTimeout(480_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await recordWorkerMessages(page, ['run_', 'hub_fetch_']);
  await page.goto(`/#v=1&hub=${encodeURIComponent(hub.url)}`);

  // A tiny run: MobileNetV3-small at 32×32, BN+head, 8 images in batches of 4, one epoch.
  await choose(page, 'Model', 'mobilenet_v3_small');
  await setNumber(page, 'Resolution', '32');
  await choose(page, 'Method', 'bn_head');
  await setNumber(page, 'Batch size', '4');
  await setNumber(page, 'Epochs', '1');
  await setNumber(page, 'Training images', '8');

  // Chosen on width 0.35 with the CIFAR stem: refused with the reason, and the fix offered.
  await choose(page, 'Base weights', 'hub');
  await expect(page.locator('#field-baseWeights-issue')).toHaveText(
    'The ImageNet-pretrained weights are those of width 1 with the ImageNet stem (at any resolution), not width 0.35 and the cifar stem: set Width to 1 and Stem to ImageNet, or choose other base weights.',
  );
  await expect(page.getByRole('textbox', { name: 'Hub URL' })).toHaveValue(hub.url);
  await page.getByRole('button', { name: 'Use width 1 and the ImageNet stem' }).click();
  await expect(page.getByRole('spinbutton', { name: 'Width', exact: true })).toHaveValue('1');
  await expect(page.getByRole('combobox', { name: 'Stem', exact: true })).toHaveValue('imagenet');
  await expect(page.getByTestId('hub-base-head')).toContainText('The 1000-class ImageNet head is not loaded: a new head for this task’s 10 classes replaces it and trains');

  // The fix started the download: progress, then Cancel leaves nothing cached.
  const progress = page.getByRole('progressbar', { name: 'Download progress' });
  await expect(progress).toBeVisible();
  await expect(page.getByTestId('hub-download-bytes')).toContainText(/MiB of 9\.\d MiB/);
  await page.getByRole('button', { name: 'Cancel download' }).click();
  await expect(page.getByText('Download cancelled: nothing was cached.')).toBeVisible();
  expect(await cachedBytes(page)).toBeNull();

  // Downloaded again: progress to the end, then cached (whole, sha256 shown).
  await page.getByRole('button', { name: 'Download ImageNet weights' }).click();
  await expect(progress).toBeVisible();
  await expect(page.getByTestId('hub-base-cache')).toContainText(/Cached in this browser: 9\.\d MiB, sha256 [0-9a-f]{12}…/);
  expect(hub.requests(FILE)).toBe(2);
  const progressMessages = (await messagesOf(page, 'hub_fetch_progress')) as unknown as { loadedBytes: number; totalBytes: number }[];
  const total = progressMessages.at(-1)!.totalBytes;
  expect(progressMessages.at(-1)!.loadedBytes).toBe(total);
  expect(progressMessages.some((m) => m.loadedBytes > 0 && m.loadedBytes < total)).toBe(true);
  expect(await cachedBytes(page)).toBe(total);
  await expect(page.getByRole('combobox', { name: 'Base weights', exact: true }).locator('option[value="hub"]')).toHaveText('ImageNet-pretrained (Hugging Face hub, timm), cached');

  // A fine-tune from them, read from the cache: the run says so, and its new head trains.
  const start = page.getByRole('button', { name: 'Start', exact: true });
  await start.click();
  const note = page.getByTestId('run-base-weights');
  await expect(note).toContainText('Base weights: ImageNet-pretrained timm/mobilenetv3_small_100.lamb_in1k (revision main), from this browser’s cache (sha256');
  await expect(note).toContainText('its 1000-class ImageNet head was replaced by a new 10-class head, which trains.');
  await expect.poll(async () => (await messagesOf(page, 'run_done')).length, { timeout: 170_000 }).toBe(1);
  const [done] = (await messagesOf(page, 'run_done')) as unknown as { reason: string; summary: { steps: number } }[];
  expect(done).toMatchObject({ reason: 'completed', summary: { steps: 2 } });
  expect(await messagesOf(page, 'run_error')).toEqual([]);
  expect(hub.requests(FILE)).toBe(2);

  // A reload: the link keeps the choice, the cache still holds the file and a run reads it, no request.
  await page.reload();
  await expect(page.getByRole('combobox', { name: 'Base weights', exact: true })).toHaveValue('hub');
  await expect(page.getByTestId('hub-base-cache')).toContainText('Cached in this browser');
  await start.click();
  await expect(note).toContainText('from this browser’s cache');
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(start).toBeEnabled();
  expect(hub.requests(FILE)).toBe(2);

  // A cached copy corrupted in IndexedDB fails its sha256 check: the run drops it and downloads it again.
  await corruptCachedFile(page);
  await start.click();
  await expect(note).toContainText('downloaded again (the cached copy failed its sha256 check) and cached');
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(start).toBeEnabled();
  expect(hub.requests(FILE)).toBe(3);
  expect(await messagesOf(page, 'run_error')).toEqual([]);

  // A hub that answers 503: the message names the URL and the status, and nothing is cached.
  await page.getByRole('button', { name: 'Clear cached data' }).click();
  await expect(page.getByTestId('hub-base-cache')).toContainText('Not in this browser yet');
  hub.setFault(FILE, { kind: 'status', status: 503 });
  await page.getByRole('button', { name: 'Download ImageNet weights' }).click();
  await expect(page.getByTestId('hub-download-error')).toContainText(`could not be downloaded from ${hubFileUrl(hub.url, FILE)}: HTTP 503`);
  expect(await cachedBytes(page)).toBeNull();

  // A connection dropped mid-body: the worker resumes it with a Range request, and caches it whole.
  hub.setFault(FILE, { kind: 'truncate', afterBytes: 3_000_000, times: 1 });
  const rangesBefore = hub.ranges(FILE).length;
  await page.getByRole('button', { name: 'Download ImageNet weights' }).click();
  await expect(page.getByTestId('hub-base-cache')).toContainText('Cached in this browser');
  // The resumed request starts where the worker's reader stopped: at most the 3,000,000 bytes sent
  // (what a broken connection had in flight may be lost; 2,883,584 once under load), never at 0.
  const [first, resumed] = hub.ranges(FILE).slice(rangesBefore);
  expect(first).toBeNull();
  const resumedFrom = Number(/^bytes=(\d+)-$/.exec(resumed ?? '')?.[1]);
  expect(resumedFrom).toBeGreaterThan(0);
  expect(resumedFrom).toBeLessThanOrEqual(3_000_000);
  expect(hub.ranges(FILE).length - rangesBefore).toBe(2);
  expect(await cachedBytes(page)).toBe(total);

  // One click: on a size they fit, choosing the weights downloads them.
  await page.getByRole('button', { name: 'Clear cached data' }).click();
  await choose(page, 'Base weights', 'random');
  await expect(page.getByTestId('hub-base')).toHaveCount(0);
  const requestsBefore = hub.requests(FILE);
  await choose(page, 'Base weights', 'hub');
  await expect(progress).toBeVisible();
  await expect(page.getByTestId('hub-base-cache')).toContainText('Cached in this browser');
  expect(hub.requests(FILE)).toBe(requestsBefore + 1);
  expect(pageErrors).toEqual([]);
});
