// The `--node-webgpu` path end to end: the bench's CLI on the tiniest cell, in Node on Dawn, must write
// the same report as a Chromium run (schema, cells, claims) with the environment saying where it ran.
// It runs wherever Dawn has a Vulkan driver to try (a GPU's, the caller's, or Chromium's SwiftShader,
// which CI installs); only where there is none at all is it skipped.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { renderMarkdown } from './markdown';
import type { NodeDawnEnvironment } from './environment';
import { REPORT_SCHEMA, type BenchReport } from './report';
import { TORCH_SCHEMA, type TorchTimings } from './torch';
import { chooseVulkanIcd } from './vulkanIcd';

const dawnNode = join(dirname(createRequire(import.meta.url).resolve('webgpu/package.json')), 'dist', `${process.platform}-${process.arch}`, 'dawn.node');
const driver = chooseVulkanIcd(process.env);
const runnable = existsSync(dawnNode) && driver.source !== 'system';

describe.skipIf(!runnable)(`bench --node-webgpu (Vulkan driver: ${driver.note})`, () => {
  it('writes a bench report of the Chromium run\'s schema, with node + dawn and the adapter in its environment', () => {
    const out = mkdtempSync(join(tmpdir(), 'bench-node-'));
    try {
      const argv = ['--node-webgpu', '--models', 'mobilenet_v2', '--methods', 'fft', '--width', '0.35', '--resolution', '8', '--classes', '2', '--batch', '2'];
      const run = spawnSync('node_modules/.bin/tsx', ['scripts/bench.ts', ...argv, '--warmup', '0', '--steps', '1', '--no-baseline', '--matmul-size', '16', '--out', out], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const files = readdirSync(out).sort();
      expect(files.map((file) => file.split('.').pop())).toEqual(['json', 'md']);
      const report = JSON.parse(readFileSync(join(out, files.find((file) => file.endsWith('.json'))!), 'utf8')) as BenchReport;
      expect(report.schema).toBe(REPORT_SCHEMA);
      const environment = report.runs[0].environment as NodeDawnEnvironment;
      expect(environment.runtime).toBe('node + dawn');
      expect(environment.backend.backend).toBe('webgpu');
      expect(environment.backend.adapter?.vendor).toBeTruthy();
      expect(environment.webgpuPackage).toMatch(/^webgpu@\d/);
      expect(report.cells).toHaveLength(1);
      const [cell] = report.cells;
      expect(cell.error).toBeNull();
      expect(cell.result?.timing.medianStepMs).toBeGreaterThan(0);
      expect(cell.result?.measured.profile.kernelCount).toBeGreaterThan(0);
      expect(cell.throughput?.fractionOfMatmulRate).toBeGreaterThan(0);
      expect(report.claims.length).toBeGreaterThan(0);
      // No page in Node: the UI run is reported as not run, with why, never as a zero.
      expect(report.uiRun).toBeNull();
      const markdown = readFileSync(join(out, files.find((file) => file.endsWith('.md'))!), 'utf8');
      expect(markdown).toContain('Runtime: **node + dawn**');
      expect(markdown).toMatch(/## Main thread during a UI run\n\nNot run: it drives the lab's page in Chromium/);

      // PyTorch's step for the same cell, joined by network, method, rank and batch.
      const torch: TorchTimings = {
        schema: TORCH_SCHEMA,
        createdAt: '2026-12-05T00:00:00Z',
        deviceKind: 'cpu',
        device: 'test CPU',
        torchVersion: '2.0',
        torchvisionVersion: '0.15',
        peftVersion: null,
        threads: 1,
        cells: [{ model: 'mobilenet_v2', method: 'fft', rank: null, width: 0.35, resolution: 8, stem: 'imagenet', numClasses: 2, batch: 2, warmup: 0, steps: 1, medianStepMs: cell.result!.timing.medianStepMs / 4, stepMs: [], trainableParams: 1, implementation: 'torch', error: null }],
      };
      const joined = renderMarkdown({ ...report, torch });
      expect(joined).toContain('## PyTorch beside the lab');
      expect(joined).toContain('this is no GPU comparison');
      expect(joined).toMatch(/\| mobilenet_v2 fft \| [^|]+ \| [^|]+ \| 4\.00× \|/);
      expect(renderMarkdown({ ...report, torch: { ...torch, cells: [{ ...torch.cells[0], batch: 3 }] } })).toContain('not in the file');

      // With PyTorch's own matmul rate, each side's step as a fraction of its own matmul.
      const flops = cell.result!.analytic.flops.correct.total;
      const torchRate = flops / (torch.cells[0].medianStepMs! / 1000) / 1e9;
      const withMatmul = renderMarkdown({ ...report, torch: { ...torch, matmul: { size: 1024, samples: 5, medianMs: 1, gflopPerSecond: torchRate * 4 } } });
      expect(withMatmul).toContain('lab: of its matmul | PyTorch: of its matmul');
      expect(withMatmul).toMatch(new RegExp(`\\| mobilenet_v2 fft \\| [^|]+ \\| [^|]+ \\| 4\\.00× \\| ${(cell.throughput!.fractionOfMatmulRate * 100).toFixed(2)}% \\| 25\\.00% \\|`));
      expect(joined).not.toContain('PyTorch: of its matmul');
      // A cell on a quantized base has no PyTorch twin, and says why.
      expect(renderMarkdown({ ...report, cells: [{ ...cell, id: `${cell.id}@nf4`, frozenWeights: 'nf4' }], torch })).toContain("no twin: PyTorch's step is float32, this base nf4");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
