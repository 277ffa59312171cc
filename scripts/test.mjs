// `npm test`: install what is missing (dependencies; Debian's Chromium), then type-check, lint,
// unit tests (Vitest, Node, tfjs CPU) and end-to-end tests (Playwright, headless Chromium, real
// WebGPU) against the production build. Stops at the first failing stage with its exit code.
import { ensureChromium, ensureDependencies, runOrExit } from './setup.mjs';

const started = Date.now();
ensureDependencies();
ensureChromium();

const stages = [
  ['type-check', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['lint', 'npx', ['eslint', '--max-warnings', '0', '.']],
  ['unit tests', 'npx', ['vitest', 'run']],
  ['build', 'npx', ['vite', 'build']],
  ['end-to-end tests', 'npx', ['playwright', 'test']],
];
for (const [name, command, args] of stages) {
  const stageStart = Date.now();
  console.log(`\n━━ ${name} ━━`);
  runOrExit(command, args, { env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '0' } });
  console.log(`✓ ${name} (${((Date.now() - stageStart) / 1000).toFixed(1)} s)`);
}
console.log(`\nAll stages passed in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
