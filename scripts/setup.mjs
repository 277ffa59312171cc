// Set-up shared by `npm start` and `npm test`: install what is missing, nothing more.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chromiumExists, chromiumPath } from './chromium.mjs';

export function run(command, args, options = {}) {
  console.log(`\n$ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

export function runOrExit(command, args, options) {
  const status = run(command, args, options);
  if (status !== 0) {
    console.error(`\n✗ ${command} ${args.join(' ')} failed (exit ${status}).`);
    process.exit(status);
  }
}

/** `npm ci` when node_modules is missing or older than the lockfile. */
export function ensureDependencies() {
  const lock = 'package-lock.json';
  const marker = 'node_modules/.package-lock.json';
  const stale = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs);
  if (!stale) return;
  console.log('Installing dependencies (node_modules is missing or out of date)…');
  runOrExit('npm', existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund']);
}

/** Debian's Chromium: install it with apt when missing and we are root, else explain how. */
export function ensureChromium() {
  if (chromiumExists()) return;
  const path = chromiumPath();
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const isDebian = existsSync('/etc/debian_version');
  if (!isRoot || !isDebian || process.env.CHROMIUM_PATH) {
    console.error(
      `\n✗ No Chromium at ${path}. The end-to-end tests need Debian's Chromium (never a downloaded browser):\n` +
        `    sudo apt-get install -y chromium\n` +
        `  or point CHROMIUM_PATH at an existing Chromium binary.`,
    );
    process.exit(1);
  }
  console.log('Chromium not found: installing Debian\'s chromium package…');
  runOrExit('apt-get', ['update', '-qq']);
  runOrExit('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (!chromiumExists()) {
    console.error(`\n✗ apt installed chromium but ${path} is still missing.`);
    process.exit(1);
  }
}

export function packageVersion() {
  return JSON.parse(readFileSync('package.json', 'utf8')).version;
}
