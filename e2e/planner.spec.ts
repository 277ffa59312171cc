// "What fits my device": a device preset sets the budget (the memory chart's line too), and the
// planner's table shows each method's largest batch — the numbers planFit gives in Node; a budget
// not even batch 1 fits says so, with what would shrink the peak.
import { expect, test } from '@playwright/test';
import { DEFAULT_CONFIG } from '../src/lab/config';
import { edgeDevice, planFit } from '../src/lab/planner';

test('a device preset gives every method’s largest batch, as the planner computes it', async ({ page }) => {
  await page.goto('/#view=lab');
  const card = page.getByRole('region', { name: 'What fits my device' });
  const pi = edgeDevice('rpi4-1gb')!;
  await card.getByLabel('Device').selectOption(pi.id);
  await expect(card.getByTestId('device-source')).toContainText(pi.source);
  const expected = planFit(DEFAULT_CONFIG, pi.budgetBytes);
  for (const fit of expected.methods) {
    await expect(card.getByTestId(`fit-batch-${fit.method}`)).toHaveText(String(fit.largestBatch), { timeout: 60_000 });
  }
  // The memory chart draws the same budget.
  await expect(page.getByRole('spinbutton', { name: 'Device budget (MiB)' })).toHaveValue(String(pi.budgetBytes / 2 ** 20));

  const mcu = edgeDevice('mcu-1mb')!;
  await card.getByLabel('Device').selectOption(mcu.id);
  const tight = planFit(DEFAULT_CONFIG, mcu.budgetBytes);
  await expect(card.getByTestId('fit-batch-lora')).toHaveText('none fits', { timeout: 60_000 });
  const shrink = card.getByTestId('fit-shrink');
  for (const option of tight.shrink) await expect(shrink).toContainText(option.change);
});
