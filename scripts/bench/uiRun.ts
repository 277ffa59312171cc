// The lab's UI during a real fine-tune: the page at the default configuration (made tiny: a few
// steps), driven by its labelled controls as a person would, with the Long Tasks API recording
// every main-thread task over 50 ms from Start to the end of the run. Training runs in a worker, so
// the goal is none; on SwiftShader the GPU process shares the CPU, so some may still show.
import type { Browser } from '@playwright/test';

export interface UiRunRecord {
  /** What the run trained (the page's defaults, with these overrides). */
  settings: { batch: number; epochs: number; trainingImages: number };
  steps: number;
  seconds: number;
  longTasks: { count: number; longestMs: number; totalMs: number };
  error: string | null;
}

const SETTINGS = { batch: 8, epochs: 1, trainingImages: 32 };

declare global {
  interface Window {
    __benchLongTasks?: { start: number; duration: number }[];
  }
}

export async function measureUiRun(browser: Browser, origin: string): Promise<UiRunRecord> {
  const steps = Math.ceil(SETTINGS.trainingImages / SETTINGS.batch) * SETTINGS.epochs;
  const record: UiRunRecord = { settings: SETTINGS, steps, seconds: 0, longTasks: { count: 0, longestMs: 0, totalMs: 0 }, error: null };
  const page = await browser.newPage();
  try {
    await page.addInitScript(() => {
      window.__benchLongTasks = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) window.__benchLongTasks?.push({ start: entry.startTime, duration: entry.duration });
      }).observe({ type: 'longtask', buffered: true });
    });
    await page.goto(`${origin}/`);
    const setNumber = async (label: string, value: number) => {
      const input = page.getByRole('spinbutton', { name: label, exact: true });
      await input.fill(String(value));
      await input.blur();
    };
    await setNumber('Batch size', SETTINGS.batch);
    await setNumber('Epochs', SETTINGS.epochs);
    await setNumber('Training images', SETTINGS.trainingImages);
    const start = await page.evaluate(() => performance.now());
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.getByTestId('run-step').filter({ hasText: `${steps} / ${steps}` }).waitFor({ timeout: 900_000 });
    await page.getByTestId('run-comparison').and(page.locator('[data-points="1"]')).waitFor({ timeout: 300_000 });
    const end = await page.evaluate(() => performance.now());
    const tasks = (await page.evaluate(() => window.__benchLongTasks ?? [])).filter((t) => t.start >= start && t.start <= end);
    record.seconds = (end - start) / 1000;
    record.longTasks = {
      count: tasks.length,
      longestMs: Math.max(0, ...tasks.map((t) => t.duration)),
      totalMs: tasks.reduce((sum, t) => sum + t.duration, 0),
    };
  } catch (error) {
    record.error = error instanceof Error ? error.message.split('\n')[0] : String(error);
  } finally {
    await page.close();
  }
  return record;
}
