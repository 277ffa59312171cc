import { build, defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

const TARGET = 'es2022';

/** e2e/harness.html exposes the core to Playwright specs and the benchmark on real WebGPU. It is
 * built on its own after the app, into the same folder: built together, every module both use went
 * whole into a chunk the page loaded (the page uses a name of a module, the harness all of it). */
function harnessBuild(): Plugin {
  let outDir = 'dist';
  return {
    name: 'lab-harness-build',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    async closeBundle() {
      await build({
        configFile: false,
        base: './',
        logLevel: 'warn',
        worker: { format: 'es' },
        build: { outDir, emptyOutDir: false, target: TARGET, chunkSizeWarningLimit: 4096, rollupOptions: { input: { harness: 'e2e/harness.html' } } },
      });
    },
  };
}

// Libraries in chunks of their own, named vendor-*: the bench tells library script from the app's
// by chunk (scripts/bench/longTasks.ts), and the charts' libraries load only with the charts (the
// first screen's shell needs React alone). Listed by package: a module the shell also imports must
// not land in vendor-charts.
const CHART_PACKAGES = [
  'recharts',
  'd3-[\\w-]+',
  'victory-vendor',
  'internmap',
  '@reduxjs',
  'redux',
  'redux-thunk',
  'react-redux',
  'reselect',
  'immer',
  'es-toolkit',
  'decimal\\.js-light',
  'eventemitter3',
  'use-sync-external-store',
  'clsx',
  'tiny-invariant',
  'react-is',
];

// The lab is served on http://localhost: WebGPU needs a secure context, and localhost is one.
export default defineConfig({
  plugins: [react(), harnessBuild()],
  base: './',
  worker: { format: 'es' },
  build: {
    target: TARGET,
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      input: { main: 'index.html' },
      output: {
        codeSplitting: {
          groups: [
            { name: 'vendor-react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/, priority: 2 },
            { name: 'vendor-charts', test: new RegExp(`node_modules[\\\\/](${CHART_PACKAGES.join('|')})[\\\\/]`), priority: 1 },
          ],
        },
      },
    },
  },
  server: { host: 'localhost', port: 5173 },
  preview: { host: 'localhost', port: 5173, strictPort: true },
});
