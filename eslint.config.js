import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

// The browser globals that src/core must never touch: it runs in Node for unit tests and in a
// Web Worker in the lab, so it may use neither React nor the DOM.
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
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['react', 'react-dom', 'react-dom/*', 'zustand', 'zustand/*', 'recharts'], message: 'src/core is UI-free: no React, zustand or recharts.' },
          { group: ['**/app/**', '**/worker/**'], message: 'src/core must not depend on the app or the worker.' },
        ],
      }],
      'no-restricted-globals': ['error', ...domGlobals.map((name) => ({ name, message: `src/core runs in Node and in workers: no DOM (${name}).` }))],
    },
  },
);
