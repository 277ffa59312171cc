// The curve worker: draws the live curves (CurveCanvas) on canvases the page handed it
// (transferControlToOffscreen), so that while a run trains no redraw runs on the page's main
// thread: there even a few ms of canvas work can stretch past 50 ms when the training (WebGPU on
// the CPU, under SwiftShader) keeps every core busy. One worker draws every chart; it loads no tfjs.
/// <reference lib="webworker" />
import { drawCurves } from './drawCurves';
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
  const { scene, ratio } = message;
  const [pixelWidth, pixelHeight] = [Math.round(scene.width * ratio), Math.round(scene.height * ratio)];
  if (canvas.width !== pixelWidth || canvas.height !== pixelHeight) [canvas.width, canvas.height] = [pixelWidth, pixelHeight];
  // A CPU canvas: a chart is a few hundred lines, and a GPU canvas would make synchronous calls to
  // the GPU process, which the training run keeps busy.
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) return;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const response: CurveWorkerResponse = { type: 'drawn', id: message.id, drawn: drawCurves(ctx, scene) };
  scope.postMessage(response);
};
