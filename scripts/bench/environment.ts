// Where a bench run's cells ran, as its report records it: Chromium's page (browser.ts) or Node on
// Dawn (node.ts).
import type { BackendReport } from '../../src/core/backendInfo';
import type { VulkanIcdChoice } from './vulkanIcd';

export interface BrowserEnvironment {
  userAgent: string;
  backend: BackendReport;
  tfjsVersion: string;
  hardwareConcurrency: number;
  chromiumPath: string;
  chromiumArgs: string[];
}

/** Where a run's cells ran: Chromium's page, or Node on Dawn (`--node-webgpu`, node.ts). */
export type BenchEnvironment = BrowserEnvironment | NodeDawnEnvironment;

export interface NodeDawnEnvironment {
  runtime: 'node + dawn';
  /** Node's version and the webgpu package's, in place of a browser's user agent. */
  userAgent: string;
  backend: BackendReport;
  tfjsVersion: string;
  hardwareConcurrency: number;
  nodeVersion: string;
  /** 'webgpu@0.6.2' */
  webgpuPackage: string;
  /** The Vulkan driver Dawn was pointed at, and why. */
  vulkanDriver: VulkanIcdChoice;
}
