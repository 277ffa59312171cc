// CIFAR-10 from the Hugging Face hub in real Chromium, against the loopback hub stand-in
// (e2e/hubServer.ts) serving fixtures/hub in the hub's layout: the data card downloads the test file
// with progress, Cancel and a cached state; after a reload the cache is read (the server sees no
// second request) and a tiny fine-tune runs on it; a train file without its label column stops the run with the column named,
// nothing of it is kept, and the test file stays cached.
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { HUB_CIFAR10_FILES } from '../src/lab/hub/hubCifar10';
import { hubFileUrl } from '../src/lab/hub/hubUrl';
import { startHubServer, type HubServer } from './hubServer';
import { configure, recordWorkerMessages, TINY } from './tiny';

const FIXTURES = 'fixtures/hub';
const { test: TEST_FILE, train: TRAIN_FILE } = HUB_CIFAR10_FILES;

let hub: HubServer | undefined;

test.afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

const messages = (page: Page) => page.evaluate(() => window.__workerMessages);

async function chooseHubSource(page: Page, hubUrl: string) {
  await page.getByRole('combobox', { name: 'Data source', exact: true }).selectOption('hub_cifar10');
  await page.getByRole('textbox', { name: 'Hub URL', exact: true }).fill(hubUrl);
}

test('downloads the hub’s CIFAR-10 with progress and Cancel, fine-tunes on the cached copy after a reload, and names a file without labels', async ({ page }) => {
  test.setTimeout(300_000);
  // The fixtures in the hub's layout, but a train file without its label column; slow enough (16 KiB
  // every 250 ms) that progress and Cancel can be seen.
  hub = await startHubServer({
    root: FIXTURES,
    files: [{ file: TRAIN_FILE.file, bytes: readFileSync(`${FIXTURES}/broken/missing-label.parquet`) }],
    chunkBytes: 16 * 1024,
    chunkDelayMs: 250,
  });
  const hubUrl = hub.url;
  const testFileBytes = readFileSync(`${FIXTURES}/datasets/uoft-cs/cifar10/resolve/main/${TEST_FILE.file.path}`).length;
  await recordWorkerMessages(page, ['run_', 'hub_fetch']);
  // Straight to the lab (a first visit opens the findings tour).
  await page.goto('/#view=lab');
  await configure(page, TINY);
  await chooseHubSource(page, hubUrl);
  const testCard = page.getByTestId('hub-cifar-test');
  await expect(testCard).toContainText('CIFAR-10 test file (10,000 images, about 22.9 MiB): not downloaded yet');
  // Only the test file unless the train file is asked for.
  await expect(page.getByTestId('hub-cifar-train')).toHaveCount(0);

  // A download cancelled: nothing is cached.
  await page.getByRole('button', { name: 'Download CIFAR-10 test file', exact: true }).click();
  await expect(page.getByRole('progressbar', { name: 'Downloading CIFAR-10 test file' })).toBeVisible();
  await testCard.getByRole('button', { name: 'Cancel', exact: true }).click();
  await expect(testCard).toContainText('not downloaded yet (download cancelled)');
  expect((await messages(page)).map((m) => m.type)).toContain('hub_fetch_cancelled');

  // Again, to the end: progress through the file, then cached.
  await page.getByRole('button', { name: 'Download CIFAR-10 test file', exact: true }).click();
  await expect(testCard).toContainText(/CIFAR-10 test file \(10,000 images, [\d.]+ KiB\): cached in this browser\./);
  const fetched = (await messages(page)).filter((m) => m.type.startsWith('hub_fetch'));
  expect(fetched.some((m) => m.type === 'hub_fetch_progress' && (m.loadedBytes as number) > 0 && (m.loadedBytes as number) < testFileBytes && m.totalBytes === testFileBytes)).toBe(true);
  expect(fetched.at(-1)).toMatchObject({ type: 'hub_fetch_done', bytes: testFileBytes, fromCache: false });
  expect(hub.requests(TEST_FILE.file)).toBe(2);

  // After a reload the browser's cache has it, and a run reads it from there.
  await page.reload();
  await expect(page.getByRole('combobox', { name: 'Data source', exact: true })).toHaveValue('hub_cifar10');
  await expect(page.getByRole('textbox', { name: 'Hub URL', exact: true })).toHaveValue(hubUrl);
  await expect(testCard).toContainText('cached in this browser');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect.poll(async () => (await messages(page)).find((m) => m.type === 'run_done' || m.type === 'run_error')?.type, { timeout: 240_000 }).toBe('run_done');
  const started = (await messages(page)).find((m) => m.type === 'run_started');
  expect(started).toMatchObject({ trainImages: 8, testImages: 16 });
  // While preparing, the page heard how far the decoding was (the last message: all 200 images).
  expect((await messages(page)).filter((m) => m.type === 'run_data_progress').at(-1)).toMatchObject({ what: 'the CIFAR-10 test file', done: 200, total: 200 });
  expect(hub.requests(TEST_FILE.file)).toBe(2);

  // A train file without its label column: the run stops naming it, keeps none of it, and the test file stays.
  await page.getByRole('checkbox', { name: 'Use the hub’s train file', exact: true }).check();
  const trainCard = page.getByTestId('hub-cifar-train');
  await expect(trainCard).toContainText('CIFAR-10 train file (50,000 images, about 114 MiB): not downloaded yet');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'no column "label"' })).toContainText(
    `${hubFileUrl(hubUrl, TRAIN_FILE.file)}: is not CIFAR-10 in the Hugging Face hub's layout: no column "label" (an integer class, 0–9). Columns found: img (struct<bytes: binary, path: string>).`,
    { timeout: 60_000 },
  );
  expect([hub.requests(TEST_FILE.file), hub.requests(TRAIN_FILE.file)]).toEqual([2, 1]);
  await expect(trainCard).toContainText('not downloaded yet');
  await expect(testCard).toContainText('cached in this browser');
});
