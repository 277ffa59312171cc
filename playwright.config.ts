import { defineConfig } from '@playwright/test';
// @ts-expect-error -- a plain .mjs module shared with the npm scripts; typed by use.
import { chromiumArgs, chromiumPath } from './scripts/chromium.mjs';

const port = Number(process.env.LAB_PORT ?? 5173);

// End-to-end tests run the production build in Debian's Chromium with real WebGPU. Without a GPU,
// WebGPU runs on SwiftShader (CPU): slow, so specs use tiny configurations and one worker.
export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 180_000,
  expect: { timeout: 60_000 },
  reporter: process.env.CI ? [['list']] : [['list']],
  use: {
    baseURL: `http://localhost:${port}`,
    browserName: 'chromium',
    headless: true,
    launchOptions: { executablePath: chromiumPath() as string, args: chromiumArgs as string[] },
    screenshot: 'only-on-failure',
    trace: 'off',
  },
  webServer: {
    command: `npx vite preview --host localhost --port ${port} --strictPort`,
    url: `http://localhost:${port}`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
