// Helpers shared by the specs that fine-tune: a tiny configuration set by label as a person would,
// the worker's messages and main-thread long tasks recorded, and the finished-runs table read back
// as numbers. (Not a spec: playwright.config.ts matches *.spec.ts.)
import { expect, type Page } from '@playwright/test';
import { DEFAULT_CONFIG, type LabConfig } from '../src/lab/config';
import type { MethodId, ModelId } from '../src/core/ids';

declare global {
  interface Window {
    __workerMessages: { type: string; [key: string]: unknown }[];
    __longTasks: { start: number; duration: number }[];
  }
}

/** Records the messages the page's workers post whose type starts with one of `prefixes` (in
 * `window.__workerMessages`), and main-thread tasks over 50 ms (`window.__longTasks`, Long Tasks API). */
export async function recordWorkerMessages(page: Page, prefixes: readonly string[] = ['run_']) {
  await page.addInitScript((wanted: string[]) => {
    window.__workerMessages = [];
    window.__longTasks = [];
    const NativeWorker = window.Worker;
    window.Worker = class extends NativeWorker {
      constructor(url: string | URL, options?: WorkerOptions) {
        super(url, options);
        this.addEventListener('message', (event: MessageEvent) => {
          const data = event.data as { type?: string };
          if (data && typeof data.type === 'string' && wanted.some((prefix) => (data.type as string).startsWith(prefix))) {
            window.__workerMessages.push(structuredClone(data) as Window['__workerMessages'][number]);
          }
        });
      }
    };
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longTasks.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: 'longtask', buffered: true });
  }, [...prefixes]);
}

/** Small enough for SwiftShader's WebGPU: 8 images in batches of 4 are 2 steps an epoch. */
export const TINY = { model: 'mobilenet_v2', width: '0.25', resolution: '32', method: 'lora', rank: '2', batch: '4', epochs: '1', images: '8' } as const;

export interface TinyForm {
  model: ModelId;
  width: string;
  resolution: string;
  method: MethodId;
  rank: string;
  batch: string;
  epochs: string;
  images: string;
  optimizer?: 'adam' | 'sgd';
  learningRate?: string;
}

export async function setNumber(page: Page, label: string, value: string) {
  await page.getByRole('spinbutton', { name: label, exact: true }).fill(value);
}

export async function choose(page: Page, label: string, value: string) {
  await page.getByRole('combobox', { name: label, exact: true }).selectOption(value);
}

/** Fills the form by label; Rank only where the method has one. */
export async function configure(page: Page, form: TinyForm) {
  await choose(page, 'Model', form.model);
  await setNumber(page, 'Width', form.width);
  await setNumber(page, 'Resolution', form.resolution);
  await choose(page, 'Method', form.method);
  if (form.method === 'lora' || form.method === 'dora' || form.method === 'galore') await setNumber(page, 'Rank', form.rank);
  if (form.optimizer) await choose(page, 'Optimizer', form.optimizer);
  if (form.learningRate) await setNumber(page, 'Learning rate', form.learningRate);
  await setNumber(page, 'Batch size', form.batch);
  await setNumber(page, 'Epochs', form.epochs);
  await setNumber(page, 'Training images', form.images);
  // Every field accepted: nothing is marked invalid.
  await expect(page.getByRole('form', { name: 'Configuration' }).locator('[aria-invalid="true"]')).toHaveCount(0);
}

/** The LabConfig the form holds after `configure` (for the expected numbers, computed in Node). */
export function configOf(form: TinyForm): LabConfig {
  return {
    ...DEFAULT_CONFIG,
    model: form.model,
    width: Number(form.width),
    resolution: Number(form.resolution),
    method: form.method,
    rank: Number(form.rank),
    batchSize: Number(form.batch),
    epochs: Number(form.epochs),
    trainImages: Number(form.images),
    ...(form.optimizer ? { optimizer: form.optimizer } : {}),
    ...(form.learningRate ? { learningRate: Number(form.learningRate) } : {}),
  };
}

const BYTE_UNITS: Record<string, number> = { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30 };
const FLOP_UNITS: Record<string, number> = { FLOPs: 1, kFLOPs: 1e3, MFLOPs: 1e6, GFLOPs: 1e9, TFLOPs: 1e12 };

function parseUnit(text: string, units: Record<string, number>): number {
  const match = /^(-?[\d.]+) (\S+)$/.exec(text.trim());
  if (!match || !(match[2] in units)) throw new Error(`not a quantity: ${JSON.stringify(text)}`);
  return Number(match[1]) * units[match[2]];
}
/** "18.1 MiB" → bytes (as formatBytes rounds: three significant digits). */
export const parseBytes = (text: string) => parseUnit(text, BYTE_UNITS);
/** "221 MFLOPs" → FLOPs. */
export const parseFlops = (text: string) => parseUnit(text, FLOP_UNITS);

export interface RunRow {
  run: string;
  accuracy: string;
  before: string;
  peak: string;
  flops: string;
  steps: string;
}

/** The "Finished runs" table, a row per run, by its column headers. */
export async function finishedRuns(page: Page): Promise<RunRow[]> {
  const table = page.getByRole('table', { name: 'Finished runs' });
  const headers = await table.getByRole('columnheader').allTextContents();
  const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent ?? '')));
  const column = (name: string) => {
    const index = headers.indexOf(name);
    if (index < 0) throw new Error(`no column ${name} in ${headers.join(', ')}`);
    return index;
  };
  return rows.map((cells) => ({
    run: cells[column('Run')],
    accuracy: cells[column('Accuracy')],
    before: cells[column('Before')],
    peak: cells[column('Peak memory')],
    flops: cells[column('FLOPs / step')],
    steps: cells[column('Steps')],
  }));
}
