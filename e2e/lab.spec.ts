import { expect, test, type Page } from '@playwright/test';
import { DEFAULT_CONFIG, type LabConfig } from '../src/lab/config';
import { formatBytes, formatCount, formatFlops } from '../src/app/format';
import { profileRequestOf } from '../src/lab/profileMethods';
import { profileMethods } from '../src/lab/profileMethods';
import type { MethodId } from '../src/core/ids';

/** The numbers the charts must show for a configuration, from the analytic profiler run here in Node. */
function expectedFigures(config: LabConfig) {
  const { profiles } = profileMethods(profileRequestOf(config));
  const figures = (method: MethodId, view: 'analytic' | 'pytorch' = 'analytic', convention: 'correct' | 'torchConvention' = 'correct') => {
    const profile = profiles[method]!;
    return {
      peak: formatBytes(profile.memory[view].peak.total),
      sumOfMaxima: formatBytes(profile.memory[view].sumOfGroupMaxima),
      flops: formatFlops(profile.flops[convention].total),
      trainable: formatCount(profile.params.trainable),
    };
  };
  return figures;
}

async function expectCurrentFigures(page: Page, figures: { peak: string; sumOfMaxima: string; flops: string; trainable: string }) {
  await expect(page.getByTestId('current-peak')).toHaveText(figures.peak);
  await expect(page.getByTestId('current-sum-of-maxima')).toHaveText(figures.sumOfMaxima);
  await expect(page.getByTestId('current-flops')).toHaveText(figures.flops);
  await expect(page.getByTestId('current-trainable')).toHaveText(figures.trainable);
}

test('picking model, method and rank by label updates the charts to the profiler’s numbers', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto('/#view=lab');

  // Defaults: LoRA r = 4 on MobileNetV2; every method's bar has its readout.
  const defaults = expectedFigures(DEFAULT_CONFIG);
  await expectCurrentFigures(page, defaults('lora'));
  for (const method of ['fft', 'bn_head', 'lora', 'dora', 'galore'] as const) {
    await expect(page.getByTestId(`peak-${method}`)).toHaveText(defaults(method).peak);
    await expect(page.getByTestId(`flops-${method}`)).toHaveText(defaults(method).flops);
  }

  await page.getByRole('combobox', { name: 'Model', exact: true }).selectOption('resnet18');
  const resnet = expectedFigures({ ...DEFAULT_CONFIG, model: 'resnet18' });
  await expectCurrentFigures(page, resnet('lora'));
  expect(resnet('lora').peak).not.toBe(defaults('lora').peak);

  await page.getByRole('combobox', { name: 'Method', exact: true }).selectOption('galore');
  await page.getByRole('spinbutton', { name: 'Rank', exact: true }).fill('8');
  const galore = expectedFigures({ ...DEFAULT_CONFIG, model: 'resnet18', method: 'galore', rank: 8 });
  await expectCurrentFigures(page, galore('galore'));
  await expect(page.getByRole('heading', { name: 'Memory timeline of one GaLore step' })).toBeVisible();

  // The views: PyTorch's autograd for memory, PyTorch's counter convention for FLOPs.
  await page.getByRole('radio', { name: 'PyTorch autograd' }).first().check();
  await expect(page.getByTestId('current-peak')).toHaveText(galore('galore', 'pytorch').peak);
  await page.getByRole('radio', { name: 'PyTorch counter convention' }).check();
  await expect(page.getByTestId('current-flops')).toHaveText(galore('galore', 'pytorch', 'torchConvention').flops);
  await expect(page.getByText(/PyTorch counter convention \(torch\.utils\.flop_counter/)).toBeVisible();

  // A device budget adds a "fits?" column.
  await page.getByLabel('Device budget (MiB)').fill('512');
  await expect(page.getByRole('columnheader', { name: 'Fits 512 MiB?' })).toBeVisible();

  expect(errors).toEqual([]);
});

test('an invalid field is explained inline and the charts keep the last valid configuration', async ({ page }) => {
  await page.goto('/#view=lab');
  const defaults = expectedFigures(DEFAULT_CONFIG);
  await expect(page.getByTestId('current-peak')).toHaveText(defaults('lora').peak);

  const rank = page.getByRole('spinbutton', { name: 'Rank', exact: true });
  await rank.fill('2.5');
  await expect(rank).toHaveAttribute('aria-invalid', 'true');
  await expect(rank).toHaveAccessibleDescription(/Must be a whole number/);
  await rank.fill('5000');
  await expect(rank).toHaveAccessibleDescription(/Must be between 1 and 512/);
  await expect(page.getByText('The charts show the last valid configuration')).toBeVisible();
  await expect(page.getByTestId('current-peak')).toHaveText(defaults('lora').peak);

  // Cross-field rules: GaLore needs Adam; DoRA cannot adapt depthwise convs.
  await rank.fill('4');
  await expect(rank).not.toHaveAttribute('aria-invalid', 'true');
  await page.getByRole('combobox', { name: 'Optimizer', exact: true }).selectOption('sgd');
  await page.getByRole('combobox', { name: 'Method', exact: true }).selectOption('galore');
  const optimizer = page.getByRole('combobox', { name: 'Optimizer', exact: true });
  await expect(optimizer).toHaveAttribute('aria-invalid', 'true');
  await expect(optimizer).toHaveAccessibleDescription(/GaLore keeps Adam’s moments/);
  await optimizer.selectOption('adam');
  await expect(optimizer).not.toHaveAttribute('aria-invalid', 'true');

  // Fields that do not apply are not shown: GaLore has no α, LoRA no update gap.
  await expect(page.getByRole('spinbutton', { name: 'Alpha', exact: true })).toHaveCount(0);
  await expect(page.getByRole('spinbutton', { name: 'Update gap', exact: true })).toBeVisible();
  await page.getByRole('combobox', { name: 'Method', exact: true }).selectOption('lora');
  await expect(page.getByRole('spinbutton', { name: 'Update gap', exact: true })).toHaveCount(0);
});
