// A quantized frozen base in the page: the "Frozen weights" select under Method (unavailable, with
// why, for the methods that update the base weights), and a short LoRA run on an int8 base in the
// worker on WebGPU that lowers the loss.
import { expect, test } from '@playwright/test';
import { profileMethods, profileRequestOf } from '../src/lab/profileMethods';
import type { RunSummary } from '../src/lab/results';
import { choose, configOf, configure, recordWorkerMessages, TINY, type TinyForm } from './tiny';

test('LoRA on an int8 frozen base trains in the worker (the loss goes down); FFT keeps fp32 and says why', async ({ page }) => {
  test.setTimeout(400_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await recordWorkerMessages(page);
  await page.goto('/#view=lab');

  const frozen = page.getByRole('combobox', { name: 'Frozen weights', exact: true });
  await choose(page, 'Method', 'fft');
  await expect(frozen).toBeDisabled();
  await expect(frozen).toHaveAccessibleDescription(/updates the base weights themselves, so they stay fp32/);

  // One batch of all 8 images per step, 5 epochs: each step sees the same images, so the loss falls.
  const form: TinyForm = { ...TINY, batch: '8', epochs: '5', learningRate: '0.003' };
  await configure(page, form);
  await expect(frozen).toBeEnabled();
  await frozen.selectOption('int8');
  await expect(page.getByRole('form', { name: 'Configuration' }).locator('[aria-invalid="true"]')).toHaveCount(0);

  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('run-step')).toHaveText('5 / 5', { timeout: 360_000 });
  const messages = await page.evaluate(() => window.__workerMessages);
  expect(messages.some((m) => m.type === 'run_error')).toBe(false);
  const losses = messages.filter((m) => m.type === 'run_progress').flatMap((m) => (m.losses as { step: number; loss: number }[]).map((p) => p.loss));
  expect(losses).toHaveLength(5);
  expect(losses.every(Number.isFinite)).toBe(true);
  expect(losses.at(-1)!).toBeLessThan(losses[0]);
  await expect.poll(async () => (await page.evaluate(() => window.__workerMessages)).some((m) => m.type === 'run_done'), { timeout: 60_000 }).toBe(true);
  const done = (await page.evaluate(() => window.__workerMessages)).find((m) => m.type === 'run_done') as unknown as { summary: RunSummary; reason: string };
  expect(done.reason).toBe('completed');
  // The run costed (and so trained) the int8 base: its PARAM is the analytic int8 one, well below fp32's.
  const profiled = (frozenWeights: 'fp32' | 'int8') => profileMethods(profileRequestOf({ ...configOf(form), frozenWeights })).profiles.lora!.memory.analytic.peak.bytes.param;
  expect(done.summary.peakBytesByGroup.param).toBe(profiled('int8'));
  expect(profiled('int8')).toBeLessThan(0.5 * profiled('fp32'));
  test.info().annotations.push({ type: 'int8 run losses', description: losses.map((l) => l.toFixed(4)).join(', ') });
  expect(pageErrors).toEqual([]);
});
