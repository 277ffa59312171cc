#!/usr/bin/env node
// Downloads the CIFAR-10 binary distribution into public/data/ so a deployment can serve it
// next to the app (the lab's default CIFAR-10 URL is data/cifar-10-binary.tar.gz).
// Usage: npm run data:cifar10 [-- --force]
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

const URL_CIFAR10 = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
// Size of the published archive, used for progress when the server sends no Content-Length.
const EXPECTED_BYTES = 170052171;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'public', 'data', 'cifar-10-binary.tar.gz');
const partial = `${target}.part`;
const force = process.argv.includes('--force');

function megabytes(bytes) {
  return (bytes / 1e6).toFixed(1);
}

async function main() {
  const existing = await stat(target).catch(() => null);
  if (existing && existing.size > 0 && !force) {
    console.log(`${relative(root, target)} is already there (${megabytes(existing.size)} MB); --force downloads it again.`);
    return;
  }
  console.log(`Downloading ${URL_CIFAR10}`);
  let response;
  try {
    response = await fetch(URL_CIFAR10);
  } catch (error) {
    const cause = error?.cause?.code ?? error?.cause?.message ?? error?.message ?? String(error);
    throw new Error(`cannot reach www.cs.toronto.edu (${cause}). Are you offline? ` +
      `Download ${URL_CIFAR10} by other means and put it at ${relative(root, target)}, or use the built-in synthetic dataset.`, { cause: error });
  }
  if (!response.ok || !response.body) throw new Error(`the server answered HTTP ${response.status} ${response.statusText} for ${URL_CIFAR10}`);
  const announced = Number(response.headers.get('content-length')) || null;
  const total = announced ?? EXPECTED_BYTES;
  await mkdir(dirname(target), { recursive: true });
  let received = 0;
  let lastReport = 0;
  const progress = new TransformStream({
    transform(chunk, controller) {
      received += chunk.length;
      const now = Date.now();
      if (now - lastReport > 500 || received === total) {
        lastReport = now;
        process.stdout.write(`\r  ${megabytes(received)} / ${megabytes(total)} MB (${((100 * received) / total).toFixed(0)}%)`);
      }
      controller.enqueue(chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body.pipeThrough(progress)), createWriteStream(partial));
  } catch (error) {
    await rm(partial, { force: true });
    throw new Error(`the download broke off after ${megabytes(received)} MB (${error?.message ?? error}); run it again.`, { cause: error });
  }
  process.stdout.write('\n');
  if (announced !== null && received !== announced) {
    await rm(partial, { force: true });
    throw new Error(`got ${received} of ${announced} bytes: the download is incomplete; nothing was saved.`);
  }
  const head = new Uint8Array(2);
  const file = await open(partial, 'r');
  await file.read(head, 0, 2, 0);
  await file.close();
  if (head[0] !== 0x1f || head[1] !== 0x8b) {
    await rm(partial, { force: true });
    throw new Error('the server sent something that is not gzip data (an error page?); nothing was saved.');
  }
  await rename(partial, target);
  console.log(`Saved ${relative(root, target)} (${megabytes(received)} MB).`);
}

main().catch((error) => {
  console.error(`data:cifar10: ${error.message}`);
  process.exit(1);
});
