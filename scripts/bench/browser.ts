// Debian's Chromium, headless with real WebGPU (the flags of scripts/chromium.mjs), on the harness
// page: the bench calls the lab's core there through `window.labHarness.bench`.
import { chromium, type Browser } from '@playwright/test';

import type {
  CoreCellRequest,
  CoreCellResult,
  MatmulRate,
  MatmulRateOptions,
  StepProtocol,
  TfLayersBaselineResult,
} from '../../src/core/baselines/benchCells';
import type { ModelOptions } from '../../src/core/models/spec';
import type { SoakRequest, SoakResult } from '../../src/core/baselines/soak';
import type { BenchEnvironment } from './environment';
import { measureUiRun, type UiRunRecord } from './uiRun';
// @ts-expect-error -- a plain .mjs module shared with the npm scripts; typed by use.
import { chromiumArgs, chromiumExists, chromiumPath } from '../chromium.mjs';

/** The page-side progress hook the bench exposes; the harness's cells call it after every step. */
const STEP_HOOK = 'labBenchStep';


export interface BenchPage {
  environment: BenchEnvironment;
  measureMatmulRate(options: MatmulRateOptions): Promise<MatmulRate>;
  runCoreCell(request: CoreCellRequest): Promise<CoreCellResult>;
  /** The tf.layers peer, its steps timed alternately with the lab core's for `core`. */
  runTfLayersBaseline(options: Omit<ModelOptions, 'model'>, batch: number, protocol: StepProtocol, core: CoreCellRequest): Promise<TfLayersBaselineResult>;
  /** A few fine-tuning steps through the lab's own page, with main-thread long tasks counted; null
   * where there is no page (Node). */
  measureUiRun: (() => Promise<UiRunRecord>) | null;
  /** The soak (`--soak`): many steps of one fine-tune, tf.memory() sampled; absent where not implemented. */
  runSoak?: (request: SoakRequest) => Promise<SoakResult>;
  close(): Promise<void>;
}

export async function openBenchPage(origin: string, onStep: () => void, log: (line: string) => void): Promise<BenchPage> {
  if (!chromiumExists()) throw new Error(`no Chromium at ${chromiumPath()}: apt-get install chromium, or set CHROMIUM_PATH`);
  const browser: Browser = await chromium.launch({ executablePath: chromiumPath() as string, args: chromiumArgs as string[], headless: true });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (error) => log(`page error: ${error.message}`));
    page.on('console', (message) => {
      // Failed requests are reported with their URL below.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) log(`page console error: ${message.text()}`);
    });
    page.on('response', (response) => {
      // Chromium asks for /favicon.ico on its own; the harness has none.
      if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) log(`page request failed: ${response.status()} ${response.url()}`);
    });
    await page.exposeFunction(STEP_HOOK, onStep);
    await page.goto(`${origin}/e2e/harness.html`);
    const environment = await page.evaluate(async () => {
      const backend = await window.labHarnessReady;
      return {
        userAgent: navigator.userAgent,
        backend,
        tfjsVersion: window.labHarness.tf.version.tfjs,
        hardwareConcurrency: navigator.hardwareConcurrency,
      };
    });
    return {
      environment: { ...environment, chromiumPath: chromiumPath() as string, chromiumArgs: chromiumArgs as string[] },
      measureMatmulRate: (options) => page.evaluate((o) => window.labHarness.bench.measureMatmulRate(o), options),
      runCoreCell: (request) =>
        page.evaluate(
          ({ request, hook }) => window.labHarness.bench.runCoreCell(request, (window as unknown as Record<string, () => void>)[hook]),
          { request, hook: STEP_HOOK },
        ),
      runTfLayersBaseline: (options, batch, protocol, core) =>
        page.evaluate(
          ({ options, batch, protocol, core, hook }) => {
            const onStep = (window as unknown as Record<string, () => void>)[hook];
            return window.labHarness.bench.runTfLayersBaselineCell(options, batch, protocol, onStep, core);
          },
          { options, batch, protocol, core, hook: STEP_HOOK },
        ),
      measureUiRun: () => measureUiRun(browser, origin),
      runSoak: (request) =>
        page.evaluate(({ request, hook }) => window.labHarness.soak.runSoak(request, (window as unknown as Record<string, () => void>)[hook]), { request, hook: STEP_HOOK }),
      close: () => browser.close(),
    };
  } catch (error) {
    await browser.close();
    throw error;
  }
}
