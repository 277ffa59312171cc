// Faults in the browser, through the lab's page and its training worker: memory stays flat over a
// run's steps; the WebGPU device lost mid-run and a configuration beyond the device's buffer
// limits each stop the run with its message, keep what was drawn, and leave the next run working
// without a reload. The test reaches the worker's tfjs through the engine tfjs keeps on the
// worker's global scope (`_tfengine`): no test hook in the app.
import { expect, test, type Page, type Worker } from '@playwright/test';
import { configure, recordWorkerMessages, type TinyForm } from './tiny';

/** What tf.memory() says in the worker (WebGPU adds the GPU bytes). */
interface WorkerMemory {
  numTensors: number;
  numBytes: number;
  numBytesInGPU: number;
  numBytesAllocatedInGPU: number;
}

function trainingWorker(page: Page): Worker {
  const worker = page.workers().find((w) => w.url().includes('training.worker'));
  if (!worker) throw new Error(`no training worker among ${page.workers().map((w) => w.url()).join(', ')}`);
  return worker;
}

async function workerMemory(page: Page): Promise<WorkerMemory> {
  return trainingWorker(page).evaluate(() => {
    const memory = (globalThis as unknown as { _tfengine: { memory(): WorkerMemory } })._tfengine.memory();
    return { numTensors: memory.numTensors, numBytes: memory.numBytes, numBytesInGPU: memory.numBytesInGPU, numBytesAllocatedInGPU: memory.numBytesAllocatedInGPU };
  });
}

/** The last step the newest run reported. */
const lastStep = (page: Page) =>
  page.evaluate(() => {
    const newest = Math.max(0, ...window.__workerMessages.map((m) => m.runId as number));
    return Math.max(0, ...window.__workerMessages.filter((m) => m.type === 'run_progress' && m.runId === newest).map((m) => m.step as number));
  });

const TINY_RUN: TinyForm = { model: 'mobilenet_v2', width: '0.25', resolution: '32', method: 'lora', rank: '2', batch: '4', epochs: '2', images: '16' };

async function start(page: Page) {
  await page.getByRole('button', { name: 'Start', exact: true }).click();
}

async function runToEnd(page: Page, steps: number, finishedRuns: number) {
  await start(page);
  await expect(page.getByTestId('run-step')).toHaveText(`${steps} / ${steps}`, { timeout: 150_000 });
  await expect(page.getByTestId('run-comparison')).toHaveAttribute('data-points', String(finishedRuns));
}

test('memory stays flat over a run’s steps; a lost device and an allocation beyond the device’s limits each stop the run with their message, and the next run works without a reload', async ({ page }) => {
  test.setTimeout(360_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await recordWorkerMessages(page);
  await page.goto('/#view=lab');
  const alert = page.getByRole('alert').filter({ hasText: /GPU lost|Out of memory|The run failed|Download failed/ });
  const curves = page.getByTestId('training-curves');

  await test.step('soak: tensors and GPU bytes flat after warm-up', async () => {
    // 24 images in batches of 2: 12 steps, one epoch (no evaluation between the samples).
    await configure(page, { ...TINY_RUN, batch: '2', epochs: '1', images: '24' });
    await start(page);
    // A paused run waits between steps: the worker's memory is read there, the next batch alive.
    const samples: (WorkerMemory & { step: number })[] = [];
    for (const after of [3, 6, 8]) {
      await expect.poll(() => lastStep(page), { timeout: 120_000 }).toBeGreaterThanOrEqual(after);
      await page.getByRole('button', { name: 'Pause', exact: true }).click();
      await expect(page.getByRole('button', { name: 'Resume', exact: true })).toBeVisible();
      samples.push({ step: await lastStep(page), ...(await workerMemory(page)) });
      await page.getByRole('button', { name: 'Resume', exact: true }).click();
    }
    await expect(page.getByTestId('run-step')).toHaveText('12 / 12', { timeout: 120_000 });
    await expect(page.getByTestId('run-comparison')).toHaveAttribute('data-points', '1');
    console.log(`worker memory at pauses: ${JSON.stringify(samples)}`);
    const [first, ...rest] = samples;
    for (const sample of rest) {
      const at = `at step ${sample.step} vs ${first.step}`;
      expect(sample.numTensors, `tensors ${at}`).toBe(first.numTensors);
      expect(sample.numBytes, `bytes ${at}`).toBe(first.numBytes);
      expect(sample.numBytesInGPU, `GPU bytes in use ${at}`).toBe(first.numBytesInGPU);
      expect(sample.numBytesAllocatedInGPU, `GPU bytes allocated ${at}`).toBe(first.numBytesAllocatedInGPU);
    }
  });

  await test.step('the device is lost mid-run', async () => {
    await configure(page, TINY_RUN);
    await start(page);
    await expect.poll(() => lastStep(page), { timeout: 120_000 }).toBeGreaterThanOrEqual(2);
    await trainingWorker(page).evaluate(() => (globalThis as unknown as { _tfengine: { backendInstance: { device: GPUDevice } } })._tfengine.backendInstance.device.destroy());
    await expect(alert).toContainText('GPU lost: The WebGPU device was lost (reason: destroyed');
    await expect(alert).toContainText('Start it again to train on a new device');
    const lostAt = await lastStep(page);
    expect(lostAt).toBeLessThan(8);
    // The curves so far stay: every step the worker reported before the loss is drawn.
    await expect(curves).toHaveAttribute('data-loss-points', String(lostAt));
    // Start again: a new device, a (shorter) run to its end, no reload.
    await configure(page, { ...TINY_RUN, epochs: '1', images: '8' });
    await runToEnd(page, 2, 2);
    await expect(alert).toHaveCount(0);
  });

  await test.step('an allocation beyond the device’s buffer limits', async () => {
    // 512×512 at batch 32: features.2's expansion output is 32·512²·48·4 bytes = 1.5 GiB, over
    // SwiftShader's 1 GiB per buffer. Refused before anything is allocated, the limit named.
    await configure(page, { ...TINY_RUN, resolution: '512', batch: '32', images: '32', epochs: '1' });
    await start(page);
    await expect(alert).toContainText(/Out of memory: This configuration needs a 1\.50 GiB buffer \(the output of features\.2\.conv\.0\.0 at batch 32, 512×512\), but this GPU's (maxStorageBufferBindingSize|maxBufferSize) is [\d,]+ bytes/);
    await expect(alert).toContainText(/Lower the batch size to \d+ or less/);
    // The finished runs stay in the comparison; the next run trains to its end.
    await expect(page.getByTestId('run-comparison')).toHaveAttribute('data-points', '2');
    await configure(page, { ...TINY_RUN, epochs: '1', images: '8' });
    await runToEnd(page, 2, 3);
    await expect(alert).toHaveCount(0);
  });

  const errors = await page.evaluate(() => window.__workerMessages.filter((m) => m.type === 'run_error').map((m) => m.kind));
  expect(errors).toEqual(['device_lost', 'out_of_memory']);
  expect(pageErrors).toEqual([]);
});
