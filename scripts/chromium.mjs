// Where Debian's Chromium lives, and the launch flags the lab's tests and benchmark use (DESIGN.md).
import { existsSync } from 'node:fs';

export function chromiumPath() {
  return process.env.CHROMIUM_PATH || '/usr/bin/chromium';
}

export function chromiumExists() {
  return existsSync(chromiumPath());
}

/** Headless with real WebGPU (SwiftShader where there is no GPU); no background networking. */
export const chromiumArgs = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
