// "Your own images" in real Chromium: a folder per class through the folder input and as a zip,
// decoded in the training worker (createImageBitmap), the summary of what was imported, errors of a
// broken zip and an unreadable image in the alert region with the previous images kept, and one
// training step on the imported images with a new head of their class count. Then the CIFAR-10
// archive's cache in IndexedDB across a reload, and its "Clear cached data" button.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { makePng, makeZip } from '../scripts/fixtures/imageArchives';
import { writeCifar10Archive } from '../src/core/data/cifar10';
import { generateSyntheticDataset } from '../src/core/data/synthetic';
import { recordWorkerMessages } from './tiny';

/** 3 images per class, each class its own colour (and the sizes differ, so resizing is exercised). */
function classImages(classes: Record<string, readonly [number, number, number]>) {
  return Object.entries(classes).flatMap(([name, [r, g, b]]) =>
    [0, 1, 2].map((i) => ({ path: `${name}/${name}_${i}.png`, data: makePng(12 + i * 5, 10 + i * 3, (x, y) => [r, (g + x * 7) % 256, (b + y * 11) % 256]) })),
  );
}


test('imports a folder and a zip of images per class, reports bad input, and trains a step on them', async ({ page }) => {
  test.setTimeout(240_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await recordWorkerMessages(page);

  const folder = mkdtempSync(join(tmpdir(), 'lab-images-'));
  try {
    const root = join(folder, 'vww');
    for (const { path, data } of classImages({ person: [220, 40, 40], no_person: [40, 40, 220] })) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), data);
    }
    writeFileSync(join(root, 'README.txt'), 'person / no person, 3 images each');

    await page.goto('/#view=lab');
    await page.getByRole('combobox', { name: 'Task', exact: true }).selectOption('custom');
    const start = page.getByRole('button', { name: 'Start', exact: true });
    await expect(start).toBeDisabled();
    // Classes follows the import for this task, so its field is not shown.
    await expect(page.getByRole('spinbutton', { name: 'Classes', exact: true })).toHaveCount(0);

    // A folder per class through the folder input.
    await page.getByLabel('Images folder').setInputFiles(root);
    const summary = page.getByRole('region', { name: 'Imported images' });
    await expect(summary).toContainText('vww: 2 classes, 6 images at 32×32 (2 train, 2 validation, 2 test)');
    await expect(summary.getByRole('row', { name: 'no_person 3', exact: true })).toBeVisible();
    await expect(summary.getByRole('row', { name: 'person 3', exact: true })).toBeVisible();
    await expect(summary).toContainText('Skipped 1 file that is not an image: vww/README.txt');
    await expect(start).toBeEnabled();

    // A truncated zip: the error names the file and the problem, and the folder's images stay.
    const zipLabel = page.getByLabel('Images zip');
    const goodZip = makeZip(
      classImages({ cat: [200, 120, 40], dog: [90, 60, 30], fox: [230, 100, 0] }).map((entry, i) => ({ ...entry, path: `pets/${entry.path}`, method: i % 2 ? 'deflate' : 'store' })),
    );
    await zipLabel.setInputFiles({ name: 'pets.zip', mimeType: 'application/zip', buffer: Buffer.from(goodZip.subarray(0, Math.floor(goodZip.length * 0.6))) });
    const alert = page.getByRole('alert');
    await expect(alert).toContainText('Import failed: pets.zip: is truncated');
    await expect(alert).toContainText('The previous images (vww) stay selected.');
    await expect(summary).toContainText('vww: 2 classes');

    // An image the browser cannot decode, inside a valid zip: named, nothing imported.
    const badImageZip = makeZip([...classImages({ cat: [1, 2, 3], dog: [4, 5, 6] }), { path: 'dog/broken.png', data: new TextEncoder().encode('not a PNG at all') }]);
    await zipLabel.setInputFiles({ name: 'broken.zip', mimeType: 'application/zip', buffer: Buffer.from(badImageZip) });
    await expect(alert).toContainText('Import failed: broken.zip/dog/broken.png: is not a readable image');
    await expect(summary).toContainText('vww: 2 classes');

    // The whole zip, stored and deflate entries: three classes replace the two.
    await zipLabel.setInputFiles({ name: 'pets.zip', mimeType: 'application/zip', buffer: Buffer.from(goodZip) });
    await expect(summary).toContainText('pets.zip: 3 classes, 9 images at 32×32');
    await expect(summary.getByRole('row', { name: 'fox 3', exact: true })).toBeVisible();
    await expect(page.getByRole('alert')).toHaveCount(0);

    // A zip dropped on the drop zone.
    const dropZip = makeZip(classImages({ red: [250, 0, 0], blue: [0, 0, 250] }).map((entry) => ({ ...entry, method: 'deflate' as const })));
    const dataTransfer = await page.evaluateHandle((bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], 'colours.zip', { type: 'application/zip' }));
      return transfer;
    }, Array.from(dropZip));
    await page.getByTestId('custom-images-drop').dispatchEvent('drop', { dataTransfer });
    await expect(summary).toContainText('colours.zip: 2 classes, 6 images at 32×32');
    await zipLabel.setInputFiles({ name: 'pets.zip', mimeType: 'application/zip', buffer: Buffer.from(goodZip) });
    await expect(summary).toContainText('pets.zip: 3 classes');

    // One training step on them: 3 classes × 1 train image, a batch of 4, one epoch.
    await page.getByRole('spinbutton', { name: 'Width', exact: true }).fill('0.25');
    await page.getByRole('spinbutton', { name: 'Rank', exact: true }).fill('2');
    await page.getByRole('spinbutton', { name: 'Batch size', exact: true }).fill('4');
    await page.getByRole('spinbutton', { name: 'Epochs', exact: true }).fill('1');
    await start.click();
    await expect(page.getByTestId('run-step')).toHaveText('1 / 1', { timeout: 180_000 });
    await expect(page.getByTestId('run-accuracy')).not.toHaveText('—', { timeout: 60_000 });
    const messages = await page.evaluate(() => window.__workerMessages);
    expect(messages.find((m) => m.type === 'run_error')).toBeUndefined();
    expect(messages.find((m) => m.type === 'run_started')).toMatchObject({ trainImages: 3, testImages: 3, totalSteps: 1 });
    expect(messages.find((m) => m.type === 'run_done')).toBeDefined();
    // The permalink carries the head's size: Classes = the 3 folders found.
    await expect(page).toHaveURL(/[#&]nc=3(&|$)/);
    expect(pageErrors).toEqual([]);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('caches the CIFAR-10 archive in IndexedDB: a reload does not download it again, and it can be cleared', async ({ page, context }) => {
  test.setTimeout(240_000);
  const train = generateSyntheticDataset({ split: 'train', count: 40 });
  const test_ = generateSyntheticDataset({ split: 'test', count: 20 });
  const archive = Buffer.from(await writeCifar10Archive({ train, test: test_ }));
  let downloads = 0;
  await context.route('**/data/cifar-10-binary.tar.gz', async (route) => {
    downloads++;
    await route.fulfill({ status: 200, contentType: 'application/gzip', body: archive });
  });
  await recordWorkerMessages(page);

  const runTiny = async () => {
    await page.getByRole('combobox', { name: 'Data source', exact: true }).selectOption('cifar10');
    await page.getByRole('spinbutton', { name: 'Width', exact: true }).fill('0.25');
    await page.getByRole('spinbutton', { name: 'Rank', exact: true }).fill('2');
    await page.getByRole('spinbutton', { name: 'Batch size', exact: true }).fill('8');
    await page.getByRole('spinbutton', { name: 'Epochs', exact: true }).fill('1');
    await page.getByRole('spinbutton', { name: 'Training images', exact: true }).fill('8');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect(page.getByTestId('run-accuracy')).not.toHaveText('—', { timeout: 180_000 });
    const messages = await page.evaluate(() => window.__workerMessages);
    expect(messages.find((m) => m.type === 'run_error')).toBeUndefined();
  };

  await page.goto('/#view=lab');
  await runTiny();
  expect(downloads).toBe(1);
  await expect(page.getByTestId('cached-data')).toContainText('CIFAR-10 archive');

  // After a reload the archive comes from the cache.
  await page.reload();
  await expect(page.getByTestId('cached-data')).toContainText('CIFAR-10 archive');
  await runTiny();
  expect(downloads).toBe(1);

  await page.getByRole('button', { name: 'Clear cached data' }).click();
  await expect(page.getByText('Nothing cached in this browser yet.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Clear cached data' })).toBeDisabled();
});
