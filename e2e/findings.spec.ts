// The findings tour: a fresh visit lands on it; every card's "Try it" opens the lab on the card's
// configuration, and the numbers the card quotes are the ones the lab's charts then show — and the
// ones the profiler gives in Node for the same request. A card's own link opens the tour on it.
import { expect, test } from '@playwright/test';
import { formatBytes, formatFlops, formatPercent } from '../src/app/format';
import { DEFAULT_CONFIG } from '../src/lab/config';
import { FINDINGS, findingFigures, findingRequests, FINDING_MODELS, STUDY_PROFILING } from '../src/lab/findings';
import type { ProfiledRequest } from '../src/lab/labMeasurements';
import { profileMethods } from '../src/lab/profileMethods';

const requests = findingRequests(DEFAULT_CONFIG);
const profiled = Object.fromEntries(FINDING_MODELS.map((model) => [model, { request: requests[model], byMethod: profileMethods(requests[model]).profiles } satisfies ProfiledRequest]));

test('a fresh visit lands on the findings; each card’s Try it opens the lab on its configuration with the card’s numbers', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'What the study found, and what this lab measures' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Findings' })).toHaveAttribute('aria-pressed', 'true');
  await expect(page).toHaveURL(/#view=findings$/);

  for (const finding of FINDINGS) {
    const card = page.getByRole('article', { name: finding.title });
    const { model, method } = finding.tryIt;
    const expected = profiled[model].byMethod[method]!;
    const peak = formatBytes(expected.memory.analytic.peak.total);
    const flops = formatFlops(expected.flops.correct.total);
    await expect(card.getByTestId('card-peak')).toHaveText(peak);
    await expect(card.getByTestId('card-flops')).toHaveText(flops);
    // The lab's own figures, as the profiler gives them in Node.
    for (const figure of findingFigures(finding.id, profiled)) {
      if (figure.unit === 'share') await expect(card.getByTestId(`figure-${figure.key}`)).toHaveText(formatPercent(figure.value));
    }
    // A verdict beside every claim: computed, never "computing…" once the profiles are in.
    await expect(card.locator('.claim-lab')).toHaveCount(finding.claims.length);
    await expect(card.locator('.claim-lab[data-verdict="pending"]')).toHaveCount(0);

    await card.getByRole('button', { name: 'Try it' }).click();
    await expect(page.getByRole('button', { name: 'Lab' })).toHaveAttribute('aria-pressed', 'true');
    await expect(page.getByRole('combobox', { name: 'Model', exact: true })).toHaveValue(model);
    await expect(page.getByRole('combobox', { name: 'Method', exact: true })).toHaveValue(method);
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
