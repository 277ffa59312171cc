// ViT-Tiny in the page, driven by role and label: choosing it sets the lab's ViT size (Depth
// appears), the memory chart names BN+head "LN+head", a tiny fine-tune on WebGPU lowers the loss
// and ends without error, and the findings tour shows the ViT card with its numbers.
import { expect, test } from '@playwright/test';
import type { RunSummary } from '../src/lab/results';
import { recordWorkerMessages, setNumber } from './tiny';

test('a tiny ViT: the lab’s size, LN+head in the memory chart, a fine-tune that lowers the loss', async ({ page }) => {
  test.setTimeout(420_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await recordWorkerMessages(page);
  await page.goto('/#view=lab');

  const depth = page.getByRole('spinbutton', { name: 'Depth', exact: true });
  await expect(depth).toHaveCount(0); // a CNN has no depth
  await page.getByRole('combobox', { name: 'Model', exact: true }).selectOption('vit_tiny');
  // The lab's ViT size: width 0.25, 4 blocks, 32×32 with the CIFAR stem's 4×4 patches.
  await expect(page.getByRole('spinbutton', { name: 'Width', exact: true })).toHaveValue('0.25');
  await expect(depth).toHaveValue('4');
  await expect(page.getByRole('spinbutton', { name: 'Resolution', exact: true })).toHaveValue('32');
  await expect(page.getByRole('combobox', { name: 'Stem', exact: true })).toHaveValue('cifar');
  await expect(page.getByRole('combobox', { name: 'Method', exact: true }).locator('option[value="bn_head"]')).toHaveText('LayerNorm + head (LN+head)');

  await setNumber(page, 'Depth', '2');
  // Full fine-tuning: the ViT starts from random init (no checkpoint is shipped for it), where a
  // few LoRA steps barely move the loss.
  await page.getByRole('combobox', { name: 'Method', exact: true }).selectOption('fft');
  await setNumber(page, 'Learning rate', '0.003');
  await setNumber(page, 'Batch size', '4');
  await setNumber(page, 'Epochs', '2');
  await setNumber(page, 'Training images', '16');
  await expect(page.getByRole('form', { name: 'Configuration' }).locator('[aria-invalid="true"]')).toHaveCount(0);

  // The memory chart profiles every method on this ViT, BN+head under its ViT name.
  const memoryCard = page.getByRole('region', { name: 'Peak training memory by method' });
  await expect(memoryCard.getByRole('rowheader', { name: 'LN+head', exact: true })).toBeVisible({ timeout: 60_000 });
  await expect(memoryCard.getByRole('rowheader', { name: 'BN+H', exact: true })).toHaveCount(0);
  await expect(memoryCard.locator('[data-bar="bn_head"] text')).toHaveText('LN+head');
  await memoryCard.screenshot({ path: test.info().outputPath('vit-memory-by-method.png') });

  await page.getByRole('button', { name: 'Start', exact: true }).click();
  // 16 images / batch 4 = 4 steps an epoch, 2 epochs.
  await expect(page.getByTestId('run-step')).toHaveText('8 / 8', { timeout: 360_000 });
  // After the last step the run evaluates once more, then says it is done.
  await expect.poll(() => page.evaluate(() => window.__workerMessages.some((m) => m.type === 'run_done' || m.type === 'run_error')), { timeout: 120_000 }).toBe(true);
  const messages = await page.evaluate(() => window.__workerMessages);
  expect(messages.filter((m) => m.type === 'run_error')).toEqual([]);
  const done = messages.find((m) => m.type === 'run_done') as unknown as { summary: RunSummary; reason: string };
  expect(done.reason).toBe('completed');
  expect(done.summary.steps).toBe(8);
  const losses = messages.filter((m) => m.type === 'run_progress').flatMap((m) => m.losses as { step: number; loss: number }[]);
  expect(losses.map((point) => point.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  const mean = (points: { loss: number }[]) => points.reduce((sum, point) => sum + point.loss, 0) / points.length;
  // The second epoch's steps see the same images again: their loss is lower than the first epoch's.
  console.log(`ViT-Tiny w0.25 d2 FFT: train loss ${losses.map((p) => p.loss.toFixed(3)).join(', ')}`);
  expect(mean(losses.slice(4))).toBeLessThan(mean(losses.slice(0, 4)));
  expect(losses.every((point) => Number.isFinite(point.loss))).toBe(true);
  await page.getByTestId('training-curves').screenshot({ path: test.info().outputPath('vit-training-curves.png') });
  expect(pageErrors).toEqual([]);
});

test('the findings tour shows the ViT card with the lab’s numbers', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/#view=findings&f=vit_transfer');
  const card = page.getByRole('article', { name: 'Do the findings transfer to a ViT?' });
  await expect(card).toBeVisible();
  for (const key of ['lora-saving-vit_tiny', 'dora-over-lora-vit_tiny', 'bn-head-saving-vit_tiny', 'act-share-vit_tiny', 'lora-saving-mobilenet_v2', 'lora-saving-resnet18']) {
    await expect(card.getByTestId(`figure-${key}`), key).toHaveText(/^-?\d+(\.\d+)?%$/, { timeout: 180_000 });
  }
  await expect(card.getByText('LN+head’s peak saving on ViT-Tiny')).toBeVisible();
  await expect(card.getByTestId('finding-memory-vit_tiny')).toBeVisible();
  await expect(card.getByTestId('finding-memory-vit_tiny').locator('.recharts-bar-rectangle').first()).toBeVisible();
  await expect(card.getByRole('link', { name: /Link to this finding: Do the findings transfer to a ViT\?/ })).toHaveAttribute('href', '#view=findings&f=vit_transfer');
  await card.screenshot({ path: test.info().outputPath('vit-finding-card.png') });
  await card.getByRole('button', { name: 'Try it' }).click();
  await expect(page.getByRole('combobox', { name: 'Model', exact: true })).toHaveValue('vit_tiny');
  await expect(page.getByRole('spinbutton', { name: 'Depth', exact: true })).toHaveValue('12');
});
