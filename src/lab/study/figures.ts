// The study's figures as SVG text (no DOM): accuracy against peak memory per method with 95%
// error bars, eval accuracy against steps per method, and accuracy against rank. `npm run study`
// writes them beside its report; the page draws the same text for a shipped or loaded study.
import { METHOD_IDS, type MethodId } from '../../core/ids';
import { METHOD_COLORS } from '../colors';
import { METHOD_SHORT_NAMES, methodShortName, MODEL_NAMES, studyTaskName } from '../names';
import type { StudyCell, StudyReport, StudyRun } from './report';

export interface Figure {
  id: 'accuracy_vs_memory' | 'accuracy_vs_steps' | 'accuracy_vs_rank';
  title: string;
  /** What the figure shows, for alt text and captions. */
  description: string;
  svg: string;
}

const PANEL = { width: 300, height: 220, left: 48, right: 12, top: 28, bottom: 40 };
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (value: number) => Number(value.toFixed(1)).toString();

interface Series {
  method: MethodId;
  label: string;
  points: { x: number; y: number; low?: number; high?: number }[];
  line: boolean;
}

function niceTicks(min: number, max: number, count = 4): number[] {
  if (!(max > min)) return [min];
  const step = 10 ** Math.floor(Math.log10((max - min) / count));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (max - min) / s <= count) ?? 10 * step;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / nice) * nice; t <= max + 1e-9; t += nice) ticks.push(Number(t.toPrecision(6)));
  return ticks;
}

/** One panel: axes, ticks, series (points with error bars, or lines), a title. */
function panel(title: string, xLabel: string, series: Series[], x0: number): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return '';
  const xs = all.map((p) => p.x);
  const ys = all.flatMap((p) => [p.low ?? p.y, p.high ?? p.y]);
  const pad = (lo: number, hi: number) => (hi - lo > 0 ? (hi - lo) * 0.08 : Math.max(Math.abs(hi) * 0.1, 1));
  const [xMin, xMax] = [Math.min(...xs) - pad(Math.min(...xs), Math.max(...xs)), Math.max(...xs) + pad(Math.min(...xs), Math.max(...xs))];
  const [yMin, yMax] = [Math.max(0, Math.min(...ys) - 5), Math.min(100, Math.max(...ys) + 5)];
  const w = PANEL.width - PANEL.left - PANEL.right;
  const h = PANEL.height - PANEL.top - PANEL.bottom;
  const sx = (v: number) => x0 + PANEL.left + ((v - xMin) / (xMax - xMin || 1)) * w;
  const sy = (v: number) => PANEL.top + h - ((v - yMin) / (yMax - yMin || 1)) * h;
  const parts = [`<text x="${x0 + PANEL.left}" y="16" font-size="12" font-weight="600">${escape(title)}</text>`];
  parts.push(`<rect x="${x0 + PANEL.left}" y="${PANEL.top}" width="${w}" height="${h}" fill="none" stroke="#c8ccd4"/>`);
  for (const t of niceTicks(yMin, yMax)) parts.push(`<text x="${x0 + PANEL.left - 4}" y="${sy(t) + 4}" font-size="10" text-anchor="end">${fmt(t)}</text><line x1="${x0 + PANEL.left}" x2="${x0 + PANEL.left + w}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eef0f3"/>`);
  for (const t of niceTicks(xMin, xMax)) parts.push(`<text x="${sx(t)}" y="${PANEL.top + h + 14}" font-size="10" text-anchor="middle">${fmt(t)}</text>`);
  parts.push(`<text x="${x0 + PANEL.left + w / 2}" y="${PANEL.height - 6}" font-size="10" text-anchor="middle">${escape(xLabel)}</text>`);
  parts.push(`<text transform="translate(${x0 + 12} ${PANEL.top + h / 2}) rotate(-90)" font-size="10" text-anchor="middle">accuracy (%)</text>`);
  for (const s of series) {
    const color = METHOD_COLORS[s.method];
    if (s.line && s.points.length > 1) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${s.points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of s.points) {
      if (p.low !== undefined && p.high !== undefined) parts.push(`<line x1="${sx(p.x)}" x2="${sx(p.x)}" y1="${sy(p.low)}" y2="${sy(p.high)}" stroke="${color}" stroke-width="1.5"/>`);
      parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.5" fill="${color}"><title>${escape(`${s.label}: ${fmt(p.y)}%${p.low !== undefined ? ` [${fmt(p.low)}, ${fmt(p.high as number)}]` : ''}`)}</title></circle>`);
    }
  }
  return parts.join('');
}

function legend(methods: readonly MethodId[], y: number): string {
  return methods.map((method, i) => `<rect x="${10 + i * 80}" y="${y - 9}" width="10" height="10" fill="${METHOD_COLORS[method]}"/><text x="${24 + i * 80}" y="${y}" font-size="11">${escape(METHOD_SHORT_NAMES[method])}</text>`).join('');
}

function svgOf(panels: string[], methods: readonly MethodId[]): string {
  const width = Math.max(1, panels.length) * PANEL.width;
  const height = PANEL.height + 22;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif"><rect width="100%" height="100%" fill="#fff"/>${panels.join('')}${legend(methods, height - 6)}</svg>`;
}

const taskTitle = (cell: Pick<StudyCell, 'model' | 'task'>) => `${MODEL_NAMES[cell.model]}, ${studyTaskName(cell.task)}`;
const groupsOf = (cells: readonly StudyCell[]) => [...new Set(cells.map((c) => `${c.model}|${c.task}`))].map((key) => cells.filter((c) => `${c.model}|${c.task}` === key));
const methodsIn = (cells: readonly StudyCell[]) => METHOD_IDS.filter((m) => cells.some((c) => c.method === m));

/** The rank a method's point uses in the per-method figures: the study's r = 4 where measured. */
function representative(cells: StudyCell[]): StudyCell[] {
  return METHOD_IDS.flatMap((method) => {
    const own = cells.filter((c) => c.method === method && c.seeds.length > 0);
    return own.length === 0 ? [] : [own.find((c) => c.rank === null || c.rank === 4) ?? own[0]];
  });
}

function meanCurve(runs: readonly StudyRun[], cell: StudyCell): { x: number; y: number }[] {
  const own = runs.filter((run) => !run.failure && run.cell.model === cell.model && run.cell.method === cell.method && run.cell.task === cell.task && run.cell.rank === cell.rank);
  const byStep = new Map<number, number[]>();
  for (const run of own) for (const point of [{ step: 0, accuracy: run.baselineAccuracy }, ...run.evalCurve]) byStep.set(point.step, [...(byStep.get(point.step) ?? []), point.accuracy]);
  return [...byStep.entries()].sort((a, b) => a[0] - b[0]).map(([step, values]) => ({ x: step, y: (100 * values.reduce((a, b) => a + b, 0)) / values.length }));
}

export function studyFigures(report: Pick<StudyReport, 'cells' | 'runs'>): Figure[] {
  const groups = groupsOf(report.cells);
  const methods = methodsIn(report.cells);
  const memory = groups.map((cells, i) =>
    panel(taskTitle(cells[0]), 'peak training memory (MiB)', representative(cells).map((c) => ({
      method: c.method,
      label: methodShortName(c.method, c.model),
      line: false,
      points: [{ x: c.peakBytes / 2 ** 20, y: 100 * c.finalAccuracy.mean, low: 100 * c.finalAccuracy.low, high: 100 * c.finalAccuracy.high }],
    })), i * PANEL.width),
  );
  const steps = groups.map((cells, i) =>
    panel(taskTitle(cells[0]), 'training steps', representative(cells).map((c) => ({ method: c.method, label: methodShortName(c.method, c.model), line: true, points: meanCurve(report.runs, c) })), i * PANEL.width),
  );
  const ranked = groups.map((cells, i) => {
    const series = METHOD_IDS.map((method) => ({
      method,
      label: methodShortName(method, cells[0].model),
      line: true,
      points: cells.filter((c) => c.method === method && c.rank !== null && c.seeds.length > 0).sort((a, b) => (a.rank as number) - (b.rank as number)).map((c) => ({ x: c.rank as number, y: 100 * c.finalAccuracy.mean, low: 100 * c.finalAccuracy.low, high: 100 * c.finalAccuracy.high })),
    })).filter((s) => s.points.length > 0);
    return panel(taskTitle(cells[0]), 'rank r', series, i * PANEL.width);
  });
  const ranks = new Set(report.cells.filter((c) => c.rank !== null).map((c) => c.rank));
  return [
    { id: 'accuracy_vs_memory', title: 'Accuracy against peak memory', description: 'Final accuracy (mean over seeds, 95% interval) against the analytic simultaneous peak of a training step, one point per method (r = 4), one panel per task.', svg: svgOf(memory, methods) },
    { id: 'accuracy_vs_steps', title: 'Accuracy during fine-tuning', description: 'Eval accuracy (mean over seeds) after each epoch, from the baseline at step 0, one line per method.', svg: svgOf(steps, methods) },
    {
      id: 'accuracy_vs_rank',
      title: 'Accuracy against rank',
      description: ranks.size > 1 ? 'Final accuracy (mean, 95% interval) of each ranked method against its rank.' : `One rank measured (r = ${[...ranks].join(', ') || '—'}): run the study with --ranks 5,10,15,20,25,30 for the sweep.`,
      svg: svgOf(ranked, methods.filter((m) => m === 'lora' || m === 'dora' || m === 'galore')),
    },
  ];
}
