// The lab's first screens as a visitor meets them: first contentful paint and the JS and CSS the
// page fetched until its first charts were drawn, for a fresh visit of `/` (the findings tour) and of
// `/#view=lab`. Sizes are the built files' raw and gzip bytes (what a compressing server sends;
// `npm start`'s preview and the bench's server send them raw, from localhost).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from '@playwright/test';

export interface FetchedFile {
  /** Path under the served root, e.g. assets/main-AbC.js. */
  path: string;
  rawBytes: number;
  gzipBytes: number;
}

export interface FirstScreenRecord {
  /** The address opened, relative to the origin: '/' or '/#view=lab'. */
  path: string;
  /** First contentful paint of each fresh load (ms since navigation), and their median. */
  fcpMs: number[];
  medianFcpMs: number;
  /** The page's JS and CSS fetched until its first charts were drawn (worker scripts apart). */
  files: FetchedFile[];
  rawBytes: number;
  gzipBytes: number;
  /** Worker scripts fetched meanwhile (the training worker carries tfjs). */
  workerFiles: FetchedFile[];
  error: string | null;
}

/** Loads per address; the median FCP is reported. */
const LOADS = 3;

/** What the first screen draws first: a chart's SVG (the findings cards' recharts, the lab's own
 * memory bars, drawn without the charting library). */
const FIRST_CHART = '.recharts-surface, svg.stacked-bars';

function fileSizes(distDir: string, path: string): FetchedFile | null {
  const file = join(distDir, path);
  try {
    if (!statSync(file).isFile()) return null;
  } catch {
    return null;
  }
  const bytes = readFileSync(file);
  return { path, rawBytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
}

export async function measureFirstScreen(browser: Browser, origin: string, distDir: string, path: string): Promise<FirstScreenRecord> {
  const record: FirstScreenRecord = { path, fcpMs: [], medianFcpMs: 0, files: [], rawBytes: 0, gzipBytes: 0, workerFiles: [], error: null };
  try {
    for (let load = 0; load < LOADS; load++) {
      // A fresh context each time: an empty cache and a first visit (which lands on the tour).
      const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
      const fetched: string[] = [];
      context.on('request', (request) => fetched.push(request.url()));
      const page = await context.newPage();
      try {
        await page.goto(`${origin}${path}`);
        await page.locator(FIRST_CHART).first().waitFor({ state: 'visible', timeout: 120_000 });
        const fcp = await page.evaluate(
          () =>
            new Promise<number>((resolve) => {
              new PerformanceObserver((list) => {
                const entry = list.getEntriesByName('first-contentful-paint')[0];
                if (entry) resolve(entry.startTime);
              }).observe({ type: 'paint', buffered: true });
            }),
        );
        record.fcpMs.push(fcp);
        if (load === 0) {
          const paths = [...new Set(fetched.filter((url) => url.startsWith(origin)).map((url) => new URL(url).pathname.slice(1)))].filter((p) => /\.(js|css)$/.test(p));
          for (const p of paths) {
            const sizes = fileSizes(distDir, p);
            if (!sizes) continue;
            (/\.worker-[\w-]+\.js$/.test(p) ? record.workerFiles : record.files).push(sizes);
          }
        }
      } finally {
        await context.close();
      }
    }
    const sorted = [...record.fcpMs].sort((a, b) => a - b);
    record.medianFcpMs = sorted[Math.floor(sorted.length / 2)];
    record.rawBytes = record.files.reduce((sum, f) => sum + f.rawBytes, 0);
    record.gzipBytes = record.files.reduce((sum, f) => sum + f.gzipBytes, 0);
  } catch (error) {
    record.error = error instanceof Error ? error.message.split('\n')[0] : String(error);
  }
  return record;
}
