// A Hugging Face hub stand-in on loopback for the tests (not a spec): it serves files under the
// hub's URL layout ({hub}/{repo}/resolve/{revision}/{path}, datasets under /datasets/) the way the
// hub does for large files: a 302 carrying X-Linked-Etag (the sha256) and X-Linked-Size to a "CDN"
// path that serves the bytes with Content-Length, ETag and byte ranges; CORS on every answer, as
// huggingface.co sends it. It counts the requests for each file, and can be told to fail (an HTTP
// status) or to break off a body after some bytes. Also: timm-format weights made from the lab's
// spec with hash-derived values, for the ImageNet-base tests.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative, sep } from 'node:path';
import type { ModelId } from '../src/core/ids';
import { buildModelSpec } from '../src/core/models/registry';
import { writeSafetensors } from '../src/core/weights/safetensors';
import { torchvisionToTimm } from '../src/core/weights/timm';
import { exportTorchStateDict } from '../src/core/weights/torchvision';
import { hubFileUrl, type HubFile } from '../src/lab/hub/hubUrl';
import { HUB_BASE_FIX, IMAGENET_CLASSES } from '../src/lab/hub/hubBases';

/** What the server does to the next requests for a file (until changed; a truncation `times` bodies
 * only, when given: then the next request, a Range or a fresh one, is served whole). */
export type HubFault = { kind: 'status'; status: number } | { kind: 'truncate'; afterBytes: number; times?: number };

export interface HubServer {
  /** The hub URL to point the lab at (no trailing slash). */
  url: string;
  /** GET requests to each resolve path (the hub's URL, before the redirect) so far. */
  requests: (file: HubFile) => number;
  /** The Range headers of the body requests (after the redirect) so far, null for a whole body. */
  ranges: (file: HubFile) => (string | null)[];
  /** Makes every request for `file` fail (or stop failing: null). */
  setFault: (file: HubFile, fault: HubFault | null) => void;
  close: () => Promise<void>;
}

export interface HubServerOptions {
  /** Files by their hub file. */
  files?: { file: HubFile; bytes: Uint8Array }[];
  /** A folder already in the hub's layout (its paths are the URL paths). */
  root?: string;
  /** Bytes per write and a pause between writes, so that a browser sees progress (default: one write). */
  chunkBytes?: number;
  chunkDelayMs?: number;
}

/** The URL path of a hub file, as the lab requests it. */
export const hubPath = (file: HubFile) => new URL(hubFileUrl('http://hub.invalid', file)).pathname;

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'Range, Content-Type',
  'Access-Control-Expose-Headers': 'Content-Length, Content-Range, Accept-Ranges, ETag, X-Linked-Etag, X-Linked-Size, X-Repo-Commit',
};

function filesUnder(root: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.set(`/${relative(root, path).split(sep).join('/')}`, readFileSync(path));
    }
  };
  walk(root);
  return out;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function startHubServer(options: HubServerOptions): Promise<HubServer> {
  const files = options.root ? filesUnder(options.root) : new Map<string, Uint8Array>();
  for (const { file, bytes } of options.files ?? []) files.set(hubPath(file), bytes);
  const sha256 = new Map([...files].map(([path, bytes]) => [path, createHash('sha256').update(bytes).digest('hex')]));
  const bySha = new Map([...sha256].map(([path, sha]) => [sha, path]));
  const counts = new Map<string, number>();
  const faults = new Map<string, HubFault>();
  const rangesOf = new Map<string, (string | null)[]>();
  const chunk = options.chunkBytes ?? Number.POSITIVE_INFINITY;

  const sendBody = async (request: IncomingMessage, response: ServerResponse, path: string) => {
    const bytes = files.get(path)!;
    rangesOf.set(path, [...(rangesOf.get(path) ?? []), request.headers.range ?? null]);
    // Like the hub's CDN, an ETag that is 64 hex digits but not the file's sha256 (only the 302's
    // X-Linked-Etag is), so that nothing may take one for the other.
    const cdnEtag = createHash('sha256').update(`cdn:${sha256.get(path)}`).digest('hex');
    const headers: Record<string, string | number> = { ...CORS, 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes', ETag: `"${cdnEtag}"` };
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    const from = range ? Number(range[1]) : 0;
    if (from >= bytes.length && bytes.length > 0) return response.writeHead(416, { ...CORS, 'Content-Range': `bytes */${bytes.length}` }).end();
    const body = bytes.subarray(from);
    if (range) headers['Content-Range'] = `bytes ${from}-${bytes.length - 1}/${bytes.length}`;
    response.writeHead(range ? 206 : 200, { ...headers, 'Content-Length': body.length });
    const fault = faults.get(path);
    const stopAt = fault?.kind === 'truncate' ? Math.min(fault.afterBytes, body.length) : body.length;
    if (fault?.kind === 'truncate' && fault.times !== undefined && --fault.times <= 0) faults.delete(path);
    for (let at = 0; at < stopAt; at += chunk) {
      if (response.destroyed) return;
      // Flushed before the next write (and before a truncation drops the connection).
      await new Promise((resolve) => response.write(body.subarray(at, Math.min(stopAt, at + chunk)), resolve));
      if (options.chunkDelayMs && at + chunk < stopAt) await sleep(options.chunkDelayMs);
    }
    if (stopAt < body.length) response.destroy();
    else response.end();
  };

  const server: Server = createServer((request, response) => {
    const path = decodeURI(new URL(request.url ?? '/', 'http://x').pathname);
    if (request.method === 'OPTIONS') return response.writeHead(204, CORS).end();
    // The "CDN": /cdn/<sha256>.
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(path);
    if (cdn && bySha.has(cdn[1])) return void sendBody(request, response, bySha.get(cdn[1])!);
    const resolvePath = [...files.keys()].find((known) => decodeURI(known) === path);
    if (!resolvePath) return response.writeHead(404, { ...CORS, 'X-Error-Code': 'EntryNotFound' }).end('Entry not found');
    if (request.method === 'GET') counts.set(resolvePath, (counts.get(resolvePath) ?? 0) + 1);
    const fault = faults.get(resolvePath);
    if (fault?.kind === 'status') return response.writeHead(fault.status, CORS).end();
    const sha = sha256.get(resolvePath)!;
    response
      .writeHead(302, { ...CORS, Location: `/cdn/${sha}`, 'X-Linked-Etag': `"${sha}"`, 'X-Linked-Size': files.get(resolvePath)!.length, 'X-Repo-Commit': '0'.repeat(40) })
      .end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests: (file) => counts.get(hubPath(file)) ?? 0,
    ranges: (file) => rangesOf.get(hubPath(file)) ?? [],
    setFault: (file, fault) => {
      if (fault) faults.set(hubPath(file), { ...fault });
      else faults.delete(hubPath(file));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A deterministic value in [−0.5, 0.5) from a parameter's name and index (FNV-1a, then a mix). */
function hashValue(name: string, index: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ index, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) / 2 ** 32 - 0.5;
}

/**
 * `model`'s weights as timm saves them on the hub (timm's names and shapes, 1000 classes, width 1),
 * with hash-derived values: weights ±0.1/√fan-in·√3, BatchNorm γ around 1, β and running means near
 * 0, running variances in [0.5, 1.5]. Made from the lab's own spec through torchvisionToTimm.
 */
export function timmBaseFixture(model: ModelId): Uint8Array {
  const spec = buildModelSpec({ model, width: HUB_BASE_FIX.width, resolution: 224, stem: HUB_BASE_FIX.stem, numClasses: IMAGENET_CLASSES });
  const values: Record<string, Float32Array> = {};
  for (const [name, param] of Object.entries(spec.params)) {
    const size = param.shape.reduce((a, b) => a * b, 1);
    const value = (i: number) => {
      const u = hashValue(name, i);
      switch (param.role) {
        case 'bn_gamma':
          return 1 + 0.2 * u;
        case 'bn_running_var':
          return 1 + u;
        case 'bn_beta':
        case 'bn_running_mean':
          return 0.1 * u;
        default:
          return (2 * u * Math.sqrt(3)) / Math.sqrt(Math.max(1, param.fanIn));
      }
    };
    values[name] = Float32Array.from({ length: size }, (_, i) => value(i));
  }
  const timm = torchvisionToTimm(spec, exportTorchStateDict(spec, values, { numBatchesTracked: 0 }));
  return writeSafetensors(timm, { format: 'pt' });
}
