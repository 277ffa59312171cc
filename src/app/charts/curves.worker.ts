// The curve worker: draws the live curves (CurveCanvas) on canvases the page handed it
// (transferControlToOffscreen), so that while a run trains no redraw runs on the page's main
// thread: there even a few ms of canvas work can stretch past 50 ms when the training (WebGPU on
// the CPU, under SwiftShader) keeps every core busy. One worker draws every chart; it loads no tfjs.
/// <reference lib="webworker" />
import { drawScene } from './drawCurves';
import type { CurveWorkerRequest, CurveWorkerResponse } from './curveDrawer';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const canvases = new Map<number, OffscreenCanvas>();

scope.onmessage = (event: MessageEvent<CurveWorkerRequest>) => {
  const message = event.data;
  if (message.type === 'attach') {
    canvases.set(message.id, message.canvas);
    return;
  }
  if (message.type === 'detach') {
    canvases.delete(message.id);
    return;
  }
  const canvas = canvases.get(message.id);
  if (!canvas) return;
  if (message.type === 'clear') {
    canvas.getContext('2d', { willReadFrequently: true })?.clearRect(0, 0, canvas.width, canvas.height);
    return;
  }
  const drawn = drawScene(canvas, message.scene, message.ratio);
  if (drawn) scope.postMessage({ type: 'drawn', id: message.id, drawn } satisfies CurveWorkerResponse);
};
