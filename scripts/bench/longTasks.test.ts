import { describe, expect, it } from 'vitest';
import { attributeLongTasks, chunkOf } from './longTasks';

const ORIGIN = 'http://localhost:4000';
const PID = 7;
const MAIN = 1;
const WORKER = 2;

/** A trace of one page: a long task mixing script, style, layout, GC; a short task; a worker's long task. */
function trace() {
  const x = (name: string, ts: number, dur: number, tid = MAIN, tdur?: number) => ({ name, ph: 'X', ts, dur, ...(tdur === undefined ? {} : { tdur }), pid: PID, tid, cat: 'devtools.timeline' });
  const node = (id: number, url: string, functionName = 'f', parent?: number) => ({ id, callFrame: { url, functionName }, parent });
  return {
    traceEvents: [
      { name: 'TracingStartedInBrowser', ph: 'I', ts: 0, pid: 1, tid: 1, args: { data: { frames: [{ processId: PID, url: `${ORIGIN}/#view=lab` }] } } },
      { name: 'thread_name', ph: 'M', ts: 0, pid: PID, tid: MAIN, args: { name: 'CrRendererMain' } },
      { name: 'thread_name', ph: 'M', ts: 0, pid: PID, tid: WORKER, args: { name: 'DedicatedWorker thread' } },
      // 100 ms task, 70 ms of it on a core: 60 ms of script (with 10 ms GC inside), 20 ms
      // style+layout, 20 ms uncovered.
      x('RunTask', 1_000_000, 100_000, MAIN, 70_000),
      x('FunctionCall', 1_000_000, 60_000),
      x('MinorGC', 1_030_000, 10_000),
      x('UpdateLayoutTree', 1_060_000, 5_000),
      x('Layout', 1_065_000, 15_000),
      // A 30 ms task: not long.
      x('RunTask', 2_000_000, 30_000),
      x('FunctionCall', 2_000_000, 30_000),
      // A worker's long task: not the page's main thread.
      x('RunTask', 3_000_000, 200_000, WORKER),
      // Samples of the main thread: in the long task, 3 in the app's chunk, 1 in vendor-react, 1 builtin (no URL).
      { name: 'Profile', ph: 'P', id: '0x1', ts: 999_000, pid: PID, tid: MAIN, args: { data: { startTime: 999_000 } } },
      {
        name: 'ProfileChunk',
        ph: 'P',
        id: '0x1',
        ts: 1_200_000,
        pid: PID,
        tid: 99,
        args: {
          data: {
            cpuProfile: {
              nodes: [node(1, '', '(root)'), node(2, `${ORIGIN}/assets/main-AbCdEf12.js`, 'render', 1), node(3, `${ORIGIN}/assets/vendor-react-Zz9_Yy8x.js`, 'commit', 1), node(4, '', 'Array.map', 1)],
              samples: [2, 2, 3, 2, 4, 2],
            },
            // 1,001,000 .. 1,051,000 in the task; the last at 2,010,000 in the short one.
            timeDeltas: [2_000, 10_000, 10_000, 10_000, 10_000, 959_000],
          },
        },
      },
    ],
  };
}

describe('attributeLongTasks', () => {
  it("splits each long task on the page's main thread by what ran", () => {
    const result = attributeLongTasks(trace(), ORIGIN);
    expect(result.count).toBe(1);
    expect(result.longestMs).toBe(100);
    const [task] = result.tasks;
    expect(task.gc).toBeCloseTo(10);
    expect(task.styleLayoutPaint).toBeCloseTo(20);
    expect(task.other).toBeCloseTo(20);
    // 50 ms of script self time: 3 of 4 sampled frames with a URL in the app, 1 in vendor-react.
    expect(task.appScript).toBeCloseTo(37.5);
    expect(task.libraryScript).toEqual({ 'vendor-react': 12.5 });
    expect(task.otherScript).toBe(0);
    expect(result.total.appScript).toBeCloseTo(37.5);
    // The thread clock: what ran, not what waited for a core.
    expect(task.threadMs).toBeCloseTo(70);
    expect(result.totalThreadMs).toBeCloseTo(70);
  });

  it('says so where the trace has no thread clock', () => {
    const events = trace().traceEvents.map((event) => (event.name === 'RunTask' ? { ...event, tdur: undefined } : event));
    const result = attributeLongTasks(events, ORIGIN);
    expect(result.tasks[0].threadMs).toBeNull();
    expect(result.totalThreadMs).toBeNull();
  });

  it('keeps to the window it is given', () => {
    expect(attributeLongTasks(trace(), ORIGIN, { fromTs: 1_500_000, toTs: 4_000_000 }).count).toBe(0);
  });
});

describe('chunkOf', () => {
  it("names a served chunk without its hash, and nothing from another origin", () => {
    expect(chunkOf(`${ORIGIN}/assets/vendor-charts-B_x9Lk2q.js`, ORIGIN)).toBe('vendor-charts');
    expect(chunkOf(`${ORIGIN}/assets/main-BdCa7u3C.js?v=1`, ORIGIN)).toBe('main');
    expect(chunkOf('http://elsewhere/assets/main-BdCa7u3C.js', ORIGIN)).toBeNull();
  });
});
