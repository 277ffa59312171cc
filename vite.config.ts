import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The lab is served on http://localhost: WebGPU needs a secure context, and localhost is one.
export default defineConfig({
  plugins: [react()],
  base: './',
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    // e2e/harness.html exposes the core to Playwright specs and the benchmark on real WebGPU.
    rollupOptions: { input: { main: 'index.html', harness: 'e2e/harness.html' } },
  },
  server: { host: 'localhost', port: 5173 },
  preview: { host: 'localhost', port: 5173, strictPort: true },
});
