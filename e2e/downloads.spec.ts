// A flaky network in the browser: the page is served through a proxy on loopback (this test's
// own) that drops the first connection for the checkpoint manifest, or keeps answering 503. The
// training worker retries the dropped one and the run goes on; a server that keeps failing stops
// the run with the URL and the status named — never a silent start from random init.
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import { configure, recordWorkerMessages, TINY } from './tiny';

let proxy: Server | undefined;
/** What the proxy did with each manifest request since the run was started. */
const manifestRequests: string[] = [];
/** Until the run starts, the page's own manifest requests (the base-weights choice) pass. */
let onManifest: ((n: number) => 'pass' | 'drop' | number) | null = null;

test.afterEach(async () => {
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  proxy = undefined;
  manifestRequests.length = 0;
  onManifest = null;
});

/** A proxy to the preview server; once a run starts, `onManifest(n)` decides the n-th manifest request: pass, drop or a status. */
async function startProxy(target: string): Promise<string> {
  const upstream = new URL(target);
  proxy = createServer((req, res) => {
    if ((req.url ?? '').includes('checkpoints/manifest.json') && onManifest) {
      const action = onManifest(manifestRequests.length);
      manifestRequests.push(String(action));
      if (action === 'drop') return req.socket.destroy();
      if (typeof action === 'number') return res.writeHead(action).end();
    }
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => proxy!.listen(0, 'localhost', resolve));
  return `http://localhost:${(proxy!.address() as AddressInfo).port}/`;
}

test('a dropped manifest connection is retried, and the run goes on', async ({ page, baseURL }) => {
  test.setTimeout(240_000);
  const origin = await startProxy(baseURL as string);
  await recordWorkerMessages(page);
  await page.goto(`${origin}#view=lab`);
  await configure(page, TINY);
  onManifest = (n) => (n === 0 ? 'drop' : 'pass');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect.poll(async () => (await page.evaluate(() => window.__workerMessages)).find((m) => m.type === 'run_done' || m.type === 'run_error')?.type, { timeout: 200_000 }).toBe('run_done');
  const started = (await page.evaluate(() => window.__workerMessages)).find((m) => m.type === 'run_started') as unknown as { checkpoint: { kind: string; message: string } };
  // The manifest was read (on the second try): it lists no checkpoint of this size.
  expect(started.checkpoint).toMatchObject({ kind: 'none', message: expect.stringContaining('none of mobilenet_v2 at width 0.25') });
  expect(manifestRequests).toEqual(['drop', 'pass']);
});

test('a manifest that keeps failing stops the run naming the URL and the status', async ({ page, baseURL }) => {
  test.setTimeout(120_000);
  const origin = await startProxy(baseURL as string);
  await recordWorkerMessages(page);
  await page.goto(`${origin}#view=lab`);
  await configure(page, TINY);
  onManifest = () => 503;
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'checkpoints/manifest.json' })).toContainText(
    `The checkpoint manifest could not be downloaded from ${origin}checkpoints/manifest.json: HTTP 503 Service Unavailable (after 4 tries).`,
    { timeout: 60_000 },
  );
  const messages = await page.evaluate(() => window.__workerMessages);
  expect(messages.some((m) => m.type === 'run_started')).toBe(false);
  expect(manifestRequests).toEqual(['503', '503', '503', '503']);
});
