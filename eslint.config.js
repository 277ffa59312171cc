import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

// The browser globals that src/core must never touch: it runs in Node for unit tests and in a
// Web Worker in the lab, so it may use neither React nor the DOM.
const UI_PACKAGES = ['react', 'react-dom', 'react-dom/*', 'zustand', 'zustand/*', 'recharts'];

/** The analytic interpreter and what it reads: no tfjs anywhere in their imports. */
const ANALYTIC_FILES = [
  'src/core/ids.ts',
  'src/core/models/**/*.ts',
  'src/core/profile/{flops,graph,memory,optimizerCost,profile,types,tinyNets}.ts',
  'src/core/adapters/{definitions,fullAndHead,galore,lowRank,method,targets}.ts',
  'src/core/optim/{galoreCost,linalgCost}.ts',
  // What can be exported, said on the page beside its download buttons.
  'src/core/weights/exportable.ts',
];
const domGlobals = ['window', 'document', 'navigator', 'localStorage', 'sessionStorage', 'HTMLElement', 'HTMLCanvasElement', 'location', 'history'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'bench-results/**', 'public/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/app/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
    },
  },
  // Layers import downward only: core ← lab ← {worker, app, scripts}; the page and the worker never
  // import each other (the page starts the workers by URL, which is no import).
  {
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: UI_PACKAGES, message: 'src/core is UI-free: no React, zustand or recharts.' },
          { group: ['**/lab/**', '**/app/**', '**/worker/**', '**/scripts/**'], message: 'src/core is the bottom layer: it imports nothing of lab, app, worker or scripts.' },
        ],
      }],
      'no-restricted-globals': ['error', ...domGlobals.map((name) => ({ name, message: `src/core runs in Node and in workers: no DOM (${name}).` }))],
    },
  },
  {
    // Core's tests may read the fixtures that scripts/fixtures writes and reads.
    files: ['src/core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/lab/**', '**/app/**', '**/worker/**'], message: 'src/core is the bottom layer.' }] }],
    },
  },
  {
    // The analytic side (model specs, each method's spec rewrite, the profiler, GaLore's costs) is
    // pure: the page costs methods without downloading tfjs.
    files: ANALYTIC_FILES,
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          { group: ['@tensorflow/*'], allowTypeImports: true, message: 'The analytic side imports no tfjs (the page costs methods without the engine).' },
          {
            regex: '(^|/)(adapters|optim)(/index)?$|/adapters/(dora|lora)$|/optim/(galore|linalg|adam|sgd|optimizer)$|/(nn|train|kernels)/',
            allowTypeImports: true,
            message: 'The analytic side imports no module that loads tfjs: use adapters/definitions, optim/galoreCost, optim/linalgCost.',
          },
        ],
      }],
    },
  },
  {
    files: ['src/lab/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: UI_PACKAGES, message: 'src/lab is UI-free: no React, zustand or recharts.' },
          { group: ['**/app/**', '**/worker/**', '**/scripts/**'], message: 'src/lab sits under the page, the worker and the scripts: it imports only src/core.' },
        ],
      }],
      'no-restricted-globals': ['error', ...domGlobals.map((name) => ({ name, message: `src/lab runs in the worker, in Node and on the page: no DOM (${name}).` }))],
    },
  },
  {
    files: ['src/worker/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/app/**', ...UI_PACKAGES], message: 'The worker never imports the page: share through src/lab.' }] }],
    },
  },
  {
    files: ['src/app/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/worker/**'], message: 'The page never imports the worker: share through src/lab (protocol, storage).' },
          { group: ['@tensorflow/*'], message: 'The page loads no tfjs: training runs in the worker, costing in the profile worker.' },
          { group: ['hyparquet', '**/core/data/cifarParquet', '**/lab/run/runData'], message: 'The parquet reader stays in the worker: the page reads the hub files’ names and sizes from lab/hubCifar10.' },
        ],
      }],
    },
  },
  {
    files: ['scripts/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/src/app/**', '**/src/worker/**'], message: 'Scripts build on src/lab and src/core, never on the page or the worker.' }] }],
    },
  },
);
