// Downloads after a run, in real Chromium on a tiny LoRA fine-tune (MobileNetV2 width 0.25, 32×32,
// 2 steps): the fine-tuned weights parse as torchvision safetensors with the adapters folded in, the
// PEFT adapter zip holds PEFT's files with a valid config, the results come as JSON and CSV. Round
// trip: the downloaded weights, imported as the base of a second run of the same configuration,
// evaluate before fine-tuning exactly as the first run's model did after it (same test images,
// same accuracy, same loss: the same logits).
import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { unzip } from '../src/core/data/zip';
import { readSafetensors } from '../src/core/weights/safetensors';
import { CSV_COLUMNS, EXPORT_LABELS } from '../src/lab/exports';
import type { ExportKind } from '../src/lab/ids';
import { configure, recordWorkerMessages, TINY } from './tiny';

async function download(page: Page, kind: ExportKind): Promise<{ name: string; bytes: Buffer }> {
  const downloading = page.waitForEvent('download');
  await page.getByRole('region', { name: 'Download' }).getByRole('button', { name: EXPORT_LABELS[kind], exact: true }).click();
  const file = await downloading;
  return { name: file.suggestedFilename(), bytes: await readFile((await file.path()) as string) };
}

interface EvalMessage {
  runId: number;
  point?: { accuracy: number; loss: number };
  baseline?: { accuracy: number; loss: number };
}
const messagesOf = (page: Page, type: string) => page.evaluate((wanted) => window.__workerMessages.filter((message) => message.type === wanted), type) as Promise<unknown[]> as Promise<EvalMessage[]>;

test('a finished LoRA run downloads its weights, PEFT adapter and results; the weights load back with the same logits', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await recordWorkerMessages(page, ['run_']);
  await page.goto('/#view=lab');
  await configure(page, TINY);
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  const panel = page.getByRole('region', { name: 'Download' });
  await expect(panel).toBeVisible({ timeout: 170_000 });
  await expect(page.getByTestId('export-note-adapter')).not.toContainText('Not available');

  const weights = await download(page, 'weights');
  expect(weights.name).toBe('mobilenet_v2_w0.25_lora_seed0_finetuned.safetensors');
  const state = readSafetensors(weights.bytes);
  expect(state.tensors['features.0.0.weight'].shape).toEqual([8, 3, 3, 3]);
  expect(Object.keys(state.tensors).some((key) => key.includes('lora'))).toBe(false);
  expect(JSON.parse(state.metadata.lab_config)).toMatchObject({ model: 'mobilenet_v2', width: 0.25, method: 'lora', rank: 2 });

  const adapter = await download(page, 'adapter');
  const files = await unzip(new Uint8Array(adapter.bytes), adapter.name);
  expect(files.map((file) => file.path)).toEqual(['adapter_model.safetensors', 'adapter_config.json', 'base_model.safetensors', 'README.md']);
  const config = JSON.parse(new TextDecoder().decode(files[1].bytes ?? new Uint8Array())) as { peft_type: string; r: number; use_dora: boolean; target_modules: string[]; modules_to_save: string[] };
  expect(config).toMatchObject({ peft_type: 'LORA', r: 2, use_dora: false });
  expect(config.target_modules).toContain('features.0.0');
  expect(config.modules_to_save).toContain('features.0.1');
  const adapterTensors = readSafetensors(files[0].bytes ?? new Uint8Array()).tensors;
  expect(adapterTensors['base_model.model.features.0.0.lora_A.weight'].shape).toEqual([2, 3, 3, 3]);

  const json = JSON.parse((await download(page, 'results_json')).bytes.toString('utf8')) as { steps: number; evalCurve: unknown[]; config: { method: string } };
  expect(json).toMatchObject({ steps: 2, config: { method: 'lora' } });
  expect(json.evalCurve).toHaveLength(1);
  const csv = (await download(page, 'results_csv')).bytes.toString('utf8').trimEnd().split('\n');
  expect(csv[0]).toBe(CSV_COLUMNS.join(','));
  expect(csv.slice(1).map((line) => line.split(',')[0])).toEqual(['0', '1', '2']);

  // Round trip: the downloaded weights as the imported base of the same configuration.
  await page.getByLabel(/^Torchvision weights/).setInputFiles({ name: weights.name, mimeType: 'application/octet-stream', buffer: weights.bytes });
  await expect(page.getByRole('combobox', { name: 'Base weights', exact: true })).toHaveValue('imported');
  const finalAccuracy = await page.getByTestId('run-accuracy').textContent();
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByTestId('run-base-weights')).toContainText(`imported file ${weights.name}`);
  await expect(page.getByTestId('run-baseline')).toHaveText(finalAccuracy ?? '');
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  const [firstEval] = await messagesOf(page, 'run_eval');
  const baselines = await messagesOf(page, 'run_baseline');
  const second = baselines.at(-1)?.baseline;
  expect(baselines).toHaveLength(2);
  expect(second?.accuracy).toBe(firstEval.point?.accuracy);
  expect(Math.abs((second?.loss ?? NaN) - (firstEval.point?.loss ?? NaN))).toBeLessThan(1e-4 * Math.abs(firstEval.point?.loss ?? 1));
  expect(pageErrors).toEqual([]);
});
