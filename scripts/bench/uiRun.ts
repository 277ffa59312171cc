// The lab's UI during a real fine-tune: the page at the default configuration (made tiny: a few
// steps), driven by its labelled controls as a person would, with the Long Tasks API recording
// every main-thread task over 50 ms from Start to the end of the run. Training runs in a worker, so
// the goal is none; on SwiftShader the GPU process shares the CPU, so some may still show.
// A Chromium trace of the same span splits each long task into the app's own script, library
// script by chunk, style/layout/paint, GC and other (longTasks.ts). The first screens' paint and
// bytes are measured apart (firstScreen.ts).
import { writeFileSync } from 'node:fs';
import type { Browser } from '@playwright/test';
import { attributeLongTasks, markTs, type LongTaskAttribution } from './longTasks';
import { measureFirstScreen, type FirstScreenRecord } from './firstScreen';

export interface UiRunRecord {
  /** What the run trained (the page's defaults, with these overrides). */
  settings: { batch: number; epochs: number; trainingImages: number };
  steps: number;
  seconds: number;
  longTasks: { count: number; longestMs: number; totalMs: number };
  /** The same span's long tasks from a Chromium trace, each split by what ran; null if tracing failed. */
  attribution?: LongTaskAttribution | null;
  /** Fresh visits of `/` and `/#view=lab`: first contentful paint and the JS/CSS fetched. */
  firstScreens?: FirstScreenRecord[];
  error: string | null;
}

/** The trace categories of DevTools' performance panel: tasks, their kinds, and JS samples. */
const TRACE_CATEGORIES = [
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'disabled-by-default-devtools.timeline.frame',
  'v8.execute',
  'v8',
  'blink.user_timing',
  'disabled-by-default-v8.cpu_profiler',
  'disabled-by-default-v8.gc',
];

const SETTINGS = { batch: 8, epochs: 1, trainingImages: 32 };
/** Time for the page to settle after the configuration changed, before Start. */
const SETTLE_MS = 5000;

/** Why a `--node-webgpu` run has no UI run, for the report. */
export const NO_UI_RUN_IN_NODE = "it drives the lab's page in Chromium, and Node on Dawn has no page, only the cells";

declare global {
  interface Window {
    __benchLongTasks?: { start: number; duration: number }[];
  }
}

/** The first screens (`/`, `/#view=lab`) of the build in `distDir` served at `origin`. */
export async function measureFirstScreens(browser: Browser, origin: string, distDir: string): Promise<FirstScreenRecord[]> {
  const records: FirstScreenRecord[] = [];
  for (const path of ['/', '/#view=lab']) records.push(await measureFirstScreen(browser, origin, distDir, path));
  return records;
}

export async function measureUiRun(browser: Browser, origin: string, distDir = 'dist'): Promise<UiRunRecord> {
  const steps = Math.ceil(SETTINGS.trainingImages / SETTINGS.batch) * SETTINGS.epochs;
  const record: UiRunRecord = { settings: SETTINGS, steps, seconds: 0, longTasks: { count: 0, longestMs: 0, totalMs: 0 }, error: null };
  const page = await browser.newPage();
  let tracing = false;
  try {
    await page.addInitScript(() => {
      window.__benchLongTasks = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) window.__benchLongTasks?.push({ start: entry.startTime, duration: entry.duration });
      }).observe({ type: 'longtask', buffered: true });
    });
    // A fresh visit of `/` lands on the findings tour: the controls are in the lab.
    await page.goto(`${origin}/#view=lab`);
    const setNumber = async (label: string, value: number) => {
      const input = page.getByRole('spinbutton', { name: label, exact: true });
      await input.fill(String(value));
      await input.blur();
    };
    await setNumber('Batch size', SETTINGS.batch);
    await setNumber('Epochs', SETTINGS.epochs);
    await setNumber('Training images', SETTINGS.trainingImages);
    // The cost charts redraw for the new configuration once its profiles come: not part of the run.
    await page.waitForTimeout(SETTLE_MS);
    try {
      await browser.startTracing(page, { categories: TRACE_CATEGORIES });
      tracing = true;
    } catch {
      record.attribution = null;
    }
    const start = await page.evaluate(() => (performance.mark('bench-ui-start'), performance.now()));
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.getByTestId('run-step').filter({ hasText: `${steps} / ${steps}` }).waitFor({ timeout: 900_000 });
    await page.getByTestId('run-comparison').and(page.locator('[data-points="1"]')).waitFor({ timeout: 300_000 });
    const end = await page.evaluate(() => (performance.mark('bench-ui-end'), performance.now()));
    if (tracing) {
      tracing = false;
      const buffer = await browser.stopTracing();
      // BENCH_UI_TRACE=file.json keeps the trace, to open in DevTools' performance panel.
      if (process.env.BENCH_UI_TRACE) writeFileSync(process.env.BENCH_UI_TRACE, buffer);
      const trace = JSON.parse(buffer.toString('utf8'));
      const fromTs = markTs(trace, 'bench-ui-start');
      const toTs = markTs(trace, 'bench-ui-end');
      record.attribution = attributeLongTasks(trace, origin, fromTs !== null && toTs !== null ? { fromTs, toTs } : undefined);
    }
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
    if (tracing) await browser.stopTracing().catch(() => undefined);
    await page.close();
  }
  record.firstScreens = await measureFirstScreens(browser, origin, distDir);
  return record;
}
