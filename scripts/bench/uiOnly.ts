// `npm run bench -- --ui-only`: the UI run and the first screens alone, without the cell grid, to
// iterate on the page (`--dist DIR` serves another build, to compare). Writes <out>/<date>-ui.json (a UiRunRecord) and .md (the report's UI section).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from '@playwright/test';

import { ensureBuild } from './build';
import { uiRunLines } from './markdown';
import { serveStatic } from './server';
import { measureUiRun, type UiRunRecord } from './uiRun';
// @ts-expect-error -- a plain .mjs module shared with the npm scripts; typed by use.
import { chromiumArgs, chromiumExists, chromiumPath } from '../chromium.mjs';

export async function runUiOnly(outDir: string, distDir: string | null, argv: readonly string[], log: (line: string) => void): Promise<number> {
  if (!chromiumExists()) throw new Error(`no Chromium at ${chromiumPath()}: apt-get install chromium, or set CHROMIUM_PATH`);
  if (distDir === null) ensureBuild(log);
  const served = distDir ?? 'dist';
  const server = await serveStatic(served);
  const browser = await chromium.launch({ executablePath: chromiumPath() as string, args: chromiumArgs as string[], headless: true });
  let ui: UiRunRecord;
  try {
    log('UI run: a few steps through the lab page (traced), then the first screens');
    ui = await measureUiRun(browser, server.origin, served);
  } finally {
    await browser.close();
    await server.close();
  }
  const createdAt = new Date().toISOString();
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, `${createdAt.slice(0, 10)}-ui`);
  writeFileSync(`${base}.json`, `${JSON.stringify({ createdAt, argv: [...argv], uiRun: ui }, null, 2)}\n`);
  const markdown = ['# PEFT Edge Lab bench: the page only (`--ui-only`)', '', `${createdAt}, \`npm run bench -- ${argv.join(' ')}\``, '', '## Main thread during a UI run', ''];
  markdown.push(...(ui.error ? [`The UI run failed: ${ui.error}`] : uiRunLines(ui)), '');
  writeFileSync(`${base}.md`, markdown.join('\n'));
  log(`wrote ${base}.json\nwrote ${base}.md`);
  for (const line of uiRunLines(ui)) log(line);
  return ui.error || (ui.firstScreens ?? []).some((screen) => screen.error) ? 1 : 0;
}
