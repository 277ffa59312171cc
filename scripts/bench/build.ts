// Builds the app (with the harness page) when dist/ is missing or older than its sources.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** What the production build is made of: a newer file here means dist/ is stale. */
const BUILD_INPUTS = ['src', 'e2e/harness.ts', 'e2e/harness.html', 'index.html', 'public', 'vite.config.ts', 'package-lock.json', 'tsconfig.json'];
export const HARNESS_BUILD_OUTPUT = 'dist/e2e/harness.html';

function newestMtimeMs(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  return newest;
}

/** Why dist/ must be rebuilt, or null when it is up to date. */
export function staleBuildReason(): string | null {
  if (!existsSync(HARNESS_BUILD_OUTPUT)) return `${HARNESS_BUILD_OUTPUT} is missing`;
  const builtAt = statSync(HARNESS_BUILD_OUTPUT).mtimeMs;
  const newer = BUILD_INPUTS.find((input) => newestMtimeMs(input) > builtAt);
  return newer ? `${newer} changed since the last build` : null;
}

export function ensureBuild(log: (line: string) => void): void {
  const reason = staleBuildReason();
  if (!reason) return;
  log(`Building the app (${reason}): npx vite build`);
  const result = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`npx vite build failed (exit ${result.status ?? result.signal})`);
}
