import { expect, test } from '@playwright/test';
import type * as tfjs from '@tensorflow/tfjs';
import { createRng } from '../src/core/rng';
import type { LabHarness } from './harness';

/** y = Σ relu(conv3×3(x, w, stride 2, pad 1))² with dy/dx and dy/dw, in float64 loops: x NHWC
 * [n, s, s, ci], w HWIO [3, 3, ci, co]. An implementation independent of tfjs. */
function convReference(x: Float32Array, w: Float32Array, [n, s, ci, co]: [number, number, number, number]) {
  const so = s / 2;
  const at = (b: number, yy: number, xx: number, c: number) => (yy < 0 || xx < 0 || yy >= s || xx >= s ? -1 : ((b * s + yy) * s + xx) * ci + c);
  const dOut = new Float64Array(n * so * so * co);
  let y = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < so; oy++) {
      for (let ox = 0; ox < so; ox++) {
        for (let o = 0; o < co; o++) {
          let sum = 0;
          for (let ky = 0; ky < 3; ky++) {
            for (let kx = 0; kx < 3; kx++) {
              for (let c = 0; c < ci; c++) {
                const i = at(b, 2 * oy + ky - 1, 2 * ox + kx - 1, c);
                if (i >= 0) sum += x[i] * w[((ky * 3 + kx) * ci + c) * co + o];
              }
            }
          }
          const r = Math.max(sum, 0);
          y += r * r;
          dOut[((b * so + oy) * so + ox) * co + o] = 2 * r;
        }
      }
    }
  }
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < so; oy++) {
      for (let ox = 0; ox < so; ox++) {
        for (let o = 0; o < co; o++) {
          const g = dOut[((b * so + oy) * so + ox) * co + o];
          if (g === 0) continue;
          for (let ky = 0; ky < 3; ky++) {
            for (let kx = 0; kx < 3; kx++) {
              for (let c = 0; c < ci; c++) {
                const i = at(b, 2 * oy + ky - 1, 2 * ox + kx - 1, c);
                if (i < 0) continue;
                const k = ((ky * 3 + kx) * ci + c) * co + o;
                dx[i] += g * w[k];
                dw[k] += g * x[i];
              }
            }
          }
        }
      }
    }
  }
  return [[y], Array.from(dx), Array.from(dw)];
}

test('the lab starts on WebGPU and shows the adapter', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto('/#view=lab');
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
  // (A NaN fails this too: NaN < 1e-4 is false.)
  expect(result.selfTest.maxRelativeError).toBeLessThan(1e-4);
});

test('the same conv and its gradients on WebGPU match a float64 reference outside tfjs to 1e-4', async ({ page }) => {
  // The self-test compares WebGPU with tfjs's own CPU backend; this compares it with plain loops.
  const rng = createRng(1234);
  const shape: [number, number, number, number] = [2, 8, 3, 4];
  const x = Float32Array.from({ length: 2 * 8 * 8 * 3 }, () => rng.uniform(-1, 1));
  const w = Float32Array.from({ length: 3 * 3 * 3 * 4 }, () => rng.uniform(-1, 1));
  await page.goto('/e2e/harness.html');
  const result = await page.evaluate(
    async ({ xValues, wValues }) => {
      const report = await window.labHarnessReady;
      const { tf }: LabHarness = window.labHarness;
      const outputs = tf.tidy(() => {
        const f = (a: tfjs.Tensor, b: tfjs.Tensor) =>
          tf.sum(tf.square(tf.relu(tf.conv2d(tf.pad(a as tfjs.Tensor4D, [[0, 0], [1, 1], [1, 1], [0, 0]]), b as tfjs.Tensor4D, 2, 'valid'))));
        const { value, grads } = tf.valueAndGrads(f)([tf.tensor4d(xValues, [2, 8, 8, 3]), tf.tensor4d(wValues, [3, 3, 3, 4])]);
        return [value, grads[0], grads[1]];
      });
      const values = await Promise.all(outputs.map(async (t) => Array.from(await t.data())));
      tf.dispose(outputs);
      return { backend: report.backend, values };
    },
    { xValues: Array.from(x), wValues: Array.from(w) },
  );
  expect(result.backend).toBe('webgpu');
  const reference = convReference(x, w, shape);
  reference.forEach((expected, i) => {
    const scale = Math.max(...expected.map(Math.abs));
    expect(scale).toBeGreaterThan(0);
    const worst = Math.max(...expected.map((v, j) => Math.abs(result.values[i][j] - v) / Math.max(Math.abs(v), 1e-3 * scale)));
    expect(worst, ['y', 'dy/dx', 'dy/dw'][i]).toBeLessThan(1e-4);
  });
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
  await page.goto('/#view=lab');
  await expect(page.getByTestId('backend-name')).not.toHaveText('webgpu');
  await expect(page.getByRole('alert')).toContainText('WebGPU is not available here.');
});
