// Which Vulkan driver (ICD) Dawn should use for `npm run bench -- --node-webgpu`, decided before Dawn
// starts (the Vulkan loader reads VK_ICD_FILENAMES / VK_DRIVER_FILES when Dawn creates its instance).
// Pure: the file system is injected, so the choice is unit-tested without a GPU.
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Chromium's SwiftShader Vulkan driver (Debian's chromium package): Vulkan on the CPU, which Dawn accepts. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
/** Where the lent NVIDIA machines keep their driver's ICD manifest (outside the loader's search path). */
export const NVIDIA_DRIVER_ICD = '/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json';
/** The Vulkan loader's system search path for ICD manifests (Linux). */
export const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/share/vulkan/icd.d'] as const;

/** CPU drivers: Mesa's lavapipe (which Dawn refuses on Debian 12: "Vulkan shaderUniform*ArrayDynamicIndexing
 * required") and SwiftShader. Neither is a GPU. */
const SOFTWARE_ICD = /lvp_icd|swiftshader/i;

export interface IcdProbe {
  exists(path: string): boolean;
  /** Entries of a folder; empty when it does not exist. */
  list(dir: string): string[];
}

export interface VulkanIcdChoice {
  /** Variables to set before Dawn starts; empty: leave the loader to its own search. */
  env: Record<string, string>;
  /** environment: the user's VK_ICD_FILENAMES / VK_DRIVER_FILES; gpu: a GPU device and a GPU driver's
   * manifest on the system path; nvidia: the NVIDIA driver's manifest outside it; swiftshader: no GPU,
   * Chromium's CPU driver; system: nothing better found, the loader's own search. */
  source: 'environment' | 'gpu' | 'nvidia' | 'swiftshader' | 'system';
  /** One line for the report and for the error when no adapter comes. */
  note: string;
}

export const realProbe: IcdProbe = {
  exists: existsSync,
  list(dir) {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  },
};

export function chooseVulkanIcd(env: Readonly<Record<string, string | undefined>>, probe: IcdProbe = realProbe): VulkanIcdChoice {
  for (const name of ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES'] as const) {
    const value = env[name];
    if (value) return { env: {}, source: 'environment', note: `${name}=${value} (set by the caller)` };
  }
  const manifests = ICD_DIRS.flatMap((dir) => probe.list(dir).filter((name) => name.endsWith('.json')).map((name) => join(dir, name)));
  const gpuDrivers = manifests.filter((path) => !SOFTWARE_ICD.test(basename(path)));
  const nvidiaDevice = probe.exists('/dev/nvidia0');
  const renderNodes = probe.list('/dev/dri').filter((name) => name.startsWith('renderD'));
  const hasNvidiaManifest = gpuDrivers.some((path) => /nvidia/i.test(basename(path)));
  if (nvidiaDevice && !hasNvidiaManifest && probe.exists(NVIDIA_DRIVER_ICD)) {
    return { env: { VK_DRIVER_FILES: NVIDIA_DRIVER_ICD }, source: 'nvidia', note: `VK_DRIVER_FILES=${NVIDIA_DRIVER_ICD} (an NVIDIA device, its driver's manifest outside the loader's path)` };
  }
  if ((nvidiaDevice || renderNodes.length > 0) && gpuDrivers.length > 0) {
    return { env: {}, source: 'gpu', note: `the Vulkan loader's own search (GPU drivers: ${gpuDrivers.map((path) => basename(path)).join(', ')})` };
  }
  if (probe.exists(SWIFTSHADER_ICD)) {
    return { env: { VK_ICD_FILENAMES: SWIFTSHADER_ICD }, source: 'swiftshader', note: `VK_ICD_FILENAMES=${SWIFTSHADER_ICD} (no GPU device found: Chromium's SwiftShader, Vulkan on the CPU)` };
  }
  const found = manifests.length > 0 ? manifests.map((path) => basename(path)).join(', ') : 'no ICD manifests';
  return { env: {}, source: 'system', note: `the Vulkan loader's own search (no GPU device, no SwiftShader ICD; ${found})` };
}

/** The message when Dawn offers no adapter: what was tried and what to set. */
export function noAdapterMessage(choice: VulkanIcdChoice): string {
  return (
    `Dawn (the npm package webgpu) found no WebGPU adapter. Vulkan driver: ${choice.note}. ` +
    `Set VK_ICD_FILENAMES (or VK_DRIVER_FILES) to a Vulkan driver's ICD manifest: a GPU's (e.g. ${NVIDIA_DRIVER_ICD}) ` +
    `or SwiftShader's (${SWIFTSHADER_ICD}, from apt-get install chromium; Debian 12's lavapipe is refused by Dawn), ` +
    `and check that the Vulkan loader is installed (ldconfig -p | grep libvulkan.so.1). Dawn's own reason, if it gave one, is printed above.`
  );
}
