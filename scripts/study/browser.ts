// `npm run study -- --browser`: the same runs in Debian's Chromium, headless, on WebGPU — the engine
// the lab really runs — through the harness page's copy of the lab's run loop. For machines with
// a GPU; without one Chromium's WebGPU is SwiftShader on the CPU, correct but slow.
import { chromium, type Browser } from '@playwright/test';
import type { LabConfig } from '../../src/lab/config';
import type { RunRecord } from '../../src/lab/run/record';
import { ensureBuild } from '../bench/build';
import { serveStatic } from '../bench/server';
// @ts-expect-error -- a plain .mjs module shared with the npm scripts; typed by use.
import { chromiumArgs, chromiumExists, chromiumPath } from '../chromium.mjs';

export interface BrowserFinetune {
  /** The WebGPU adapter in words (the report's device). */
  device: string;
  backend: string;
  finetune(config: LabConfig): Promise<RunRecord & { wallSeconds: number }>;
  close(): Promise<void>;
}

export async function openStudyBrowser(log: (line: string) => void): Promise<BrowserFinetune> {
  if (!chromiumExists()) throw new Error(`no Chromium at ${chromiumPath()}: apt-get install chromium, or set CHROMIUM_PATH`);
  ensureBuild(log);
  const server = await serveStatic('dist');
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath: chromiumPath() as string, args: chromiumArgs as string[], headless: true });
    const page = await browser.newPage();
    page.on('pageerror', (error) => log(`page error: ${error.message}`));
    await page.goto(`${server.origin}/e2e/harness.html`);
    const report = await page.evaluate(() => window.labHarnessReady);
    const adapter = report.adapter;
    const device = adapter ? [adapter.vendor, adapter.architecture].filter(Boolean).join('-').toLowerCase().replace(/[^a-z0-9-]+/g, '-') || 'unknown-gpu' : report.backend;
    const opened = browser;
    return {
      device: `browser-${device}`,
      backend: report.backend,
      finetune: (config) => page.evaluate((c) => window.labHarness.study.runFinetune(c), config),
      close: async () => {
        await opened.close();
        await server.close();
      },
    };
  } catch (error) {
    await browser?.close();
    await server.close();
    throw error;
  }
}
