// The run's downloads against a real HTTP server on loopback that misbehaves as networks do: a
// dropped first connection is retried and the run loads the shipped checkpoint; a server that
// keeps failing fails the run naming the URL and the status; only a 404 means "none served".
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildModelSpec } from '../../core/models/registry';
import { createModel, disposeModel } from '../../core/nn/model';
import { exportTorchvisionSafetensors } from '../../core/weights/load';
import { DEFAULT_CONFIG, modelOptionsOf, type LabConfig } from '../config';
import type { RunResponse } from '../protocol';
import { fetchManifest } from './manifest';
import { plainEnvironment } from './environment';
import { fetchServed } from './fetchRetry';
import { runTraining } from './run';
import { RunControl } from './runState';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const TINY: LabConfig = { ...DEFAULT_CONFIG, width: 0.25, rank: 2, batchSize: 4, trainImages: 8, epochs: 1 };
const NO_WAIT = [0, 0, 0];
let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Serves `files` by path; `misbehave(n, path)` may drop the n-th request's connection or answer a status. */
async function serve(files: Record<string, Uint8Array | string>, misbehave: (n: number, path: string) => 'drop' | number | null = () => null): Promise<string> {
  let requests = 0;
  server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const action = misbehave(requests++, path);
    if (action === 'drop') return request.socket.destroy();
    if (typeof action === 'number') return response.writeHead(action).end();
    const body = files[path];
    if (body === undefined) return response.writeHead(404).end();
    response.writeHead(200).end(body);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}/`;
}

async function checkpointFiles(): Promise<Record<string, Uint8Array | string>> {
  const options = modelOptionsOf(TINY);
  const model = createModel(buildModelSpec(options), { seed: 3 });
  try {
    const bytes = await exportTorchvisionSafetensors(model);
    const manifest = { checkpoints: [{ model: options.model, options, task: 'source', file: 'tiny.safetensors', cleanTestAccuracy: 0.5 }] };
    return { '/checkpoints/manifest.json': JSON.stringify(manifest), '/checkpoints/tiny.safetensors': bytes };
  } finally {
    disposeModel(model);
  }
}

async function run(baseUrl: string): Promise<RunResponse[]> {
  const messages: RunResponse[] = [];
  await runTraining({
    runId: 1,
    config: TINY,
    environment: plainEnvironment(baseUrl, { retryDelaysMs: NO_WAIT }),
    labVersion: 'test',
    measureMemory: false,
    control: new RunControl(),
    post: (message) => messages.push(message),
    adapter: 'test',
    deviceLost: () => null,
  });
  return messages;
}

describe('downloads of a run', () => {
  it('retry a dropped connection, and the run starts from the shipped checkpoint', async () => {
    const baseUrl = await serve(await checkpointFiles(), (n) => (n === 0 ? 'drop' : null));
    const messages = await run(baseUrl);
    expect(messages.find((m) => m.type === 'run_started')).toMatchObject({ checkpoint: { kind: 'loaded', origin: 'shipped', file: 'tiny.safetensors' } });
    expect(messages.at(-1)?.type).toBe('run_done');
  });

  it('fail the run naming the URL and the status when the server keeps failing; never random init', async () => {
    const baseUrl = await serve(await checkpointFiles(), (_n, path) => (path.endsWith('manifest.json') ? 503 : null));
    const messages = await run(baseUrl);
    expect(messages.some((m) => m.type === 'run_started')).toBe(false);
    const error = messages.at(-1);
    expect(error).toMatchObject({ type: 'run_error', kind: 'download' });
    expect(error?.type === 'run_error' && error.message).toBe(`The checkpoint manifest could not be downloaded from ${baseUrl}checkpoints/manifest.json: HTTP 503 Service Unavailable (after 4 tries).`);
  });

  it('read only a 404 as "none served", and an unreadable manifest as an error', async () => {
    expect(await fetchManifest({ baseUrl: await serve({}), fetch: (url) => fetch(url), retryDelaysMs: NO_WAIT })).toBeNull();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    const garbled = await run(await serve({ '/checkpoints/manifest.json': '{"checkpoints": [' }));
    expect(garbled.at(-1)).toMatchObject({ type: 'run_error', kind: 'download', message: expect.stringMatching(/checkpoints\/manifest\.json is not readable JSON/) });
  });

  it('give up at once on a 403, after every try on network errors', async () => {
    let calls = 0;
    const forbidden = async () => {
      calls++;
      return new Response(null, { status: 403, statusText: 'Forbidden' });
    };
    await expect(fetchServed({ fetch: forbidden, retryDelaysMs: NO_WAIT }, 'http://h/x', 'X')).rejects.toThrow('X could not be downloaded from http://h/x: HTTP 403 Forbidden.');
    expect(calls).toBe(1);
    calls = 0;
    const offline = async (): Promise<Response> => {
      calls++;
      throw new TypeError('fetch failed');
    };
    await expect(fetchServed({ fetch: offline, retryDelaysMs: NO_WAIT }, 'http://h/x', 'X')).rejects.toThrow('X could not be downloaded from http://h/x: fetch failed (after 4 tries).');
    expect(calls).toBe(4);
  });
});
