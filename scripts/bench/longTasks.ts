// Where the page's main-thread long tasks went, from a Chromium trace (devtools.timeline events plus
// the V8 sampling profiler's chunks): each task's time split into the app's own script, library
// script (by chunk), style/layout/paint, garbage collection and other work. Trace events give the
// kind of work; the profiler's samples split script time between the chunks that ran.

/** Categories a long task's time is split into. */
export interface TaskTime {
  /** Script in the app's own chunks (served from the page's origin, not a vendor-* chunk). */
  appScript: number;
  /** Script in vendor-* chunks, by chunk name (e.g. 'vendor-react'). */
  libraryScript: Record<string, number>;
  /** Script whose samples name no chunk of the page (builtins, other origins) or that had no sample. */
  otherScript: number;
  /** Style recalculation, layout, pre-paint, paint, layerize and commit. */
  styleLayoutPaint: number;
  /** V8 and Blink garbage collection. */
  gc: number;
  /** The rest: parsing HTML, message dispatch glue, the task's own overhead. */
  other: number;
}

export interface AttributedTask extends TaskTime {
  /** Start, ms since the trace's first main-thread task. */
  startMs: number;
  durationMs: number;
  /** Of durationMs, the time the main thread ran on a core (the trace's thread clock, tdur); null
   * where the trace has no thread clock. The rest it was ready but waiting for a core: on a machine
   * whose cores SwiftShader's threads keep busy, a task of a few ms can span 50. */
  threadMs: number | null;
  /** The app's own functions that ran in it, by self time (profiler samples), the longest first
   * (at most APP_FUNCTIONS_LISTED): what to fix when appScript is not 0. */
  appFunctions?: { name: string; ms: number }[];
}

const APP_FUNCTIONS_LISTED = 5;

export interface LongTaskAttribution {
  count: number;
  longestMs: number;
  totalMs: number;
  /** Their thread time together (see AttributedTask.threadMs); null where a task has none. */
  totalThreadMs: number | null;
  /** All long tasks together, by category (ms). */
  total: TaskTime;
  tasks: AttributedTask[];
}

export const LONG_TASK_MS = 50;

interface TraceEvent {
  name: string;
  cat?: string;
  ph: string;
  ts: number;
  dur?: number;
  /** Thread-clock duration (µs): the time the thread ran, without the time it waited for a core. */
  tdur?: number;
  pid: number;
  tid: number;
  id?: string;
  args?: { name?: string; data?: Record<string, unknown> };
}

type Kind = 'script' | 'style' | 'gc' | 'other';

const SCRIPT_EVENTS = new Set([
  'FunctionCall',
  'EvaluateScript',
  'v8.evaluateModule',
  'TimerFire',
  'EventDispatch',
  'FireAnimationFrame',
  'FireIdleCallback',
  'RunMicrotasks',
  'v8.run',
  'V8.Execute',
  'v8.compile',
  'v8.compileModule',
  'V8.CompileCode',
  'v8.produceModuleCache',
  'v8.produceCache',
  'XHRReadyStateChange',
  'XHRLoad',
  'HandlePostMessage',
]);
const STYLE_EVENTS = new Set([
  'UpdateLayoutTree',
  'RecalculateStyles',
  'ParseAuthorStyleSheet',
  'Layout',
  'PrePaint',
  'Paint',
  'PaintImage',
  'Layerize',
  'UpdateLayer',
  'UpdateLayerTree',
  'CompositeLayers',
  'Commit',
  'Decode Image',
  'IntersectionObserverController::computeIntersections',
  'HitTest',
]);

function kindOf(name: string): Kind | null {
  if (SCRIPT_EVENTS.has(name)) return 'script';
  if (STYLE_EVENTS.has(name)) return 'style';
  if (name === 'MinorGC' || name === 'MajorGC' || name.startsWith('V8.GC') || name.startsWith('BlinkGC') || name.startsWith('CppGC')) return 'gc';
  return null;
}

const emptyTime = (): TaskTime => ({ appScript: 0, libraryScript: {}, otherScript: 0, styleLayoutPaint: 0, gc: 0, other: 0 });

/** Chunk name of a script URL served from `origin` ('vendor-react' from .../assets/vendor-react-AbC123.js), or null. */
export function chunkOf(url: string, origin: string): string | null {
  if (!url.startsWith(origin)) return null;
  const file = url.slice(origin.length).split(/[?#]/)[0].split('/').pop() ?? '';
  const match = /^(.*?)-[\w-]{8}\.js$/.exec(file);
  return match ? match[1] : file || null;
}

/** The page's main thread: CrRendererMain of the renderer whose frame is at `origin`. */
function mainThread(events: readonly TraceEvent[], origin: string): { pid: number; tid: number } | null {
  const mains = events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  const started = events.find((e) => e.name === 'TracingStartedInBrowser');
  const frames = (started?.args?.data?.frames as { processId: number; url: string }[] | undefined) ?? [];
  const pid = frames.find((f) => f.url.startsWith(origin))?.processId;
  const main = mains.find((e) => e.pid === pid) ?? (mains.length === 1 ? mains[0] : undefined);
  return main ? { pid: main.pid, tid: main.tid } : null;
}

interface Sample {
  ts: number;
  url: string;
  functionName: string;
}

/** The V8 profiler's samples on one thread, with the URL and function of each sample's leaf frame. */
function samplesOf(events: readonly TraceEvent[], thread: { pid: number; tid: number }): Sample[] {
  const profiles = events.filter((e) => e.name === 'Profile' && e.pid === thread.pid && e.tid === thread.tid);
  const samples: Sample[] = [];
  for (const profile of profiles) {
    let ts = Number(profile.args?.data?.startTime ?? profile.ts);
    const nodes = new Map<number, { url: string; functionName: string }>();
    const chunks = events.filter((e) => e.name === 'ProfileChunk' && e.pid === profile.pid && e.id === profile.id);
    for (const chunk of chunks) {
      const data = chunk.args?.data as { cpuProfile?: { nodes?: { id: number; callFrame: { url?: string; functionName?: string } }[]; samples?: number[] }; timeDeltas?: number[] } | undefined;
      for (const node of data?.cpuProfile?.nodes ?? []) nodes.set(node.id, { url: node.callFrame.url ?? '', functionName: node.callFrame.functionName ?? '' });
      const ids = data?.cpuProfile?.samples ?? [];
      const deltas = data?.timeDeltas ?? [];
      for (let i = 0; i < ids.length; i++) {
        ts += deltas[i] ?? 0;
        const node = nodes.get(ids[i]);
        if (node) samples.push({ ts, ...node });
      }
    }
  }
  return samples.sort((a, b) => a.ts - b.ts);
}

/** Self time (µs) of each kind of work inside [start, end) on one thread: nested complete events,
 * each charged to the innermost event with a known kind. */
function selfTimes(events: readonly TraceEvent[], start: number, end: number): Record<Kind, number> {
  const spans = events
    .filter((e) => e.ph === 'X' && e.dur !== undefined && e.ts >= start && e.ts < end && kindOf(e.name) !== null)
    .map((e) => ({ start: e.ts, end: Math.min(e.ts + (e.dur ?? 0), end), kind: kindOf(e.name) as Kind }))
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const times: Record<Kind, number> = { script: 0, style: 0, gc: 0, other: 0 };
  // Walk the nesting: time inside a span and outside its children is the span's own.
  const stack: { end: number; kind: Kind; childTime: number; start: number }[] = [];
  const close = (until: number) => {
    while (stack.length > 0 && stack[stack.length - 1].end <= until) {
      const span = stack.pop()!;
      const own = span.end - span.start - span.childTime;
      times[span.kind] += Math.max(0, own);
      if (stack.length > 0) stack[stack.length - 1].childTime += span.end - span.start;
    }
  };
  for (const span of spans) {
    close(span.start);
    // A span overlapping its parent's end (clock rounding) is cut to it.
    const parent = stack[stack.length - 1];
    const spanEnd = parent ? Math.min(span.end, parent.end) : span.end;
    stack.push({ start: span.start, end: spanEnd, kind: span.kind, childTime: 0 });
  }
  close(Number.POSITIVE_INFINITY);
  const covered = times.script + times.style + times.gc;
  times.other = Math.max(0, end - start - covered);
  return times;
}

/**
 * Long tasks (over 50 ms) on the page's main thread between `fromTs` and `toTs` (trace µs; whole
 * trace when omitted), each split into categories. `origin` tells the app's chunks from others.
 */
export function attributeLongTasks(trace: { traceEvents: TraceEvent[] } | TraceEvent[], origin: string, window?: { fromTs: number; toTs: number }): LongTaskAttribution {
  const events = Array.isArray(trace) ? trace : trace.traceEvents;
  const result: LongTaskAttribution = { count: 0, longestMs: 0, totalMs: 0, totalThreadMs: 0, total: emptyTime(), tasks: [] };
  const thread = mainThread(events, origin);
  if (!thread) return result;
  const onThread = events.filter((e) => e.pid === thread.pid && e.tid === thread.tid);
  const samples = samplesOf(events, thread);
  const runTasks = onThread.filter((e) => e.ph === 'X' && e.name === 'RunTask' && e.dur !== undefined);
  const traceStart = runTasks.reduce((min, e) => Math.min(min, e.ts), Number.POSITIVE_INFINITY);
  const tasks = runTasks.filter((e) => (e.dur ?? 0) > LONG_TASK_MS * 1000 && (!window || (e.ts >= window.fromTs && e.ts <= window.toTs)));
  for (const task of tasks) {
    const start = task.ts;
    const end = task.ts + (task.dur ?? 0);
    const times = selfTimes(onThread, start, end);
    const time = emptyTime();
    time.styleLayoutPaint = times.style / 1000;
    time.gc = times.gc / 1000;
    time.other = times.other / 1000;
    // Script time shared out by the chunks its JS samples ran in.
    const counts = new Map<string, number>();
    const appFunctionCounts = new Map<string, number>();
    for (const sample of samples) {
      if (sample.ts < start || sample.ts >= end || sample.url === '') continue;
      const chunk = chunkOf(sample.url, origin);
      const key = chunk === null ? '(other)' : chunk.startsWith('vendor-') ? chunk : '(app)';
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (key === '(app)') {
        const name = `${sample.functionName || '(anonymous)'} (${chunk})`;
        appFunctionCounts.set(name, (appFunctionCounts.get(name) ?? 0) + 1);
      }
    }
    const sampled = [...counts.values()].reduce((a, b) => a + b, 0);
    const scriptMs = times.script / 1000;
    const appFunctions = [...appFunctionCounts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, APP_FUNCTIONS_LISTED)
      .map(([name, count]) => ({ name, ms: (scriptMs * count) / sampled }));
    if (sampled === 0) time.otherScript = scriptMs;
    for (const [key, count] of counts) {
      const ms = (scriptMs * count) / sampled;
      if (key === '(app)') time.appScript += ms;
      else if (key === '(other)') time.otherScript += ms;
      else time.libraryScript[key] = (time.libraryScript[key] ?? 0) + ms;
    }
    const durationMs = (end - start) / 1000;
    const threadMs = task.tdur === undefined ? null : task.tdur / 1000;
    result.tasks.push({ startMs: (start - traceStart) / 1000, durationMs, threadMs, ...time, ...(appFunctions.length > 0 ? { appFunctions } : {}) });
    result.count += 1;
    result.longestMs = Math.max(result.longestMs, durationMs);
    result.totalMs += durationMs;
    result.totalThreadMs = threadMs === null || result.totalThreadMs === null ? null : result.totalThreadMs + threadMs;
    result.total.appScript += time.appScript;
    result.total.otherScript += time.otherScript;
    result.total.styleLayoutPaint += time.styleLayoutPaint;
    result.total.gc += time.gc;
    result.total.other += time.other;
    for (const [chunk, ms] of Object.entries(time.libraryScript)) result.total.libraryScript[chunk] = (result.total.libraryScript[chunk] ?? 0) + ms;
  }
  return result;
}

/** The trace clock (µs) of the page's main thread at a `performance.now()` reading, from a
 * user-timing mark the page set (`performance.mark(name)`). */
export function markTs(trace: { traceEvents: TraceEvent[] } | TraceEvent[], name: string): number | null {
  const events = Array.isArray(trace) ? trace : trace.traceEvents;
  const mark = events.find((e) => e.name === name && (e.cat ?? '').includes('blink.user_timing'));
  return mark ? mark.ts : null;
}
