// Batches of tiny fine-tunes and a diverging one, in real Chromium on WebGPU (SwiftShader without a
// GPU), driven by label and read back from what the page renders: "Compare all methods" gives one
// entry per method with its accuracy, peak memory and FLOPs; a rank sweep charts them against
// rank; a learning rate that blows the loss up stops the run with a message and keeps its curves.
import { expect, test, type Locator, type Page } from '@playwright/test';
import { formatBytes, formatFlops } from '../src/app/format';
import { profileRequestOf } from '../src/lab/profileMethods';
import { profileMethods } from '../src/lab/profileMethods';
import { configForMethod } from '../src/app/runPlans';
import type { MethodId } from '../src/core/ids';
import { configOf, configure, finishedRuns, parseBytes, parseFlops, TINY, type TinyForm } from './tiny';

// MobileNetV3-small ×0.25 at 32×32, 8 images in one batch: one step per run. Its kernels compile
// faster on SwiftShader than MobileNetV2's, which matters for DoRA and for GaLore's first
// projector (the bulk of a comparison's time).
const tiny: TinyForm = { ...TINY, model: 'mobilenet_v3_small', batch: '8', images: '8' };

/** Peak memory and FLOPs per step the worker's summary must carry: the analytic profile of the run's configuration. */
function expectedCost(form: TinyForm, method: MethodId, rank = Number(form.rank)) {
  const config = { ...configForMethod(configOf(form), method), rank };
  const profile = profileMethods(profileRequestOf(config)).profiles[method]!;
  return { peak: formatBytes(profile.memory.analytic.peak.total), flops: formatFlops(profile.flops.correct.total) };
}

function collectPageErrors(page: Page) {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

/** The dots of a recharts line, left to right, as SVG coordinates (smaller y is higher). */
async function lineDots(figure: Locator): Promise<{ x: number; y: number }[]> {
  const dots = await figure.locator('.recharts-line-dots circle').evaluateAll((circles) => circles.map((c) => ({ x: Number(c.getAttribute('cx')), y: Number(c.getAttribute('cy')) })));
  return dots.sort((a, b) => a.x - b.x);
}

test('"Compare all methods" runs every method on the same data and seed, one entry each with accuracy, peak memory and FLOPs', async ({ page }) => {
  test.setTimeout(300_000);
  const pageErrors = collectPageErrors(page);
  await page.goto('/#view=lab');
  await configure(page, tiny);

  await page.getByRole('button', { name: 'Compare all methods' }).click();
  await expect(page.getByText('Compare all methods: run 1 of 5')).toBeVisible();
  const finished = page.getByRole('region', { name: 'Finished runs' });
  await expect(finished.getByRole('table', { name: 'Finished runs' }).locator('tbody tr')).toHaveCount(5, { timeout: 280_000 });
  await expect(page.getByTestId('run-queue')).toHaveCount(0);

  const rows = await finishedRuns(page);
  expect(rows.map((row) => row.run)).toEqual(['FFT', 'BN+H', 'LoRA r=2', 'DoRA r=2', 'GaLore r=2']);
  const methods: MethodId[] = ['fft', 'bn_head', 'lora', 'dora', 'galore'];
  rows.forEach((row, i) => {
    // Same data: the same one step; an accuracy after it; the worker's cost of that method.
    expect(row.steps).toBe('1');
    expect(row.accuracy).toMatch(/^\d{1,3}\.\d%$/);
    expect({ run: row.run, peak: row.peak, flops: row.flops }).toEqual({ run: row.run, ...expectedCost(tiny, methods[i]) });
  });
  // Same seed and data: the accuracy before fine-tuning is the same model's on the same images
  // (adapters start as the identity: LoRA's B = 0, DoRA's m = ‖W‖).
  expect(new Set(rows.map((row) => row.before)).size).toBe(1);
  const byRun = Object.fromEntries(rows.map((row) => [row.run, row]));
  // What the study is about: LoRA and BN+H need less peak memory than full fine-tuning, and fewer FLOPs.
  expect(parseBytes(byRun['LoRA r=2'].peak)).toBeLessThan(parseBytes(byRun.FFT.peak));
  expect(parseBytes(byRun['BN+H'].peak)).toBeLessThan(parseBytes(byRun.FFT.peak));
  expect(parseFlops(byRun['LoRA r=2'].flops)).toBeLessThan(parseFlops(byRun.FFT.flops));

  // The chart: a point per run, a legend entry per method.
  const chart = page.getByTestId('run-comparison');
  await expect(chart).toHaveAttribute('data-points', '5');
  await expect(chart.locator('.recharts-scatter-symbol')).toHaveCount(5);
  await expect(chart.locator('.recharts-legend-item-text')).toHaveText(['FFT', 'BN+H', 'LoRA', 'DoRA', 'GaLore']);
  // The last run (GaLore) says what it cannot download, as its worker worked it out.
  await expect(page.getByTestId('export-note-adapter')).toHaveText('Not available: only LoRA and DoRA have a PEFT adapter.');
  await expect(page.getByRole('button', { name: 'PEFT adapter (.zip)' })).toBeDisabled();
  expect(pageErrors).toEqual([]);
});

test('a rank sweep over two ranks charts accuracy, peak memory and FLOPs against rank', async ({ page }) => {
  test.setTimeout(180_000);
  const pageErrors = collectPageErrors(page);
  await page.goto('/#view=lab');
  await configure(page, tiny);

  const ranks = page.getByRole('textbox', { name: 'Ranks to sweep' });
  await ranks.fill('4, 2, x');
  await expect(ranks).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByRole('button', { name: 'Run rank sweep' })).toBeDisabled();
  await ranks.fill('4, 2');
  await expect(ranks).not.toHaveAttribute('aria-invalid', 'true');
  await page.getByRole('button', { name: 'Run rank sweep' }).click();
  await expect(page.getByText('Rank sweep of LoRA: run 1 of 2')).toBeVisible();

  const sweep = page.getByRole('region', { name: 'Rank sweep of LoRA' });
  await expect(sweep.getByTestId('rank-sweep')).toHaveAttribute('data-points', '2', { timeout: 170_000 });
  await expect(page.getByTestId('run-queue')).toHaveCount(0);

  // The runs ascend by rank, each with the worker's cost of that rank; more rank costs more.
  const rows = await finishedRuns(page);
  expect(rows.map((row) => row.run)).toEqual(['LoRA r=2', 'LoRA r=4']);
  for (const [row, rank] of [[rows[0], 2], [rows[1], 4]] as const) {
    expect({ peak: row.peak, flops: row.flops }).toEqual(expectedCost(tiny, 'lora', rank));
    expect(row.accuracy).toMatch(/^\d{1,3}\.\d%$/);
  }
  expect(parseBytes(rows[1].peak)).toBeGreaterThan(parseBytes(rows[0].peak));
  expect(parseFlops(rows[1].flops)).toBeGreaterThan(parseFlops(rows[0].flops));

  // Three charts against rank, each with a point at rank 2 and one at rank 4; memory and FLOPs rise.
  const charts = { accuracy: 'Accuracy', peak: 'Peak memory', flops: 'FLOPs per step' };
  const dots: Record<string, { x: number; y: number }[]> = {};
  for (const [key, caption] of Object.entries(charts)) {
    const figure = sweep.getByRole('figure', { name: caption });
    await expect(figure.locator('.recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value')).toHaveText(['2', '4']);
    await expect(figure.locator('.recharts-line-curve')).toHaveCount(1);
    dots[key] = await lineDots(figure);
    expect(dots[key]).toHaveLength(2);
    expect(dots[key].every((dot) => Number.isFinite(dot.x) && Number.isFinite(dot.y))).toBe(true);
  }
  expect(dots.peak[1].y).toBeLessThan(dots.peak[0].y);
  expect(dots.flops[1].y).toBeLessThan(dots.flops[0].y);
  expect(pageErrors).toEqual([]);
});

test('a loss that blows up stops the run with a visible message and keeps the curves drawn so far', async ({ page }) => {
  test.setTimeout(180_000);
  const pageErrors = collectPageErrors(page);
  await page.goto('/#view=lab');
  // The largest learning rate the form accepts, with plain SGD on MobileNetV3-small (hardswish is
  // unbounded above): the loss grows ~10⁴× a step and overflows after about 8 steps.
  const diverging: TinyForm = { ...tiny, method: 'fft', optimizer: 'sgd', learningRate: '10', batch: '4', images: '16', epochs: '5' };
  await configure(page, diverging);
  await page.getByRole('button', { name: 'Start', exact: true }).click();

  const alert = page.getByRole('alert').filter({ hasText: 'Training diverged' });
  await expect(alert).toBeVisible({ timeout: 170_000 });
  const message = (await alert.textContent()) ?? '';
  expect(message).toMatch(/The loss became (NaN|-?Infinity) at step \d+ \(epoch \d+\)/);
  expect(message).toContain('Lower the learning rate (now 10)');
  const failedAt = Number(/at step (\d+)/.exec(message)![1]);
  expect(failedAt).toBeGreaterThan(2);

  // The run stopped there: the bar stays at that step, the form is usable again.
  const stepsPerEpoch = 16 / 4;
  await expect(page.getByTestId('run-step')).toHaveText(`${failedAt} / ${stepsPerEpoch * 5}`);
  await expect(page.getByText('· Failed')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled();

  // The curves so far stay: every step's loss (the last one not finite) and each finished epoch's eval.
  const curves = page.getByTestId('training-curves');
  await expect(curves).toHaveAttribute('data-loss-points', String(failedAt));
  await expect(curves).toHaveAttribute('data-eval-points', String(Math.floor((failedAt - 1) / stepsPerEpoch)));
  // The losses span ~30 orders of magnitude: a log axis keeps the first steps readable.
  await expect(curves).toHaveAttribute('data-loss-scale', 'log');
  const loss = page.getByRole('figure', { name: 'Loss (log scale)' });
  // The canvas drew one point per finite loss (the last one is not); a marked line where the loss
  // stopped being finite, said under the chart and in its accessible name.
  const drawn = async (figure: Locator) => JSON.parse((await figure.locator('canvas').getAttribute('data-drawn')) ?? '{}') as Record<string, number>;
  await expect.poll(async () => (await drawn(loss))['train loss']).toBe(failedAt - 1);
  const marker = new RegExp(`loss (NaN|∞|−∞) at step ${failedAt}`);
  await expect(loss.getByText(new RegExp(`^${marker.source}$`))).toBeVisible();
  await expect(loss.getByRole('img')).toHaveAccessibleName(marker);
  // The accuracy before fine-tuning and after each finished epoch.
  const accuracy = page.getByRole('figure', { name: 'Eval accuracy' });
  await expect.poll(async () => (await drawn(accuracy))['eval accuracy']).toBe(1 + Math.floor((failedAt - 1) / stepsPerEpoch));
  // A failed run is no finished run: nothing joins the comparison.
  await expect(page.getByRole('table', { name: 'Finished runs' })).toHaveCount(0);
  expect(pageErrors).toEqual([]);
});
