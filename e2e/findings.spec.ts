// The findings tour: a fresh visit lands on it; every card's "Try it" opens the lab on the card's
// configuration, and the numbers the card quotes are the ones the lab's charts then show — and the
// ones the profiler gives in Node for the same request. A card's own link opens the tour on it.
import { expect, test } from '@playwright/test';
import { formatBytes, formatFlops, formatPercent } from '../src/app/format';
import { DEFAULT_CONFIG } from '../src/lab/config';
import { findingById, FINDINGS, findingFigures, findingRequests, STUDY_PROFILING, tryItKey, type FindingFigure, type FindingProfiles } from '../src/lab/findings';
import { profileMethods } from '../src/lab/profileMethods';

const requests = findingRequests(DEFAULT_CONFIG);
const profiled: FindingProfiles = Object.fromEntries(Object.entries(requests).map(([key, request]) => [key, { request: request!, byMethod: profileMethods(request!).profiles }]));
const shown = (figure: FindingFigure) => (figure.unit === 'share' ? formatPercent(figure.value) : figure.unit === 'bytes' ? formatBytes(figure.value) : null);

test('a fresh visit lands on the findings; each card’s Try it opens the lab on its configuration with the card’s numbers', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'What the study found, and what this lab measures' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Findings' })).toHaveAttribute('aria-pressed', 'true');
  await expect(page).toHaveURL(/#view=findings$/);

  for (const finding of FINDINGS) {
    const card = page.getByRole('article', { name: finding.title });
    const { model, method, frozenWeights = 'fp32' } = finding.tryIt;
    const expected = profiled[tryItKey(finding)]!.byMethod[method]!;
    const peak = formatBytes(expected.memory.analytic.peak.total);
    const flops = formatFlops(expected.flops.correct.total);
    await expect(card.getByTestId('card-peak')).toHaveText(peak);
    await expect(card.getByTestId('card-flops')).toHaveText(flops);
    // The lab's own figures, as the profiler gives them in Node.
    for (const figure of findingFigures(finding.id, profiled)) {
      const text = shown(figure);
      if (text !== null) await expect(card.getByTestId(`figure-${figure.key}`)).toHaveText(text);
    }
    // A verdict beside every claim: computed, never "computing…" once the profiles are in.
    await expect(card.locator('.claim-lab')).toHaveCount(finding.claims.length);
    await expect(card.locator('.claim-lab[data-verdict="pending"]')).toHaveCount(0);

    await card.getByRole('button', { name: 'Try it' }).click();
    await expect(page.getByRole('button', { name: 'Lab' })).toHaveAttribute('aria-pressed', 'true');
    await expect(page.getByRole('combobox', { name: 'Model', exact: true })).toHaveValue(model);
    await expect(page.getByRole('combobox', { name: 'Method', exact: true })).toHaveValue(method);
    await expect(page.getByRole('combobox', { name: 'Frozen weights', exact: true })).toHaveValue(frozenWeights);
    await expect(page.getByRole('spinbutton', { name: 'Resolution', exact: true })).toHaveValue(String(STUDY_PROFILING.resolution));
    await expect(page.getByRole('spinbutton', { name: 'Batch size', exact: true })).toHaveValue(String(STUDY_PROFILING.batchSize));
    await expect(page.getByTestId(`peak-${method}`)).toHaveText(peak);
    await expect(page.getByTestId(`flops-${method}`)).toHaveText(flops);
    await page.getByRole('button', { name: 'Findings' }).click();
  }
});

test('a card’s link opens the tour on that card; the lab is one click away and its links open the lab', async ({ page }) => {
  const finding = FINDINGS[5];
  await page.goto(`/#view=findings&f=${finding.id}`);
  const card = page.getByRole('article', { name: finding.title });
  await expect(card).toHaveClass(/focused/);
  await expect(card).toBeInViewport();
  await page.getByRole('button', { name: 'Open the lab' }).click();
  await expect(page.getByRole('combobox', { name: 'Model', exact: true })).toBeVisible();
  // The address is now the lab's configuration link: opened elsewhere it shows the lab.
  await expect(page).toHaveURL(/#v=1&/);
  const link = page.url();
  const other = await page.context().newPage();
  await other.goto(link);
  await expect(other.getByRole('button', { name: 'Lab' })).toHaveAttribute('aria-pressed', 'true');
  await expect(other.getByRole('combobox', { name: 'Model', exact: true })).toBeVisible();
});

test('the memory chart says when activations are nearly the whole peak, and switches to the study’s setting in one click', async ({ page }) => {
  await page.goto('/#view=lab');
  const note = page.getByTestId('act-dominates');
  await expect(note).toContainText('ACT is');
  await note.getByRole('button', { name: /Use the study’s profiling setting/ }).click();
  await expect(page.getByRole('spinbutton', { name: 'Resolution', exact: true })).toHaveValue('224');
  await expect(page.getByRole('spinbutton', { name: 'Batch size', exact: true })).toHaveValue('1');
  await expect(note).toHaveCount(0);
});

test('the quantized-base card: LoRA’s peak on fp32, int8 and NF4 bases from the profiler, no study verdict, and FFT and GaLore kept on fp32', async ({ page }) => {
  const finding = findingById('quantized_base');
  await page.goto(`/#view=findings&f=${finding.id}`);
  const card = page.getByRole('article', { name: finding.title });
  await expect(card).toHaveClass(/focused/);
  const figures = findingFigures(finding.id, profiled);
  // Three models, each: LoRA's peak on three bases, two savings, NF4 against FFT.
  expect(figures).toHaveLength(18);
  for (const figure of figures) await expect(card.getByTestId(`figure-${figure.key}`), figure.key).toHaveText(shown(figure)!, { timeout: 120_000 });
  await expect(card.getByTestId('figure-lora-peak-nf4-resnet18')).toHaveText(formatBytes(profiled['resnet18@nf4']!.byMethod.lora!.memory.analytic.peak.total));
  for (const model of ['mobilenet_v2', 'resnet18', 'vit_tiny']) {
    await expect(card.getByTestId(`finding-format-${model}`).locator('.recharts-bar-rectangle').first()).toBeVisible();
  }
  await expect(card.getByText('FFT and GaLore update the base weights themselves, so they cannot train on a quantized base')).toBeVisible();
  // The study did not quantize: no claim line, no verdict; accuracy waits for a study result with
  // quantized-base cells (the shipped --quick result has none).
  await expect(card.locator('.claim-lab')).toHaveCount(0);
  await expect(card.getByTestId('quantized-accuracy-pending')).toContainText('the loaded study result has no quantized-base cells');
  await expect(card.getByRole('link', { name: `Link to this finding: ${finding.title}` })).toHaveAttribute('href', '#view=findings&f=quantized_base');
  await card.screenshot({ path: test.info().outputPath('quantized-finding-card.png') });
  await card.getByRole('button', { name: 'Try it' }).click();
  await expect(page.getByRole('combobox', { name: 'Model', exact: true })).toHaveValue('resnet18');
  await expect(page.getByRole('combobox', { name: 'Frozen weights', exact: true })).toHaveValue('nf4');
  await expect(page.getByTestId('peak-lora')).toHaveText(formatBytes(profiled['resnet18@nf4']!.byMethod.lora!.memory.analytic.peak.total));
});
