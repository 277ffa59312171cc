// A tiny fine-tune end to end in real Chromium on WebGPU (SwiftShader without a GPU): pick the
// configuration by label, run it to completion, check what the progress bar, the curves and the
// comparison show against the worker's own messages, prove the page ran no training step, and
// carry the results through the permalink into a new page (there with the curve worker failing).
import { expect, test } from '@playwright/test';
import { formatPercent } from '../src/app/format';
import type { RunSummary } from '../src/lab/results';
import { recordWorkerMessages, setNumber, TINY } from './tiny';

test('a tiny fine-tune runs in the worker, draws its curves, and travels in the permalink', async ({ page, context }) => {
  test.setTimeout(300_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await recordWorkerMessages(page);
  await page.goto('/#view=lab');

  await page.getByRole('combobox', { name: 'Model', exact: true }).selectOption(TINY.model);
  await setNumber(page, 'Width', TINY.width);
  await setNumber(page, 'Resolution', TINY.resolution);
  await page.getByRole('combobox', { name: 'Method', exact: true }).selectOption(TINY.method);
  await setNumber(page, 'Rank', TINY.rank);
  await setNumber(page, 'Batch size', TINY.batch);
  await setNumber(page, 'Epochs', TINY.epochs);
  await setNumber(page, 'Training images', TINY.images);

  const runStart = await page.evaluate(() => performance.now());
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  const progress = page.getByRole('progressbar', { name: 'Training progress' });
  await expect(progress).toBeVisible();
  // 8 images / batch 4 = 2 steps; the bar reaches 100 and the run finishes.
  await expect(page.getByTestId('run-step')).toHaveText('2 / 2', { timeout: 240_000 });
  await expect(progress).toHaveAttribute('aria-valuenow', '100');
  await expect(page.getByTestId('run-comparison')).toHaveAttribute('data-points', '1', { timeout: 60_000 });
  const runEnd = await page.evaluate(() => performance.now());

  // The worker did the steps: its progress messages count them, and the page never loaded tfjs.
  const messages = await page.evaluate(() => window.__workerMessages);
  const steps = messages.filter((m) => m.type === 'run_progress').flatMap((m) => (m.losses as { step: number }[]).map((p) => p.step));
  expect(steps).toEqual([1, 2]);
  const done = messages.find((m) => m.type === 'run_done') as unknown as { summary: RunSummary; reason: string };
  expect(done.reason).toBe('completed');
  expect(done.summary.steps).toBe(2);
  expect(messages.some((m) => m.type === 'run_error')).toBe(false);
  const tfjsOnPage = await page.evaluate(() => ({
    engine: '_tfengine' in globalThis,
    tf: 'tf' in globalThis,
    scripts: performance.getEntriesByType('resource').filter((e) => /tfjs|tensorflow/i.test(e.name)).map((e) => e.name),
  }));
  expect(tfjsOnPage).toEqual({ engine: false, tf: false, scripts: [] });

  // What is drawn is what the worker summarised.
  const finalAccuracy = formatPercent(done.summary.finalAccuracy);
  await expect(page.getByTestId('run-accuracy')).toHaveText(finalAccuracy);
  await expect(page.getByTestId('run-baseline')).toHaveText(formatPercent(done.summary.baselineAccuracy));
  await expect(page.getByTestId('row-accuracy')).toHaveText(finalAccuracy);
  const curves = page.getByTestId('training-curves');
  await expect(curves).toHaveAttribute('data-loss-points', '2');
  await expect(curves).toHaveAttribute('data-eval-points', '1');
  // The canvas drew every point (two losses; the eval loss before and after), and its accessible name
  // states the latest values the worker sent.
  const loss = curves.getByRole('figure', { name: 'Loss' });
  await expect(loss.locator('canvas')).toHaveAttribute('data-drawn', JSON.stringify({ 'train loss': 2, 'eval loss': 2 }));
  const lastLoss = messages.filter((m) => m.type === 'run_progress').flatMap((m) => m.losses as { step: number; loss: number }[]).at(-1)!;
  await expect(loss.getByRole('img')).toHaveAccessibleName(new RegExp(`train loss ${lastLoss.loss.toFixed(3)} at step 2`));
  await expect(curves.getByRole('figure', { name: 'Eval accuracy' }).getByRole('img')).toHaveAccessibleName(new RegExp(`eval accuracy ${finalAccuracy.replace('.', '\\.')} at step 2`));
  // The comparison's plot is drawn once it scrolls near (its table is there already).
  await page.getByTestId('run-comparison').scrollIntoViewIfNeeded();
  await expect(page.getByTestId('run-comparison').locator('.recharts-scatter-symbol')).toHaveCount(1);
  await expect(page.getByTestId('run-epoch')).toHaveText('1 / 1');
  expect(Number(await page.getByTestId('run-speed').textContent())).toBeGreaterThan(0);

  // Main-thread long tasks during the run (reported, not asserted: SwiftShader shares the CPU).
  const longTasks = (await page.evaluate(() => window.__longTasks)).filter((t) => t.start >= runStart && t.start <= runEnd);
  const longTaskReport = `${longTasks.length} over 50 ms, longest ${Math.max(0, ...longTasks.map((t) => t.duration)).toFixed(0)} ms, in ${((runEnd - runStart) / 1000).toFixed(1)} s`;
  test.info().annotations.push({ type: 'main-thread long tasks during the run', description: longTaskReport });
  console.log(`main-thread long tasks during the run: ${longTaskReport}`);

  // The permalink now carries the results; a new page shows the same configuration and results.
  await page.getByRole('button', { name: 'Copy link' }).click();
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link).toContain('&rs=');
  const opened = await context.newPage();
  opened.on('pageerror', (error) => pageErrors.push(error.message));
  // With the curve worker's script failing to load, the page draws the curves itself.
  await opened.route(/curves\.worker/, (route) => route.abort());
  await opened.goto(link);
  await expect(opened.getByRole('combobox', { name: 'Model', exact: true })).toHaveValue(TINY.model);
  await expect(opened.getByRole('combobox', { name: 'Method', exact: true })).toHaveValue(TINY.method);
  await expect(opened.getByRole('spinbutton', { name: 'Width', exact: true })).toHaveValue(TINY.width);
  await expect(opened.getByRole('spinbutton', { name: 'Rank', exact: true })).toHaveValue(TINY.rank);
  await expect(opened.getByRole('spinbutton', { name: 'Batch size', exact: true })).toHaveValue(TINY.batch);
  await expect(opened.getByRole('spinbutton', { name: 'Training images', exact: true })).toHaveValue(TINY.images);
  await expect(opened.getByTestId('link-final-accuracy')).toHaveText(finalAccuracy);
  await expect(opened.getByRole('figure', { name: 'Training loss' }).locator('canvas')).toHaveAttribute('data-drawn', JSON.stringify({ 'training loss': 2 }));
  await expect(opened.getByRole('button', { name: 'Re-run and compare' })).toBeEnabled();
  expect(pageErrors).toEqual([]);
});
