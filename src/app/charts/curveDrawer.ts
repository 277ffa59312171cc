// The page's side of the curve worker (curves.worker.ts). A curve chart takes a canvas that is
// already handed to the worker (transferControlToOffscreen) and posts it scenes to draw; the worker
// says what it drew. Handing a canvas over, and starting the worker, cost the main thread a few ms:
// the lab prepares its live charts' canvases while the page is idle (prepareCurveCanvases), so the
// first curves of a run, when training already keeps the cores busy, cost only a message. Where a
// canvas cannot go to a worker (no OffscreenCanvas, or no worker), the page draws it itself; if the
// worker fails after canvases went to it, each chart's next drawing swaps in a canvas of the page.
import { drawScene, type CurveScene } from './drawCurves';

export type CurveWorkerRequest =
  | { type: 'attach'; id: number; canvas: OffscreenCanvas }
  | { type: 'detach'; id: number }
  | { type: 'clear'; id: number }
  | { type: 'draw'; id: number; scene: CurveScene; ratio: number };

export interface CurveWorkerResponse {
  type: 'drawn';
  id: number;
  /** Points drawn, by series name. */
  drawn: Record<string, number>;
}

/** A canvas element and what draws it; `draw` reports the points drawn, by series name, once they are on screen. */
export interface CurveCanvasHandle {
  canvas: HTMLCanvasElement;
  draw(scene: CurveScene, onDrawn: (drawn: Record<string, number>) => void): void;
}

interface Handed extends CurveCanvasHandle {
  id: number;
  /** The last drawing asked for, to draw again if the worker fails before drawing it. */
  last?: { scene: CurveScene; onDrawn: (drawn: Record<string, number>) => void };
}

/** Canvases handed over and taken by a chart. */
const inUse = new Set<Handed>();

/** Canvases handed over and not in use, ready for the next chart. */
const spare: Handed[] = [];
/** Most spare canvases kept (each holds a worker-side backing store); more are given up. */
const MAX_SPARE = 4;

let worker: Worker | null | undefined;
/** The worker failed (its script did not load, or it threw): what was handed to it is lost. */
let workerFailed = false;
let nextId = 1;
const onDrawn = new Map<number, (drawn: Record<string, number>) => void>();

function curveWorker(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    worker = new Worker(new URL('./curves.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (event: MessageEvent<CurveWorkerResponse>) => onDrawn.get(event.data.id)?.(event.data.drawn);
    worker.onerror = () => {
      workerFailed = true;
      worker = null;
      spare.length = 0;
      // Drawings posted to it are lost: each chart draws again, on a canvas of the page.
      for (const handle of inUse) if (handle.last) handle.draw(handle.last.scene, handle.last.onDrawn);
    };
  } catch {
    worker = null;
  }
  return worker;
}

function handOver(): Handed | null {
  const canvas = document.createElement('canvas');
  const target = 'transferControlToOffscreen' in canvas ? curveWorker() : null;
  if (!target) return null;
  const id = nextId++;
  const offscreen = canvas.transferControlToOffscreen();
  target.postMessage({ type: 'attach', id, canvas: offscreen } satisfies CurveWorkerRequest, [offscreen]);
  const handle: Handed = {
    id,
    canvas,
    draw(scene, drawn) {
      handle.last = { scene, onDrawn: drawn };
      if (workerFailed) {
        // The handed-over element cannot be drawn on here: a canvas of the page takes its place.
        const page = pageCanvas();
        for (const { name, value } of Array.from(handle.canvas.attributes)) page.canvas.setAttribute(name, value);
        handle.canvas.replaceWith(page.canvas);
        handle.canvas = page.canvas;
        handle.draw = page.draw;
        page.draw(scene, drawn);
        return;
      }
      onDrawn.set(id, drawn);
      target.postMessage({ type: 'draw', id, scene, ratio: window.devicePixelRatio || 1 } satisfies CurveWorkerRequest);
    },
  };
  return handle;
}

let font: string | null = null;

/** The charts' text: the page's own font family (already matched, so text costs no font lookup),
 * read once (reading a computed style mid-run would force a style recalculation). */
export function curveFont(): string {
  font ??= `12px ${getComputedStyle(document.body).fontFamily}`;
  return font;
}

/** Hands `count` canvases to the curve worker ahead of the charts that will take them (when the
 * page is idle: the lab calls it once its charts are up). */
export function prepareCurveCanvases(count: number): void {
  curveFont();
  while (spare.length < count) {
    const handed = handOver();
    if (!handed) return;
    spare.push(handed);
  }
}

/** A canvas for a chart: a prepared one, else one handed over now, else one the page draws. */
export function takeCurveCanvas(): CurveCanvasHandle {
  const handed = spare.pop() ?? handOver();
  if (!handed) return pageCanvas();
  inUse.add(handed);
  return handed;
}

/** Gives a chart's canvas back when the chart unmounts: blank, kept for the next chart (or given up). */
export function returnCurveCanvas(handle: CurveCanvasHandle): void {
  handle.canvas.remove();
  delete handle.canvas.dataset.drawn;
  if (!('id' in handle)) return;
  const handed = handle as Handed;
  inUse.delete(handed);
  handed.last = undefined;
  onDrawn.delete(handed.id);
  const target = curveWorker();
  if (!target || workerFailed) return;
  if (spare.length < MAX_SPARE) {
    target.postMessage({ type: 'clear', id: handed.id } satisfies CurveWorkerRequest);
    spare.push(handed);
  } else target.postMessage({ type: 'detach', id: handed.id } satisfies CurveWorkerRequest);
}

function pageCanvas(): CurveCanvasHandle {
  const canvas = document.createElement('canvas');
  return {
    canvas,
    draw(scene, onDrawn) {
      const drawn = drawScene(canvas, scene, window.devicePixelRatio || 1);
      if (drawn) onDrawn(drawn);
    },
  };
}
