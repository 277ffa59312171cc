// Base weights in real Chromium, on a tiny model (MobileNetV2 width 0.25, 32×32: no checkpoint is
// shipped for it). Import: torchvision-named safetensors made here; a file of another width is
// refused in the run panel's alert naming the key, a fitting one is the run's base (its classifier
// is all zeros, so the loss before fine-tuning is exactly ln 10). A .pth written by torch.save is a
// base too, and a tampered one is refused naming the forbidden call. Pretrain in the browser: 1 epoch
// of 8 synthetic images with progress, then its clean accuracy; it is the selected base, still
// cached after a reload, a run starts from it, and "Clear cached data" removes it.
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { buildModelSpec } from '../src/core/models/registry';
import type { ModelOptions } from '../src/core/models/spec';
import { writeSafetensors } from '../src/core/weights/safetensors';
import { exportTorchStateDict, headParamNames } from '../src/core/weights/torchvision';
import { configure, recordWorkerMessages, TINY } from './tiny';

const SIZE: ModelOptions = { model: 'mobilenet_v2', width: Number(TINY.width), resolution: Number(TINY.resolution), stem: 'cifar', numClasses: 10 };

/** A torchvision state_dict of `options` as safetensors: small seeded body weights, neutral BatchNorm
 * statistics, and an all-zero classifier (so every logit is 0 and the loss is ln(classes)). */
function torchvisionWeights(options: ModelOptions): Buffer {
  const spec = buildModelSpec(options);
  const head = new Set(headParamNames(spec));
  let state = 12345;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
  const values: Record<string, Float32Array> = {};
  for (const [name, param] of Object.entries(spec.params)) {
    const size = param.shape.reduce((a, b) => a * b, 1);
    const fill = head.has(name) ? () => 0 : param.role === 'bn_running_var' || param.role === 'bn_gamma' ? () => 1 : param.role === 'bn_running_mean' || param.role === 'bn_beta' ? () => 0 : () => 0.2 * next();
    values[name] = Float32Array.from({ length: size }, fill);
  }
  return Buffer.from(writeSafetensors(exportTorchStateDict(spec, values, { numBatchesTracked: 0 }), { format: 'pt' }));
}


const messagesOf = (page: Page, type: string) => page.evaluate((wanted) => window.__workerMessages.filter((message) => message.type === wanted), type);

test('imports torchvision weights: a file of another size is refused naming the key, a fitting one is the base', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await recordWorkerMessages(page, ['run_', 'pretrain_']);
  await page.goto('/#view=lab');
  await configure(page, TINY);
  const baseWeights = page.getByRole('combobox', { name: 'Base weights', exact: true });
  await expect(baseWeights).toHaveValue('shipped');
  await expect(baseWeights.locator('option[value="shipped"]')).toHaveText('Shipped checkpoint (none for this size)');
  const start = page.getByRole('button', { name: 'Start', exact: true });

  // Choosing the file selects "Imported file"; one of width 0.35 does not fit the 0.25 model.
  const fileInput = page.getByLabel('Torchvision weights (.safetensors, .pth)');
  await fileInput.setInputFiles({ name: 'wide.safetensors', mimeType: 'application/octet-stream', buffer: torchvisionWeights({ ...SIZE, width: 0.35 }) });
  await expect(baseWeights).toHaveValue('imported');
  await expect(page.getByTestId('base-weights-note')).toContainText('Starts from wide.safetensors');
  await start.click();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('Base weights: wide.safetensors does not match mobilenet_v2');
  await expect(alert).toContainText('nothing was loaded');
  await expect(alert).toContainText('key "features.0.0.weight": shape [16, 3, 3, 3] in the file, expected [8, 3, 3, 3]');

  // A fitting file: the run starts from it (all-zero classifier: the loss before fine-tuning is ln 10).
  await fileInput.setInputFiles({ name: 'tiny.safetensors', mimeType: 'application/octet-stream', buffer: torchvisionWeights(SIZE) });
  await expect(baseWeights.locator('option[value="imported"]')).toHaveText('Imported file (tiny.safetensors)');
  await start.click();
  await expect(page.getByTestId('run-base-weights')).toContainText('Base weights: imported file tiny.safetensors.');
  await expect(page.getByTestId('run-baseline')).not.toHaveText('…');
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  const [baseline] = await messagesOf(page, 'run_baseline');
  expect((baseline as unknown as { baseline: { loss: number } }).baseline.loss).toBeCloseTo(Math.log(10), 4);
  await expect(alert).toHaveCount(0);

  // The link names the choice, but a file cannot travel in it: opened again, it falls back and says so.
  await page.reload();
  await expect(page.getByRole('combobox', { name: 'Base weights', exact: true })).toHaveValue('shipped');
  await expect(page.getByText(/Base weights: the link was made with an imported weights file, which cannot travel in a link/)).toBeVisible();
  expect(pageErrors).toEqual([]);
});

test('imports a torch.save .pth: one whose pickle would run code is refused naming the call, a state_dict torch wrote is the base', async ({ page }) => {
  // fixtures/pth (scripts/fixtures/make_pth_fixtures.py, Debian's torch 1.13): torchvision's
  // mobilenet_v3_small at width 0.05 with the CIFAR stem, the smallest lab-sized model.
  const pth = 'mobilenet_v3_small_w005_cifar.pth';
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto('/#view=lab');
  await configure(page, { ...TINY, model: 'mobilenet_v3_small', width: '0.05' });
  const fileInput = page.getByLabel('Torchvision weights (.safetensors, .pth)');
  const start = page.getByRole('button', { name: 'Start', exact: true });
  const alert = page.getByRole('alert');

  await fileInput.setInputFiles({ name: 'tampered.pth', mimeType: 'application/octet-stream', buffer: readFileSync('fixtures/pth/tampered_system.pth') });
  await expect(page.getByRole('combobox', { name: 'Base weights', exact: true })).toHaveValue('imported');
  await start.click();
  await expect(alert).toContainText('Base weights: tampered.pth (data.pkl): forbidden global posix.system');
  await expect(alert).toContainText('nothing was run');

  await fileInput.setInputFiles({ name: pth, mimeType: 'application/octet-stream', buffer: readFileSync(`fixtures/pth/${pth}`) });
  await start.click();
  await expect(page.getByTestId('run-base-weights')).toContainText(`Base weights: imported file ${pth}.`);
  await expect(page.getByTestId('run-baseline')).not.toHaveText('…');
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(alert).toHaveCount(0);
  expect(pageErrors).toEqual([]);
});

test('pretrains the base model in the browser with progress, keeps it across a reload, and clears it', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await recordWorkerMessages(page, ['run_', 'pretrain_']);
  await page.goto('/#view=lab');
  await configure(page, TINY);
  const baseWeights = page.getByRole('combobox', { name: 'Base weights', exact: true });
  await expect(baseWeights.locator('option[value="browser"]')).toHaveText('Pretrained in this browser (none yet)');
  await expect(baseWeights.locator('option[value="browser"]')).toBeDisabled();

  await page.getByRole('spinbutton', { name: 'Pretraining epochs', exact: true }).fill('1');
  await page.getByRole('spinbutton', { name: 'Pretraining images', exact: true }).fill('8');
  await page.getByRole('button', { name: 'Pretrain base model', exact: true }).click();
  await expect(page.getByRole('progressbar', { name: 'Pretraining progress' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
  const result = page.getByTestId('pretrain-result');
  await expect(result).toContainText(/Pretrained mobilenet_v2 at width 0\.25, 32×32, cifar stem, 10 classes: \d+\.\d% clean test accuracy on 100 images \(1 step,/);
  await expect(result).toContainText('Cached in this browser.');
  // Progress came with steps, epoch, loss and speed.
  const progress = (await messagesOf(page, 'pretrain_progress')) as unknown as { step: number; totalSteps: number; epoch: number; epochs: number; loss: number; examplesPerSecond: number }[];
  expect(progress.at(-1)).toMatchObject({ step: 1, totalSteps: 1, epoch: 1, epochs: 1 });
  expect(progress.at(-1)!.loss).toBeGreaterThan(0);
  expect(progress.at(-1)!.examplesPerSecond).toBeGreaterThan(0);
  const accuracy = /(\d+\.\d%) clean test accuracy/.exec((await result.textContent()) ?? '')![1];
  // It is the selected base now.
  await expect(baseWeights).toHaveValue('browser');
  await expect(baseWeights.locator('option[value="browser"]')).toHaveText(`Pretrained in this browser (${accuracy} clean)`);

  // After a reload (the link keeps the size and the choice) it is still cached, and a run starts from it.
  await page.reload();
  await expect(baseWeights).toHaveValue('browser');
  await expect(baseWeights.locator('option[value="browser"]')).toHaveText(`Pretrained in this browser (${accuracy} clean)`);
  await expect(page.getByTestId('cached-data')).toContainText(`Pretrained base mobilenet_v2 at width 0.25, 32×32, cifar stem, 10 classes, all source classes, ${accuracy} clean`);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('run-base-weights')).toContainText(`Base weights: the base pretrained in this browser (1 epoch on 8 images) (clean accuracy ${accuracy} when pretrained)`);
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled();

  // "Clear cached data" removes it.
  await page.getByRole('button', { name: 'Clear cached data', exact: true }).click();
  await expect(baseWeights.locator('option[value="browser"]')).toHaveText('Pretrained in this browser (none yet)');
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
  expect(pageErrors).toEqual([]);
});
