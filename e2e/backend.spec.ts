import { expect, test } from '@playwright/test';
import type { LabHarness } from './harness';

test('the lab starts on WebGPU and shows the adapter', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'PEFT Edge Lab' })).toBeVisible();
  await expect(page.getByTestId('backend-name')).toHaveText('webgpu');
  await expect(page.getByTestId('adapter-info')).not.toHaveText('no WebGPU adapter');
  // No fallback banner when WebGPU runs.
  await expect(page.getByText('WebGPU is not available here.')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('a conv and its gradients on WebGPU match the CPU backend to 1e-4', async ({ page }) => {
  await page.goto('/e2e/harness.html');
  const result = await page.evaluate(async () => {
    const report = await window.labHarnessReady;
    const harness: LabHarness = window.labHarness;
    const selfTest = await harness.selfTest.backendSelfTest();
    return { backend: report.backend, selfTest };
  });
  expect(result.backend).toBe('webgpu');
  expect(result.selfTest.backend).toBe('webgpu');
  expect(result.selfTest.maxRelativeError).toBeLessThan(1e-4);
  // A real comparison, not 0 by construction: both backends ran float32 arithmetic.
  expect(Number.isFinite(result.selfTest.maxRelativeError)).toBe(true);
});

test('without WebGPU the page falls back and says what the user loses', async ({ page }) => {
  // Hide navigator.gpu from the worker and the page, as a browser without WebGPU would.
  await page.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
  });
  await page.route('**/assets/training.worker-*.js', async (route) => {
    const response = await route.fetch();
    const body = await response.text();
    await route.fulfill({
      response,
      body: `Object.defineProperty(WorkerNavigator.prototype, 'gpu', { get: () => undefined, configurable: true });\n${body}`,
    });
  });
  await page.goto('/');
  await expect(page.getByTestId('backend-name')).not.toHaveText('webgpu');
  await expect(page.getByRole('alert')).toContainText('WebGPU is not available here.');
});
