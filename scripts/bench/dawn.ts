// `npm run bench -- --node-webgpu`: Dawn's WebGPU (the npm package `webgpu`) as navigator.gpu in
// Node. tfjs-backend-webgpu registers its backend when it is first imported, and only if
// navigator.gpu exists then, so this must run before anything imports tfjs: bench.ts imports this
// module first, and it acts only when --node-webgpu is on the command line. Synchronous on purpose
// (dawn.node is a native addon, loaded with require): an ES module's top-level await would not hold
// back the sibling imports that load tfjs.
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { chooseVulkanIcd, type VulkanIcdChoice } from './vulkanIcd';

export const NODE_WEBGPU_FLAG = '--node-webgpu';

export interface DawnGpu {
  gpu: GPU;
  /** 'webgpu@0.6.2' */
  webgpuPackage: string;
  dawnNodePath: string;
  vulkanDriver: VulkanIcdChoice;
}

let installed: DawnGpu | { error: string } | null = null;

/** What the install at import time gave: the GPU, why it failed, or null without --node-webgpu. */
export function dawnGpu(): DawnGpu | { error: string } | null {
  return installed;
}

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

function install(): DawnGpu {
  const vulkanDriver = chooseVulkanIcd(process.env);
  Object.assign(process.env, vulkanDriver.env);
  // SwiftShader's driver prints "error: XDG_RUNTIME_DIR is invalid or not set" without one (headless shells).
  process.env.XDG_RUNTIME_DIR ??= tmpdir();
  const require = createRequire(import.meta.url);
  // Resolved like any package, so a bundle finds it in node_modules/webgpu beside itself.
  const packageJson = require.resolve('webgpu/package.json');
  const { version } = require(packageJson) as { version: string };
  // As the package's index.js picks it (one folder per platform).
  const platform = `${process.platform}-${process.platform === 'darwin' ? 'universal' : process.arch}`;
  const dawnNodePath = join(dirname(packageJson), 'dist', platform, 'dawn.node');
  const dawn = require(dawnNodePath) as DawnModule;
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  const webgpuPackage = `webgpu@${version}`;
  const userAgent = `Node.js/${process.versions.node} (${process.platform}; ${process.arch}) ${webgpuPackage} (Dawn)`;
  // Node 21+ has a navigator of its own (a getter on globalThis); replace it, keeping what tfjs reads.
  Object.defineProperty(globalThis, 'navigator', {
    value: { gpu, userAgent, hardwareConcurrency: availableParallelism(), language: 'en-US' },
    configurable: true,
    writable: true,
  });
  return { gpu, webgpuPackage, dawnNodePath, vulkanDriver };
}

if (process.argv.includes(NODE_WEBGPU_FLAG)) {
  try {
    installed = install();
  } catch (error) {
    installed = { error: error instanceof Error ? error.message : String(error) };
  }
}
